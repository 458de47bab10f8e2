"""The warehouse on both storage kinds: a local DuckDB file and a DuckLake (a ``.ducklake`` catalog with
Parquet data beside it), fed the same synthetic daily token-price snapshots through the real history merge.

Per kind: the merge time per day (median and slowest), an as-of lookup (every key's price on the middle
day), the storage size at the end, and a reader's query latency while a writer commits (a second DuckDB
connection reading committed state while the writer merges).

    python -m bench.lake                 100k keys, 365 days (the issue's size; about 30 minutes on two cores)
    python -m bench.lake --keys 10000 --days 30
    python -m bench.lake --quick         2,000 keys, 10 days: check the harness
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from bench.common import say
from bench.synthetic import daily_snapshots
from sources.schemas import TOKEN_PRICES
from warehouse import history, lake

FIRST_DAY = date(2025, 1, 1)
# The reader's query: one provider's current prices, what a dashboard tile asks.
READER_SQL = "select count(*), sum(input_usd_per_mtok) from history.token_prices where valid_to is null"


def asof_sql(day: date) -> str:
    return (
        "select count(*), sum(input_usd_per_mtok) from history.token_prices "
        f"where valid_from <= date '{day}' and (valid_to is null or valid_to > date '{day}')"
    )


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def open_writer(kind: str, work: Path) -> duckdb.DuckDBPyConnection:
    if kind == "file":
        con = duckdb.connect(str(work / "bench.duckdb"))
    else:
        con = lake.connect(lake.parse(f"ducklake:{work / 'bench.ducklake'}", str(work / "lake-data")))
    con.execute("create schema if not exists history")
    history.ensure(con, TOKEN_PRICES)
    return con


def timed(con: duckdb.DuckDBPyConnection, sql: str, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        con.execute(sql).fetchall()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_kind(kind: str, keys: int, days: int, work: Path) -> dict[str, float]:
    work.mkdir(parents=True)
    providers = max(1, keys // 1000)
    con = open_writer(kind, work)
    merges = []
    frames = daily_snapshots(providers, keys // providers, days)
    for day, frame in enumerate(frames):
        start = time.perf_counter()
        history.merge(
            con,
            TOKEN_PRICES,
            frame,
            observed_at=datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), UTC),
            payload_sha256=f"day-{day}",
        )
        merges.append(time.perf_counter() - start)
    middle = FIRST_DAY + timedelta(days=days // 2)
    figures = {
        "merge_median_s": statistics.median(merges[1:] or merges),
        "merge_max_s": max(merges[1:] or merges),
        "first_day_s": merges[0],
        "rows": con.execute("select count(*) from history.token_prices").fetchone()[0],
        "asof_s": timed(con, asof_sql(middle)),
    }
    if kind == "file":
        con.execute("checkpoint")
        figures["storage_mb"] = size_mb(work / "bench.duckdb")
    else:
        figures["storage_mb"] = size_mb(work / "bench.ducklake") + size_mb(work / "lake-data")
    figures.update(reader_latency(con, frames_after=list(daily_snapshots(providers, keys // providers, 2))))
    con.close()
    return figures


def reader_latency(writer, frames_after) -> dict[str, float]:
    """A reader's query latency alone, then while the writer merges two more days. The reader is a second
    connection to the same database (its own transactions, so it sees committed state only): one process
    may hold a ``.ducklake`` or DuckDB file, so readers in other processes need a PostgreSQL catalog
    (or, for a file, the published copy)."""
    reader = writer.cursor()
    reader.execute(f"use {writer.execute('select current_database()').fetchone()[0]}")
    try:
        idle = timed(reader, READER_SQL)
        busy: list[float] = []
        done = threading.Event()

        def read() -> None:
            while not done.is_set():
                start = time.perf_counter()
                reader.execute(READER_SQL).fetchall()
                busy.append(time.perf_counter() - start)

        thread = threading.Thread(target=read)
        thread.start()
        try:
            for day, frame in enumerate(frames_after):
                history.merge(
                    writer,
                    TOKEN_PRICES,
                    frame,
                    observed_at=datetime(2030, 1, 1 + day, tzinfo=UTC),
                    payload_sha256=f"late-{day}",
                )
        finally:
            done.set()
            thread.join()
    finally:
        reader.close()
    return {
        "reader_idle_s": idle,
        "reader_busy_median_s": statistics.median(busy) if busy else float("nan"),
        "reader_busy_max_s": max(busy) if busy else float("nan"),
        "reader_reads": len(busy),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lake", description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--quick", action="store_true", help="2,000 keys, 10 days")
    args = parser.parse_args(argv)
    keys, days = (2_000, 10) if args.quick else (args.keys, args.days)
    say(f"DuckLake vs local file: {keys:,} keys, {days} daily snapshots, duckdb {duckdb.__version__}")
    work = Path(tempfile.mkdtemp(prefix="costcurve-bench-lake-"))
    try:
        results = {kind: run_kind(kind, keys, days, work / kind) for kind in ("file", "ducklake")}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say(f"{'figure':<24} {'file':>12} {'ducklake':>12} {'lake/file':>10}")
    for name in results["file"]:
        f, d = results["file"][name], results["ducklake"][name]
        ratio = f"{d / f:.2f}x" if f else "-"
        say(f"{name:<24} {f:>12.4g} {d:>12.4g} {ratio:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
