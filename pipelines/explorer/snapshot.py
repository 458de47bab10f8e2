"""What the explorer reads: the published snapshot, opened read-only, and what-if copies of the
self-hosting and breakeven marts rebuilt from their own model SQL under changed assumptions.

``published/costcurve.duckdb`` is a link into the current generation, which every refresh replaces.
A DuckDB connection keeps reading the file it opened, so the explorer checks the link on every query
and opens the new snapshot when the file it points at changed.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from core.assumptions import Assumptions
from warehouse import db

# The marts whose numbers follow from meta.assumptions, rebuilt for a what-if in this order.
WHAT_IF_MODELS = ("marts.self_host_cost", "marts.breakeven_api_vs_self_host", "marts.breakeven_buy_vs_rent")
# What a what-if replaces: the assumption tables (warehouse.assumptions.write) and the models above.
_REPLACED = ("meta.assumptions", "meta.size_classes", "meta.dtypes", *WHAT_IF_MODELS)
# The assumptions the explorer lets an analyst vary, by their names in core.assumptions.Assumptions.
VARIABLE = ("batch_size", "usd_per_kwh", "depreciation_years", "pue")


class NothingPublished(FileNotFoundError):
    """No published snapshot yet: the explorer has nothing to show."""


class Snapshot:
    """Read-only access to whatever snapshot ``published`` points at now."""

    def __init__(self, link: Path | None = None):
        self.link = link or db.published_path()
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._identity: tuple[str, int, int] | None = None

    def identity(self) -> tuple[str, int, int]:
        """The snapshot file the link points at now: its path, inode and modification time."""
        try:
            target = self.link.resolve(strict=True)
        except FileNotFoundError:
            raise NothingPublished(
                f"no published warehouse at {self.link}: run `costcurve refresh --offline` first"
            ) from None
        stat = target.stat()
        return str(target), stat.st_ino, stat.st_mtime_ns

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own (DuckDB connections are not shared across threads) on the current
        snapshot, reopened when the link points at a new one. The old connection is not closed here:
        a request still reading it finishes, and it goes when its last cursor does."""
        with self._lock:
            identity = self.identity()
            if identity != self._identity:
                self._con = duckdb.connect(identity[0], read_only=True)
                self._identity = identity
            return self._con.cursor()

    def close(self) -> None:
        """Let go of the snapshot: DuckDB opens a file once per process with one configuration, so a
        connection left open keeps others in the process (the CLI's sandboxed reader) from opening it."""
        with self._lock:
            if self._con is not None:
                self._con.close()
            self._con, self._identity = None, None

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def frame(self, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
        cursor = self.cursor()
        try:
            return cursor.execute(sql, params or []).pl()
        finally:
            cursor.close()

    def assumptions(self) -> Assumptions:
        """The assumption set the snapshot's marts were computed with."""
        cursor = self.cursor()
        try:
            return _stored_assumptions(cursor, "")
        finally:
            cursor.close()

    def what_if(self, utilization: float, **changes: float) -> dict[str, pl.DataFrame]:
        """The WHAT_IF_MODELS as they would be with ``changes`` to the snapshot's assumptions (names in
        VARIABLE) and ``utilization`` added to its utilization grid: each mart's own SQL, run by the
        model runner over the snapshot with the formula macros the marts use, never a copy in Python."""
        unknown = sorted(set(changes) - set(VARIABLE))
        if unknown:
            raise ValueError(f"cannot vary {unknown}: the explorer varies {', '.join(VARIABLE)}")
        return _what_if(self.identity()[0], float(utilization), tuple(sorted(changes.items())))


def _stored_assumptions(con: duckdb.DuckDBPyConnection, catalog: str) -> Assumptions:
    """Read meta.assumptions, meta.size_classes and meta.dtypes (of ``catalog``, or the default) back
    into the Assumptions they were written from (warehouse.assumptions.write)."""
    prefix = f"{catalog}." if catalog else ""
    row = (
        con.execute(f"select * exclude (assumption_set_id) from {prefix}meta.assumptions")
        .pl()
        .row(0, named=True)
    )
    classes = con.execute(f"from {prefix}meta.size_classes order by size_class").pl()
    dtypes = con.execute(f"from {prefix}meta.dtypes order by dtype").fetchall()
    return Assumptions.from_mapping(
        {
            **row,
            "bytes_per_param": dict(dtypes),
            "size_classes": {c.pop("size_class"): c for c in classes.to_dicts()},
        }
    )


@lru_cache(maxsize=16)
def _what_if(
    snapshot: str, utilization: float, changes: tuple[tuple[str, float], ...]
) -> dict[str, pl.DataFrame]:
    """Keyed by the snapshot file, so a new snapshot never serves an old what-if; the charts, the
    headline and every download of one setting share one rebuild."""
    from pipelines.flow import macro_sql
    from warehouse import assumptions as stored
    from warehouse import models

    con = duckdb.connect()
    try:
        con.execute(f"attach {_literal(snapshot)} as snapshot (read_only)")
        base = _stored_assumptions(con, "snapshot")
        grid = tuple(sorted({*base.utilization_grid, utilization}))
        # dataclasses.replace re-validates: a pue below 1 or a zero depreciation is refused here.
        varied = dataclasses.replace(base, utilization_grid=grid, **_typed(base, dict(changes)))
        # The in-memory database holds views of every published table, so the model SQL and the
        # macros read the snapshot under the same names as in the warehouse.
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'snapshot'"
        ).fetchall():
            con.execute(f"create schema if not exists {schema}")
            if f"{schema}.{table}" not in _REPLACED:
                con.execute(f"create view {schema}.{table} as from snapshot.{schema}.{table}")
        stored.write(con, varied)
        # The macros the warehouse and the snapshot carry, the formulas and the table macros.
        for statement in macro_sql():
            con.execute(statement)
        # The marts' "today" (build_date()) is the day the snapshot was built, not the day it is read.
        (built_on,) = con.execute(
            "select max(coalesce(finished_at, started_at))::date from snapshot.meta.runs "
            "where status in ('success', 'partial')"
        ).fetchone()
        if built_on:
            con.execute(f"set variable costcurve_build_date = date '{built_on.isoformat()}'")
        published = {
            f"{schema}.{table}"
            for schema, table in con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = 'snapshot'"
            ).fetchall()
        }
        built = {}
        for model in _needed(_discovered(), published):
            models.build(con, model)
            if model.table in WHAT_IF_MODELS:
                built[model.table] = con.execute(f"from {model.table}").pl()
        return built
    finally:
        con.close()


@cache
def _discovered() -> list:
    """The models, read once per process (parsing them is half a what-if's time): they change with the
    code, which a restart of the server reloads."""
    from warehouse import models

    return models.discover()


def _needed(ordered: list, published: set[str]) -> list:
    """The WHAT_IF_MODELS and what they read that the snapshot does not carry (seeds and intermediate
    tables live in the working database only), in build order."""
    by_table = {m.table: m for m in ordered}
    wanted, todo = set(), list(WHAT_IF_MODELS)
    while todo:
        table = todo.pop()
        if table in wanted:
            continue
        wanted.add(table)
        todo += [d for d in by_table[table].depends_on if d not in published]
    return [m for m in ordered if m.table in wanted]


def _typed(base: Assumptions, changes: Mapping[str, float]) -> dict[str, Any]:
    """Each change in the type of the field it replaces (batch_size is a whole number)."""
    return {name: type(getattr(base, name))(value) for name, value in changes.items()}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
