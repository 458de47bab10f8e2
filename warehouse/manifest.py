"""published/manifest.json: what a BI tool polls to learn that a refresh landed and what it holds.

Tables with row counts and typed columns, the Parquet exports, when the run finished and in which mode
each source ran. Written atomically (temporary file, then rename) like the snapshot, so a poller never
reads half a manifest. Paths in it are relative to the manifest's directory.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.publish import PUBLISHED_SCHEMAS

FORMAT_VERSION = 1


def build(con: duckdb.DuckDBPyConnection, directory: Path, run_id: str) -> dict:
    run = con.execute(
        "select run_id, kind, started_at, finished_at, status, summary from meta.runs where run_id = ?",
        [run_id],
    ).fetchone()
    if run is None:
        raise LookupError(f"run {run_id} is not in meta.runs")
    sources = con.execute(
        """select source, dataset, mode, status, rows_accepted, rows_rejected, versions_inserted,
                  observed_at, error
           from meta.source_runs where run_id = ? order by dataset, source""",
        [run_id],
    ).pl()
    parquet_dir = directory / "parquet"
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": _iso(datetime.now(UTC)),
        "snapshot": "costcurve.duckdb",
        "report": "report.html" if (directory / "report.html").exists() else None,
        "run": dict(
            zip(("run_id", "kind", "started_at", "finished_at", "status", "summary"), run, strict=True)
        )
        | {"started_at": _iso(run[2]), "finished_at": _iso(run[3])},
        "refreshed_at": _iso(run[3]),
        "sources": [row | {"observed_at": _iso(row["observed_at"])} for row in sources.to_dicts()],
        "tables": [
            _table(con, schema, table, comment, parquet_dir) for schema, table, comment in _tables(con)
        ],
        "parquet": [
            {"path": f"parquet/{p.name}", "table": f"marts.{p.stem}", "bytes": p.stat().st_size}
            for p in sorted(parquet_dir.glob("*.parquet"))
        ],
    }


def write(con: duckdb.DuckDBPyConnection, directory: Path, run_id: str) -> Path:
    """Write `directory`/manifest.json for run `run_id`. Call it last: after the snapshot, the Parquet files
    and the report are in place, so a poller that sees the new manifest finds everything it lists."""
    text = json.dumps(build(con, directory, run_id), indent=2)
    path = directory / "manifest.json"
    tmp = directory / f".manifest.json.{os.getpid()}.tmp"
    tmp.write_text(text + "\n")
    os.replace(tmp, path)
    return path


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    return con.execute(
        f"""select schema_name, table_name, comment from duckdb_tables()
            where database_name = current_database() and schema_name in {PUBLISHED_SCHEMAS}
            order by schema_name, table_name"""
    ).fetchall()


def _table(con: duckdb.DuckDBPyConnection, schema: str, table: str, comment: str | None, parquet_dir: Path):
    columns = con.execute(
        """select column_name, data_type, comment from duckdb_columns()
           where database_name = current_database() and schema_name = ? and table_name = ?
           order by column_index""",
        [schema, table],
    ).fetchall()
    parquet = parquet_dir / f"{table}.parquet"
    return {
        "name": f"{schema}.{table}",
        "description": comment,
        "row_count": con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0],
        "columns": [{"name": n, "type": t, "description": c} for n, t, c in columns],
        "parquet": f"parquet/{parquet.name}" if schema == "marts" and parquet.exists() else None,
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()
