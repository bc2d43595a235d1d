"""Each rate limit over the API, counted in memory and in a real Redis: 429 rate_limited with Retry-After."""
from __future__ import annotations

import pytest

from config import Config
from config.settings import RATE_LIMIT_DEFAULTS
from tests.chat.helpers import ChatHelper
from tests.factories import PASSWORD

API = "/api/v1"
HOME, OFFICE, CAFE, TRAIN = "203.0.113.1", "203.0.113.2", "198.51.100.3", "198.51.100.4"
ONE_MORE = {"client_id": "one-more", "type": "txt", "body": {"text": "太快了"}}


def assert_rate_limited(r, limit: str) -> None:
    assert r.status_code == 429, r.get_json()
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    error = r.get_json()["error"]
    assert error["code"] == "rate_limited" and error["message"]
    retry_after = error["details"]["retry_after"]
    assert isinstance(retry_after, int) and retry_after >= 1
    assert r.headers["Retry-After"] == str(retry_after)
    assert error["details"]["limit"] == limit


def login(client, username: str, password: str = PASSWORD, *, ip: str = HOME):
    return client.post(f"{API}/token", json={"grant_type": "password", "username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def register(client, username: str, *, ip: str = HOME):
    return client.post(f"{API}/users", json={"username": username, "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": ip})


def test_failed_logins_from_one_address_are_limited_other_addresses_are_not(limited, factory):
    client = limited(login_ip="3/hour").test_client()
    alice = factory.user()
    for name in ("nobody1", "nobody2", alice.username):
        assert login(client, name, "wrong password").status_code == 401
    assert_rate_limited(login(client, alice.username), "login_ip")  # even the right password waits
    assert login(client, alice.username, ip=OFFICE).status_code == 200


def test_failed_logins_for_one_username_are_limited_from_any_address(limited, factory):
    client = limited(login_user="3/hour").test_client()
    alice, bob = factory.user(), factory.user()
    for ip in (HOME, OFFICE, CAFE):
        assert login(client, alice.username, "wrong password", ip=ip).status_code == 401
    assert_rate_limited(login(client, alice.username, ip=TRAIN), "login_user")
    assert_rate_limited(login(client, alice.username.upper(), ip=TRAIN), "login_user")  # case makes no new key
    assert login(client, bob.username, ip=HOME).status_code == 200


def test_successful_logins_are_not_counted_and_do_not_reset_failures(limited, factory):
    client = limited(login_user="2/hour", login_ip="2/hour").test_client()
    alice = factory.user()
    for _ in range(5):
        assert login(client, alice.username).status_code == 200
    assert login(client, alice.username, "wrong password").status_code == 401
    assert login(client, alice.username).status_code == 200  # gives back its own attempt, nothing more
    assert login(client, alice.username, "wrong password").status_code == 401
    assert login(client, alice.username).status_code == 429


def test_registrations_from_one_address_are_limited(limited, factory):
    client = limited(register_ip="2/hour").test_client()
    assert register(client, "first_user").status_code == 201
    assert register(client, "first_user").status_code == 409  # attempts count, taken names too
    assert_rate_limited(register(client, "third_user"), "register_ip")
    assert login(client, "third_user", ip=OFFICE).status_code == 401  # not created
    assert register(client, "third_user", ip=OFFICE).status_code == 201


@pytest.fixture
def pair(factory):
    return factory.user(), factory.user()


def test_message_sends_are_limited_per_user_in_bursts(limited, factory, pair):
    app = limited(send="6/hour burst 3")
    chat = ChatHelper(app.test_client(), factory)
    buyer, seller = pair
    group_id = chat.item_group(buyer, seller)
    for i in range(3):
        chat.send(buyer, group_id, f"第{i}条")
    assert_rate_limited(chat.send_raw(buyer, group_id, ONE_MORE), "send")
    assert [m["body"]["text"] for m in chat.history(buyer, group_id)["items"]] == ["第0条", "第1条", "第2条"]
    chat.send(seller, group_id, "卖家不受影响")


def test_message_sends_are_limited_over_the_hour(limited, factory, pair):
    chat = ChatHelper(limited(send="off", send_sustained="2/hour").test_client(), factory)
    buyer, seller = pair
    group_id = chat.item_group(buyer, seller)
    chat.send(buyer, group_id)
    chat.send(buyer, group_id)
    assert_rate_limited(chat.send_raw(buyer, group_id, ONE_MORE), "send_sustained")


def test_offers_count_as_sends(limited, factory, pair):
    chat = ChatHelper(limited(send="6/hour burst 2").test_client(), factory)
    buyer, seller = pair
    group_id = chat.item_group(buyer, seller)
    chat.send(buyer, group_id)
    r = chat.client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": 200000}, headers=buyer.headers)
    assert r.status_code == 201, r.get_json()
    assert_rate_limited(chat.send_raw(buyer, group_id, ONE_MORE), "send")
    r = chat.client.post(f"{API}/groups/{group_id}/offers", json={"price_cents": 190000}, headers=buyer.headers)
    assert_rate_limited(r, "send")


def test_inquiries_are_limited_per_user(limited, factory, pair):
    chat = ChatHelper(limited(inquiry="2/hour").test_client(), factory)
    buyer, seller = pair
    listings = [chat.listing(seller) for _ in range(3)]
    chat.inquiry(buyer, listings[0])
    chat.inquiry(buyer, listings[1])
    assert_rate_limited(chat.client.post(f"{API}/listings/{listings[2]}/inquiries", headers=buyer.headers),
                        "inquiry")
    assert chat.inquiry(factory.user(), listings[2])["kind"] == "item"


def test_claims_are_limited_per_user(limited, factory, pair):
    client = limited(claim="2/hour").test_client()
    claimant, giver = pair
    donations = [factory.donation(giver)["id"] for _ in range(3)]

    def claim(actor, listing_id):
        return client.post(f"{API}/listings/{listing_id}/claims", json={"message": "我想要"}, headers=actor.headers)

    assert claim(claimant, donations[0]).status_code == 201
    assert claim(claimant, donations[1]).status_code == 201
    assert_rate_limited(claim(claimant, donations[2]), "claim")
    assert claim(factory.user(), donations[2]).status_code == 201


def test_with_the_default_settings_the_claim_past_the_cap_is_409_claim_limit(limited, factory, pair):
    # Production defaults: every rate limit on as shipped, MAX_OPEN_CLAIMS as shipped.
    app = limited(**{name.lower(): spec for name, spec in RATE_LIMIT_DEFAULTS.items()})
    cap = Config().MAX_OPEN_CLAIMS
    assert app.config["MAX_OPEN_CLAIMS"] == cap and app.config["RATE_LIMIT_CLAIM"] == RATE_LIMIT_DEFAULTS["CLAIM"]
    client = app.test_client()
    claimant, giver = pair
    donations = [factory.donation(giver)["id"] for _ in range(cap + 2)]

    def claim(listing_id):
        return client.post(f"{API}/listings/{listing_id}/claims", json={"message": "我想要"},
                           headers=claimant.headers)

    claims = [claim(listing_id) for listing_id in donations[:cap]]
    assert [r.status_code for r in claims] == [201] * cap
    for _ in range(3):  # the rule answers, every time: a refused claim is not counted
        r = claim(donations[cap])
        assert r.status_code == 409, r.get_json()
        assert r.get_json()["error"]["code"] == "claim_limit"
    assert claim(donations[0]).get_json()["error"]["code"] == "claim_exists"
    # Room again under the cap: now the rate limit (burst spent on the claims made) answers.
    cancel = client.post(f"{API}/claims/{claims[0].get_json()['id']}/cancel", headers=claimant.headers)
    assert cancel.status_code == 200, cancel.get_json()
    assert_rate_limited(claim(donations[cap + 1]), "claim")


def test_two_app_instances_share_one_redis_counter(limited, factory, pair):
    if limited.backend == "memory":
        pytest.skip("in memory each process counts for itself")
    first, second = limited(send="6/hour burst 3"), limited(send="6/hour burst 3")
    buyer, seller = pair
    one, other = ChatHelper(first.test_client(), factory), ChatHelper(second.test_client(), factory)
    group_id = one.item_group(buyer, seller)
    one.send(buyer, group_id)
    other.send(buyer, group_id)
    one.send(buyer, group_id)
    assert_rate_limited(other.send_raw(buyer, group_id, ONE_MORE), "send")


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(limited):
    direct = limited(login_ip="1/hour").test_client()
    assert login(direct, "nobody", "wrong password").status_code == 401
    spoofed = {"X-Forwarded-For": OFFICE}
    r = direct.post(f"{API}/token", json={"grant_type": "password", "username": "x", "password": "y"},
                    headers=spoofed, environ_base={"REMOTE_ADDR": HOME})
    assert r.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(limited):
    client = limited(config={"TRUSTED_PROXY_COUNT": 1}, login_ip="1/hour").test_client()

    def attempt(forwarded: str):
        return client.post(f"{API}/token", json={"grant_type": "password", "username": "x", "password": "y"},
                           headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": "10.0.0.1"})

    assert attempt(f"{CAFE}, {HOME}").status_code == 401
    assert attempt(f"{CAFE}, {OFFICE}").status_code == 401  # one hop trusted: the last address is the client
    assert attempt(f"{OFFICE}, {HOME}").status_code == 429


LIMITED_OPERATIONS = {("post", f"{API}{path}") for path in (
    "/users", "/token", "/groups/{group_id}/messages", "/groups/{group_id}/offers",
    "/listings/{listing_id}/inquiries", "/listings/{listing_id}/claims", "/uploads")}


def test_the_limited_operations_document_429_with_retry_after(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    documented = {(method, path) for path, operations in paths.items() for method, op in operations.items()
                  if isinstance(op, dict) and "429" in op.get("responses", {})}
    assert documented == LIMITED_OPERATIONS
    for method, path in LIMITED_OPERATIONS:
        response = paths[path][method]["responses"]["429"]
        assert response["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
