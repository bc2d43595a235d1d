"""Every error code the API answers with (REST bodies and WebSocket `error` frames): its HTTP status and meaning.

The one registry: `ApiError` subclasses are checked against it when they are defined, every error body
and frame when it is made (strictly in tests, see `set_strict`), and tests/test_error_codes.py scans the
source for codes raised anywhere. The table in the OpenAPI description (/docs) is generated from it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from werkzeug.exceptions import default_exceptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int | None  # None: the status of the HTTP error it stands for (http_error only)
    meaning: str


_CODES = (
    # Requests in general
    ErrorCode("bad_request", 400, "The request could not be understood (refused by the HTTP layer)."),
    ErrorCode("validation_error", 400, "The input is not valid; `details.fields` names each offending field "
                                       "(unknown fields included)."),
    ErrorCode("invalid_json", 400, "The body or WebSocket frame is not strict JSON (UTF-8; no NaN, Infinity, "
                                   "NUL characters or unpaired surrogates)."),
    ErrorCode("invalid_cursor", 400, "The cursor is not one this server made for this user and these filters."),
    ErrorCode("unauthorized", 401, "A valid access token is required (missing, invalid, expired or revoked)."),
    ErrorCode("forbidden", 403, "Authenticated, but not allowed to do this (e.g. not an admin)."),
    ErrorCode("banned", 403, "The account is banned (login, REST sends and WebSocket, close code 4403)."),
    ErrorCode("not_found", 404, "No such resource, or one the caller may not know exists."),
    ErrorCode("method_not_allowed", 405, "The path does not take this method; `Allow` lists those it takes."),
    ErrorCode("conflict", 409, "The request conflicts with the current state."),
    ErrorCode("payload_too_large", 413, "The body (JSON or upload) is over its size limit."),
    ErrorCode("unsupported_media_type", 415, "The body is not JSON (or, for uploads, not an accepted image, "
                                             "audio, video or document file)."),
    ErrorCode("requested_range_not_satisfiable", 416, "The `Range` asked of an upload lies outside the file."),
    ErrorCode("rate_limited", 429, "Too many requests; retry after `Retry-After` seconds "
                                   "(`details.retry_after`, `details.limit`)."),
    ErrorCode("internal_error", 500, "Something went wrong on the server; nothing about it is disclosed."),
    ErrorCode("service_unavailable", 503, "A dependency (database, broker) is down; retry shortly."),
    # Users, tokens, blocks
    ErrorCode("username_taken", 409, "The username is already registered."),
    ErrorCode("invalid_credentials", 401, "Wrong username or password."),
    ErrorCode("blocked", 403, "One of the two users blocked the other: no inquiry, direct chat, message, deal "
                              "(`buyer_id`) or review."),
    # Listings and reviews
    ErrorCode("not_seller", 403, "Only the listing's seller (or the offer's seller) may do this."),
    ErrorCode("own_listing", 403, "Sellers cannot inquire about or claim their own listing."),
    ErrorCode("invalid_transition", 409, "The listing, claim or offer cannot move from its status to the one "
                                         "asked."),
    ErrorCode("listing_not_editable", 409, "A sold, given, withdrawn or removed listing can no longer be edited."),
    ErrorCode("deal_not_done", 409, "Only a sold or given listing can be reviewed."),
    ErrorCode("no_counterparty", 409, "No buyer was recorded for the listing, so there is no one to review."),
    ErrorCode("not_a_party", 403, "Only the seller and the buyer (or recipient) of a listing can review it."),
    ErrorCode("already_reviewed", 409, "The caller has already reviewed this deal."),
    # Donations
    ErrorCode("not_a_donation", 409, "Only donation listings take claims."),
    ErrorCode("listing_not_available", 409, "The donation takes no claims now (or cannot accept one)."),
    ErrorCode("claim_exists", 409, "The caller already has an open claim on this listing."),
    ErrorCode("claim_limit", 409, "The caller holds the most open claims allowed (`MAX_OPEN_CLAIMS`)."),
    # Chat
    ErrorCode("listing_not_active", 409, "The listing takes no new inquiries or offers (not `active`)."),
    ErrorCode("read_only", 403, "The conversation is read-only (its listing was taken down)."),
    ErrorCode("archived", 403, "The conversation is archived: its listing closed long ago; history stays "
                               "readable."),
    ErrorCode("content_blocked", 403, "A keyword rule blocks the message; `details.field` says where. Nothing "
                                      "was stored."),
    ErrorCode("ext_too_large", 400, "The message's `ext` is over 4 KB of JSON."),
    ErrorCode("client_id_reused", 409, "The client_id already named a message of the sender's in another group."),
    ErrorCode("seq_out_of_range", 400, "The read marker's seq is beyond the group's last message."),
    ErrorCode("not_sender", 403, "Only the sender may edit a message; only the sender (or a group or site admin) "
                                 "may recall one."),
    ErrorCode("recall_window_passed", 403, "The sender may recall a message only within 2 minutes."),
    # Replies, mentions, edits, reactions, read receipts
    ErrorCode("reply_not_found", 400, "`reply_to.id` names no message of this group."),
    ErrorCode("mention_not_member", 400, "`mentions` names a user who is not a member of the group."),
    ErrorCode("mentions_not_allowed", 400, "Mentions are made in user groups and rooms only."),
    ErrorCode("mention_all_forbidden", 403, "Only the owner and admins of a group or room may mention \"all\"."),
    ErrorCode("not_editable", 400, "Only `txt` messages are edited."),
    ErrorCode("message_recalled", 409, "The message was recalled: it takes no edits or reactions."),
    ErrorCode("edit_window_passed", 403, "The sender may edit a message only within `EDIT_WINDOW_S` of sending it."),
    ErrorCode("edit_limit_reached", 409, "The message was edited `EDIT_MAX_REVISIONS` times already."),
    ErrorCode("invalid_emoji", 400, "A reaction is a short run of emoji (at most 32 bytes of UTF-8)."),
    ErrorCode("reaction_limit_reached", 409, "The message carries `REACTIONS_MAX_DISTINCT` distinct emoji already "
                                             "(`details.limit`)."),
    ErrorCode("receipts_unavailable", 409, "Rooms keep no read receipts."),
    ErrorCode("owner_cannot_leave", 409, "The owner of a room or user group cannot leave or be removed."),
    # Members of user groups and rooms
    ErrorCode("muted", 403, "The sender is muted in this group or room until `details.muted_until`."),
    ErrorCode("not_owner", 403, "Only the group's or room's owner may do this (admins, ownership, rename, "
                                "dissolve)."),
    ErrorCode("not_group_admin", 403, "Only the owner and admins of a group or room may do this (invite, remove, "
                                      "mute)."),
    ErrorCode("outranked", 403, "The target member's role is equal to or above the caller's."),
    ErrorCode("not_member", 404, "The user named is not a member of the group or room."),
    ErrorCode("group_full", 409, "The user group would pass `GROUP_MAX_MEMBERS` (`details.limit`)."),
    ErrorCode("room_full", 409, "The room would pass `ROOM_MAX_MEMBERS` (`details.limit`)."),
    ErrorCode("group_dissolved", 409, "The user group was dissolved; it changes no more."),
    ErrorCode("owner_must_transfer", 409, "A group's owner hands it over (or dissolves it) before leaving."),
    ErrorCode("kicked", 403, "The user was kicked out of this room and cannot join it again before "
                             "`details.until`."),
    ErrorCode("not_item_group", 409, "Offers are made in the item chat about a listing."),
    ErrorCode("not_buyer", 403, "Only the buyer of the item chat makes, or withdraws, an offer."),
    ErrorCode("not_a_sale", 409, "A donation takes claims, not offers."),
    ErrorCode("offer_exists", 409, "The buyer already has a pending offer on this listing."),
    # Uploads
    ErrorCode("upload_quota_exceeded", 429, "The upload would take the caller past `UPLOAD_DAILY_BYTES` in 24 hours "
                                            "(`details.quota_bytes`, `details.used_bytes`); nothing was stored."),
    # WebSocket frames
    ErrorCode("too_many_sockets", 429, "The user opened more than `WS_MAX_SOCKETS_PER_USER` sockets: sent to the "
                                       "oldest before it closes with 4429."),
    ErrorCode("too_many_handshakes", 429, "More `/ws` handshakes from this address are being set up at once than "
                                          "`WS_MAX_PENDING_HANDSHAKES_PER_ADDRESS`: refused before the upgrade, "
                                          "retry after `Retry-After` seconds (`details.retry_after`)."),
    ErrorCode("invalid_frame", 400, "The WebSocket frame is not a JSON object with an `op` (or is binary)."),
    ErrorCode("unknown_op", 400, "The frame's `op` is not one the server knows (`details.ops` lists them)."),
    # Moderation
    ErrorCode("cannot_ban_self", 403, "Admins cannot ban themselves."),
    ErrorCode("cannot_ban_admin", 403, "Administrators cannot be banned."),
    ErrorCode("not_banned", 409, "The user is not banned."),
    ErrorCode("report_exists", 409, "The caller already has an open report on this target (`details.report_id`)."),
    ErrorCode("cannot_report_self", 403, "Nobody reports themselves or their own content."),
    ErrorCode("report_resolved", 409, "The report is already resolved."),
    ErrorCode("unknown_user", 400, "A user named in a group change (an invite, an owner) does not exist."),
    ErrorCode("seller_is_buyer", 409, "An item group's buyer cannot be the listing's own seller."),
    ErrorCode("fixed_membership", 409, "Only the members of rooms and user groups can be changed; item and direct "
                                       "chats are fixed."),
    ErrorCode("owner_role", 409, "An owner keeps the owner role until ownership is handed over."),
    # WeChat login, binding and subscriptions
    ErrorCode("invalid_wechat_code", 400, "The wx.login code is invalid, expired or already used (WeChat 40029, "
                                          "40163, 41008): call wx.login again."),
    ErrorCode("wechat_login_refused", 403, "WeChat refused to log this user in (40226, a high-risk user)."),
    ErrorCode("wechat_unavailable", 503, "WeChat is busy (-1), rate limiting us (45011) or unreachable; retry after "
                                         "`Retry-After` seconds."),
    ErrorCode("wechat_not_configured", 503, "WECHAT_APPID / WECHAT_SECRET are not set on this server."),
    ErrorCode("wechat_error", 502, "WeChat answered with an error the client cannot fix (e.g. a wrong app secret)."),
    ErrorCode("wechat_bound_elsewhere", 409, "This WeChat user already belongs to another account."),
    ErrorCode("wechat_already_bound", 409, "The caller's account is bound to another WeChat user."),
    ErrorCode("unknown_template", 400, "The subscribe-message template is not the one this server sends "
                                       "(WECHAT_TEMPLATE_ID)."),
    # The inbox
    ErrorCode("not_an_inbox_chat", 400, "Only item, direct and group chats can be muted or pinned, not rooms."),
    ErrorCode("pin_limit", 409, "The caller already has the most pinned conversations (`details.max_pinned`)."),
)

#: code -> its registration
ERROR_CODES: dict[str, ErrorCode] = {entry.code: entry for entry in _CODES}
if len(ERROR_CODES) != len(_CODES):
    raise RuntimeError("an error code is registered twice in core/error_codes.py")

#: the code of an HTTP error raised by the framework (werkzeug) rather than by our code
HTTP_STATUS_CODES: dict[int, str] = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    416: "requested_range_not_satisfiable", 429: "rate_limited", 500: "internal_error",
    503: "service_unavailable",
}
#: any other HTTP error werkzeug can raise (406, 408, 411, 414, 431, 501, ...): one code, its own status
HTTP_ERROR = "http_error"
OTHER_HTTP_STATUSES = tuple(sorted(set(default_exceptions) - set(HTTP_STATUS_CODES)))
ERROR_CODES[HTTP_ERROR] = ErrorCode(HTTP_ERROR, None, "Another HTTP-level error, with its own status ("
                                    + ", ".join(map(str, OTHER_HTTP_STATUSES)) + "); `message` names it.")


def http_code(status: int) -> str:
    """The code of an HTTP error of `status` raised outside our code (routing, werkzeug)."""
    return HTTP_STATUS_CODES.get(status, HTTP_ERROR)


def status_agrees(code: str, status: int | None) -> bool:
    """True when `code` is registered and answers with `status` (None: any)."""
    entry = ERROR_CODES.get(code)
    if entry is None:
        return False
    if status is None:
        return True
    return status in OTHER_HTTP_STATUSES if code == HTTP_ERROR else entry.status == status


class UnregisteredErrorCode(AssertionError):
    """An error code (or its status) that is not in core/error_codes.py."""


_strict = False


def set_strict(strict: bool) -> None:
    """Strict (the tests): an unregistered code or a wrong status raises. Otherwise it is logged."""
    global _strict
    _strict = strict


def check(code: str, status: int | None) -> None:
    """Refuse (strict) or log a code that is not registered with this status."""
    if status_agrees(code, status):
        return
    entry = ERROR_CODES.get(code)
    problem = (f"error code {code!r} is not registered in core/error_codes.py" if entry is None
               else f"error code {code!r} is registered with status {entry.status}, not {status}")
    if _strict:
        raise UnregisteredErrorCode(problem)
    log.error(problem)


def check_class(code: str, status: int) -> None:
    """Always strict: an ApiError subclass with an unregistered code fails when it is defined (at import)."""
    if not status_agrees(code, status):
        raise UnregisteredErrorCode(f"{code!r} ({status}) is not registered in core/error_codes.py")


def markdown_table() -> str:
    """The registry as a Markdown table, by status then code (for the OpenAPI description)."""
    rows = ["| status | code | meaning |", "|---|---|---|"]
    for entry in sorted(ERROR_CODES.values(), key=lambda e: (e.status or 999, e.code)):
        status = str(entry.status) if entry.status else "other"
        rows.append(f"| {status} | `{entry.code}` | {entry.meaning} |")
    return "\n".join(rows)
