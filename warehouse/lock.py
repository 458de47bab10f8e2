"""One writer at a time: DuckDB allows one writing process per file, and two refreshes interleaving
their merges would be wrong even if it did not. The lock is an OS file lock, released by the kernel
when the holder exits, so a killed refresh never leaves a stale lock behind.

On a DuckLake with a PostgreSQL catalog, the catalog serializes commits (and DuckLake retries a commit that raced another, see
warehouse.lake), so writers of different datasets may run at once: a command on one dataset (an
ingest) holds the warehouse lock shared and its dataset's lock exclusive; a command on the whole
warehouse (refresh, rebuild, migrate) holds the warehouse lock exclusive, as on a local file. The locks
are files in $COSTCURVE_HOME, so they order the writers of one host.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from warehouse.db import concurrent_writers, home


class AlreadyRunning(Exception):
    pass


# The turns that are not a dataset's: the tables every model build and publish replaces, and the
# opening of a run whose steps run in processes of their own (pipelines.resources.Warehouse).
MODELS_TURN = "models"
RUNS_TURN = "runs"
# One refresh at a time on a host, where its steps take their own turns beside single-dataset ingests.
REFRESH_TURN = "refresh"

# Held locks of this process, by lock file: the CLI takes the lock for a whole refresh and each
# Dagster asset takes it again for its connection; flock would refuse a second descriptor.
_HELD: dict[str, int] = {}
# Whether each held lock is held exclusively (a shared hold leaves other writers of other datasets in).
_EXCLUSIVE: dict[str, bool] = {}


@contextmanager
def writer_lock(what: str, dataset: str | None = None, *, wait: bool = False):
    """The writer's lock: the warehouse's, or on a DuckLake, with ``dataset``, that dataset's. ``wait``:
    wait for the holder to finish rather than refuse (a step that must take its turn, not a command)."""
    with ExitStack() as stack:
        # A .ducklake catalog is a DuckDB file, which one process at a time may write: one writer, as on a file.
        if dataset is None or not concurrent_writers():
            stack.enter_context(_flock(home() / ".writer.lock", what, fcntl.LOCK_EX))
        else:
            stack.enter_context(_flock(home() / ".writer.lock", what, fcntl.LOCK_SH))
            stack.enter_context(_flock(home() / f".writer.{dataset}.lock", what, fcntl.LOCK_EX, wait))
        yield


def holds_warehouse() -> bool:
    """Whether this process holds the warehouse lock exclusively: then no other writer of this host runs."""
    return bool(_HELD.get(str(home() / ".writer.lock"))) and _EXCLUSIVE.get(
        str(home() / ".writer.lock"), False
    )


@contextmanager
def _flock(path: Path, what: str, mode: int, wait: bool = False):
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
            fcntl.flock(handle, mode if wait else mode | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "{}"
            info = json.loads(holder) if holder.startswith("{") else {}
            raise AlreadyRunning(
                f"another {info.get('what', 'writer')} is already running on {home()} "
                f"(pid {info.get('pid', '?')}, since {info.get('since', '?')}); wait for it to finish"
            ) from None
        if mode == fcntl.LOCK_EX:
            # Who holds it, for the message a second writer gets (shared holders leave it as it was).
            handle.seek(0)
            handle.truncate()
            handle.write(
                json.dumps(
                    {"what": what, "pid": os.getpid(), "since": f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"}
                )
            )
            handle.flush()
        _HELD[str(path)] = 1
        _EXCLUSIVE[str(path)] = mode == fcntl.LOCK_EX
        try:
            yield
        finally:
            del _HELD[str(path)], _EXCLUSIVE[str(path)]
            fcntl.flock(handle, fcntl.LOCK_UN)
