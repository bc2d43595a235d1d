"""Running calls at the same moment from several threads, for race tests."""
from __future__ import annotations

import threading
from typing import Any, Callable


def race(count: int, work: Callable[[int], Any], timeout: float = 120) -> list[Any]:
    """Run work(i) for i in range(count), each in its own thread released together; results in order.

    The first exception raised by any call is re-raised here.
    """
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if errors:
        raise errors[0]
    return results


def concurrently(client, calls: list[tuple[str, str, dict, dict | None]], prefix: str = "/api/v1") -> list[int]:
    """Send every (method, path, headers, json) at the same moment, one test client each; status codes."""
    app = client.application

    def call(i: int) -> int:
        method, path, headers, body = calls[i]
        return app.test_client().open(f"{prefix}{path}", method=method, headers=headers, json=body).status_code

    return race(len(calls), call)
