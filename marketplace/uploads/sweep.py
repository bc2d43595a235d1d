"""Deleting uploads nothing references, and half-written files, once they are `UPLOAD_SWEEP_AFTER_S` old.

An upload is referenced while its name appears in a listing's images, a user's avatar, or whatever a
registered finder reports (chat registers message bodies: marketplace never imports chat). Runs as
`flask --app app sweep-uploads` and, every `UPLOAD_SWEEP_INTERVAL_S`, in a background thread of each
process (deleting twice is harmless). Upload names are hex and a dot, so they are safe in LIKE.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import String, cast, delete, or_, select
from sqlalchemy.orm import Session

from core.db import db, utcnow
from marketplace.models import Listing, Upload, User
from marketplace.uploads.services import TEMP_PREFIX, upload_dir
from marketplace.uploads.urls import NAME_RE

log = logging.getLogger(__name__)
BATCH = 200

#: finder(session, names) -> the names among `names` that something references
ReferenceFinder = Callable[[Session, list[str]], set[str]]
_finders: dict[str, ReferenceFinder] = {}


@dataclass
class SweepReport:
    uploads_deleted: int = 0  # rows and their files
    temp_files_deleted: int = 0  # half-written `.upload-*` files
    orphan_files_deleted: int = 0  # stored files without a row


def register_upload_references(name: str, finder: ReferenceFinder) -> None:
    """Let `finder` keep uploads alive (registering a name again replaces it)."""
    _finders[name] = finder


def names_in(s: Session, column, names: list[str]) -> set[str]:
    """The names among `names` that occur in the text of `column` (a string or JSON column)."""
    text = cast(column, String)
    found: set[str] = set()
    for value in s.scalars(select(text).where(or_(*(text.like(f"%{name}%") for name in names)))):
        found.update(name for name in names if value and name in value)
    return found


def _marketplace_references(s: Session, names: list[str]) -> set[str]:
    return names_in(s, Listing.images, names) | names_in(s, User.avatar_url, names)


def referenced(s: Session, names: list[str]) -> set[str]:
    """The names among `names` that a listing, an avatar or a registered finder references."""
    found = _marketplace_references(s, names)
    for finder in list(_finders.values()):
        found |= finder(s, [n for n in names if n not in found])
    return found


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False


def _sweep_rows(cutoff, directory: Path, report: SweepReport) -> None:
    after_id = 0
    while True:
        with db.transaction() as s:
            rows = s.execute(select(Upload.id, Upload.name).where(Upload.created_at < cutoff, Upload.id > after_id)
                             .order_by(Upload.id).limit(BATCH)).all()
            if not rows:
                return
            after_id = rows[-1].id
            keep = referenced(s, [r.name for r in rows])
            doomed = [r for r in rows if r.name not in keep]
            if doomed:
                s.execute(delete(Upload).where(Upload.id.in_([r.id for r in doomed])))
        for row in doomed:  # after commit: a failed commit leaves files and rows as they were
            _unlink(directory / row.name)
        report.uploads_deleted += len(doomed)


def _old_files(directory: Path, cutoff_ts: float) -> Iterable[Path]:
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    return [Path(e.path) for e in entries if e.is_file(follow_symlinks=False) and e.stat().st_mtime < cutoff_ts]


def _sweep_files(directory: Path, cutoff_ts: float, report: SweepReport) -> None:
    stored: list[Path] = []
    for path in _old_files(directory, cutoff_ts):
        if path.name.startswith(TEMP_PREFIX):
            report.temp_files_deleted += _unlink(path)
        elif NAME_RE.match(path.name):
            stored.append(path)
    for start in range(0, len(stored), BATCH):
        batch = stored[start:start + BATCH]
        known = set(db.session.scalars(select(Upload.name).where(Upload.name.in_([p.name for p in batch]))))
        db.session.rollback()
        for path in batch:
            if path.name not in known:  # a crash between the move into place and the row's commit
                report.orphan_files_deleted += _unlink(path)


def sweep_uploads(*, older_than_s: int | None = None) -> SweepReport:
    """Delete unreferenced uploads, half-written files and row-less files older than `older_than_s`
    (default UPLOAD_SWEEP_AFTER_S)."""
    age = current_app.config["UPLOAD_SWEEP_AFTER_S"] if older_than_s is None else older_than_s
    directory = upload_dir()
    report = SweepReport()
    _sweep_rows(utcnow() - timedelta(seconds=age), directory, report)
    _sweep_files(directory, time.time() - age, report)
    return report


def _run_periodically(app: Flask, interval_s: float, stop: threading.Event) -> None:
    while not stop.wait(interval_s):
        with app.app_context():
            try:
                report = sweep_uploads()
                if report.uploads_deleted or report.temp_files_deleted or report.orphan_files_deleted:
                    log.info("upload sweep: %s", report)
            except Exception:
                log.exception("upload sweep failed")
            finally:
                db.remove()


def init_app(app: Flask) -> None:
    """Start this process's periodic sweep (UPLOAD_SWEEP_INTERVAL_S; 0: none)."""
    interval = app.config.get("UPLOAD_SWEEP_INTERVAL_S", 0)
    if interval and interval > 0:
        stop = threading.Event()
        app.extensions["upload_sweeper_stop"] = stop
        threading.Thread(target=_run_periodically, args=(app, interval, stop), name="upload-sweeper",
                         daemon=True).start()
