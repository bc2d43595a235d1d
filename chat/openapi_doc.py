"""What chat's OpenAPI document says beyond its schemas: message bodies per type, rules, links, examples.

The message body schemas are registered as components (`<Type>MessageBody`) so the AsyncAPI
document of `/ws` (chat/ws/asyncapi.py) reuses them along with `Message`.
"""
from __future__ import annotations

import copy

from flask import Flask

from chat.messages.bodies import BODY_SCHEMAS, CLIENT_TYPES, EXT_MAX_BYTES
from core.openapi import Link, Rule, add_links, add_rules, set_example

SCHEMAS = "#/components/schemas/"


def body_component(message_type: str) -> str:
    """The component name of the body schema of a client message type (`txt` -> TxtMessageBody)."""
    return f"{message_type.capitalize()}MessageBody"


def register_components(app: Flask) -> None:
    """Register every client message body schema with `app`'s spec (before the document is built)."""
    from core.api import api
    for message_type, schema in BODY_SCHEMAS.items():
        api.spec.components.schema(body_component(message_type), schema=type(schema))


def _variants(base: dict, types: dict[str, str]) -> dict:
    """`base` (an object schema with `type` and `body`) as one variant per message type, each with its body."""
    variants = []
    for message_type, component in types.items():
        variant = copy.deepcopy(base)
        variant["properties"]["type"] = {"type": "string", "enum": [message_type]}
        variant["properties"]["body"] = {"$ref": SCHEMAS + component}
        variant.pop("description", None)
        variants.append(variant)
    return {"description": "One variant per message type: `body` follows `type`.", "oneOf": variants}


def _message_bodies(document: dict) -> None:
    schemas = document["components"]["schemas"]
    client_types = {t: body_component(t) for t in CLIENT_TYPES}
    schemas["SendMessage"] = _variants(schemas["SendMessage"], client_types)
    # `system` is posted as the system itself, with a text body.
    schemas["AdminMessage"] = _variants(schemas["AdminMessage"], {"system": body_component("txt"), **client_types})


URL_RULE = ("upload URLs in `body` (`url`, `thumb_url`) are of uploads of this service that exist, of the "
            "message's kind: an image for `img` (and a video's `thumb_url`), audio for `audio`, video for `video`")
EXT_RULE = f"`ext` is at most {EXT_MAX_BYTES} bytes of compact JSON (400 `ext_too_large`)"

RULES: dict[str, list[Rule]] = {
    "POST /groups/{group_id}/messages": [
        Rule(400, "validation_error", URL_RULE, ("body",)),
        Rule(400, "ext_too_large", EXT_RULE, ("ext",)),
        Rule(409, "client_id_reused", "a `client_id` is used in one group only"),
        Rule(403, "read_only", "not in a read-only conversation (listing taken down)"),
        Rule(403, "archived", "not in an archived item chat"),
        Rule(403, "blocked", "not between users who blocked each other"),
        Rule(403, "content_blocked", "not text a `block` keyword rule matches"),
        Rule(400, "reply_not_found", "`reply_to.id` names a message of this group", ("reply_to",)),
        Rule(400, "validation_error", "`mentions` is a list of at most 50 user ids or \"all\"", ("mentions",)),
        Rule(400, "mentions_not_allowed", "`mentions` only in user groups and rooms", ("mentions",)),
        Rule(400, "mention_not_member", "every user of `mentions` is a member", ("mentions",)),
        Rule(403, "mention_all_forbidden", "`mentions: \"all\"` by the owner or an admin only"),
    ],
    "PATCH /groups/{group_id}/messages/{message_id}": [
        Rule(403, "not_sender", "only the sender edits"),
        Rule(403, "edit_window_passed", "within `EDIT_WINDOW_S` of sending"),
        Rule(409, "edit_limit_reached", "at most `EDIT_MAX_REVISIONS` edits"),
        Rule(409, "message_recalled", "not a recalled message"),
        Rule(400, "not_editable", "only `txt` messages"),
        Rule(403, "content_blocked", "not text a `block` keyword rule matches"),
    ],
    "PUT /groups/{group_id}/messages/{message_id}/reactions/{emoji}": [
        Rule(400, "invalid_emoji", "`emoji` is one emoji of at most 32 bytes", ("emoji",)),
        Rule(409, "reaction_limit_reached", "at most `REACTIONS_MAX_DISTINCT` distinct emoji a message"),
        Rule(409, "message_recalled", "not on a recalled message"),
    ],
    "DELETE /groups/{group_id}/messages/{message_id}/reactions/{emoji}": [
        Rule(400, "invalid_emoji", "`emoji` is one emoji of at most 32 bytes", ("emoji",)),
    ],
    "GET /groups/{group_id}/messages/{message_id}/reads": [
        Rule(409, "receipts_unavailable", "item, direct and user groups only (not rooms)"),
    ],
    "POST /groups/{group_id}/read": [
        Rule(400, "seq_out_of_range", "`seq` is at most the group's `last_seq`", ("seq",)),
    ],
    "POST /users/{user_id}/direct": [
        Rule(400, "validation_error", "`user_id` is not the caller (no direct chat with yourself)", ("user_id",)),
        Rule(403, "blocked", "not with a user who blocked you or whom you blocked"),
    ],
    "POST /listings/{listing_id}/inquiries": [
        Rule(403, "own_listing", "not about your own listing"),
        Rule(409, "listing_not_active", "only an active or reserved listing takes new inquiries"),
    ],
    "POST /groups/{group_id}/offers": [
        Rule(409, "not_item_group", "offers are made in an item chat"),
        Rule(409, "not_a_sale", "a donation takes claims, not offers"),
        Rule(409, "offer_exists", "one pending offer per listing and buyer"),
        Rule(409, "listing_not_active", "the listing is active"),
        Rule(403, "not_buyer", "only the chat's buyer offers"),
    ],
    "POST /offers/{offer_id}/accept": [
        Rule(409, "invalid_transition", "only a pending offer is accepted"),
        Rule(409, "listing_not_active", "the listing is still active"),
        Rule(403, "not_seller", "only the seller accepts"),
    ],
    "POST /offers/{offer_id}/decline": [
        Rule(409, "invalid_transition", "only a pending offer is declined"),
        Rule(403, "not_seller", "only the seller declines"),
    ],
    "POST /offers/{offer_id}/withdraw": [
        Rule(409, "invalid_transition", "only a pending offer is withdrawn"),
        Rule(403, "not_buyer", "only the buyer withdraws"),
    ],
    "POST /groups/{group_id}/messages/{message_id}/recall": [
        Rule(403, "not_sender", "members recall only their own messages"),
        Rule(403, "recall_window_passed", "within 2 minutes of sending (group and site admins any time)"),
    ],
    "GET /conversations": [
        Rule(400, "invalid_cursor", "`cursor` is a `next_cursor` this server gave the caller for the same "
                                    "`kind`, `listing_id` and `archived`", ("cursor",)),
    ],
    "PUT /conversations/{group_id}": [
        Rule(400, "not_an_inbox_chat", "only item, direct and group chats are muted or pinned (not rooms)"),
    ],
    "POST /rooms/{room_id}/leave": [
        Rule(409, "owner_cannot_leave", "the room's owner stays"),
    ],
    "POST /admin/groups": [
        Rule(400, "validation_error", "`direct` needs `user_ids` (two different users); `item` needs an existing "
                                      "`listing_id` and `buyer_id`; `group` needs `name` and `owner_id`",
             ("user_ids", "listing_id", "buyer_id", "name", "owner_id")),
        Rule(400, "unknown_user", "every user named exists", ("user_ids", "buyer_id", "owner_id")),
        Rule(409, "seller_is_buyer", "the buyer is not the listing's seller"),
    ],
    "POST /groups": [
        Rule(400, "unknown_user", "every user of `member_ids` exists", ("member_ids",)),
        Rule(403, "blocked", "no member who blocked the creator or whom the creator blocked"),
    ],
    "POST /groups/{group_id}/members": [
        Rule(400, "unknown_user", "every user of `user_ids` exists", ("user_ids",)),
    ],
    "POST /groups/{group_id}/owner": [
        Rule(400, "unknown_user", "`user_id` names an existing user", ("user_id",)),
    ],
    "PUT /admin/groups/{group_id}/owner": [
        Rule(400, "unknown_user", "`user_id` names an existing user", ("user_id",)),
    ],
    "POST /admin/groups/{group_id}/members": [
        Rule(400, "unknown_user", "`user_id` names an existing user", ("user_id",)),
        Rule(409, "fixed_membership", "only a room's members change"),
        Rule(409, "owner_role", "the room's owner keeps that role"),
    ],
    "DELETE /admin/groups/{group_id}/members/{user_id}": [
        Rule(409, "fixed_membership", "only a room's members change"),
        Rule(409, "owner_cannot_leave", "the room's owner cannot be removed"),
    ],
    "POST /admin/groups/{group_id}/messages": [
        Rule(400, "validation_error", URL_RULE, ("body",)),
        Rule(400, "ext_too_large", EXT_RULE, ("ext",)),
    ],
}

_GROUP = ("GetGroup", "GET /groups/{group_id}"), ("History", "GET /groups/{group_id}/messages"), \
    ("Send", "POST /groups/{group_id}/messages"), ("MakeOffer", "POST /groups/{group_id}/offers"), \
    ("ListOffers", "GET /groups/{group_id}/offers"), ("Hide", "DELETE /conversations/{group_id}")
_OFFER = ("Accept", "POST /offers/{offer_id}/accept"), ("Decline", "POST /offers/{offer_id}/decline"), \
    ("Withdraw", "POST /offers/{offer_id}/withdraw")


def _group_links(status: int | None = None) -> list[Link]:
    return [Link(name, target, {"group_id": "$response.body#/id"}, status) for name, target in _GROUP]


LINKS: dict[str, list[Link]] = {
    "POST /listings": [Link("Inquire", "POST /listings/{listing_id}/inquiries", {"listing_id": "$response.body#/id"})],
    "POST /users": [Link("OpenDirect", "POST /users/{user_id}/direct", {"user_id": "$response.body#/id"})],
    "POST /listings/{listing_id}/inquiries": _group_links(201) + _group_links(200),
    "POST /users/{user_id}/direct": _group_links(201) + _group_links(200),
    "POST /groups/{group_id}/messages": [
        Link("Recall", "POST /groups/{group_id}/messages/{message_id}/recall",
             {"group_id": "$response.body#/group_id", "message_id": "$response.body#/id"}, 201),
    ],
    "POST /groups/{group_id}/offers": [
        Link(name, target, {"offer_id": "$response.body#/id"}) for name, target in _OFFER
    ],
    "POST /admin/rooms": [
        Link("Join", "POST /rooms/{room_id}/join", {"room_id": "$response.body#/id"}),
        Link("Leave", "POST /rooms/{room_id}/leave", {"room_id": "$response.body#/id"}),
        Link("AddMember", "POST /admin/groups/{group_id}/members", {"group_id": "$response.body#/id"}),
        Link("AdminGroup", "GET /admin/groups/{group_id}", {"group_id": "$response.body#/id"}),
    ],
}

MESSAGE_EXAMPLE = {
    "id": 5120, "group_id": 88, "seq": 12,
    "sender": {"id": 31, "nickname": "买家小王", "avatar_url": None},
    "type": "txt", "body": {"text": "还在吗?能便宜点吗?"}, "ext": None, "client_id": "c7f3e1d2-0001",
    "created_at": "2026-11-28T10:02:45.301000+00:00", "recalled": False, "reply_to": None, "mentions": None,
    "edited_at": None, "revision": 0,
}
CONVERSATION_EXAMPLE = {
    "group_id": 88, "kind": "item",
    "listing": {"id": 42, "title": "九成新 iPhone 13 128G", "price_cents": 250000, "kind": "sale",
                "status": "active",
                "cover_url": "https://api.paipai.example/api/v1/uploads/0f55aba397144093b67aea79f0d3ea02.jpg"},
    "peer": {"id": 7, "nickname": "卖家老李", "avatar_url": None, "online": True, "blocked": False},
    "role": "buyer",
    "last_message": {"id": 5120, "seq": 12, "type": "txt", "preview": "还在吗?能便宜点吗?", "sender_id": 31,
                     "created_at": "2026-11-28T10:02:45.301000+00:00"},
    "unread_count": 0, "updated_at": "2026-11-28T10:02:45.301000+00:00", "read_only": False,
    "muted": False, "pinned": False, "mentioned": False, "peer_read_seq": 12, "name": None, "member_count": 2,
}


def refine(document: dict) -> None:
    """Chat's part of the document (registered with core.openapi.add_refiner)."""
    _message_bodies(document)
    add_rules(document, RULES)
    add_links(document, LINKS)
    set_example(document, "POST /groups/{group_id}/messages", 201, MESSAGE_EXAMPLE)
    set_example(document, "GET /groups/{group_id}/messages", 200, {"items": [MESSAGE_EXAMPLE], "next_cursor": "11"})
    set_example(document, "GET /conversations", 200, {"items": [CONVERSATION_EXAMPLE], "next_cursor": None,
                                                       "unread_total": 0, "unread_version": 0})
