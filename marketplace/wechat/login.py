"""Logging in with WeChat (`grant_type=wechat`) and binding WeChat to an existing account."""
from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import db
from core.errors import ApiError, Conflict
from marketplace.models import Token, User, WeChatIdentity
from marketplace.users.services import add_token
from marketplace.wechat import client

#: errcodes of jscode2session for a code that is wrong, expired or already used
INVALID_CODE_CODES = frozenset({40029, 40163, 41008})
#: WeChat refuses to log in a user it rates as high-risk
RISKY_USER_CODE = 40226
RETRY_AFTER_S = 5
DEFAULT_NICKNAME = "微信用户"


def wechat_failure(exc: Exception) -> ApiError:
    """The answer to give a client when WeChat refused or could not be asked."""
    if isinstance(exc, client.WeChatNotConfigured):
        return ApiError("WeChat login is not configured on this server.", status=503,
                        code="wechat_not_configured")
    if isinstance(exc, client.WeChatError) and exc.errcode in INVALID_CODE_CODES:
        return ApiError("The WeChat login code is invalid, expired or already used; call wx.login again.",
                        status=400, code="invalid_wechat_code", details={"fields": {"code": ["Invalid."]}})
    if isinstance(exc, client.WeChatError) and exc.errcode == RISKY_USER_CODE:
        return ApiError("WeChat refused this login.", status=403, code="wechat_login_refused")
    if isinstance(exc, client.WeChatUnreachable) or (isinstance(exc, client.WeChatError) and exc.busy):
        return ApiError("WeChat is busy or unreachable; try again shortly.", status=503,
                        code="wechat_unavailable", headers={"Retry-After": str(RETRY_AFTER_S)},
                        details={"retry_after": RETRY_AFTER_S})
    return ApiError("WeChat answered with an error.", status=502, code="wechat_error")


def _exchange(code: str) -> client.WxSession:
    try:
        return client.code2session(code)
    except (client.WeChatError, client.WeChatUnreachable, client.WeChatNotConfigured) as exc:
        raise wechat_failure(exc) from None


def _identity(s: Session, appid: str, wx: client.WxSession) -> WeChatIdentity | None:
    """The identity of this WeChat user: by unionid when known (the same person in our other apps), else openid."""
    match = and_(WeChatIdentity.appid == appid, WeChatIdentity.openid == wx.openid)
    if wx.unionid:
        match = or_(match, WeChatIdentity.unionid == wx.unionid)
    return s.scalars(select(WeChatIdentity).where(match).order_by(WeChatIdentity.id)).first()


def _new_username(s: Session) -> str:
    while True:
        name = f"wx_{secrets.token_hex(5)}"
        if s.scalar(select(User.id).where(User.username == name)) is None:
            return name


def login_with_wechat(*, code: str) -> tuple[str, Token]:
    """Exchange the wx.login code, find (or on the first login create) the user, hand out a token.

    A new user gets a generated username (`wx_…`), the nickname 微信用户 (changeable with PATCH /me)
    and no usable password. 400 `invalid_wechat_code`, 503 `wechat_unavailable` (Retry-After),
    403 `banned`.
    """
    wx = _exchange(code)
    appid = current_app.config["WECHAT_APPID"]
    try:
        return _log_in(appid, wx)
    except IntegrityError:
        # A concurrent first login of the same person committed first: this time we find their account.
        return _log_in(appid, wx)


def _log_in(appid: str, wx: client.WxSession) -> tuple[str, Token]:
    with db.transaction() as s:
        identity = _identity(s, appid, wx)
        if identity is None:
            user = User(username=_new_username(s), password_hash="!", nickname=DEFAULT_NICKNAME, role="user", bio="")
            s.add(user)
            s.flush()
            s.add(WeChatIdentity(user_id=user.id, appid=appid, openid=wx.openid, unionid=wx.unionid))
        else:
            user = s.get(User, identity.user_id)  # type: ignore[assignment]
            if identity.unionid is None and wx.unionid:
                identity.unionid = wx.unionid
        return add_token(s, user)


def bind_wechat(*, user: User, code: str) -> None:
    """Attach the WeChat user behind `code` to the caller's account (idempotent for the same WeChat user).

    409 `wechat_bound_elsewhere` when that WeChat user already has another account, 409
    `wechat_already_bound` when the caller's account has another WeChat user.
    """
    wx = _exchange(code)
    appid = current_app.config["WECHAT_APPID"]
    try:
        with db.transaction() as s:
            identity = _identity(s, appid, wx)
            if identity is not None and identity.user_id != user.id:
                raise Conflict("This WeChat account already belongs to another PaiPai account.",
                               code="wechat_bound_elsewhere")
            if identity is not None:
                return
            if s.scalar(select(WeChatIdentity.id).where(WeChatIdentity.user_id == user.id)) is not None:
                raise Conflict("Your account is bound to another WeChat account.", code="wechat_already_bound")
            s.add(WeChatIdentity(user_id=user.id, appid=appid, openid=wx.openid, unionid=wx.unionid))
    except IntegrityError:
        raise Conflict("This WeChat account already belongs to another PaiPai account.",
                       code="wechat_bound_elsewhere") from None


def openids_of(s: Session, user_ids: list[int]) -> dict[int, str]:
    """The openid (for our mini-program) of each of these users who has one."""
    appid = current_app.config.get("WECHAT_APPID")
    rows = s.execute(select(WeChatIdentity.user_id, WeChatIdentity.openid)
                     .where(WeChatIdentity.user_id.in_(user_ids), WeChatIdentity.appid == appid))
    return dict(rows.all())
