"""A small marketplace for the fuzzer to aim at: real ids for every kind of path parameter."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask.testing import FlaskClient

from tests.chat.helpers import API, ChatHelper
from tests.factories import Actor, Factory


@dataclass
class World:
    """Who calls (a user and an admin) and the ids of objects that exist, by path-parameter name."""

    user: Actor
    admin: Actor
    bystander_id: int = 0
    ids: dict[str, list] = field(default_factory=dict)


def build_world(client: FlaskClient) -> World:
    """Users, listings, a claim, chats with messages and an offer, a room and an upload; all through the API."""
    factory = Factory(client)
    chat = ChatHelper(client, factory)
    # Ids 1..3 go to bystanders: the coverage phase tries the boundary ids (minimum 1) on every
    # path, admin bans and mutes included, and must not hit the fuzzer's own accounts.
    bystanders = [factory.user() for _ in range(3)]
    user, admin = factory.user(nickname="买家小王"), factory.admin()
    seller, other = factory.user(nickname="卖家老李"), factory.user()
    sale = factory.listing(seller)["id"]
    own = factory.listing(user, title="自己的旧台灯")["id"]
    donation = factory.donation(seller)["id"]
    claim = client.post(f"{API}/listings/{donation}/claims", json={"message": "想要"}, headers=user.headers)
    item = chat.inquiry(user, sale)["id"]
    direct = chat.direct(user, other)
    message = chat.send(user, item, "还在吗?")["id"]
    chat.send(seller, item, "在的")
    offer = client.post(f"{API}/groups/{item}/offers", json={"price_cents": 200000}, headers=user.headers)
    room = chat.room(admin)
    upload = chat.upload(user).rsplit("/", 1)[-1]
    world = World(user=user, admin=admin, bystander_id=bystanders[0].id)
    # The caller's own id stays out of user_id: an admin route must not ban or mute the fuzzer itself.
    world.ids = {
        "user_id": [seller.id, other.id],
        "listing_id": [sale, own, donation],
        "group_id": [item, direct, room],
        "room_id": [room],
        "message_id": [message],
        "claim_id": [claim.get_json()["id"]],
        "offer_id": [offer.get_json()["id"]],
        "name": [upload],
    }
    return world
