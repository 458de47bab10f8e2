"""`costcurve rebuild`: replay the raw archive into a fresh warehouse.

Raw is the truth: after a parser or rule fix, replaying every archived fetch through the one flow
(pipelines.flow.run: stage, validate, merge) reproduces history as the fixed code would have built
it. Each run's batch of a dataset is replayed together and under its original run id, so quarantine
rows and source-run counts line up with the runs that fetched them; batches go in observation order,
as the price-jump rule compares a row with the history before it. A child process parses the coming
batches while the warehouse takes the current one (pipelines.readahead). The fresh file replaces the
working one only when the replay succeeded; the old file is kept beside it as
``costcurve.duckdb.before-rebuild``. Bodies an older costcurve archived verbatim are stored compressed
in the fresh file (warehouse.raw), so a rebuild is also how an existing warehouse sheds that weight.

On a DuckLake the replay is built the same way, in a fresh local file beside the home, and then replaces
the lake's tables in one commit (pipelines.migrate's copy, comments included), published as the rebuild
run: a reader sees the old warehouse or the rebuilt one, and the lake's snapshots keep the one before.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from itertools import groupby
from pathlib import Path

import duckdb

from pipelines import flow, readahead, registry
from sources.http import Fetched
from warehouse import db, history, lake, raw


def replay(con: duckdb.DuckDBPyConnection, archive: Path | lake.Lake, progress: Callable[[str], None]) -> int:
    """Replay every fetch of ``archive`` (a warehouse file or a lake) that was read, into ``con``, through
    the one flow (flow.run) under its original run id; returns how many. A fetch whose payload could not
    be read landed nothing and is replayed as nothing; a batch validation blocks is not merged, as
    when it was fetched; a merge that fails stops the rebuild."""
    _attach(con, archive, "archive")
    try:
        compressed = raw.copy_from(con, "archive")
        db.merge(con, "raw.fetches", ["fetch_id"], "select * from archive.raw.fetches", update=False)
        db.merge(con, "meta.runs", ["run_id"], "select * from archive.meta.runs", update=False)
    finally:
        con.execute("detach archive")
    if compressed:
        progress(f"compressed {compressed} payload bodies archived verbatim before bodies were compressed")
    fetches = con.execute(
        """select f.run_id, f.dataset, f.source, f.mode, f.observed_at, f.url, f.sha256
           from raw.fetches f where f.sha256 is not null and f.error is null
           order by min(f.observed_at) over (partition by f.run_id, f.dataset),
                    f.run_id, f.dataset, f.source, f.observed_at, f.fetch_id"""
    ).fetchall()
    batches = (
        readahead.Batch(
            run_id,
            dataset,
            [
                flow.Feed(
                    registry.module_for(dataset, source),
                    [Fetched(url, raw.body(con, sha)) for *_, url, sha in payloads],
                    mode,
                    observed_at,
                )
                for (source, mode, observed_at), payloads in groupby(batch, key=lambda f: f[2:5])
            ],
        )
        for (run_id, dataset), batch in groupby(fetches, key=lambda f: (f[0], f[1]))
    )
    for batch in readahead.parsed_ahead(batches):
        staged, stats = flow.run(con, batch.dataset, batch.feeds, run_id=batch.run_id)
        blocked = "" if stats else f": not merged, validation blocked it ({staged.verdict.summary})"
        progress(f"replayed {batch.run_id} {batch.dataset}{blocked}")
    return len(fetches)


def _attach(con: duckdb.DuckDBPyConnection, archive: Path | lake.Lake, alias: str) -> None:
    if isinstance(archive, lake.Lake):
        lake.attach(con, archive, read_only=True, alias=alias, use=False)
    else:
        con.execute(f"attach {lake.quote(str(archive))} as {alias} (read_only)")


def _replay_into(fresh: Path, archive: Path | lake.Lake, run_id: str, progress: Callable[[str], None]) -> int:
    """Replay ``archive`` into the new local file ``fresh`` and build its models; returns the fetches."""
    with db.working(fresh) as con:
        flow.ensure(con)
        n = replay(con, archive, progress)
        # The replay recorded every version now; the old warehouse knows when each was first recorded.
        _attach(con, archive, "previous")
        try:
            history.adopt_system_time(con, "previous")
        finally:
            con.execute("detach previous")
        flow.begin_run(con, run_id, "rebuild")
        flow.build_models(con, run_id)
        con.execute("checkpoint")
    return n


def rebuild(progress: Callable[[str], None] = print) -> Path | str:
    """Rebuild the working warehouse from its own raw archive, then swap it in and publish; returns
    where it is (the file, or the lake in words). From a script, call it under
    ``if __name__ == "__main__":`` (pipelines.readahead's child imports the script)."""
    readahead.refuse_in_a_starting_child()
    configured = db.storage()
    if configured is not None:
        return _rebuild_lake(configured, progress)
    working = db.working_path()
    if not working.exists():
        raise FileNotFoundError(f"no working warehouse at {working} to rebuild from")
    fresh = working.with_name(working.name + ".rebuilding")
    fresh.unlink(missing_ok=True)
    run_id = flow.new_run_id("rebuild")
    n = _replay_into(fresh, working, run_id, progress)
    os.replace(working, working.with_name(working.name + ".before-rebuild"))
    os.replace(fresh, working)
    with db.working() as con:
        flow.publish(con, run_id)
    progress(f"rebuilt history from {n} archived fetches")
    return working


def _rebuild_lake(configured: lake.Lake, progress: Callable[[str], None]) -> str:
    from pipelines import migrate

    fresh = db.home() / "costcurve.duckdb.rebuilding"
    fresh.unlink(missing_ok=True)
    run_id = flow.new_run_id("rebuild")
    try:
        n = _replay_into(fresh, configured, run_id, progress)
        with db.working() as con:
            migrate.replace_tables(con, fresh)
            flow.publish(con, run_id)
    finally:
        fresh.unlink(missing_ok=True)
        fresh.with_name(fresh.name + ".wal").unlink(missing_ok=True)
    progress(f"rebuilt history from {n} archived fetches")
    return configured.describe()
