"""Where the warehouse lives and how it is opened. Every other module gets a connection from here,
so moving storage (MotherDuck, DuckLake) stays a change to this file."""

from __future__ import annotations

import os
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

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


def connect(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the pipeline's working database (the only writer), creating it and its schemas."""
    path = path or working_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
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
    # One transaction: every COMMENT alone would be its own commit, five times slower.
    with transaction(con):
        for column, text in changes:
            if column is None:
                con.execute(f"comment on {kind} {table} is {_literal(text)}")
            else:
                comment_on_column(con, table, column, text)


def comment_on_table(con: duckdb.DuckDBPyConnection, table: str, text: str) -> None:
    con.execute(f"comment on table {table} is {_literal(text)}")


def comment_on_column(con: duckdb.DuckDBPyConnection, table: str, column: str, text: str) -> None:
    con.execute(f"comment on column {table}.{column} is {_literal(text)}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
