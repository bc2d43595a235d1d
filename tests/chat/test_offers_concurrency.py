"""Offers under concurrency: one accept wins per listing, one pending offer per buyer, no deadlock with senders."""
from __future__ import annotations

import threading
from typing import Callable

from sqlalchemy import select

from chat.models import ChatMessage, InboxEntry, Offer
from core.db import db
from marketplace.models import Listing
from tests.chat.helpers import API
from tests.chat.test_offers import make_offer

LOSING_CODES = {"invalid_transition", "listing_not_active"}


def run_together(works: list[Callable[[], None]]) -> None:
    """Run each callable in its own thread, all released at once; re-raise the first failure."""
    barrier, errors = threading.Barrier(len(works)), []

    def run(work: Callable[[], None]) -> None:
        try:
            barrier.wait(timeout=30)
            work()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    assert not errors, errors


def post_later(app, results: list, path: str, headers: dict, body: dict | None = None) -> Callable[[], None]:
    def work() -> None:
        r = app.test_client().post(f"{API}{path}", json=body, headers=headers)
        results.append((path, r.status_code, r.get_json()))
    return work


def assert_gap_free(app, group_ids, user_ids) -> None:
    with app.app_context():
        for group_id in group_ids:
            seqs = db.session.scalars(select(ChatMessage.seq).where(ChatMessage.group_id == group_id)
                                      .order_by(ChatMessage.seq)).all()
            assert seqs == list(range(1, len(seqs) + 1)), (group_id, seqs)
        for user_id in user_ids:
            pos = db.session.scalars(select(InboxEntry.pos).where(InboxEntry.user_id == user_id)
                                     .order_by(InboxEntry.pos)).all()
            assert pos == list(range(1, len(pos) + 1)), (user_id, pos)


def test_concurrent_accepts_on_one_listing_reserve_it_exactly_once(client, factory, chat):
    app = client.application
    seller, buyers = factory.user(), [factory.user() for _ in range(4)]
    for _round in range(3):
        listing_id = chat.listing(seller)
        groups = {b.id: chat.inquiry(b, listing_id)["id"] for b in buyers}
        offers = {make_offer(client, b, groups[b.id])["id"]: b.id for b in buyers}
        results: list = []
        run_together([post_later(app, results, f"/offers/{oid}/accept", seller.headers) for oid in offers])

        winners = [body for _, status, body in results if status == 200]
        losers = [body["error"]["code"] for _, status, body in results if status != 200]
        assert len(winners) == 1 and sorted(s for _, s, _ in results) == [200, 409, 409, 409], results
        assert set(losers) <= LOSING_CODES
        winner = winners[0]
        with app.app_context():
            listing = db.session.get(Listing, listing_id)
            assert (listing.status, listing.buyer_id) == ("reserved", offers[winner["id"]])
            statuses = dict(db.session.execute(select(Offer.id, Offer.status)
                                               .where(Offer.listing_id == listing_id)).all())
        assert statuses == {oid: "accepted" if oid == winner["id"] else "declined" for oid in offers}
        # Each buyer's group: their pending offer, its one final offer message, the reserved notice.
        for oid, buyer_id in offers.items():
            items = chat.history(seller, groups[buyer_id])["items"]
            assert [(m["type"], m["body"].get("status")) for m in items] == [
                ("offer", "pending"), ("offer", statuses[oid]), ("system", None)]
        assert_gap_free(app, groups.values(), [seller.id] + [b.id for b in buyers])


def test_accept_and_withdraw_at_once_agree(client, factory, chat):
    app = client.application
    seller, buyer, other = factory.user(), factory.user(), factory.user()
    for _round in range(3):
        listing_id = chat.listing(seller)
        offer = make_offer(client, buyer, chat.inquiry(buyer, listing_id)["id"])
        make_offer(client, other, chat.inquiry(other, listing_id)["id"])
        results: list = []
        run_together([post_later(app, results, f"/offers/{offer['id']}/accept", seller.headers),
                      post_later(app, results, f"/offers/{offer['id']}/withdraw", buyer.headers)])
        outcome = {path.rsplit("/", 1)[1]: (status, body) for path, status, body in results}
        assert sorted(status for status, _ in outcome.values()) == [200, 409], results
        with app.app_context():
            listing = db.session.get(Listing, listing_id)
            stored = db.session.get(Offer, offer["id"]).status
        if outcome["accept"][0] == 200:
            assert stored == "accepted" and (listing.status, listing.buyer_id) == ("reserved", buyer.id)
        else:
            assert stored == "withdrawn" and (listing.status, listing.buyer_id) == ("active", None)
        assert [body["error"]["code"] for status, body in outcome.values() if status == 409] == ["invalid_transition"]


def test_concurrent_offers_by_one_buyer_make_one_pending_offer(client, factory, chat):
    app = client.application
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    results: list = []
    run_together([post_later(app, results, f"/groups/{group_id}/offers", buyer.headers,
                             {"price_cents": 100000 + i}) for i in range(6)])
    assert sorted(status for _, status, _ in results) == [201] + [409] * 5, results
    assert {body["error"]["code"] for _, status, body in results if status == 409} == {"offer_exists"}
    with app.app_context():
        assert len(db.session.scalars(select(Offer.id)).all()) == 1
        assert db.session.scalars(select(ChatMessage.seq).where(ChatMessage.group_id == group_id)).all() == [1]


def test_accepts_on_two_listings_while_buyers_chat_neither_deadlock_nor_leave_gaps(client, factory, chat):
    """Each accept writes into several groups; buyers send into the same groups and share inbox counters.

    The seller gets the highest user id, so an accept that took inbox counters group by group
    (buyer, then seller) would hold the seller's counter while waiting for a buyer's: a deadlock.
    """
    app = client.application
    buyers = [factory.user() for _ in range(3)]
    seller = factory.user()
    for round_ in range(2):
        listings = [chat.listing(seller), chat.listing(seller)]
        groups = {(lid, b.id): chat.inquiry(b, lid)["id"] for lid in listings for b in buyers}
        offers = {(lid, b.id): make_offer(client, b, groups[(lid, b.id)])["id"] for lid in listings for b in buyers}
        results: list = []
        works = [post_later(app, results, f"/offers/{offers[(listings[0], buyers[0].id)]}/accept", seller.headers),
                 post_later(app, results, f"/offers/{offers[(listings[1], buyers[2].id)]}/accept", seller.headers)]
        for (_listing, buyer_id), group_id in groups.items():
            actor = next(b for b in buyers if b.id == buyer_id)
            for n in range(2):
                works.append(post_later(app, results, f"/groups/{group_id}/messages", actor.headers,
                                        {"client_id": f"r{round_}-{group_id}-{n}", "type": "txt",
                                         "body": {"text": "还在吗?"}}))
        run_together(works)
        assert all(status in (200, 201) for _, status, _ in results), results
        with app.app_context():
            assert [db.session.get(Listing, lid).buyer_id for lid in listings] == [buyers[0].id, buyers[2].id]
        assert_gap_free(app, groups.values(), [seller.id] + [b.id for b in buyers])
