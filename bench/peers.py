"""7. The peers side by side: costcurve's history merge vs dbt's snapshot, and a plain INSERT as the floor.

Two comparisons on the same frames, in one run:

- daily: ``merge_days`` 100k-key snapshots (the open versions of the shared 10M-row history, then a
  day of churn each) merged by ``history.merge`` into a copy of that history, and by ``dbt snapshot``
  into the same history in dbt's layout (the same rows, with ``dbt_valid_from`` / ``dbt_valid_to``);
  the floor is an INSERT of the same rows;
- rebuild: ``peer_replay_days`` daily snapshots replayed into an empty warehouse by each, the floor
  one INSERT of all of them.

dbt runs in a child process (`bench/dbt_snapshot.py`, under the Python that has the ``bench`` extra:
this one after ``make bench``, or ``COSTCURVE_BENCH_DBT_PYTHON``), offline, with its imports paid once
per child; both its invocation's wall time and the snapshot node's own time are reported, so dbt's
fixed cost per run (parsing the project, compiling) is visible beside the SQL it runs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from bench import dbt_snapshot, synthetic
from bench.common import Result, Sizes, check, median, run_child, say
from bench.merge import Merger
from sources.schemas import TOKEN_PRICES

# The payload's columns as dbt reads them: the frame less the declared dates, which LiteLLM never has.
PAYLOAD = [c for c in TOKEN_PRICES.schema if c not in ("valid_from", "valid_to")]
KEY = list(TOKEN_PRICES.key)
CHECK = list(TOKEN_PRICES.value_columns)


def dbt_python() -> str | None:
    """The interpreter that can import dbt-duckdb, or None (the benchmark then says how to get it)."""
    configured = os.environ.get("COSTCURVE_BENCH_DBT_PYTHON")
    if configured:
        return configured
    try:
        found = importlib.util.find_spec("dbt.adapters.duckdb")
    except ModuleNotFoundError:  # no dbt package at all: find_spec raises for a missing parent
        found = None
    return sys.executable if found else None


def write_days(frames: list[pl.DataFrame], first: date, directory: Path) -> list[date]:
    """Each frame as ``directory/YYYY-MM-DD.parquet`` (the payload columns), the dates returned."""
    directory.mkdir(parents=True, exist_ok=True)
    days = [first + timedelta(days=d) for d in range(len(frames))]
    for day, frame in zip(days, frames, strict=True):
        frame.select(PAYLOAD).write_parquet(directory / f"{day}.parquet")
    return days


def seed_dbt_history(target: Path, history_db: Path) -> int:
    """costcurve's token-price history written as dbt's snapshot table, row for row."""
    with duckdb.connect(str(target)) as con:
        con.execute(f"attach '{history_db}' as h (read_only)")
        con.execute("create schema snapshots")
        key = " || '|' || ".join(f"coalesce({c}::varchar, '')" for c in KEY)
        con.execute(
            f"""create table snapshots.{dbt_snapshot.SNAPSHOT} as
                select {", ".join(PAYLOAD)},
                       md5({key} || '|' || coalesce(valid_from::varchar, '')) as dbt_scd_id,
                       valid_from::timestamp as dbt_updated_at,
                       valid_from::timestamp as dbt_valid_from,
                       valid_to::timestamp as dbt_valid_to
                from h.history.token_prices"""
        )
        rows = con.execute(f"select count(*) from snapshots.{dbt_snapshot.SNAPSHOT}").fetchone()[0]
        con.execute("detach h")
    return rows


def run_dbt(python: str, work: Path, name: str, database: Path, days: Path) -> dict:
    project = work / f"dbt-{name}"
    dbt_snapshot.write_project(project, database, KEY, CHECK)
    log = work / f"dbt-{name}.log"
    script = Path(dbt_snapshot.__file__)
    run = check(
        run_child(
            [python, str(script), str(project), str(database), str(days)],
            env={"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"},
            log=log,
        ),
        f"dbt snapshot ({name})",
        log,
    )
    out = json.loads(log.read_text().strip().splitlines()[-1])
    out["peak_rss_mb"] = run.peak_rss_mb
    return out


def _dbt_version(python: str) -> str:
    code = "import importlib.metadata as m; print(m.version('dbt-core'), m.version('dbt-duckdb'))"
    found = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False).stdout.split()
    return f"dbt-core {found[0]}, dbt-duckdb {found[1]}" if len(found) == 2 else "dbt ?"


def _open_versions(database: Path, table: str, valid_to: str) -> tuple[int, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(f"select count(*), count(*) filter ({valid_to} is null) from {table}").fetchone()


def run(sizes: Sizes, work: Path, history_db: Path, first_day: date) -> tuple[list[Result], dict[str, float]]:
    python = dbt_python()
    if python is None:
        say(
            "  dbt-duckdb is not installed: `make bench` installs the bench extra (pip install -e '.[bench]')"
        )
        return [], {}
    say(f"  {_dbt_version(python)} under {python}")
    results = [_daily(sizes, work, history_db, first_day, python), _rebuild(sizes, work, python)]
    return results, {}


def _daily(sizes: Sizes, work: Path, history_db: Path, first_day: date, python: str) -> Result:
    rng = np.random.default_rng(17)
    with duckdb.connect(str(history_db), read_only=True) as con:
        frame = synthetic.current_snapshot(con)
    frames = []
    for d in range(sizes.merge_days):
        frame = synthetic.next_day(frame, rng, d + 1)
        frames.append(frame)
    days_dir = work / "peer-days"
    days = write_days(frames, first_day, days_dir)

    ours = work / "peer-costcurve.duckdb"
    shutil.copy(history_db, ours)
    merges, appends = [], []
    with duckdb.connect(str(ours)) as con:
        before = con.execute("select count(*) from history.token_prices").fetchone()[0]
        for day, frame in zip(days, frames, strict=True):
            start = time.perf_counter()
            Merger(con).merge(frame, day, f"peer-{day}")
            merges.append(time.perf_counter() - start)
        # Rows, not MergeStats.inserted: a changed key's closed version is rewritten too (superseded).
        inserted = con.execute("select count(*) from history.token_prices").fetchone()[0] - before
        for frame in frames:  # noqa: B007 - `frame` is read by DuckDB
            start = time.perf_counter()
            con.execute("insert into history.token_prices by name select * from frame")
            appends.append(time.perf_counter() - start)

    theirs = work / "peer-dbt.duckdb"
    start = time.perf_counter()
    seeded = seed_dbt_history(theirs, history_db)
    say(f"  dbt's snapshot table seeded with the same {seeded:,} rows in {time.perf_counter() - start:.1f} s")
    dbt = run_dbt(python, work, "daily", theirs, days_dir)
    added = dbt["rows"][-1] - seeded
    merge, append = median(merges), median(appends)
    invoke, node = median(dbt["invoke_s"]), median(dbt["node_s"])
    say(
        f"  {frames[0].height:,} keys into {seeded:,} rows, median of {len(days)} days: costcurve merge {merge:.2f} s, "
        f"dbt snapshot {invoke:.2f} s (node {node:.2f} s; loading the day {median(dbt['load_s']):.2f} s apart), "
        f"INSERT {append:.2f} s"
    )
    say(
        f"  rows added: costcurve {inserted:,}, dbt {added:,}; dbt child peak RSS {dbt['peak_rss_mb']:.0f} MB"
    )
    shutil.rmtree(days_dir)
    for path in (ours, theirs):
        path.unlink()
    return Result(
        "7a daily: costcurve merge vs dbt snapshot",
        merge,
        invoke,
        "faster than dbt snapshot",
        merge < invoke,
        "history.merge",
        "dbt snapshot, whole invocation",
        [
            f"vs the INSERT floor ({append:.2f} s): costcurve {merge / append:.1f}x, dbt {invoke / append:.1f}x "
            f"(its snapshot node alone {node / append:.1f}x)",
            f"dbt's snapshot SQL alone (node time) {node:.2f} s: costcurve's merge is {merge / node:.2f}x of it",
            f"history rows added over {len(days)} days: costcurve {inserted:,}, dbt {added:,} (equal: the same "
            "changes seen)",
        ],
        faster=True,
    )


def _rebuild(sizes: Sizes, work: Path, python: str) -> Result:
    start_day = date(2025, 1, 1)
    frames = list(
        synthetic.daily_snapshots(
            sizes.snapshot_providers, sizes.snapshot_models, sizes.peer_replay_days, seed=5
        )
    )
    days_dir = work / "peer-replay"
    days = write_days(frames, start_day, days_dir)
    ours = work / "peer-replay-costcurve.duckdb"
    merge_s = 0.0
    with duckdb.connect(str(ours)) as con:
        con.execute("create schema history")
        merger = Merger(con)
        for day, frame in zip(days, frames, strict=True):
            start = time.perf_counter()
            merger.merge(frame, day, f"replay-{day}")
            merge_s += time.perf_counter() - start
    ours_rows, ours_open = _open_versions(ours, "history.token_prices", "valid_to")

    floor_db = work / "peer-replay-insert.duckdb"
    with duckdb.connect(str(floor_db)) as con:
        con.execute("create schema history")
        con.execute(f"create table history.token_prices as from read_parquet('{days_dir}/*.parquet') limit 0")
        start = time.perf_counter()
        con.execute(f"insert into history.token_prices from read_parquet('{days_dir}/*.parquet')")
        insert_s = time.perf_counter() - start

    theirs = work / "peer-replay-dbt.duckdb"
    dbt = run_dbt(python, work, "replay", theirs, days_dir)
    dbt_s, node_s = sum(dbt["invoke_s"]), sum(dbt["node_s"])
    theirs_rows, theirs_open = _open_versions(theirs, f"snapshots.{dbt_snapshot.SNAPSHOT}", "dbt_valid_to")
    rows = sum(f.height for f in frames)
    say(
        f"  replay of {len(days)} days x {frames[0].height:,} keys: costcurve {merge_s:.1f} s, dbt snapshot "
        f"{dbt_s:.1f} s (nodes {node_s:.1f} s), one INSERT of {rows:,} rows {insert_s:.2f} s"
    )
    say(
        f"  versions: costcurve {ours_rows:,} ({ours_open:,} open), dbt {theirs_rows:,} ({theirs_open:,} open)"
    )
    for path in (ours, theirs, floor_db):
        path.unlink()
    shutil.rmtree(days_dir)
    return Result(
        "7b rebuild: costcurve vs dbt snapshot",
        merge_s,
        dbt_s,
        "faster than dbt snapshot",
        merge_s < dbt_s,
        f"history.merge x {len(days)} days",
        f"dbt snapshot x {len(days)} invocations",
        [
            f"vs one INSERT ({insert_s:.2f} s): costcurve {merge_s / insert_s:.1f}x, dbt {dbt_s / insert_s:.1f}x "
            f"(its nodes alone {node_s / insert_s:.1f}x)",
            f"versions: costcurve {ours_rows:,} ({ours_open:,} open), dbt {theirs_rows:,} ({theirs_open:,} open)",
        ],
        faster=True,
    )
