"""Favorites (想要): idempotent PUT/DELETE, the count on the listing, the caller's want-list."""
from __future__ import annotations

from tests.marketplace.test_listings import API
from tests.factories import set_listing
from tests.support.concurrency import concurrently


def put(client, actor, listing_id):
    return client.put(f"{API}/listings/{listing_id}/favorite", headers=actor.headers)


def delete(client, actor, listing_id):
    return client.delete(f"{API}/listings/{listing_id}/favorite", headers=actor.headers)


def count(client, listing_id) -> int:
    return client.get(f"{API}/listings/{listing_id}").get_json()["favorite_count"]


def my_favorites(client, actor, **query) -> dict:
    r = client.get(f"{API}/me/favorites", query_string=query, headers=actor.headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_favorite_is_idempotent_and_counted_once(client, factory):
    seller, fan, other_fan = factory.user(), factory.user(), factory.user()
    listing = factory.listing(seller)
    lid = listing["id"]
    assert put(client, fan, lid).get_json() == {"listing_id": lid, "favorited": True, "favorite_count": 1}
    assert put(client, fan, lid).get_json() == {"listing_id": lid, "favorited": True, "favorite_count": 1}
    assert put(client, other_fan, lid).get_json()["favorite_count"] == 2
    assert count(client, lid) == 2
    assert delete(client, fan, lid).get_json() == {"listing_id": lid, "favorited": False, "favorite_count": 1}
    assert delete(client, fan, lid).get_json() == {"listing_id": lid, "favorited": False, "favorite_count": 1}
    assert count(client, lid) == 1


def test_unfavoriting_what_was_never_favorited_changes_nothing(client, factory):
    listing = factory.listing(factory.user())
    r = delete(client, factory.user(), listing["id"])
    assert r.status_code == 200
    assert r.get_json() == {"listing_id": listing["id"], "favorited": False, "favorite_count": 0}


def test_favoriting_does_not_touch_updated_at(client, factory):
    listing = factory.listing(factory.user())
    put(client, factory.user(), listing["id"])
    assert client.get(f"{API}/listings/{listing['id']}").get_json()["updated_at"] == listing["updated_at"]


def test_want_list_is_most_recently_favorited_first(client, factory):
    seller, fan = factory.user(), factory.user()
    ids = [factory.listing(seller, title=f"物品{n}")["id"] for n in range(4)]
    for lid in (ids[2], ids[0], ids[3]):
        put(client, fan, lid)
    put(client, fan, ids[2])  # already there: stays where it was
    body = my_favorites(client, fan)
    assert [item["id"] for item in body["items"]] == [ids[3], ids[0], ids[2]]
    assert body["total"] == 3 and body["items"][0]["favorite_count"] == 1
    assert [i["id"] for i in my_favorites(client, fan, page=2, page_size=2)["items"]] == [ids[2]]
    assert [i["id"] for i in my_favorites(client, fan, pagenum=1, pagesize=1)["items"]] == [ids[3]]
    delete(client, fan, ids[0])
    assert [item["id"] for item in my_favorites(client, fan)["items"]] == [ids[3], ids[2]]
    assert my_favorites(client, seller)["total"] == 0


def test_want_list_hides_listings_the_caller_can_no_longer_see(client, factory):
    seller, fan = factory.user(), factory.user()
    kept, sold, taken_down = (factory.listing(seller, title=t)["id"] for t in ("留着", "卖了", "下架"))
    for lid in (kept, sold, taken_down):
        put(client, fan, lid)
    set_listing(client.application, sold, status="sold")
    set_listing(client.application, taken_down, status="removed")
    assert [item["id"] for item in my_favorites(client, fan)["items"]] == [sold, kept]
    assert put(client, fan, taken_down).status_code == 404


def test_want_list_needs_a_token_and_valid_paging(client, factory):
    assert client.get(f"{API}/me/favorites").status_code == 401
    fan = factory.user()
    r = client.get(f"{API}/me/favorites", query_string={"page_size": 101}, headers=fan.headers)
    assert r.status_code == 400


def test_concurrent_favorites_count_each_user_once(client, factory):
    listing = factory.listing(factory.user())
    lid = listing["id"]
    same, others = factory.user(), [factory.user() for _ in range(5)]
    path = f"/listings/{lid}/favorite"
    codes = concurrently(client, [("PUT", path, u.headers, None) for u in [same] * 5 + others])
    assert codes == [200] * 10
    assert count(client, lid) == 6
    codes = concurrently(client, [("DELETE", path, same.headers, None)] * 5)
    assert codes == [200] * 5
    assert count(client, lid) == 5
