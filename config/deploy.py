"""Start-up checks of a deployment: open-file limits, and no production setup that silently splits."""
from __future__ import annotations

import resource

from config.env import ConfigError
from config.settings import Config

# Beyond its client connections a worker holds database and Redis connections, log and upload files.
FILES_HEADROOM = 256


def files_needed(worker_connections: int) -> int:
    """The open-files limit (`ulimit -n`) one worker needs."""
    return worker_connections + FILES_HEADROOM


def raise_open_files_limit(needed: int) -> tuple[int, str | None]:
    """Raise the soft open-files limit towards `needed` (up to the hard limit): (the soft limit now,
    a warning when it is still below `needed`)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < needed:
        return soft, (f"open files limit (ulimit -n) is {soft}, below the {needed} each worker needs "
                      f"(WS_MAX_SOCKETS + HTTP_MAX_CONNECTIONS + {FILES_HEADROOM}): connections past it "
                      f"fail with 'Too many open files'; raise the limit (ulimit -n {needed}, LimitNOFILE= "
                      f"in systemd, --ulimit nofile= in Docker) or lower WS_MAX_SOCKETS")
    return soft, None


def check_processes(config: Config, processes: int) -> None:
    """Production refuses a setup where several processes would each keep their own state."""
    if config.ENV_NAME != "production" or processes <= 1:
        return
    if config.DATABASE_URL.startswith("sqlite"):
        raise ConfigError(f"production with {processes} workers refuses SQLite (DATABASE_URL is "
                          f"{config.DATABASE_URL}): SQLite allows one writer at a time; set DATABASE_URL "
                          "to PostgreSQL (postgresql://user@host/db) or run one worker (-w 1)")
    if not config.REDIS_URL:
        raise ConfigError(f"production with {processes} workers needs REDIS_URL (redis://host:6379/0): "
                          "without it chat delivery and rate limits stay inside each process")
