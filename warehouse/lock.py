"""One writer at a time: DuckDB allows one writing process per file, and two refreshes interleaving
their merges would be wrong even if it did not. The lock is an OS file lock, released by the kernel
when the holder exits, so a killed refresh never leaves a stale lock behind."""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from datetime import UTC, datetime

from warehouse.db import home


class AlreadyRunning(Exception):
    pass


# Held locks of this process, by lock file: the CLI takes the lock for a whole refresh and each
# Dagster asset takes it again for its connection; flock would refuse a second descriptor.
_HELD: dict[str, int] = {}


@contextmanager
def writer_lock(what: str):
    path = home() / ".writer.lock"
    if _HELD.get(str(path)):
        _HELD[str(path)] += 1
        try:
            yield
        finally:
            _HELD[str(path)] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "{}"
            info = json.loads(holder) if holder.startswith("{") else {}
            raise AlreadyRunning(
                f"another {info.get('what', 'writer')} is already running on {home()} "
                f"(pid {info.get('pid', '?')}, since {info.get('since', '?')}); wait for it to finish"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {"what": what, "pid": os.getpid(), "since": f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"}
            )
        )
        handle.flush()
        _HELD[str(path)] = 1
        try:
            yield
        finally:
            del _HELD[str(path)]
            fcntl.flock(handle, fcntl.LOCK_UN)
