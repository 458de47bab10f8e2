"""Publishing: the read-only snapshot analysts and dashboards open, plus Parquet per mart.

Everything one run publishes (snapshot, Parquet, report, Data Docs, manifest) is written into a
new *generation* directory, ``published-<run id>``, beside the current one; then the link
``published`` is replaced by one pointing at it, in one rename. A reader sees the old files or the
new ones, never a mix; a publish that fails before the rename leaves every published file as it
was. The previous generation is kept, so a reader that resolved the old link keeps reading it;
older ones are removed.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb

from warehouse.db import comment_on_column, comment_on_table, home, published_dir, transaction
from warehouse.layout import HISTORY_ORDER, sorted_select

GENERATION_PREFIX = "published-"
# Where a warehouse from before generations keeps its last published directory until the next swap.
LEGACY = "published-before-generations"

# superseded: what the warehouse believed before a correction; the `<dataset>_as_known` macros read it.
PUBLISHED_SCHEMAS = ("history", "marts", "meta", "quarantine", "superseded")


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    return con.execute(
        f"""select schema_name, table_name, comment from duckdb_tables()
            where database_name = current_database() and schema_name in {PUBLISHED_SCHEMAS}
            order by schema_name, table_name"""
    ).fetchall()


def publish(con: duckdb.DuckDBPyConnection, macro_sql: list[str], target: Path) -> Path:
    """Copy the published schemas and macros of the working DB into a fresh snapshot, atomically."""
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
        with transaction(con):
            _copy(con, macro_sql, working)
    finally:
        con.execute("detach snap")
    os.replace(tmp, target)
    return target


def _copy(con: duckdb.DuckDBPyConnection, macro_sql: list[str], working: str) -> None:
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


def export_parquet(con: duckdb.DuckDBPyConnection, directory: Path) -> list[Path]:
    """One Parquet file per mart, each replaced atomically."""
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


def new_generation(run_id: str) -> Path:
    """An empty directory for what run ``run_id`` publishes, not yet visible to readers."""
    path = home() / f"{GENERATION_PREFIX}{re.sub(r'[^A-Za-z0-9_.-]', '_', run_id)}"
    shutil.rmtree(path, ignore_errors=True)  # the wreck of a killed publish of the same run
    path.mkdir(parents=True)
    return path


def current_generation() -> Path | None:
    link = published_dir()
    return link.resolve() if link.is_symlink() else None


def swap(generation: Path) -> None:
    """Point ``published`` at ``generation`` in one rename; keep the generation it replaces and
    remove older ones (and the wrecks of killed publishes)."""
    link = published_dir()
    previous = current_generation()
    if link.exists() and not link.is_symlink():
        # A warehouse from before generations: its directory becomes the previous generation. Until
        # the link replaces it below, readers briefly find no published warehouse (once, ever).
        previous = link.with_name(LEGACY)
        shutil.rmtree(previous, ignore_errors=True)
        os.replace(link, previous)
    tmp = link.with_name(".published.link.tmp")
    tmp.unlink(missing_ok=True)
    # Relative, so a copy of the home directory (a backup, a test's copy) points into itself.
    tmp.symlink_to(generation.name)
    os.replace(tmp, link)
    for old in link.parent.glob(f"{GENERATION_PREFIX}*"):
        if old.resolve() not in (generation.resolve(), previous):
            shutil.rmtree(old, ignore_errors=True)
