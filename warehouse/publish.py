"""Publishing: the read-only snapshot analysts and dashboards open, plus Parquet per mart and history table.

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

from warehouse import lake
from warehouse.db import comment_on_column, comment_on_table, home, published_dir, storage, transaction
from warehouse.layout import HISTORY_ORDER, sorted_select

GENERATION_PREFIX = "published-"
# Where a warehouse from before generations keeps its last published directory until the next swap.
LEGACY = "published-before-generations"

# superseded: what the warehouse believed before a correction; the `<dataset>_as_known` macros read it.
# seeds and intermediate: the reference data and shared rules the marts are built from (the price of
# record, the spec of record), so an analyst can query them and rerun a mart's SQL on the snapshot.
PUBLISHED_SCHEMAS = ("history", "seeds", "intermediate", "marts", "meta", "quarantine", "superseded")


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    return con.execute(
        f"""select schema_name, table_name, comment from duckdb_tables()
            where database_name = current_database() and schema_name in {PUBLISHED_SCHEMAS}
            order by schema_name, table_name"""
    ).fetchall()


def publish(
    con: duckdb.DuckDBPyConnection, macro_sql: list[str], target: Path, run_id: str | None = None
) -> Path:
    """Copy the published schemas and macros of the working DB into a fresh snapshot, atomically. On a
    DuckLake nothing is copied: the run's publish is a commit (see `publish_lake`), and ``target`` is
    left unwritten."""
    if storage() is not None:
        publish_lake(con, macro_sql, run_id)
        return target
    return publish_file(con, macro_sql, target)


def publish_file(con: duckdb.DuckDBPyConnection, macro_sql: list[str], target: Path) -> Path:
    """The local-file publish: a fresh snapshot file, written aside and renamed into place."""
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


# The DuckLake commit message that marks a run's publish; its extra info is the run id.
PUBLISH_MESSAGE = "publish"
MACROS = "meta.macros"
MACROS_DOC = (
    "DuckLake only: the CREATE MACRO statements of the formulas and table macros, in order. costcurve sql "
    "creates them in its session; another client runs them itself (docs/deployment.md)."
)


def publish_lake(con: duckdb.DuckDBPyConnection, macro_sql: list[str], run_id: str | None) -> int:
    """Publish on a DuckLake: commit the macros, then the commit marked ``publish`` (extra info: the run
    id) that records in ``meta.runs.snapshot_id`` the snapshot holding everything the run wrote. Readers
    attach the lake at the last ``publish`` commit, so they see a whole run or none of it, with no copy,
    and the run's own row names its snapshot. Returns that snapshot id."""
    alias = con.execute("select current_database()").fetchone()[0]

    def mark() -> None:
        con.execute(
            f"call {alias}.set_commit_message('costcurve', ?, extra_info => ?)", [PUBLISH_MESSAGE, run_id]
        )

    with transaction(con):
        if run_id is None:
            mark()
        # DuckLake cannot store a macro whose parameter defaults to NULL (cost_per_request's), so the
        # macros travel as text that readers create as temporary macros (warehouse.readers).
        con.execute(
            f"create or replace table {MACROS} (position integer not null, statement varchar not null)"
        )
        con.executemany(f"insert into {MACROS} values (?, ?)", list(enumerate(macro_sql)))
        comment_on_table(con, MACROS, MACROS_DOC)
    snapshot = lake.current_snapshot(con, alias)
    if run_id is not None:
        with transaction(con):
            mark()
            # meta.runs.snapshot_id is declared with the table (warehouse.meta).
            con.execute("update meta.runs set snapshot_id = ? where run_id = ?", [snapshot, run_id])
    return snapshot


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


# Exported for dashboards: every mart, and every dataset's full history (parquet/history/<dataset>).
EXPORTED_SCHEMAS = ("marts", "history")


def parquet_file(schema: str, table: str) -> str:
    """A table's Parquet file, relative to the Parquet directory: marts at its top (where dashboards
    first found them), other schemas in a folder of their own."""
    return f"{table}.parquet" if schema == "marts" else f"{schema}/{table}.parquet"


def export_parquet(con: duckdb.DuckDBPyConnection, directory: Path) -> list[Path]:
    """One Parquet file per mart and history table, each replaced atomically. DECIMAL columns (prices)
    are written as DOUBLE: pandas reads a Parquet decimal as Python Decimal objects (dtype object) and
    many BI tools as text, while a double carries the 9 decimal places of a price (15+ significant
    digits). The exact decimals stay in the DuckDB snapshot."""
    written = []
    for schema, table in con.execute(
        f"""select schema_name, table_name from duckdb_tables()
            where database_name = current_database() and schema_name in {EXPORTED_SCHEMAS} order by 1, 2"""
    ).fetchall():
        decimals = [
            c
            for (c,) in con.execute(
                """select column_name from duckdb_columns() where database_name = current_database()
                   and schema_name = ? and table_name = ? and data_type like 'DECIMAL%' order by column_index""",
                [schema, table],
            ).fetchall()
        ]
        replace = f"replace ({', '.join(f'{c}::double as {c}' for c in decimals)})" if decimals else ""
        order = HISTORY_ORDER.get(f"{schema}.{table}")
        body = sorted_select(f"{schema}.{table}", order) if order else f"from {schema}.{table}"
        path = directory / parquet_file(schema, table)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        con.execute(f"copy (select * {replace} {body}) to '{tmp}' (format parquet, compression zstd)")
        os.replace(tmp, path)
        written.append(path)
    return written


def generation_dir(run_id: str) -> Path:
    """Where run ``run_id``'s generation is (or was) written."""
    return home() / f"{GENERATION_PREFIX}{re.sub(r'[^A-Za-z0-9_.-]', '_', run_id)}"


def new_generation(run_id: str) -> Path:
    """An empty directory for what run ``run_id`` publishes, not yet visible to readers."""
    path = generation_dir(run_id)
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
