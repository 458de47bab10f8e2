from __future__ import annotations

import math
from collections.abc import Callable

import duckdb
import polars as pl
import pytest

import core
from core import scalar
from core.macros import macro_statements


@pytest.fixture(scope="session")
def duck() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with every core macro registered, as the warehouse does."""
    connection = duckdb.connect()
    for statement in macro_statements():
        connection.execute(statement)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def sql(duck) -> Callable[..., object]:
    """Call one macro on plain values: sql("cost_per_correct", 1.0, 0.5) -> 2.0."""

    def call(macro: str, *args: object) -> object:
        placeholders = ", ".join("?" for _ in args)
        return duck.execute(f"SELECT {macro}({placeholders})", list(args)).fetchone()[0]

    return call


@pytest.fixture(scope="session")
def formula(sql) -> Callable[..., object]:
    """Evaluate a formula three ways (scalar wrapper, polars expression, DuckDB macro) on the same
    numbers, check that they agree, and return the value."""

    def evaluate(name: str, *args: object) -> object:
        by_scalar = getattr(scalar, name)(*args)
        by_expr = pl.select(getattr(core, name)(*args).alias("value")).item()
        by_sql = sql(name, *args)
        for other in (by_expr, by_sql):
            if isinstance(by_scalar, float) and other is not None:
                assert math.isclose(by_scalar, other, rel_tol=1e-12), (name, args, by_expr, by_sql)
            else:
                assert by_scalar == other, (name, args, by_scalar, by_expr, by_sql)
        return by_scalar

    return evaluate
