"""The app's WeChat access token: fetched from the stable token endpoint, kept in the database so
every process shares it, and refreshed REFRESH_MARGIN before it expires."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from core.db import db, dialect_insert, utcnow
from marketplace.models import WeChatAccessToken
from marketplace.wechat import client

REFRESH_MARGIN = timedelta(minutes=5)


def access_token() -> str:
    """The current token: the shared one while it has more than REFRESH_MARGIN left, else a new one.

    Several processes refreshing at once all get the same token: the stable token endpoint hands out
    the current one until it expires (only `force_refresh` replaces it, which we never ask for).
    """
    appid, _ = client.credentials()
    row = db.session.execute(select(WeChatAccessToken.access_token, WeChatAccessToken.expires_at)
                             .where(WeChatAccessToken.appid == appid)).one_or_none()
    db.session.rollback()  # end the read: the HTTP call below must not hold a transaction
    if row is not None and row.expires_at - REFRESH_MARGIN > utcnow():
        return row.access_token
    token, expires_in = client.stable_token()
    expires_at = utcnow() + timedelta(seconds=expires_in)
    with db.transaction() as s:
        stmt = dialect_insert(s, WeChatAccessToken.__table__).values(appid=appid, access_token=token,
                                                                     expires_at=expires_at)
        s.execute(stmt.on_conflict_do_update(index_elements=["appid"],
                                             set_={"access_token": token, "expires_at": expires_at}))
    return token


def forget(token: str) -> None:
    """WeChat called `token` invalid or expired (40001/42001): drop it unless another process already did."""
    appid = current_app.config.get("WECHAT_APPID")
    with db.transaction() as s:
        s.execute(delete(WeChatAccessToken).where(WeChatAccessToken.appid == appid,
                                                  WeChatAccessToken.access_token == token))
