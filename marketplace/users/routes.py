"""HTTP routes of users, tokens (and WebSocket tickets), the caller's profile and blocks."""
from __future__ import annotations

from flask import current_app

from core.api import Blueprint
from core.auth import auth_required, bearer_token, current_user
from core.pagination import page_schema
from core.ratelimit import RESPONSE_429, by_ip, counted_attempt, rate_limited
from marketplace.users import blocks, services, tickets
from marketplace.users.schemas import (
    BlockListArgsSchema,
    BlockSchema,
    MeSchema,
    ProfileUpdateSchema,
    PublicUserSchema,
    RegisterSchema,
    SubscriptionSchema,
    SubscriptionStateSchema,
    TokenRequestSchema,
    TokenSchema,
    WeChatCodeSchema,
    WsTicketSchema,
)
from marketplace.wechat import login as wechat_login
from marketplace.wechat import subscriptions

bp = Blueprint("users", __name__, description="Users, tokens, profiles and blocks")


@bp.post("/users")
@rate_limited("register_ip", by=by_ip)
@bp.arguments(RegisterSchema)
@bp.response(201, MeSchema)
@bp.alt_response(409, response="CONFLICT", description="username_taken")
def register(data):
    """Register a new account."""
    return services.register_user(**data)


@bp.post("/token")
@bp.arguments(TokenRequestSchema)
@bp.response(200, TokenSchema)
@bp.alt_response(403, response="FORBIDDEN", description="banned, wechat_login_refused")
@bp.alt_response(502, response="BAD_GATEWAY", description="wechat_error")
@bp.alt_response(503, response="SERVICE_UNAVAILABLE",
                 description="wechat_unavailable (Retry-After), wechat_not_configured")
@bp.doc(responses={"429": RESPONSE_429})
def login(data):
    """Log in and get a bearer token: with a password, or with WeChat (`grant_type=wechat`, the wx.login code).

    The first WeChat login creates the account (username `wx_…`, nickname 微信用户). Failed attempts
    are rate limited. WeChat errors: an invalid or used code is `400 invalid_wechat_code`; WeChat
    busy or rate limiting us is `503 wechat_unavailable` with `Retry-After`.
    """
    if data["grant_type"] == "wechat":
        with counted_attempt(("login_ip", by_ip())):
            raw, token = wechat_login.login_with_wechat(code=data["code"])
    else:
        with counted_attempt(("login_ip", by_ip()), ("login_user", data["username"].casefold())):
            raw, token = services.issue_token(username=data["username"], password=data["password"])
    return {"access_token": raw, "token_type": "Bearer",
            "expires_in": current_app.config["TOKEN_TTL_SECONDS"], "user": token.user}


@bp.post("/ws/ticket")
@auth_required
@bp.response(201, WsTicketSchema)
def ws_ticket():
    """A single-use ticket for one `/ws?ticket=...` handshake, valid `expires_in` seconds.

    It keeps the access token out of URLs (and so out of logs and browser history)."""
    return tickets.issue_ws_ticket(access_token=bearer_token())


@bp.delete("/token")
@auth_required
@bp.response(204)
def logout():
    """Revoke the token this request carries."""
    services.revoke_token(raw=bearer_token())


@bp.get("/me")
@auth_required
@bp.response(200, MeSchema)
def me():
    """The caller's own profile."""
    return current_user()


@bp.patch("/me")
@auth_required
@bp.arguments(ProfileUpdateSchema)
@bp.response(200, MeSchema)
def update_me(data):
    """Change nickname, avatar or bio."""
    return services.update_profile(user=current_user(), changes=data)


@bp.post("/me/wechat")
@auth_required
@bp.arguments(WeChatCodeSchema)
@bp.response(204)
@bp.alt_response(409, response="CONFLICT", description="wechat_bound_elsewhere, wechat_already_bound")
@bp.alt_response(502, response="BAD_GATEWAY", description="wechat_error")
@bp.alt_response(503, response="SERVICE_UNAVAILABLE",
                 description="wechat_unavailable (Retry-After), wechat_not_configured")
def bind_wechat(data):
    """Bind the WeChat user behind a wx.login code to the caller's account, so they can log in with WeChat.

    One WeChat user per account and one account per WeChat user; binding the same one again is a no-op.
    """
    wechat_login.bind_wechat(user=current_user(), code=data["code"])


@bp.post("/me/subscriptions")
@auth_required
@bp.arguments(SubscriptionSchema)
@bp.response(200, SubscriptionStateSchema)
def record_subscription(data):
    """Record the answer of wx.requestSubscribeMessage for the notification template.

    Each `accepted: true` is one message we may send (a one-time subscription); `accepted: false`
    leaves the quota as it is. Only WECHAT_TEMPLATE_ID is accepted (`400 unknown_template`).
    """
    return subscriptions.record(user=current_user(), **data)


@bp.get("/users/<int:user_id>")
@auth_required
@bp.response(200, PublicUserSchema)
def public_profile(user_id: int):
    """Another user's public profile."""
    return services.get_user(user_id=user_id)


@bp.put("/me/blocks/<int:user_id>")
@auth_required
@bp.response(204)
def block(user_id: int):
    """Block a user: no inquiries, direct chats, claims or messages between you."""
    blocks.block_user(actor=current_user(), user_id=user_id)


@bp.delete("/me/blocks/<int:user_id>")
@auth_required
@bp.response(204)
def unblock(user_id: int):
    """Unblock a user."""
    blocks.unblock_user(actor=current_user(), user_id=user_id)


@bp.get("/me/blocks")
@auth_required
@bp.arguments(BlockListArgsSchema, location="query")
@bp.response(200, page_schema(BlockSchema))
def list_blocks(args):
    """Users the caller has blocked."""
    return blocks.list_blocks(actor=current_user(), **args)
