"""A stand-in for WeChat's server API on a free port, for tests (the real one cannot be reached from here).

Implements, as WeChat documents them (request shapes and errcodes):
- `GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code` → `{openid, session_key,
  unionid?}`; 40029 unknown code, 40163 code already used, 40013 bad appid, 40125 bad secret, 40002
  bad grant_type; codes registered as busy/limited answer -1 / 45011.
- `POST /cgi-bin/stable_token {grant_type: client_credential, appid, secret, force_refresh}` →
  `{access_token, expires_in}`; the same token until it expires or `force_refresh`.
- `POST /cgi-bin/message/subscribe/send?access_token=… {touser, template_id, page, data,
  miniprogram_state, lang}` → `{errcode: 0, errmsg: "ok", msgid}`; 40001 unknown token, 42001 expired
  token, 40003 bad touser, 40037 bad template_id, 47003 data values not `{"value": str}`, 43101 the
  user has no subscription left (one accepted subscription = one message).
"""
from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class WeChatState:
    appid: str = "wx-test-app"
    secret: str = "test-secret-do-not-log"
    template_id: str = "tmpl-chat-1"
    codes: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # code → (openid, unionid)
    used: set[str] = field(default_factory=set)
    errors: dict[str, int] = field(default_factory=dict)  # code → errcode to answer with
    token: str | None = None
    expired_tokens: set[str] = field(default_factory=set)
    token_calls: list[dict[str, Any]] = field(default_factory=list)
    quota: dict[str, int] = field(default_factory=dict)  # openid → subscriptions left
    sent: list[dict[str, Any]] = field(default_factory=list)
    send_errors: list[int] = field(default_factory=list)  # errcodes for the next sends, in order
    requests: list[str] = field(default_factory=list)  # paths (without query) seen

    def add_code(self, openid: str, unionid: str | None = None) -> str:
        code = secrets.token_hex(8)
        self.codes[code] = (openid, unionid)
        return code

    def expire_token(self) -> None:
        if self.token:
            self.expired_tokens.add(self.token)


class _Handler(BaseHTTPRequestHandler):
    state: WeChatState
    lock: threading.Lock

    def log_message(self, *_args: Any) -> None:
        pass

    def _answer(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, errcode: int, errmsg: str) -> None:
        self._answer({"errcode": errcode, "errmsg": errmsg})

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.state.requests.append(url.path)
        if url.path != "/sns/jscode2session":
            return self._error(40066, "invalid url")
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        st = self.state
        with self.lock:
            if q.get("appid") != st.appid:
                return self._error(40013, "invalid appid")
            if q.get("secret") != st.secret:
                return self._error(40125, "invalid appsecret")
            if q.get("grant_type") != "authorization_code":
                return self._error(40002, "invalid grant_type")
            code = q.get("js_code", "")
            if code in st.errors:
                return self._error(st.errors[code], "system error" if st.errors[code] == -1 else "api freq out of limit")
            if code in st.used:
                return self._error(40163, "code been used")
            if code not in st.codes:
                return self._error(40029, "invalid code")
            st.used.add(code)
            openid, unionid = st.codes[code]
        body = {"openid": openid, "session_key": secrets.token_hex(12)}
        if unionid:
            body["unionid"] = unionid
        self._answer(body)

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        self.state.requests.append(url.path)
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            return self._error(47001, "data format error")
        if url.path == "/cgi-bin/stable_token":
            return self._stable_token(body)
        if url.path == "/cgi-bin/message/subscribe/send":
            return self._send(parse_qs(url.query).get("access_token", [""])[0], body)
        self._error(40066, "invalid url")

    def _stable_token(self, body: Any) -> None:
        st = self.state
        with self.lock:
            if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
                return self._error(40002, "invalid grant_type")
            if body.get("appid") != st.appid:
                return self._error(40013, "invalid appid")
            if body.get("secret") != st.secret:
                return self._error(40125, "invalid appsecret")
            st.token_calls.append(dict(body))
            if st.token is None or body.get("force_refresh") or st.token in st.expired_tokens:
                st.token = secrets.token_hex(16)
            token = st.token
        self._answer({"access_token": token, "expires_in": 7200})

    def _send(self, token: str, body: Any) -> None:
        st = self.state
        with self.lock:
            if token in st.expired_tokens:
                return self._error(42001, "access_token expired")
            if not token or token != st.token:
                return self._error(40001, "invalid credential, access_token is invalid or not latest")
            if st.send_errors:
                return self._error(st.send_errors.pop(0), "injected")
            if not isinstance(body, dict) or not isinstance(body.get("touser"), str) or not body["touser"]:
                return self._error(40003, "invalid openid")
            if body.get("template_id") != st.template_id:
                return self._error(40037, "invalid template_id")
            data = body.get("data")
            if not isinstance(data, dict) or not all(isinstance(v, dict) and isinstance(v.get("value"), str)
                                                     for v in data.values()):
                return self._error(47003, "argument invalid! data.value invalid")
            if st.quota.get(body["touser"], 0) <= 0:
                return self._error(43101, "user refuse to accept the msg")
            st.quota[body["touser"]] -= 1
            st.sent.append(body)
        self._answer({"errcode": 0, "errmsg": "ok", "msgid": len(st.sent)})


class WeChatServer:
    """`with WeChatServer() as wx:` serves on 127.0.0.1:<free port>; `wx.base` is the WECHAT_API_BASE."""

    def __init__(self) -> None:
        self.state = WeChatState()
        handler = type("Handler", (_Handler,), {"state": self.state, "lock": threading.Lock()})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "WeChatServer":
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
