"""dbt's snapshot materialization over daily payloads: the peer benchmark 7 measures costcurve against.

Run by the Python that has dbt-duckdb (the ``bench`` extra), as a script, so it imports nothing of
costcurve:

    python bench/dbt_snapshot.py PROJECT_DIR DATABASE DAYS_DIR

``write_project`` writes a dbt project with one snapshot of ``bench_input.today`` (strategy
``check`` on the value columns, the natural key as ``unique_key``, vanished keys closed with
``hard_deletes: invalidate``, as costcurve closes them). Versions are stamped with the day observed
rather than the clock (``duckdb__snapshot_get_time`` reads the ``observed_at`` var), so a replay of
old payloads dates its versions as costcurve's rebuild does. For each ``DAYS_DIR/YYYY-MM-DD.parquet``
in date order the script loads the day into ``bench_input.today`` (timed apart: costcurve's merge
gets its frame in memory), runs ``dbt snapshot`` in this process (``dbtRunner``, so dbt's imports are
paid once, as costcurve's are), and prints one JSON line: per day the wall time of the invocation and
the snapshot node's own execution time from ``run_results.json``.

Nothing is downloaded: the project has no packages, and usage tracking is off.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

SNAPSHOT = "token_prices_snapshot"
# dbt's own columns on every version, beside the payload's.
DBT_COLUMNS = {
    "dbt_scd_id": "varchar",
    "dbt_updated_at": "timestamp",
    "dbt_valid_from": "timestamp",
    "dbt_valid_to": "timestamp",
}


def write_project(directory: Path, database: Path, key: list[str], check: list[str]) -> None:
    """A self-contained dbt project and profile in ``directory`` over the DuckDB file ``database``."""
    (directory / "snapshots").mkdir(parents=True, exist_ok=True)
    (directory / "macros").mkdir(exist_ok=True)
    (directory / "dbt_project.yml").write_text(
        "name: costcurve_bench\nversion: '1.0'\nconfig-version: 2\nprofile: costcurve_bench\n"
        "snapshot-paths: [snapshots]\nmacro-paths: [macros]\n"
        "flags:\n  send_anonymous_usage_stats: false\n  partial_parse: true\n"
    )
    (directory / "profiles.yml").write_text(
        "costcurve_bench:\n  target: bench\n  outputs:\n    bench:\n      type: duckdb\n"
        f"      path: {json.dumps(str(database))}\n      threads: 1\n"
    )
    (directory / "macros" / "observed_at.sql").write_text(
        "{% macro duckdb__snapshot_get_time() -%}\n"
        "  {{ return(\"'\" ~ var('observed_at') ~ \"'::timestamp\") }}\n"
        "{%- endmacro %}\n"
    )
    (directory / "snapshots" / f"{SNAPSHOT}.sql").write_text(
        f"{{% snapshot {SNAPSHOT} %}}\n"
        "{{ config(target_schema='snapshots', strategy='check', hard_deletes='invalidate',\n"
        f"          unique_key={json.dumps(key)}, check_cols={json.dumps(check)}) }}}}\n"
        "select * from bench_input.today\n"
        "{% endsnapshot %}\n"
    )


def replay(directory: Path, database: Path, days: Path) -> dict:
    import duckdb
    from dbt.cli.main import dbtRunner

    runner = dbtRunner()
    out: dict[str, list] = {"days": [], "load_s": [], "invoke_s": [], "node_s": [], "rows": []}
    for path in sorted(days.glob("*.parquet")):
        start = time.perf_counter()
        with duckdb.connect(str(database)) as con:
            con.execute("create schema if not exists bench_input")
            con.execute(f"create or replace table bench_input.today as from read_parquet('{path}')")
        out["load_s"].append(time.perf_counter() - start)
        start = time.perf_counter()
        result = runner.invoke(
            [
                "--quiet",
                "snapshot",
                "--project-dir",
                str(directory),
                "--profiles-dir",
                str(directory),
                "--vars",
                json.dumps({"observed_at": path.stem}),
            ]
        )
        out["invoke_s"].append(time.perf_counter() - start)
        if not result.success:
            raise SystemExit(f"dbt snapshot failed on {path.stem}: {result.exception}")
        results = json.loads((directory / "target" / "run_results.json").read_text())
        out["node_s"].append(sum(r["execution_time"] for r in results["results"]))
        out["days"].append(path.stem)
        # Not read-only: dbt-duckdb keeps its connection open in this process, and DuckDB opens a
        # second one to the same file only with the same configuration.
        with duckdb.connect(str(database)) as con:
            out["rows"].append(con.execute(f"select count(*) from snapshots.{SNAPSHOT}").fetchone()[0])
    return out


if __name__ == "__main__":
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    project, database, days = (Path(a) for a in sys.argv[1:4])
    print(json.dumps(replay(project, database, days)))
