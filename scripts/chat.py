"""Chat by hand from a terminal: log in, open (or join) a conversation, type lines to send them.

    .venv/bin/python scripts/chat.py demo2 --listing 1       # buyer: ask about listing 1
    .venv/bin/python scripts/chat.py demo1 --group 1         # seller: answer in group 1

Every frame the server pushes is printed; the last cursor is kept in
~/.paipai-chat-<user>.cursor so a restart resumes from it (`/ws?cursor=`) and prints what was missed first.
"""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import threading
import uuid
from pathlib import Path
from urllib import request as urlrequest
from urllib.parse import urlencode

import websocket  # websocket-client, installed by `make install-dev`


def call(base: str, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
    req = urlrequest.Request(f"{base}/api/v1{path}", method=method,
                             data=json.dumps(body).encode() if body is not None else None,
                             headers={"Content-Type": "application/json",
                                      **({"Authorization": f"Bearer {token}"} if token else {})})
    with urlrequest.urlopen(req) as resp:
        return json.loads(resp.read() or b"{}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("username")
    parser.add_argument("--server", default=os.environ.get("PAIPAI_URL", "http://127.0.0.1:8000"))
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--listing", type=int, help="open (or reuse) the inquiry about this listing")
    where.add_argument("--group", type=int, help="talk in this existing group")
    args = parser.parse_args()

    password = os.environ.get("PAIPAI_PASSWORD") or getpass.getpass(f"password for {args.username}: ")
    token = call(args.server, "POST", "/token", body={"grant_type": "password", "username": args.username,
                                                      "password": password})["access_token"]
    group_id = args.group or call(args.server, "POST", f"/listings/{args.listing}/inquiries", token)["id"]
    cursor_file = Path.home() / f".paipai-chat-{args.username}.cursor"
    cursor = cursor_file.read_text().strip() if cursor_file.exists() else None

    # Resume on connect: what was missed comes first (no cursor file yet: everything from the beginning).
    ws_url = args.server.replace("http", "ws", 1) + "/ws?" + urlencode({"cursor": cursor or ""})
    ws = websocket.create_connection(ws_url, header=[f"Authorization: Bearer {token}"])

    def reader() -> None:
        while True:
            try:
                frame = json.loads(ws.recv())
            except (websocket.WebSocketException, OSError, ValueError):
                print("[connection closed]")
                os._exit(0)
            if frame.get("cursor"):
                cursor_file.write_text(frame["cursor"])
            if frame["op"] == "synced" and frame["more"]:
                ws.send(json.dumps({"op": "sync", "cursor": frame["cursor"]}))  # the next batch of the replay
            elif frame["op"] in ("message", "ack"):
                m = frame["message"]
                who = (m["sender"] or {}).get("nickname", "系统")
                print(f"[g{m['group_id']} #{m['seq']}] {who}: {json.dumps(m['body'], ensure_ascii=False)}")
            else:
                print(json.dumps(frame, ensure_ascii=False))

    threading.Thread(target=reader, daemon=True).start()
    print(f"group {group_id}: type a line and press Enter to send it (Ctrl-D quits)")
    for line in sys.stdin:
        if line.strip():
            ws.send(json.dumps({"op": "send", "client_id": uuid.uuid4().hex, "group_id": group_id,
                                "type": "txt", "body": {"text": line.rstrip("\n")}}, ensure_ascii=False))
    ws.close()


if __name__ == "__main__":
    main()
