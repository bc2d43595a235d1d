"""Keeping tokens out of URLs: the handshake takes `Authorization: Bearer`, or a single-use ticket from
`POST /api/v1/ws/ticket` that expires and works in any process (two gunicorn servers on one database);
`access_token` and `ticket` are redacted from every log line, werkzeug's and gunicorn's access logs
included."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import update

from core.db import db, utcnow
from marketplace.models import WsTicket
from tests.support.servers import GunicornServer, HttpApi, shared_database
from tests.support.wsclient import WsClient, wait_until

API = "/api/v1"


def ticket_for(client, actor) -> dict:
    r = client.post(f"{API}/ws/ticket", headers=actor.headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_the_handshake_takes_an_authorization_bearer_header(live_server, factory):
    user = factory.user()
    ws = WsClient(live_server.ws_url, user.token, header=True)
    try:
        assert ws.hello()["user_id"] == user.id
    finally:
        ws.close()


def test_a_ticket_opens_one_socket_once(live_server, client, factory):
    user = factory.user()
    body = ticket_for(client, user)
    assert set(body) == {"ticket", "expires_in"} and body["expires_in"] == 30
    assert user.token not in body["ticket"]
    ws = WsClient(f"{live_server.ws_url}?ticket={body['ticket']}")
    try:
        assert ws.hello()["user_id"] == user.id
    finally:
        ws.close()
    again = WsClient(f"{live_server.ws_url}?ticket={body['ticket']}")  # used up
    try:
        assert again.close_status() == 4401
        assert again.seen[-1]["error"]["code"] == "unauthorized"
    finally:
        again.close()


def test_an_expired_or_unknown_ticket_is_4401(live_server, client, factory):
    user = factory.user()
    ticket = ticket_for(client, user)["ticket"]
    with client.application.app_context(), db.transaction() as s:
        s.execute(update(WsTicket).values(expires_at=utcnow() - timedelta(seconds=1)))
    for value in (ticket, "made-up"):
        ws = WsClient(f"{live_server.ws_url}?ticket={value}")
        try:
            assert ws.close_status() == 4401
        finally:
            ws.close()


def test_a_ticket_needs_a_live_token_and_dies_with_it(live_server, client, factory):
    assert client.post(f"{API}/ws/ticket").status_code == 401
    user = factory.user()
    ticket = ticket_for(client, user)["ticket"]
    assert client.delete(f"{API}/token", headers=user.headers).status_code == 204  # log out
    ws = WsClient(f"{live_server.ws_url}?ticket={ticket}")
    try:
        assert ws.close_status() == 4401
    finally:
        ws.close()


def test_tokens_and_tickets_are_redacted_from_the_request_log(live_server, client, factory, caplog):
    user = factory.user()
    ticket = ticket_for(client, user)["ticket"]
    caplog.set_level(logging.INFO)
    for query in (f"access_token={user.token}", f"ticket={ticket}"):
        ws = WsClient(f"{live_server.ws_url}?{query}")
        try:
            assert ws.hello()["user_id"] == user.id
        finally:
            ws.close()

    def logged() -> str:  # werkzeug logs a request once it is over: after the socket closed
        return "\n".join(record.getMessage() for record in caplog.records)
    assert wait_until(lambda: "GET /ws?ticket=[redacted]" in logged())
    assert "GET /ws?access_token=[redacted]" in logged()
    logged = logged()
    assert user.token not in logged and ticket not in logged


@pytest.mark.slow
def test_gunicorn_redeems_a_ticket_from_another_process_and_its_access_log_shows_no_secret(tmp_path):
    access_log = tmp_path / "access.log"
    with shared_database(tmp_path) as url, \
            GunicornServer(tmp_path, database_url=url, name="a") as a, \
            GunicornServer(tmp_path, database_url=url, name="b",
                           extra_args=("--access-logfile", str(access_log))) as b:
        api_a, api_b = HttpApi(a.url), HttpApi(b.url)
        user = api_a.user()
        ticket = api_a.expect(201, "POST", "/ws/ticket", token=user.token)["ticket"]
        ws = WsClient(f"{b.ws_url}?ticket={ticket}")  # issued by one process, redeemed by another
        try:
            assert ws.hello()["user_id"] == user.id
        finally:
            ws.close()
        ws = WsClient(f"{b.ws_url}?access_token={user.token}")
        try:
            assert ws.hello()["user_id"] == user.id
        finally:
            ws.close()
        # gunicorn's access log has no line for sockets (flask-sock ends them outside the WSGI response),
        # but a client may well put a token in any other URL
        for query in (f"access_token={user.token}&page=1", f"ticket={ticket}"):
            api_b.call("GET", f"/listings?{query}")
        b.stop()  # the access log is flushed
        logged = access_log.read_text()
        assert "/listings?access_token=[redacted]&page=1" in logged and "/listings?ticket=[redacted]" in logged, logged
        assert user.token not in logged and ticket not in logged
