"""9. A year at real size: daily payloads of all five feeds in their real formats, rebuilt and refreshed.

    python -m bench.year [--days N] [--work DIR] [--keep]

Each day's LiteLLM map (~5,000 entries), OpenRouter list (~550 models), genai-prices file (~2,300
models), SkyPilot catalogs (~60,000 rows over Azure, GCP, AWS and Lambda) and Vast offers (~10,000)
come from ``bench.real_formats`` with its churn, and are archived into a fresh warehouse as one
ingest run per day, as a daily refresh leaves them. Then:

- ``costcurve rebuild`` of the whole archive in a child process: wall time, per day, peak RSS; what
  the replay spent reading each source (archive, rules, and waiting for the parse its child made
  ahead: pipelines.readahead) and merging, from its own meta tables;
- the database: the working file and the published snapshot, history rows per table;
- the floor: the same parsed rows (each payload parsed once here) loaded with one INSERT per table
  into an empty DuckDB file, and the rebuild's ratio to it;
- the next day's payloads ingested into the rebuilt warehouse with ``costcurve ingest``, one child
  process per payload file (what a refresh does per source, each with its models and publish).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from bench import real_formats
from bench.common import Result, check, run_child, say
from sources import genai_prices, litellm, openrouter, skypilot, vastai
from sources.schemas import DATASETS

MODULES = {m.NAME: m for m in (litellm, openrouter, genai_prices, skypilot, vastai)}
CLI = "import sys; from pipelines.cli import main; raise SystemExit(main(sys.argv[1:]))"
# The file an ingested catalog is saved as: skypilot.cloud_of reads the cloud from the name.
_CATALOG_FILES = {
    "aws": "skypilot_v8_aws_vms.csv",
    "gcp": "skypilot_v8_gcp_vms.csv",
    "lambda": "skypilot_v8_lambda_vms.csv",
    "azure": "anycloud_catalog_azure_vms.csv",
}


def _observed(day: int) -> datetime:
    return datetime.combine(real_formats.START + timedelta(days=day), datetime.min.time(), UTC)


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def _archive_year(days: int, home: Path, floor_dir: Path) -> dict[str, dict[str, float]]:
    """Archive ``days`` days of every feed as one run a day; parse each payload once for the floor.

    Returns per source: payload bytes, parsed rows and rejects, parse seconds (totals over the days),
    and the rows the generator expected, so a payload the parser reads differently shows."""
    from pipelines import flow
    from warehouse import db, raw

    feeds = real_formats.feeds()
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    generate_s = archive_s = 0.0
    archive_by_day = []
    with db.working(home / "costcurve.duckdb") as con:
        flow.ensure(con)
        for day in range(days):
            run_id = f"year-day-{day:04d}"
            flow.begin_run(con, run_id, "ingest")
            frames: dict[str, list[pl.DataFrame]] = defaultdict(list)
            archived_before = archive_s
            for feed in feeds:
                start = time.perf_counter()
                if day:
                    feed.next_day()
                payloads = feed.payloads()
                generate_s += time.perf_counter() - start
                module = MODULES[feed.name]
                s = stats[feed.name]
                s["expected_rows"] += feed.expected_rows()
                s["expected_rejects"] += feed.expected_rejects()
                for payload in payloads:
                    start = time.perf_counter()
                    raw.archive(
                        con,
                        run_id=run_id,
                        source=feed.name,
                        dataset=module.DATASET,
                        mode="live",
                        url=payload.url,
                        body=payload.body,
                        observed_at=_observed(day),
                    )
                    archive_s += time.perf_counter() - start
                    start = time.perf_counter()
                    parsed = module.parse(payload.body, observed_at=_observed(day), origin=payload.url)
                    s["parse_s"] += time.perf_counter() - start
                    s["bytes"] += len(payload.body)
                    s["rows"] += parsed.rows.height
                    s["rejects"] += len(parsed.rejects)
                    frames[module.DATASET].append(parsed.rows)
            archive_by_day.append(archive_s - archived_before)
            for dataset, parts in frames.items():
                (floor_dir / dataset).mkdir(parents=True, exist_ok=True)
                pl.concat(parts).write_parquet(floor_dir / dataset / f"{day:04d}.parquet")
            if day % 10 == 9 or day == days - 1:
                say(
                    f"  archived day {day + 1}/{days} (generate {generate_s:.0f} s, archive {archive_s:.0f} s)"
                )
    tenth = max(1, days // 10)
    say(
        f"  raw.archive of one day's {sum(len(f.payloads()) for f in feeds)} payloads: "
        f"{sum(archive_by_day[:tenth]) / tenth:.2f} s over the first {tenth} days, "
        f"{sum(archive_by_day[-tenth:]) / tenth:.2f} s over the last {tenth}"
    )
    stats["_"]["generate_s"] = generate_s
    stats["_"]["archive_s"] = archive_s
    return stats


def _floor(floor_dir: Path, work: Path) -> dict[str, float]:
    """One INSERT per history table of every parsed row into an empty file (bench/rebuild.py's floor)."""
    from warehouse import history

    seconds = {}
    path = work / "floor.duckdb"
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema history")
        for dataset in sorted(p.name for p in floor_dir.iterdir()):
            history.ensure(con, DATASETS[dataset])
            start = time.perf_counter()
            con.execute(
                f"insert into history.{dataset} by name select * from read_parquet('{floor_dir / dataset}/*.parquet')"
            )
            seconds[dataset] = time.perf_counter() - start
    return seconds


def _by_day(con: duckdb.DuckDBPyConnection) -> list[tuple[float, float]]:
    """Per replayed day, in order: its read time (all sources) and its merge time (both datasets)."""
    return con.execute(
        """select r.read_s, v.merge_s from
             (select run_id, sum(duration_s) as read_s from meta.source_runs
              where run_id like 'year-day-%' group by run_id) r
           join (select run_id, sum(epoch(merged_at) - epoch(validated_at)) as merge_s from meta.validations
                 where run_id like 'year-day-%' group by run_id) v using (run_id)
           order by run_id"""
    ).fetchall()


def _breakdown(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, tuple[float, int, int]], dict[str, float]]:
    """From the rebuilt warehouse's own records: per source the replay's read time (archive, parse,
    rules), rows accepted and rejected; per dataset the merge time (validated -> merged)."""
    read = {
        source: (seconds, accepted, rejected)
        for source, seconds, accepted, rejected in con.execute(
            """select source, sum(duration_s), sum(rows_accepted), sum(rows_rejected)
               from meta.source_runs where run_id like 'year-day-%' group by source order by source"""
        ).fetchall()
    }
    merge = dict(
        con.execute(
            """select dataset, sum(epoch(merged_at) - epoch(validated_at)) from meta.validations
               where run_id like 'year-day-%' group by dataset order by dataset"""
        ).fetchall()
    )
    return read, merge


def _ingest_next_day(days: int, home: Path, work: Path) -> list[tuple[str, float, float]]:
    """The day after the archive's last, each payload file through `costcurve ingest` in a child."""
    feeds = real_formats.feeds()
    for _ in range(days):
        for feed in feeds:
            feed.next_day()
    folder = work / "ingest"
    folder.mkdir(exist_ok=True)
    day = (real_formats.START + timedelta(days=days)).isoformat()
    timings = []
    for feed in feeds:
        module = MODULES[feed.name]
        for payload in feed.payloads():
            name = (
                _CATALOG_FILES[skypilot.cloud_of(payload.url)]
                if feed.name == "skypilot"
                else f"{feed.name}.json"
            )
            path = folder / name
            path.write_bytes(payload.body)
            log = folder / f"{name}.log"
            argv = ["ingest", module.DATASET, str(path), "--source", feed.name, "--observed-at", day]
            child = check(
                run_child([sys.executable, "-c", CLI, *argv], env={"COSTCURVE_HOME": str(home)}, log=log),
                f"costcurve ingest {name}",
                log,
            )
            timings.append((name, child.wall_s, child.peak_rss_mb))
            say(
                f"  ingest {name} ({_mb(len(payload.body))}): {child.wall_s:.1f} s, peak RSS {child.peak_rss_mb:.0f} MB"
            )
    return timings


def run(days: int, work: Path) -> tuple[list[Result], dict[str, float]]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    home = work / "home"
    floor_dir = work / "floor"
    say(f"  load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    start = time.perf_counter()
    stats = _archive_year(days, home, floor_dir)
    say(f"  generated and archived {days} days in {time.perf_counter() - start:.0f} s")
    for name, s in stats.items():
        if name == "_":
            continue
        say(
            f"  {name:<13} a day: {_mb(s['bytes'] / days):>9}, {s['rows'] / days:>8,.0f} rows, "
            f"{s['rejects'] / days:.1f} rejects; parse {s['parse_s'] / days:.2f} s a day"
        )
        if (s["rows"], s["rejects"]) != (s["expected_rows"], s["expected_rejects"]):
            say(
                f"  !! {name}: parsed {s['rows']:,.0f} rows / {s['rejects']:,.0f} rejects, the generator "
                f"expected {s['expected_rows']:,.0f} / {s['expected_rejects']:,.0f}"
            )
    archive_bytes = (home / "costcurve.duckdb").stat().st_size

    log = work / "rebuild.log"
    child = check(
        run_child([sys.executable, "-c", CLI, "rebuild"], env={"COSTCURVE_HOME": str(home)}, log=log),
        "costcurve rebuild",
        log,
    )
    say(
        f"  costcurve rebuild of {days} days: {child.wall_s:.1f} s ({child.wall_s / days:.2f} s a day), "
        f"peak RSS {child.peak_rss_mb:,.0f} MB"
    )
    # The archive-only file the rebuild kept aside: not needed again, and as large as the new one.
    (home / "costcurve.duckdb.before-rebuild").unlink(missing_ok=True)
    working = home / "costcurve.duckdb"
    working_bytes = working.stat().st_size
    published = (home / "published").resolve() / "costcurve.duckdb"
    with duckdb.connect(str(working), read_only=True) as con:
        tables = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'history' order by table_name"
        ).fetchall()
        history_rows = {t: con.execute(f"select count(*) from history.{t}").fetchone()[0] for (t,) in tables}
        raw_bytes, raw_count = con.execute("select sum(size), count(*) from raw.payloads").fetchone()
        quarantined = con.execute(
            """select rule, count(*) from quarantine.rejected_rows where run_id like 'year-day-%'
               group by rule order by 2 desc"""
        ).fetchall()
        read, merge = _breakdown(con)
        by_day = _by_day(con)
    say(
        f"  working file {_mb(working_bytes)} (the archive alone was {_mb(archive_bytes)}; "
        f"raw.payloads {raw_count:,} bodies, {_mb(raw_bytes)}), published snapshot "
        + (_mb(published.stat().st_size) if published.exists() else "none")
    )
    say("  history rows: " + ", ".join(f"{t} {n:,}" for t, n in history_rows.items()))
    say("  quarantined in the replay: " + (", ".join(f"{r} {n:,}" for r, n in quarantined) or "nothing"))
    read_s = sum(v[0] for v in read.values())
    merge_s = sum(merge.values())
    say(
        "  rebuild's read (archive + rules + waiting for the child's parse) by source: "
        + "; ".join(f"{s} {v[0]:.0f} s ({v[1]:,} rows kept, {v[2]:,} rejected)" for s, v in read.items())
    )
    say("  rebuild's merge by dataset: " + "; ".join(f"{d} {v:.0f} s" for d, v in merge.items()))
    # Whether a replayed day costs more as the archive and history grow: the first and last days.
    tenth = max(1, len(by_day) // 10)
    for label, part in (("first", by_day[:tenth]), ("last", by_day[-tenth:])):
        say(
            f"  replay, {label} {len(part)} days: read {sum(r for r, _ in part) / len(part):.2f} s a day, "
            f"merge {sum(m for _, m in part) / len(part):.2f} s a day"
        )
    rest = child.wall_s - read_s - merge_s
    say(f"  rest (GX suite, staging, models, publish, start-up): {rest:.0f} s")

    floor = _floor(floor_dir, work)
    floor_s = sum(floor.values())
    parsed_rows = sum(s["rows"] for n, s in stats.items() if n != "_")
    say(
        f"  floor: one INSERT of {parsed_rows:,.0f} parsed rows "
        + ", ".join(f"{d} {v:.2f} s" for d, v in floor.items())
        + f"; rebuild / floor {child.wall_s / floor_s:,.0f}x"
    )
    ingests = _ingest_next_day(days, home, work)
    ingest_s = sum(t for _, t, _ in ingests)
    say(
        f"  one day's ingest, all {len(ingests)} payload files: {ingest_s:.1f} s, "
        f"peak RSS {max(m for *_, m in ingests):,.0f} MB; floor for one day {floor_s / days:.3f} s "
        f"({ingest_s / (floor_s / days):,.0f}x)"
    )
    say(f"  load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    year = 365
    scale = year / days
    notes = [
        f"{days} days; payloads a day: "
        + ", ".join(f"{n} {_mb(s['bytes'] / days)}" for n, s in stats.items() if n != "_"),
        f"peak RSS {child.peak_rss_mb:,.0f} MB; working file {_mb(working_bytes)}; history "
        + ", ".join(f"{t} {n:,}" for t, n in history_rows.items()),
        f"read {read_s / child.wall_s:.0%}, merge {merge_s / child.wall_s:.0%}, rest {rest / child.wall_s:.0%}",
    ]
    if days < year:
        notes.append(
            f"scaled: {days} of {year} days; a year ~{child.wall_s * scale / 60:.0f} min at this rate"
        )
    results = [
        Result(
            "9a a year: costcurve rebuild",
            child.wall_s,
            floor_s,
            "minutes, not hours",
            child.wall_s * scale < 3600,
            f"costcurve rebuild, {days} days",
            "one INSERT per table of the parsed rows",
            notes,
        ),
        Result(
            "9b one day's ingest, every source",
            ingest_s,
            floor_s / days,
            "-",
            None,
            f"costcurve ingest x {len(ingests)} files",
            "one day's share of the INSERT",
            [f"{n} {t:.1f} s / {m:,.0f} MB" for n, t, m in ingests],
        ),
    ]
    extras = {
        "year_rebuild_peak_rss_mb": child.peak_rss_mb,
        "year_working_mb": working_bytes / 1e6,
        "year_ingest_peak_rss_mb": max(m for *_, m in ingests),
    }
    return results, extras


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.year", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="days of payloads (default 365)")
    parser.add_argument("--work", type=Path, help="scratch directory (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="costcurve-year-"))
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        raise SystemExit(f"{work} is not empty: the benchmark needs a fresh directory")
    started = time.perf_counter()
    try:
        results, extras = run(args.days, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for r in results:
        say(f"{r.bench}: {r.figure_s:.1f} s vs {r.reference_s:.2f} s ({r.ratio_text}); goal {r.goal}")
        for note in r.notes:
            say(f"    {note}")
    for name, value in extras.items():
        say(f"{name}: {value:,.1f}")
    say(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
