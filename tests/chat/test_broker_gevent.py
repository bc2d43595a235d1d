"""The Redis broker under gevent monkey-patching (gunicorn gevent workers), in a fresh process."""
from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Patched first, as in a gevent worker; the listener "thread" is then a greenlet,
# so any blocking call in it would freeze the ticker below.
SCRIPT = r"""
from gevent import monkey
monkey.patch_all()
import sys, time, gevent
from chat.broker import make_broker

url, prefix = sys.argv[1], sys.argv[2]
assert monkey.is_module_patched("threading") and monkey.is_module_patched("socket")
broker = make_broker(url, client_name=prefix + "-gevent")
received = []
subs = [broker.subscribe(f"{prefix}:g{i}", received.append) for i in range(20)]
assert all(s.ready.wait(5) for s in subs), "subscriptions not ready"

def tick():  # 30 sleeps of 10 ms: about 0.3 s unless something blocks the loop
    started = time.monotonic()
    for _ in range(30):
        gevent.sleep(0.01)
    return time.monotonic() - started

ticker = gevent.spawn(tick)
senders = [gevent.spawn(broker.publish, f"{prefix}:g{i}", f"m{i}") for i in range(20)]
gevent.joinall(senders, timeout=5)
assert all(s.value is True for s in senders), "a publish failed"
deadline = time.monotonic() + 5
while len(received) < 20 and time.monotonic() < deadline:
    gevent.sleep(0.01)
assert sorted(received) == sorted(f"m{i}" for i in range(20)), received
ticker.join(timeout=5)
assert ticker.value is not None and ticker.value < 1.0, f"the event loop was blocked: {ticker.value}"
broker.close()
print("gevent-ok")
"""


def test_broker_delivers_under_gevent_monkey_patching_without_blocking_the_loop(redis_url):
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    result = subprocess.run([sys.executable, "-c", SCRIPT, redis_url, prefix], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("gevent-ok")
