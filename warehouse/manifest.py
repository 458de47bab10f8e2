"""published/manifest.json: what a BI tool polls to learn that a refresh landed and what it holds.

Tables with row counts, typed columns, a content hash, whether each changed since the previous
manifest and when it last changed; the Parquet exports; when the run finished, in which mode each
source ran, how many price changes the run detected and how recent each dataset's data is. Written
atomically (temporary file, then rename) like the snapshot, so a poller never reads half a manifest.
Paths in it are relative to the manifest's directory.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from warehouse.publish import EXPORTED_SCHEMAS, PUBLISHED_SCHEMAS, current_generation, parquet_file

# Version 2 added content_hash, changed, last_changed_at, price_changes, datasets, data_as_of and the
# history exports; every field of version 1 is still there with its meaning.
FORMAT_VERSION = 2
NAME = "manifest.json"
# Columns every observation refreshes without a value changing (a price seen again today): left out of
# the content hash, so `changed` means the data changed, not that a refresh saw it again.
UNHASHED = ("last_seen_at",)


def build(con: duckdb.DuckDBPyConnection, directory: Path, run_id: str, previous: dict | None = None) -> dict:
    """The manifest of run `run_id` for the generation in `directory`; `previous` is the manifest it
    replaces (None: every table counts as changed)."""
    run = con.execute(
        # snapshot_id: the DuckLake snapshot the run published (`costcurve sql --as-of-run`); null on a file.
        "select run_id, kind, started_at, finished_at, status, summary, snapshot_id from meta.runs "
        "where run_id = ?",
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
    as_of = data_as_of(con)
    refreshed_at = _iso(run[3])
    before = {t["name"]: t for t in (previous or {}).get("tables", [])}
    tables = []
    for schema, table, comment in _tables(con):
        entry = _table(con, schema, table, comment, directory / "parquet")
        old = before.get(entry["name"], {})
        entry["changed"] = old.get("content_hash") != entry["content_hash"]
        # A table unchanged since a manifest without last_changed_at (version 1) changed at its refresh.
        entry["last_changed_at"] = (
            refreshed_at if entry["changed"] else old.get("last_changed_at", previous.get("refreshed_at"))
        )
        tables.append(entry)
    exported = {t["parquet"]: t["name"] for t in tables if t["parquet"]}
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": _iso(datetime.now(UTC)),
        "snapshot": "costcurve.duckdb",
        "report": "report.html" if (directory / "report.html").exists() else None,
        "run": dict(
            zip(
                ("run_id", "kind", "started_at", "finished_at", "status", "summary", "snapshot_id"),
                run,
                strict=True,
            )
        )
        | {"started_at": _iso(run[2]), "finished_at": refreshed_at},
        "refreshed_at": refreshed_at,
        "previous_run_id": (previous or {}).get("run", {}).get("run_id"),
        "price_changes": price_changes(con, run[2], run[3]),
        "datasets": {
            dataset: {"data_as_of": _day(as_of.get(dataset))}
            for dataset in sorted(set(as_of) | set(sources["dataset"]))
        },
        "sources": [row | {"observed_at": _iso(row["observed_at"])} for row in sources.to_dicts()],
        "tables": tables,
        "parquet": [
            {"path": path, "table": exported[path], "bytes": (directory / path).stat().st_size}
            for path in sorted(exported)
        ],
    }


def write(con: duckdb.DuckDBPyConnection, directory: Path, run_id: str) -> Path:
    """Write `directory`/manifest.json for run `run_id`, compared with the published generation's
    manifest. Call it last: after the snapshot, the Parquet files and the report are in place, so a
    poller that sees the new manifest finds everything it lists."""
    current = current_generation()
    # Rewriting the current generation's own manifest has nothing earlier to compare with.
    previous = read(current) if current and current != directory.resolve() else None
    text = json.dumps(build(con, directory, run_id, previous), indent=2)
    path = directory / NAME
    tmp = directory / f".{NAME}.{os.getpid()}.tmp"
    tmp.write_text(text + "\n")
    os.replace(tmp, path)
    return path


def read(directory: Path) -> dict | None:
    """The manifest in `directory`, or None when there is none or it cannot be read."""
    try:
        return json.loads((directory / NAME).read_text())
    except (OSError, ValueError):
        return None


def data_as_of(con: duckdb.DuckDBPyConnection, today: date | None = None) -> dict[str, date]:
    """dataset -> the newest day its data describes, which is not when it was fetched: the newest
    valid_from a source declared (earlier than the day the version was first seen) that has taken
    effect, or the day of the latest live or file observation (a live snapshot describes the day it was
    taken). An embedded default is as old as its newest dated record, however recently it was read; a
    dataset with neither is absent."""
    today = today or datetime.now(UTC).date()
    histories = [
        t
        for (t,) in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and schema_name = 'history' order by 1"
        ).fetchall()
    ]
    # A version whose valid_from is the day it was first seen may be the source's date or only the
    # observation (a source that declares none): only the observation's mode can vouch for it.
    declared = [
        f"""select '{t}' as dataset, max(valid_from) as day from history.{t}
            where valid_from <= $today and valid_from < first_seen_at::date"""
        for t in histories
    ]
    observed = """select dataset, max(observed_at)::date as day from meta.source_runs
                  where mode in ('live', 'file') and status in ('success', 'partial') group by all"""
    rows = con.execute(
        f"select dataset, max(day) from ({' union all '.join([*declared, observed])}) "
        "where day is not null group by all",
        {"today": today},
    ).fetchall()
    return dict(rows)


def price_changes(con: duckdb.DuckDBPyConnection, started_at: datetime, finished_at: datetime | None) -> dict:
    """Price changes (marts.price_change_events, kind price_change) whose new price the run first
    observed (detected_at within the run): `detected` those it caught (the old price was already
    known), `loaded_with_history` those that arrived with their old price in one payload (a dated
    source read for the first time), per dataset."""
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'marts' and table_name = 'price_change_events'"
    ).fetchone()[0]
    rows = (
        con.execute(
            """select dataset, count(*) filter (where detected_by_refresh),
                      count(*) filter (where not detected_by_refresh)
               from marts.price_change_events
               where change_kind = 'price_change' and detected_at >= ? and detected_at <= ?
               group by dataset order by dataset""",
            [started_at, finished_at or datetime.now(UTC)],
        ).fetchall()
        if found
        else []
    )
    return {
        "detected": sum(r[1] for r in rows),
        "loaded_with_history": sum(r[2] for r in rows),
        "by_dataset": {d: {"detected": caught, "loaded_with_history": loaded} for d, caught, loaded in rows},
    }


def content_hash(con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]]) -> str:
    """sha256 of the table's column names and types, row count and the sum of its rows' DuckDB hashes
    (order-independent, so a table rewritten in another order hashes the same), UNHASHED left out.
    DuckDB's hash may change with its version: a DuckDB upgrade can flag every table changed once."""
    hashed = [f'"{name}"' for name, _ in columns if name not in UNHASHED]
    rows, total = con.execute(
        f"select count(*), coalesce(sum(hash({', '.join(hashed)})::hugeint), 0) from {table}"
        if hashed
        else f"select count(*), 0 from {table}"
    ).fetchone()
    return hashlib.sha256(json.dumps([columns, rows, str(total)]).encode()).hexdigest()


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
    parquet = parquet_file(schema, table)
    name = f'"{schema}"."{table}"'
    return {
        "name": f"{schema}.{table}",
        "description": comment,
        "row_count": con.execute(f"select count(*) from {name}").fetchone()[0],
        "columns": [{"name": n, "type": t, "description": c} for n, t, c in columns],
        "parquet": f"parquet/{parquet}"
        if schema in EXPORTED_SCHEMAS and (parquet_dir / parquet).exists()
        else None,
        "content_hash": content_hash(con, name, [(n, t) for n, t, _ in columns]),
    }


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()
