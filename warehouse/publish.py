"""Publishing: the read-only snapshot analysts and dashboards open, plus Parquet per mart.

The snapshot is written to a new file beside the published one and renamed over it, so a reader
sees either the old or the new warehouse, never half of one; a reader that already opened the
old file keeps reading it (the rename does not touch its open inode).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from warehouse.db import comment_on_column, comment_on_table, published_dir, published_path
from warehouse.layout import HISTORY_ORDER, sorted_select

PUBLISHED_SCHEMAS = ("history", "marts", "meta", "quarantine")


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    return con.execute(
        f"""select schema_name, table_name, comment from duckdb_tables()
            where database_name = current_database() and schema_name in {PUBLISHED_SCHEMAS}
            order by schema_name, table_name"""
    ).fetchall()


def publish(con: duckdb.DuckDBPyConnection, macro_sql: list[str], target: Path | None = None) -> Path:
    """Copy the published schemas and macros of the working DB into a fresh snapshot, atomically."""
    target = target or published_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    # The caller holds the writer lock: any temporary snapshot left here is from a killed run.
    for stale in [
        *target.parent.glob(f".{target.name}.*.tmp"),
        *target.parent.glob(f".{target.name}.*.tmp.wal"),
    ]:
        stale.unlink()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    working = con.execute("select current_database()").fetchone()[0]
    con.execute(f"attach '{tmp}' as snap")
    try:
        # One transaction for the whole copy: each table and comment would otherwise commit alone.
        con.execute("begin transaction")
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"create schema snap.{schema}")
        for schema, table, comment in _tables(con):
            # History is written sorted so analysts' lookups by model or accelerator skip row groups.
            order = HISTORY_ORDER.get(f"{schema}.{table}")
            body = sorted_select(f"{schema}.{table}", order) if order else f"from {schema}.{table}"
            con.execute(f"create table snap.{schema}.{table} as {body}")
            if comment:
                comment_on_table(con, f"snap.{schema}.{table}", comment)
        for schema, table, column, comment in con.execute(
            f"""select schema_name, table_name, column_name, comment from duckdb_columns()
                where database_name = current_database() and schema_name in {PUBLISHED_SCHEMAS}
                  and comment is not null"""
        ).fetchall():
            comment_on_column(con, f"snap.{schema}.{table}", column, comment)
        con.execute("use snap")
        try:
            for statement in macro_sql:
                con.execute(statement)
        finally:
            con.execute(f"use {working}")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("detach snap")
    os.replace(tmp, target)
    return target


def export_parquet(con: duckdb.DuckDBPyConnection, directory: Path | None = None) -> list[Path]:
    """One Parquet file per mart, each replaced atomically."""
    directory = directory or published_dir() / "parquet"
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for (table,) in con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'marts' order by 1"
    ).fetchall():
        path = directory / f"{table}.parquet"
        tmp = directory / f".{table}.parquet.tmp"
        con.execute(f"copy marts.{table} to '{tmp}' (format parquet, compression zstd)")
        os.replace(tmp, path)
        written.append(path)
    return written
