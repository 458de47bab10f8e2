"""The contract between the three forms of each formula: names, argument order, defaults, input types."""

from __future__ import annotations

import inspect
from decimal import Decimal

import duckdb
import polars as pl
import pytest

import core
from core import scalar
from core.macros import MACROS, macro_statements


def sql_parameters(duck: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = duck.execute(
        "SELECT function_name, parameters FROM duckdb_functions() WHERE function_type = 'macro'"
    ).fetchall()
    return {name: list(params) for name, params in rows if name in MACROS}


def test_statements_create_every_macro_in_a_usable_order():
    statements = macro_statements()
    assert len(statements) == len(MACROS)
    assert all(s.startswith("CREATE OR REPLACE MACRO ") for s in statements)
    fresh = duckdb.connect()
    for statement in statements:
        fresh.execute(statement)
    # Registering twice is harmless (the warehouse and the snapshot both register).
    for statement in statements:
        fresh.execute(statement)
    assert set(sql_parameters(fresh)) == set(MACROS)


@pytest.mark.parametrize("name", sorted(MACROS))
def test_same_name_and_argument_order_in_python_and_sql(name, duck):
    expression_args = list(inspect.signature(getattr(core, name)).parameters)
    scalar_args = list(inspect.signature(getattr(scalar, name)).parameters)
    assert scalar_args == expression_args
    assert sql_parameters(duck)[name] == expression_args


@pytest.mark.parametrize("name", sorted(MACROS))
def test_same_defaults_in_python_and_sql(name, sql):
    parameters = inspect.signature(getattr(scalar, name)).parameters.values()
    defaults = {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}
    if not defaults:
        pytest.skip("no defaults")
    required = [p for p in parameters if p.default is inspect.Parameter.empty]
    # Arbitrary in-domain values; whatever the formula makes of them, both sides must agree.
    values = [0.5 + i for i in range(len(required))]
    if name in ("breakeven_months", "self_host_monthly_usd"):
        values[3] = 0.5  # utilization
    in_python = getattr(scalar, name)(*values)
    in_sql = sql(name, *values)
    assert in_python is not None
    assert in_sql == pytest.approx(in_python, rel=1e-12)


def test_documented_defaults():
    assert inspect.signature(core.blended_price).parameters["input_share"].default == 0.75
    assert inspect.signature(core.breakeven_months).parameters["hours_per_month"].default == 730


def test_sql_accepts_decimal_and_integer_arguments(duck):
    # Analysts type 2.5 (a DECIMAL literal) and pass BIGINT token counts; the macros compute in DOUBLE.
    assert duck.execute("SELECT typeof(cost_per_useful_mtok(2.5, 220, 0.32, 0.58))").fetchone()[0] == "DOUBLE"
    got = duck.execute(
        "SELECT cost_per_request(30000::BIGINT, 2000::BIGINT, 10.00::DECIMAL(18, 6), 30::DECIMAL(18, 6))"
    ).fetchone()[0]
    assert got == pytest.approx(0.36)
    huge = duck.execute("SELECT kv_cache_bytes(126, 128, 128, 1000000, 1024, 2)").fetchone()[0]
    assert huge == pytest.approx(2 * 126 * 128 * 128 * 1_000_000 * 1024 * 2)  # would overflow BIGINT


def test_expressions_accept_decimal_and_integer_columns():
    frame = pl.DataFrame(
        {"tokens_in": [30_000], "tokens_out": [2_000], "price_in": [Decimal("10.00")], "price_out": [Decimal("30")]}
    )
    got = frame.select(v=core.cost_per_request("tokens_in", "tokens_out", "price_in", "price_out"))["v"].item()
    assert got == pytest.approx(0.36)
    assert scalar.cost_per_request(30_000, 2_000, Decimal("10.00"), Decimal("30")) == pytest.approx(0.36)


def test_expressions_mix_columns_expressions_and_numbers():
    frame = pl.DataFrame({"usd": [2.5, 7.0], "tps": [220.0, 140.0], "u": [0.32, 0.88]})
    got = frame.select(
        v=core.cost_per_useful_mtok("usd", pl.col("tps"), "u", pl.Series([0.58, 0.94])).round(4)
    )["v"].to_list()
    assert got == [17.0074, 16.7902]


def test_bool_is_not_a_number():
    with pytest.raises(TypeError, match="bool"):
        core.cost_per_correct(1.0, True)


def test_sql_over_columns_gives_per_row_nulls(duck):
    rows = duck.execute(
        """
        SELECT cost_per_correct(cost, pass_rate)
        FROM (VALUES (0.02, 0.5), (0.02, 0.0), (0.02, NULL), (NULL, 0.5)) AS t(cost, pass_rate)
        """
    ).fetchall()
    assert [r[0] for r in rows] == [pytest.approx(0.04), None, None, None]
