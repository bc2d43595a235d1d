"""psycopg's wait under gevent: the socket is asked first, and gevent's loop entered only when it is not ready.

psycopg drives every query with a generator that says what it waits for (read, write or both) and
is told what became ready. In a gevent-patched process psycopg waits through gevent's `select.poll`,
which makes, starts and stops a watcher and goes round the loop on every call, even for a socket
that is ready at once: a query's send to a local database is, and so is a reply that came while the
worker was busy. Here one poll of the interpreter's own, with no timeout, answers those; a wait
that must block parks the greenlet on one gevent watcher per wait state for the whole query.
psycopg's asyncio wait does the same: it serves ready sockets, and yields to the loop after 5 ms
busy so a long result does not hold up every other greenlet; so does this one.
"""
from __future__ import annotations

import select
from time import monotonic
from typing import Any

from gevent import get_hub, sleep
from gevent.monkey import get_original, is_module_patched
from gevent.socket import wait as wait_on_watcher
from psycopg import errors, waiting
from psycopg.waiting import READY_NONE, READY_R, READY_W, WAIT_R, WAIT_RW, WAIT_W

_poll = get_original("select", "poll")
_POLL_MASKS = {WAIT_R: select.POLLIN, WAIT_W: select.POLLOUT, WAIT_RW: select.POLLIN | select.POLLOUT}
_LIBEV_EVENTS = {WAIT_R: 1, WAIT_W: 2, WAIT_RW: 3}  # libev's READ and WRITE bits
_BAD = select.POLLERR | select.POLLHUP | select.POLLNVAL
#: the longest a wait serves ready sockets before it lets the other greenlets run (psycopg's MAX_BUSY_TIME)
MAX_BUSY_S = waiting.MAX_BUSY_TIME


class _Idle(Exception):
    """No readiness within the interval: psycopg's generator is told so (READY_NONE), as psycopg does."""


def wait(gen: Any, fileno: int, interval: float = 0.0, timeout: float | None = None) -> Any:
    """Run psycopg's generator `gen` on socket `fileno` to its result (psycopg's `WaitFunc`)."""
    deadline = monotonic() + timeout if timeout is not None else None
    busy_since = monotonic()
    now = _poll()
    watchers: dict[Any, Any] = {}
    try:
        state = next(gen)
        now.register(fileno, _POLL_MASKS[state])
        while True:
            events = now.poll(0)
            if not events:
                watcher = watchers.get(state)
                if watcher is None:
                    watcher = watchers[state] = get_hub().loop.io(fileno, _LIBEV_EVENTS[state])
                wait_s = max(interval, 0.0) if deadline is None else max(0.0, min(interval, deadline - monotonic()))
                try:
                    wait_on_watcher(watcher, wait_s, _Idle)
                except _Idle:
                    pass
                busy_since = monotonic()
                events = now.poll(0)
            elif monotonic() - busy_since > MAX_BUSY_S:
                sleep(0)  # the other greenlets' turn
                busy_since = monotonic()
            if events:
                ev = events[0][1]
                ready = (READY_R if ev & select.POLLIN else 0) | (READY_W if ev & select.POLLOUT else 0)
                if not ready and ev & _BAD:
                    waiting._check_fd_closed(fileno)
                    raise errors.OperationalError("connection socket closed")
                state = gen.send(ready)
                now.modify(fileno, _POLL_MASKS[state])
            else:
                gen.send(READY_NONE)
            if deadline is not None and monotonic() >= deadline:
                raise errors._WaitTimeout("wait timeout expired")
    except StopIteration as stop:
        return stop.value
    finally:
        for watcher in watchers.values():
            watcher.close()


def install() -> bool:
    """Make `wait` psycopg's wait where gevent patched `select` (a gevent worker); whether it did."""
    if not is_module_patched("select"):
        return False
    # psycopg's Connection.wait looks `waiting.wait` up on every call. This module also uses two of psycopg's
    # private names (`_check_fd_closed`, `errors._WaitTimeout`): psycopg is pinned, and the tests run real
    # queries through this wait in a patched process.
    waiting.wait = wait
    return True
