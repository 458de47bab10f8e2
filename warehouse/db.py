"""Where the warehouse lives and how it is opened. Every other module gets a connection from here,
so moving storage (MotherDuck, DuckLake) stays a change to this file."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import duckdb

SCHEMAS = ("raw", "staging", "history", "marts", "quarantine", "meta")


def home() -> Path:
    return Path(os.environ.get("COSTCURVE_HOME", "./data")).resolve()


def working_path() -> Path:
    return home() / "costcurve.duckdb"


def published_dir() -> Path:
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


def comment_on_table(con: duckdb.DuckDBPyConnection, table: str, text: str) -> None:
    con.execute(f"comment on table {table} is {_literal(text)}")


def comment_on_column(con: duckdb.DuckDBPyConnection, table: str, column: str, text: str) -> None:
    con.execute(f"comment on column {table}.{column} is {_literal(text)}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
