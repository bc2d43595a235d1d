"""Upload fill: a per-user rate limit, a daily byte quota, and the sweep of files nothing references (the
`sweep-uploads` command and the periodic job), with half-written and row-less files."""
from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from core.db import db, utcnow
from marketplace.models import Upload
from marketplace.uploads.services import TEMP_PREFIX
from tests.marketplace.test_uploads import ACCEPTED, post_file
from tests.support.wsclient import tuned_app, wait_until

JPEG = ACCEPTED["jpeg"][0]  # 1,040 bytes


def _files(app) -> set[str]:
    directory = Path(app.config["UPLOAD_DIR"])
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def _rows(app) -> set[str]:
    with app.app_context():
        names = set(db.session.scalars(select(Upload.name)))
        db.remove()
    return names


def test_uploads_past_the_user_rate_are_429(limited, factory):
    app = limited(upload="60/hour burst 2")
    client = app.test_client()
    user, other = factory.user(), factory.user()
    assert [post_file(client, user, JPEG).status_code for _ in range(3)] == [201, 201, 429]
    r = post_file(client, user, JPEG)
    assert r.get_json()["error"]["code"] == "rate_limited" and r.get_json()["error"]["details"]["limit"] == "upload"
    assert post_file(client, other, JPEG).status_code == 201  # per user


def test_the_daily_byte_quota_refuses_what_would_pass_it_and_stores_nothing(clean_app, factory):
    with tuned_app(clean_app, UPLOAD_DAILY_BYTES=3 * len(JPEG) - 10) as app:
        client = app.test_client()
        user, other = factory.user(), factory.user()
        assert [post_file(client, user, JPEG).status_code for _ in range(2)] == [201, 201]
        files, rows = _files(app), _rows(app)
        r = post_file(client, user, JPEG)  # within UPLOAD_MAX_BYTES, beyond what is left today
        assert r.status_code == 429, r.get_json()
        error = r.get_json()["error"]
        assert error["code"] == "upload_quota_exceeded"
        assert error["details"]["used_bytes"] == 2 * len(JPEG) and error["details"]["quota_bytes"] == 3 * len(JPEG) - 10
        assert (_files(app), _rows(app)) == (files, rows)  # nothing kept, not even a half-written file
        assert post_file(client, other, JPEG).status_code == 201  # per user
        with app.app_context(), db.transaction() as s:  # a day later the window has moved on
            s.execute(update(Upload).values(created_at=utcnow() - timedelta(days=1, seconds=1)))
        assert post_file(client, user, JPEG).status_code == 201


def _age(app, names: list[str], seconds: int) -> None:
    """Make uploads (rows and files) and loose files look `seconds` old."""
    directory = Path(app.config["UPLOAD_DIR"])
    then = time.time() - seconds
    for name in names:
        if (directory / name).exists():
            os.utime(directory / name, (then, then))
    with app.app_context(), db.transaction() as s:
        s.execute(update(Upload).where(Upload.name.in_(names))
                  .values(created_at=utcnow() - timedelta(seconds=seconds)))


def _name(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_sweep_uploads_deletes_only_old_unreferenced_uploads_and_stray_files(client, factory):
    app = client.application
    seller, buyer = factory.user(), factory.user()
    up = {key: _name(post_file(client, seller, JPEG).get_json()["url"])
          for key in ("listing", "avatar", "message", "unused", "young")}
    base = "http://localhost/api/v1/uploads/"
    factory.listing(seller, images=[base + up["listing"]])
    assert client.patch("/api/v1/me", json={"avatar_url": base + up["avatar"]},
                        headers=seller.headers).status_code == 200
    group_id = factory.inquiry(buyer, factory.listing(seller, title="另一件")["id"])
    r = client.post(f"/api/v1/groups/{group_id}/messages", headers=seller.headers,
                    json={"client_id": "img-1", "type": "img", "body": {"url": base + up["message"]}})
    assert r.status_code == 201, r.get_json()
    directory = Path(app.config["UPLOAD_DIR"])
    (directory / f"{TEMP_PREFIX}abc123").write_bytes(b"half")  # a crashed upload
    (directory / f"{TEMP_PREFIX}fresh").write_bytes(b"in progress")
    orphan = "0" * 32 + ".jpg"  # moved into place, row never committed
    (directory / orphan).write_bytes(JPEG)
    old = [up[k] for k in ("listing", "avatar", "message", "unused")] + [f"{TEMP_PREFIX}abc123", orphan]
    _age(app, old, 2 * 24 * 3600)

    result = app.test_cli_runner().invoke(args=["sweep-uploads"])
    assert result.exit_code == 0, result.output
    assert "uploads deleted: 1" in result.output
    assert "half-written files deleted: 1" in result.output and "files without a row deleted: 1" in result.output
    kept = {up[k] for k in ("listing", "avatar", "message", "young")}
    assert _rows(app) == kept
    ours = set(up.values()) | {f"{TEMP_PREFIX}abc123", f"{TEMP_PREFIX}fresh", orphan}
    assert _files(app) & ours == kept | {f"{TEMP_PREFIX}fresh"}  # (the folder is shared with other tests)
    assert client.get(f"/api/v1/uploads/{up['unused']}").status_code == 404
    assert client.get(f"/api/v1/uploads/{up['message']}").status_code == 200


def test_the_periodic_job_sweeps_in_the_background(clean_app, factory):
    with tuned_app(clean_app, UPLOAD_SWEEP_INTERVAL_S=0.05, UPLOAD_SWEEP_AFTER_S=3600) as app:
        try:
            client = app.test_client()
            user = factory.user()
            doomed = _name(post_file(client, user, JPEG).get_json()["url"])
            _age(app, [doomed], 7200)
            assert wait_until(lambda: doomed not in _rows(app) and doomed not in _files(app), timeout=10)
        finally:
            app.extensions["upload_sweeper_stop"].set()
