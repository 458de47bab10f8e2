"""3. Rebuilding history from daily 100k-key snapshots vs loading the same rows with one INSERT.

Two figures, because the whole command does not fit the time budget at a year of 100k-key days:

- the merge path alone: ``history.merge`` of each day's frame in order (what rebuild spends in the
  warehouse), over ``replay_days`` days, vs one INSERT of all those days' rows;
- the real ``costcurve rebuild`` in a child process over ``rebuild_days`` archived LiteLLM payloads
  (parse, Great Expectations, merge, models, publish), vs one INSERT of the same rows, with a
  per-stage split of one day measured in this process to show what dominates.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from bench import synthetic
from bench.common import Result, Sizes, check, run_child, say
from bench.merge import Merger
from sources.schemas import TOKEN_PRICES

START = date(2025, 1, 1)


def _one_insert(con: duckdb.DuckDBPyConnection, pattern: str) -> float:
    from warehouse import history

    history.ensure(con, TOKEN_PRICES)
    start = time.perf_counter()
    con.execute(f"insert into history.token_prices by name select * from read_parquet('{pattern}')")
    return time.perf_counter() - start


def run_replay(sizes: Sizes, work: Path) -> Result:
    days = work / "days"
    days.mkdir()
    merge_s, rows = 0.0, 0
    with duckdb.connect(str(work / "replay.duckdb")) as con:
        con.execute("create schema history")
        merger = Merger(con)
        for d, frame in enumerate(
            synthetic.daily_snapshots(sizes.snapshot_providers, sizes.snapshot_models, sizes.replay_days)
        ):
            frame.write_parquet(days / f"{d:04d}.parquet")
            start = time.perf_counter()
            merger.merge(frame, START + timedelta(days=d), f"day-{d}")
            merge_s += time.perf_counter() - start
            rows += frame.height
        versions = con.execute("select count(*) from history.token_prices").fetchone()[0]
    steps = merger.steps
    with duckdb.connect(str(work / "replay-insert.duckdb")) as con:
        con.execute("create schema history")
        insert_s = _one_insert(con, f"{days}/*.parquet")
    say(
        f"  merge path: {sizes.replay_days} days x {sizes.snapshot_keys:,} keys in {merge_s:.1f} s "
        f"({merge_s / sizes.replay_days:.2f} s a day, {versions:,} versions); one INSERT of {rows:,} rows "
        f"{insert_s:.2f} s"
    )
    say("  merge path by step: " + "; ".join(f"{k} {v:.1f} s" for k, v in steps.items() if v > 0.05))
    scale = sizes.year_days / sizes.replay_days
    notes = [
        f"scaled: {sizes.replay_days} of {sizes.year_days} days; a year ~{merge_s * scale / 60:.1f} min "
        "(history grows, so a little more)",
        "steps: "
        + ", ".join(f"{k.split(':')[0]} {v / merge_s:.0%}" for k, v in steps.items() if v > 0.05 * merge_s),
    ]
    return Result(
        "3a rebuild, merge path only",
        merge_s,
        insert_s,
        "<= 3x",
        merge_s <= 3 * insert_s,
        f"history.merge x {sizes.replay_days} days",
        "one INSERT of the same rows",
        notes,
    )


def run_command(sizes: Sizes, work: Path) -> tuple[Result, dict[str, float]]:
    from pipelines import flow
    from warehouse import db, raw

    home = work / "rebuild-home"
    payloads = work / "payloads"
    payloads.mkdir()
    frames = list(
        synthetic.daily_snapshots(
            sizes.snapshot_providers, sizes.snapshot_models, sizes.rebuild_days, seed=11
        )
    )
    bodies = [synthetic.litellm_body(f) for f in frames]
    with db.working(home / "costcurve.duckdb") as con:
        flow.ensure(con)
        for d, body in enumerate(bodies):
            run_id = f"bench-day-{d:04d}"
            observed = datetime.combine(START + timedelta(days=d), datetime.min.time(), UTC)
            flow.begin_run(con, run_id, "ingest")
            raw.archive(
                con,
                run_id=run_id,
                source="litellm",
                dataset="token_prices",
                mode="file",
                url=f"bench/day-{d}.json",
                body=body,
                observed_at=observed,
            )
    split = _one_day_split(bodies[0], work)
    log = work / "rebuild.log"
    # The command itself, through the same entry point.
    command = "from pipelines.cli import main; raise SystemExit(main(['rebuild']))"
    child = check(
        run_child([sys.executable, "-c", command], env={"COSTCURVE_HOME": str(home)}, log=log),
        "costcurve rebuild",
        log,
    )
    # The reference loads what the parser produces from those payloads: the rebuilt history's input.
    for d, frame in enumerate(frames):
        frame.write_parquet(payloads / f"{d:04d}.parquet")
    with duckdb.connect(str(work / "rebuild-insert.duckdb")) as con:
        con.execute("create schema history")
        insert_s = _one_insert(con, f"{payloads}/*.parquet")
    rows = sum(f.height for f in frames)
    say(
        f"  costcurve rebuild of {sizes.rebuild_days} days x {sizes.snapshot_keys:,} keys: {child.wall_s:.1f} s, "
        f"peak RSS {child.peak_rss_mb:.0f} MB; one INSERT of {rows:,} rows {insert_s:.2f} s"
    )
    say("  one day in process: " + "; ".join(f"{k} {v:.2f} s" for k, v in split.items()))
    per_day = sum(split.values())
    notes = [
        f"scaled: {sizes.rebuild_days} of {sizes.year_days} days; a year ~{per_day * sizes.year_days / 60:.0f} min",
        "one day: " + ", ".join(f"{k} {v:.1f} s" for k, v in split.items()),
        f"peak RSS {child.peak_rss_mb:.0f} MB",
    ]
    return (
        Result(
            "3b costcurve rebuild (whole command)",
            child.wall_s,
            insert_s,
            "<= 3x",
            child.wall_s <= 3 * insert_s,
            f"costcurve rebuild, {sizes.rebuild_days} days",
            "one INSERT of the same rows",
            notes,
        ),
        {"rebuild_peak_rss_mb": child.peak_rss_mb},
    )


def _one_day_split(body: bytes, work: Path) -> dict[str, float]:
    """Where one archived day goes in the replay: parse, the GX suite, the merge (same calls as rebuild)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from pipelines.validation import validate
    from sources import litellm

    observed = datetime.combine(START, datetime.min.time(), UTC)
    start = time.perf_counter()
    parsed = litellm.parse(body, observed_at=observed, origin="bench")
    parse_s = time.perf_counter() - start
    frame = parsed.rows.with_columns(
        pl.lit("sha").alias("payload_sha256"), pl.lit(observed).alias("observed_at")
    )
    validate(TOKEN_PRICES, frame.head(10))  # GX's first-use imports are paid once per process, not per day
    start = time.perf_counter()
    outcome = validate(TOKEN_PRICES, frame)
    gx_s = time.perf_counter() - start
    with duckdb.connect(str(work / "split.duckdb")) as con:
        con.execute("create schema history")
        merger = Merger(con)
        start = time.perf_counter()
        merger.merge(outcome.passed.select(list(TOKEN_PRICES.schema)), START, "sha")
        merge_s = time.perf_counter() - start
    return {"parse (litellm)": parse_s, "GX suite": gx_s, "merge (first day)": merge_s}


if __name__ == "__main__":  # a quick look at one day's split: python -m bench.rebuild
    import tempfile

    body = synthetic.litellm_body(synthetic.initial_snapshot(100, 1000))
    print(_one_day_split(body, Path(tempfile.mkdtemp())), file=sys.stderr)
