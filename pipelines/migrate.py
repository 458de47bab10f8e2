"""`costcurve migrate`: copy a warehouse between the storage kinds, history included, and prove the copy.

``--to ducklake`` copies every table of the local working file (raw archive, history, superseded
versions, observations, marts, meta, quarantine) into an empty DuckLake in one commit, then publishes
it (the macros, the commit readers attach at). ``--to file`` copies a DuckLake into a new local file
whose bookkeeping tables get their keys back from the warehouse's own DDL (a lake has no primary keys),
then publishes its snapshot. The source is never changed.

The proof, per table: the row count and a content hash (the sum of each row's hash, so row order does
not matter and a duplicated or missing row changes it), computed on both sides after the copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines import flow
from warehouse import db, lake, publish
from warehouse.db import comment_on_column, comment_on_table, transaction

SOURCE, TARGET = "migrate_source", "migrate_target"


class MigrationError(Exception):
    """The copy was refused or does not match its source: the message says which table and how."""


@dataclass(frozen=True)
class TableCheck:
    table: str
    rows: int
    digest: str


@dataclass(frozen=True)
class Report:
    target: str
    use: str  # how to point costcurve at the copy
    tables: list[TableCheck]


def run(to: str, *, catalog: str | None = None, data: str | None = None, file: Path | None = None) -> Report:
    if to == "ducklake":
        return to_lake(_lake(catalog, data))
    return to_file(_lake(None, None) if catalog is None else _lake(catalog, data), file or db.working_path())


def _lake(catalog: str | None, data: str | None) -> lake.Lake:
    if catalog is None:
        configured = db.storage()
        if configured is None:
            raise MigrationError(
                "which lake? give --catalog (a .ducklake file or postgres:dbname=... host=...) and --data, "
                "or set COSTCURVE_WAREHOUSE=ducklake:... and COSTCURVE_LAKE_DATA"
            )
        return configured
    return lake.parse(lake.PREFIX + catalog.removeprefix(lake.PREFIX), data or "")


def to_lake(target: lake.Lake) -> Report:
    source = db.working_path()
    if not source.exists():
        raise MigrationError(
            f"no local warehouse at {source} to copy: run `costcurve refresh --offline` first"
        )
    con = duckdb.connect(config=lake.NO_DOWNLOADS)
    try:
        con.execute(f"attach {lake.quote(str(source))} as {SOURCE} (read_only)")
        lake.attach(con, target, alias=TARGET, use=False)
        if _tables(con, TARGET):
            raise MigrationError(f"{target.describe()} already holds tables: migrate into an empty lake")
        tables = _tables(con, SOURCE)
        # One commit: a reader of the lake sees the whole warehouse or nothing.
        with transaction(con):
            _copy(con, tables, create=set())
        # Checked before the publish, which records its snapshot in the copy's meta.runs.
        checks = _verify(con, tables)
        con.execute(f"use {TARGET}")
        publish.publish_lake(con, flow.macro_sql(), _last_run(con))
    finally:
        con.close()
    return Report(
        target.describe(), f"COSTCURVE_WAREHOUSE={target.url} COSTCURVE_LAKE_DATA={target.data_path}", checks
    )


def to_file(source: lake.Lake, target: Path) -> Report:
    if target.exists():
        raise MigrationError(
            f"{target} exists: give --file a new path (the copy never overwrites a warehouse)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(target), config=lake.NO_DOWNLOADS)
    try:
        lake.attach(con, source, read_only=True, alias=SOURCE, use=False)
        # The warehouse's own tables first, with their primary keys, which the lake cannot hold.
        for schema in db.SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        flow.ensure(con)
        database = con.execute("select current_database()").fetchone()[0]
        # meta.macros is how a lake carries its macros; a file holds the macros themselves.
        tables = [t for t in _tables(con, SOURCE) if ".".join(t) != publish.MACROS]
        existing = set(_tables(con, database))
        with transaction(con):
            _copy(con, tables, create=existing, target=database)
        flow.create_macros(con)
        checks = _verify(con, tables, target=database)
        if target == db.working_path():
            run_id = _last_run(con) or "migrated"
            publish.publish_file(con, flow.macro_sql(), publish.new_generation(run_id) / "costcurve.duckdb")
            publish.swap(publish.generation_dir(run_id))
    finally:
        con.close()
    return Report(
        str(target), "unset COSTCURVE_WAREHOUSE (and remove [warehouse] from costcurve.toml)", checks
    )


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    return con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? order by 1, 2",
        [database],
    ).fetchall()


def replace_tables(con: duckdb.DuckDBPyConnection, source: Path) -> None:
    """Replace the tables of the warehouse ``con`` uses (a lake) by those of the local file ``source``,
    in one commit; its other tables stay (meta.macros, which publish rewrites). `costcurve rebuild`."""
    database = con.execute("select current_database()").fetchone()[0]
    con.execute(f"attach {lake.quote(str(source))} as {SOURCE} (read_only)")
    try:
        with transaction(con):
            _copy(con, _tables(con, SOURCE), create=set(), target=database, replace=True)
    finally:
        con.execute(f"detach {SOURCE}")


def _copy(
    con,
    tables: list[tuple[str, str]],
    *,
    create: set[tuple[str, str]],
    target: str = TARGET,
    replace: bool = False,
) -> None:
    """Copy ``tables`` from the source; those in ``create`` exist already (with their keys) and get the
    rows by name, after any column the source has and they lack (added by a later version). With
    ``replace``, a table of that name in the target is replaced."""
    for schema, table in tables:
        con.execute(f"create schema if not exists {target}.{schema}")
        name, origin = f"{target}.{schema}.{table}", f"{SOURCE}.{schema}.{table}"
        if (schema, table) in create:
            have = {c for (c,) in con.execute(_COLUMNS, [target, schema, table]).fetchall()}
            for column, kind in con.execute(
                "select column_name, data_type from duckdb_columns() where database_name = ? "
                "and schema_name = ? and table_name = ? order by column_index",
                [SOURCE, schema, table],
            ).fetchall():
                if column not in have:
                    con.execute(f'alter table {name} add column "{column}" {kind}')
            con.execute(f"insert into {name} by name select * from {origin}")
        else:
            con.execute(f"create {'or replace ' if replace else ''}table {name} as from {origin}")
        comment = con.execute(
            "select comment from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
            [SOURCE, schema, table],
        ).fetchone()[0]
        if comment:
            comment_on_table(con, name, comment)
        for column, text in con.execute(
            "select column_name, comment from duckdb_columns() where database_name = ? and schema_name = ? "
            "and table_name = ? and comment is not null",
            [SOURCE, schema, table],
        ).fetchall():
            comment_on_column(con, name, f'"{column}"', text)


_COLUMNS = (
    "select column_name from duckdb_columns() where database_name = ? and schema_name = ? and table_name = ?"
)


def _verify(con, tables: list[tuple[str, str]], target: str = TARGET) -> list[TableCheck]:
    checks = []
    for schema, table in tables:
        # The source's columns, by name and in its order: a column the target gained is not compared.
        columns = ", ".join(
            f'"{c}"'
            for (c,) in con.execute(_COLUMNS + " order by column_index", [SOURCE, schema, table]).fetchall()
        )
        found = {}
        for side in (SOURCE, target):
            found[side] = con.execute(
                f"select count(*), coalesce(sum(hash(struct_pack({columns}))::hugeint), 0)::varchar "
                f"from {side}.{schema}.{table}"
            ).fetchone()
        if found[SOURCE] != found[target]:
            raise MigrationError(
                f"{schema}.{table} differs after the copy: source {found[SOURCE][0]} rows (hash "
                f"{found[SOURCE][1]}), copy {found[target][0]} rows (hash {found[target][1]})"
            )
        checks.append(TableCheck(f"{schema}.{table}", found[SOURCE][0], found[SOURCE][1]))
    return checks


def _last_run(con: duckdb.DuckDBPyConnection) -> str | None:
    """The last finished run: the copy is published as that run's."""
    try:
        row = con.execute(
            "select run_id from meta.runs where finished_at is not null order by finished_at desc limit 1"
        ).fetchone()
    except duckdb.CatalogException:
        return None
    return row[0] if row else None
