"""HTTP routes of users, tokens (and WebSocket tickets), the caller's profile and blocks."""
from __future__ import annotations

from flask import current_app

from core.api import Blueprint
from core.auth import auth_required, bearer_token, current_user
from core.pagination import page_schema
from core.ratelimit import RESPONSE_429, by_ip, counted_attempt, rate_limited
from marketplace.users import blocks, services, tickets
from marketplace.users.schemas import (BlockListArgsSchema, BlockSchema, MeSchema, ProfileUpdateSchema,
                                       PublicUserSchema, RegisterSchema, TokenRequestSchema, TokenSchema,
                                       WsTicketSchema)

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
@bp.doc(responses={"429": RESPONSE_429})
def login(data):
    """Log in with a password and get a bearer token (failed attempts are rate limited)."""
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
