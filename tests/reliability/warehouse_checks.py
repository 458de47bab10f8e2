"""Checks on a warehouse directory that hold after any crash: what the crash and concurrency tests assert."""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path

import duckdb

from sources.schemas import DATASETS

_OPEN = "date '0001-01-01'"


def scd2_violations(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Per history table, the versions that break SCD2: an empty or negative interval, two versions
    of one key starting on the same day, or a version still open (or ending late) when the next begins."""
    found = {}
    for dataset in DATASETS.values():
        keys = ", ".join(dataset.key)
        rows = con.execute(
            f"""
            select {keys}, valid_from, valid_to, next_from, same_start from (
                select *, lead(valid_from) over w as next_from,
                       count(*) over (partition by {keys}, valid_from) as same_start
                from history.{dataset.name}
                window w as (partition by {keys} order by coalesce(valid_from, {_OPEN}))
            )
            where (valid_to is not null and valid_from is not null and valid_to <= valid_from)
               or same_start > 1
               or (next_from is not null and (valid_to is null or valid_to > next_from))
            """
        ).fetchall()
        if rows:
            found[dataset.name] = rows
    return found


def table_counts(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> dict[str, int]:
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
        f"and schema_name in {schemas} order by 1, 2"
    ).fetchall()
    return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published_files(home: Path) -> dict[str, str]:
    """The published snapshot and Parquet exports by name, with their content hashes."""
    published = home / "published"
    files = [published / "costcurve.duckdb", *sorted((published / "parquet").glob("*.parquet"))]
    return {p.name: sha256(p) for p in files}


def lock_is_free(home: Path) -> bool:
    with open(home / ".writer.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True
