"""`make bench`: every benchmark, each figure with its ratio to a reference measured in the same run.

python -m bench              the issue's sizes, scaled where ten minutes on two cores demand it
python -m bench --quick      tiny sizes, to check the harness in a minute
python -m bench --small      a tenth of the issue's sizes (1M history rows, 10k-key snapshots)
python -m bench --only 2,4   a subset (1 refresh, 2 merge, 3 rebuild, 4 queries, 5 marts, 6 publish,
                             7 peers: merge and rebuild vs dbt snapshot, 8 lake: the history merge
                             on a local file and on a DuckLake; not in the default set, its own
                             full size is `python -m bench.lake`; 9 a year at real size: every feed
                             in its real format, rebuilt and ingested, over replay_days days; not in
                             the default set, its own full year is `python -m bench.year`)
python -m bench --profile    also split one refresh: imports, each Dagster step, Dagster between steps
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import QUICK, ROOT, SMALL, Result, Sizes, say


def _machine() -> list[str]:
    import duckdb
    import polars

    def sh(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False).stdout.strip()
        except OSError:
            return "?"

    memory = sh("free", "-h").splitlines()
    return [
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {sh('git', 'rev-parse', '--short', 'HEAD')}"
        + (" (+ uncommitted changes)" if sh("git", "status", "--porcelain", "--untracked-files=no") else ""),
        f"nproc {os.cpu_count()}, memory {memory[1].split()[1] if len(memory) > 1 else '?'}, "
        f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"python {platform.python_version()}, duckdb {duckdb.__version__}, polars {polars.__version__}",
    ]


def _table(results: list[Result]) -> None:
    say("")
    head = f"{'benchmark':<40} {'figure':>10} {'reference':>10} {'ratio':>13}  {'goal':<26} met"
    say(head)
    say("-" * len(head))
    for r in results:
        met = {True: "met", False: "MISSED", None: "-"}[r.met]
        say(
            f"{r.bench:<40} {_secs(r.figure_s):>10} {_secs(r.reference_s):>10} {r.ratio_text:>13}  {r.goal:<26} {met}"
        )
        say(f"{'':<4}figure: {r.figure_label}; reference: {r.reference_label}")
        for note in r.notes:
            say(f"{'':<4}{note}")


def _secs(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check the harness, not the stack")
    parser.add_argument(
        "--small", action="store_true", help="a tenth of the issue's history and snapshot sizes"
    )
    parser.add_argument("--only", default="1,2,3,4,5,6,7", help="comma-separated benchmark numbers")
    parser.add_argument("--profile", action="store_true", help="also split one refresh by Dagster step")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    sizes = QUICK if args.quick else SMALL if args.small else Sizes()
    only = {int(n) for n in args.only.split(",")}
    started = time.perf_counter()
    for line in _machine():
        say(line)
    say(
        f"sizes: {sizes.history_rows:,} history rows ({sizes.history_keys:,} keys x {sizes.history_versions}), "
        f"{sizes.snapshot_keys:,}-key snapshots" + (" [QUICK: not the issue's sizes]" if sizes.quick else "")
    )
    work = Path(tempfile.mkdtemp(prefix="costcurve-bench-"))
    results: list[Result] = []
    extras: dict[str, float] = {}
    try:
        # Shared by 2, 4, 6 and 7; 2 changes it, so it runs after the readers.
        history_db, first_day = None, None
        if only & {2, 4, 6, 7}:
            from bench import merge

            history_db = work / "naive.duckdb"
            say(f"\n== building {sizes.history_rows:,} history rows (naive layout)")
            start = time.perf_counter()
            first_day = merge.build_history(history_db, sizes)
            say(f"  built in {time.perf_counter() - start:.1f} s, {history_db.stat().st_size / 1e6:.0f} MB")
        steps = [
            (1, "refresh --offline vs the import floor", lambda: _one(*_refresh(sizes, work, args.profile))),
            (5, "breakeven grid: core in DuckDB vs Python loops", lambda: _marts(sizes)),
            (4, "lookups on 10M history rows by layout", lambda: _queries(sizes, work, history_db)),
            (6, "publish vs COPY FROM DATABASE", lambda: _publish(work, history_db)),
            (
                7,
                "peers: merge and rebuild vs dbt snapshot",
                lambda: _peers(sizes, work, history_db, first_day),
            ),
            (2, "daily merge vs append", lambda: _merge(sizes, work, history_db, first_day)),
            (3, "rebuild vs one INSERT", lambda: _rebuild(sizes, work)),
            (8, "history on a local file vs a DuckLake", lambda: _lake(sizes)),
            (9, "a year at real size", lambda: _year(sizes, work)),
        ]
        for number, title, step in steps:
            if number not in only:
                continue
            say(f"\n== {number}. {title}")
            start = time.perf_counter()
            found, more = step()
            results += found
            extras.update(more)
            say(f"  ({time.perf_counter() - start:.0f} s)")
    finally:
        if args.keep:
            say(f"scratch kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    _table(results)
    for name, value in extras.items():
        say(f"{name}: {value:.1f}")
    say(f"\nmake bench total: {time.perf_counter() - started:.0f} s")
    return 0


def _one(result, extras):
    return [result], extras


def _refresh(sizes, work, profile):
    from bench import refresh

    return refresh.run(sizes, work, profile)


def _marts(sizes):
    from bench import marts

    return marts.run(sizes), {}


def _queries(sizes, work, history_db):
    from bench import queries

    return queries.run(sizes, work, history_db)


def _publish(work, history_db):
    from bench import publish

    result, extras = publish.run(work, history_db)
    return [result], extras


def _merge(sizes, work, history_db, first_day):
    from bench import merge

    return [merge.run(sizes, work, history_db, first_day)], {}


def _peers(sizes, work, history_db, first_day):
    from bench import peers

    return peers.run(sizes, work, history_db, first_day)


def _lake(sizes):
    from bench import lake

    # Its figures are its own table (merge, as-of lookup, storage, reader latency per kind).
    lake.main(
        ["--quick"] if sizes.quick else ["--keys", str(sizes.snapshot_keys), "--days", str(sizes.replay_days)]
    )
    return [], {}


def _year(sizes, work):
    from bench import year

    # A day of the real feeds takes seconds to generate, rebuild and ingest: the replay's days here,
    # the whole year by hand.
    folder = work / "year"
    folder.mkdir()
    return year.run(sizes.replay_days, folder)


def _rebuild(sizes, work):
    from bench import rebuild

    replay = rebuild.run_replay(sizes, work)
    command, extras = rebuild.run_command(sizes, work)
    return [replay, command], extras


if __name__ == "__main__":
    raise SystemExit(main())
