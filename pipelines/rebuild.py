"""`costcurve rebuild`: replay the raw archive into a fresh warehouse.

Raw is the truth: after a parser or rule fix, replaying every archived fetch in observation order
through the same stage -> validate -> merge path reproduces history as the fixed code would have
built it. Each fetch is replayed under its original run id, so quarantine rows and source-run
counts line up with the runs that fetched them. The fresh file replaces the working one only when
the replay succeeded; the old file is kept beside it as ``costcurve.duckdb.before-rebuild``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from itertools import groupby
from pathlib import Path

import duckdb

from pipelines import flow, registry
from sources.http import Fetched
from warehouse import db, raw


def replay(con: duckdb.DuckDBPyConnection, archive: Path, progress: Callable[[str], None]) -> int:
    """Replay every fetch of ``archive`` (a warehouse file) that was read, into ``con``; returns how
    many. A fetch whose payload could not be read landed nothing and is replayed as nothing."""
    con.execute(f"attach '{archive}' as archive (read_only)")
    try:
        con.execute("insert into raw.payloads select * from archive.raw.payloads on conflict do nothing")
        con.execute("insert into raw.fetches select * from archive.raw.fetches on conflict do nothing")
        con.execute("insert into meta.runs select * from archive.meta.runs on conflict do nothing")
    finally:
        con.execute("detach archive")
    fetches = con.execute(
        """select f.run_id, f.dataset, f.source, f.mode, f.url, f.observed_at, f.sha256
           from raw.fetches f where f.sha256 is not null and f.error is null
           order by f.observed_at, f.run_id, f.dataset, f.fetch_id"""
    ).fetchall()
    for (run_id, dataset), group in groupby(fetches, key=lambda f: (f[0], f[1])):
        frames = []
        for _, _, source, mode, url, observed_at, sha in group:
            module = registry.module_for(dataset, source)
            payload = Fetched(url, raw.body(con, sha))
            outcome, source_frames = flow.stage_source(
                con, module, run_id=run_id, payloads=[payload], mode=mode, observed_at=observed_at
            )
            frames += source_frames
        flow.write_staging(con, dataset, frames)
        if flow.validate_staged(con, dataset, run_id=run_id).success:
            flow.merge_staged(con, dataset, run_id=run_id)
        progress(f"replayed {run_id} {dataset}")
    return len(fetches)


def rebuild(progress: Callable[[str], None] = print) -> Path:
    """Rebuild the working warehouse from its own raw archive, then swap it in and publish."""
    working = db.working_path()
    if not working.exists():
        raise FileNotFoundError(f"no working warehouse at {working} to rebuild from")
    fresh = working.with_name(working.name + ".rebuilding")
    fresh.unlink(missing_ok=True)
    with db.working(fresh) as con:
        flow.ensure(con)
        n = replay(con, working, progress)
        run_id = flow.new_run_id("rebuild")
        flow.begin_run(con, run_id, "rebuild")
        flow.build_models(con)
        con.execute("checkpoint")
    os.replace(working, working.with_name(working.name + ".before-rebuild"))
    os.replace(fresh, working)
    with db.working() as con:
        flow.publish_all(con, run_id)
    progress(f"rebuilt history from {n} archived fetches")
    return working
