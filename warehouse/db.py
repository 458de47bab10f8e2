"""Where the warehouse lives and how it is opened. Every other module gets a connection from here,
so moving storage stays a setting: a local DuckDB file (the default) or a DuckLake (warehouse.lake)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from warehouse import lake

SCHEMAS = ("raw", "staging", "history", "marts", "quarantine", "meta")


def home() -> Path:
    return Path(os.environ.get("COSTCURVE_HOME", "./data")).resolve()


def working_path() -> Path:
    return home() / "costcurve.duckdb"


def published_dir() -> Path:
    """What readers open: a link to the current generation (warehouse.publish swaps it)."""
    return home() / "published"


def published_path() -> Path:
    return published_dir() / "costcurve.duckdb"


def storage() -> lake.Lake | None:
    """The configured DuckLake, or None for the local file (see warehouse.lake for the setting)."""
    return lake.setting(home())


def concurrent_writers() -> bool:
    """Whether writers of different datasets may run at once: on a DuckLake whose PostgreSQL catalog
    serializes commits. A local file, and a ``.ducklake`` catalog (a DuckDB file), take one writing
    process at a time."""
    configured = storage()
    return configured is not None and configured.on_postgres


def connect(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the pipeline's working database, creating it and its schemas: the configured DuckLake, or
    the local file (``path``, else the working file), whose one writer is the pipeline."""
    configured = storage() if path is None else None
    if configured is not None:
        con = lake.connect(configured)
    else:
        path = path or working_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path))
    for schema in SCHEMAS:
        retrying("create schemas", lambda schema=schema: con.execute(f"create schema if not exists {schema}"))
    return con


@contextmanager
def working(path: Path | None = None):
    con = connect(path)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """Commit the block's statements together, or none of them. A statement that fails may already
    have ended the transaction (disk full, an invalidated database): rolling back again would raise
    "no transaction is active" in place of the real cause, so that second error is dropped."""
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit")
    except BaseException:
        with suppress(duckdb.TransactionException):
            con.execute("rollback")
        raise


def on_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con``'s default database is a DuckLake (rather than a DuckDB file)."""
    return (
        con.execute(
            "select type from duckdb_databases() where database_name = current_database()"
        ).fetchone()[0]
        == "ducklake"
    )


# A column's `primary key`, or a table's `, primary key (a, b)` line: what DuckLake refuses.
_KEYS = re.compile(r",\s*primary key\s*\([^)]*\)|\s+primary key\b", re.IGNORECASE)


def create_tables(con: duckdb.DuckDBPyConnection, ddl: str) -> None:
    """Run the warehouse's own DDL. A local file keeps its primary keys, which guard the bookkeeping
    tables against a duplicate; DuckLake holds no constraints, so there they are dropped and every
    write that relied on one goes through `merge` instead."""
    retrying("create tables", lambda: _execute(con, ddl))


def _execute(con: duckdb.DuckDBPyConnection, ddl: str) -> None:
    con.execute(_KEYS.sub("", ddl) if on_lake(con) else ddl)


# The retry of a DuckLake commit that conflicted with another writer's (warehouse.lake).
retrying = lake.retrying


def merge(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: Sequence[str],
    source: str,
    params: Sequence | None = None,
    *,
    update: bool,
) -> int:
    """Insert the rows of ``source`` (a query, by column name) whose ``key`` is not in ``table``; with
    ``update``, replace the other columns of those whose key is. Returns how many rows it wrote.

    The one way to write a keyed row on either storage kind: MERGE INTO needs no constraint (DuckLake has
    none, and refuses INSERT OR REPLACE and ON CONFLICT) and is one statement, so it is atomic."""
    on = " and ".join(f"t.{k} = s.{k}" for k in key)
    matched = ""
    if update:
        columns = [d[0] for d in con.execute(f"select * from ({source}) limit 0", params or []).description]
        assigned = ", ".join(f"{c} = s.{c}" for c in columns if c not in key)
        matched = f"when matched then update set {assigned} "
    return con.execute(
        f"merge into {table} as t using ({source}) as s on {on} {matched}when not matched then insert by name",
        params or [],
    ).fetchone()[0]


def upsert(
    con: duckdb.DuckDBPyConnection, table: str, key: Sequence[str], row: dict, *, update: bool = True
) -> int:
    """`merge` one row given as column -> value, each value cast to its column's type (a None or an
    empty list has no type of its own)."""
    schema, name = table.rsplit(".", 1)
    types = dict(
        con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where database_name = current_database() and schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    )
    select = "select " + ", ".join(f"?::{types[c]} as {c}" for c in row)
    return merge(con, table, key, select, list(row.values()), update=update)


# DuckLake stores no macro whose parameter defaults to NULL (cost_per_request's), so on a lake every
# macro is the session's own (temp); the published ones travel as text in meta.macros (warehouse.publish).
_CREATE_MACRO = re.compile(r"\bcreate\s+or\s+replace\s+macro\b", re.IGNORECASE)


def create_macros(con: duckdb.DuckDBPyConnection, statements: Sequence[str]) -> None:
    """Create the macros of ``statements`` (CREATE OR REPLACE MACRO ...): in the database on a local
    file, as temporary macros of this connection on a lake (read-only or not)."""
    temporary = on_lake(con)
    for statement in statements:
        con.execute(_CREATE_MACRO.sub("create or replace temp macro", statement) if temporary else statement)


def document(con: duckdb.DuckDBPyConnection, table: str, doc: str, columns: dict[str, str]) -> None:
    """Set a table's and its columns' comments, writing only those that differ: each COMMENT is a
    catalog write, and every asset of a refresh ensures its tables."""
    schema, name = table.rsplit(".", 1)
    stored = dict(
        con.execute(
            "select column_name, comment from duckdb_columns() where schema_name = ? and table_name = ?",
            [schema.split(".")[-1], name],
        ).fetchall()
    )
    kind, current = con.execute(
        "select 'table', comment from duckdb_tables() where schema_name = ? and table_name = ? "
        "union all select 'view', comment from duckdb_views() where schema_name = ? and view_name = ?",
        [schema.split(".")[-1], name, schema.split(".")[-1], name],
    ).fetchone()
    changes = [(None, doc)] if current != doc else []
    changes += [(column, text) for column, text in columns.items() if stored.get(column) != text]
    if not changes:
        return

    def write() -> None:
        # One transaction: every COMMENT alone would be its own commit, five times slower.
        with transaction(con):
            for column, text in changes:
                if column is None:
                    con.execute(f"comment on {kind} {table} is {_literal(text)}")
                else:
                    comment_on_column(con, table, column, text)

    retrying(f"document {table}", write)


def comment_on_table(con: duckdb.DuckDBPyConnection, table: str, text: str) -> None:
    con.execute(f"comment on table {table} is {_literal(text)}")


def comment_on_column(con: duckdb.DuckDBPyConnection, table: str, column: str, text: str) -> None:
    con.execute(f"comment on column {table}.{column} is {_literal(text)}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
