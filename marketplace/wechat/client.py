"""WeChat's server API over HTTPS: jscode2session, stable_token and subscribeMessage.send.

Every call has a bounded timeout (WECHAT_TIMEOUT_S). The app secret and access tokens travel in
query strings or bodies, so no URL, body or library exception text is ever logged or raised: errors
carry only the endpoint's name and WeChat's errcode.
"""
from __future__ import annotations

import json
import logging
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import current_app

log = logging.getLogger(__name__)

#: errcodes meaning "try again later": system busy, calls too frequent
BUSY_CODES = frozenset({-1, 45011})
#: errcodes meaning the access token is no longer valid
TOKEN_EXPIRED_CODES = frozenset({40001, 42001})


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, endpoint: str, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"{endpoint}: errcode {errcode}")
        self.endpoint, self.errcode, self.errmsg = endpoint, errcode, errmsg

    @property
    def busy(self) -> bool:
        return self.errcode in BUSY_CODES


class WeChatUnreachable(Exception):
    """No usable answer: a timeout, a refused connection, an HTTP error status or a body that is not JSON."""

    def __init__(self, endpoint: str, reason: str) -> None:
        super().__init__(f"{endpoint}: {reason}")
        self.endpoint = endpoint


class WeChatNotConfigured(Exception):
    """WECHAT_APPID / WECHAT_SECRET are not set."""


@dataclass(frozen=True)
class WxSession:
    """What jscode2session tells us about the user (the session_key is deliberately dropped)."""

    openid: str
    unionid: str | None


def credentials() -> tuple[str, str]:
    cfg = current_app.config
    if not cfg.get("WECHAT_APPID") or not cfg.get("WECHAT_SECRET"):
        raise WeChatNotConfigured()
    return cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"]


def _call(endpoint: str, path: str, *, query: dict[str, str], body: dict[str, Any] | None = None) -> dict[str, Any]:
    cfg = current_app.config
    url = f"{cfg['WECHAT_API_BASE']}{path}?{urlencode(query)}" if query else f"{cfg['WECHAT_API_BASE']}{path}"
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json"} if data is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=cfg["WECHAT_TIMEOUT_S"]) as response:
            raw = response.read(1024 * 1024)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise WeChatUnreachable(endpoint, f"HTTP {exc.code}") from None
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
        raise WeChatUnreachable(endpoint, type(exc).__name__) from None
    try:
        answer = json.loads(raw)
    except ValueError:
        raise WeChatUnreachable(endpoint, "not JSON") from None
    if not isinstance(answer, dict):
        raise WeChatUnreachable(endpoint, "not a JSON object")
    errcode = answer.get("errcode") or 0
    if errcode != 0:
        log.warning("wechat %s: errcode %s", endpoint, errcode)
        raise WeChatError(endpoint, int(errcode), str(answer.get("errmsg", ""))[:200])
    return answer


def code2session(code: str) -> WxSession:
    """Exchange a wx.login code (single use, 5 minutes) for the user's openid and unionid."""
    appid, secret = credentials()
    answer = _call("jscode2session", "/sns/jscode2session",
                   query={"appid": appid, "secret": secret, "js_code": code, "grant_type": "authorization_code"})
    openid = answer.get("openid")
    if not isinstance(openid, str) or not openid:
        raise WeChatUnreachable("jscode2session", "no openid")
    unionid = answer.get("unionid")
    return WxSession(openid=openid, unionid=unionid if isinstance(unionid, str) and unionid else None)


def stable_token(*, force_refresh: bool = False) -> tuple[str, int]:
    """A fresh (access_token, expires_in seconds) from the stable token endpoint."""
    appid, secret = credentials()
    answer = _call("stable_token", "/cgi-bin/stable_token", query={},
                   body={"grant_type": "client_credential", "appid": appid, "secret": secret,
                         "force_refresh": force_refresh})
    token, expires_in = answer.get("access_token"), answer.get("expires_in")
    if not isinstance(token, str) or not token or not isinstance(expires_in, int):
        raise WeChatUnreachable("stable_token", "no access_token")
    return token, expires_in


def send_subscribe_message(access_token: str, payload: dict[str, Any]) -> None:
    """subscribeMessage.send: one subscribe message to one user (payload: touser, template_id, page, data, ...)."""
    _call("subscribeMessage.send", "/cgi-bin/message/subscribe/send", query={"access_token": access_token},
          body=payload)
