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


# Required arguments for every formula that has defaults; the defaults are left to each side.
REQUIRED_ONLY = {
    "blended_price": (3.0, 15.0),
    "cost_per_request": (10_000, 500, 3.0, 15.0),
    "amortized_usd_per_hour": (33_600, 3),
    "breakeven_months": (33_600, 6.88, 1.12575, 0.9),
    "payback_months": (20_000, 2.0, 1.0, 0.15, 0.5, 1.0),
    "self_host_monthly_usd": (1_000_000_000, 2.0, 100, 0.5),
    "breakeven_monthly_tokens": (1460, 6.0),
    # Roofline arguments of a 70B model on one H100 at batch 32 (the compute_params_b default: dense).
    "decode_step_seconds": (70, 1, 3.35, 1979, 32, 43e9, 0.7, 0.45),
    "decode_tokens_per_second": (70, 1, 3.35, 1979, 32, 43e9, 0.7, 0.45),
    "roofline_bound": (70, 1, 3.35, 1979, 32, 43e9, 0.7, 0.45),
}


def test_every_formula_with_defaults_is_checked():
    with_defaults = {
        name
        for name in MACROS
        if any(
            p.default is not inspect.Parameter.empty
            for p in inspect.signature(getattr(core, name)).parameters.values()
        )
    }
    assert with_defaults == set(REQUIRED_ONLY)


@pytest.mark.parametrize(("name", "required"), sorted(REQUIRED_ONLY.items()))
def test_same_defaults_in_python_and_sql(name, required, sql):
    in_python = getattr(scalar, name)(*required)
    assert in_python is not None
    expected = in_python if isinstance(in_python, str) else pytest.approx(in_python, rel=1e-12)
    assert sql(name, *required) == expected


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
    # INTEGER TFLOPS over an INTEGER parameter count must not divide as integers.
    prefill = duck.execute("SELECT prefill_tokens_per_second(70, 989, 0.45)").fetchone()[0]
    assert prefill == pytest.approx(989e12 * 0.45 / 140e9)


def test_expressions_accept_decimal_and_integer_columns():
    frame = pl.DataFrame(
        {
            "tokens_in": [30_000],
            "tokens_out": [2_000],
            "price_in": [Decimal("10.00")],
            "price_out": [Decimal("30")],
        }
    )
    got = frame.select(v=core.cost_per_request("tokens_in", "tokens_out", "price_in", "price_out"))[
        "v"
    ].item()
    assert got == pytest.approx(0.36)
    assert scalar.cost_per_request(30_000, 2_000, Decimal("10.00"), Decimal("30")) == pytest.approx(0.36)


def test_expressions_mix_columns_expressions_and_numbers():
    frame = pl.DataFrame({"usd": [2.5, 7.0], "tps": [220.0, 140.0], "u": [0.32, 0.88], "p": [0.58, 0.94]})
    by_columns = frame.select(v=core.cost_per_useful_mtok("usd", pl.col("tps"), "u", pl.col("p")).round(4))
    assert by_columns["v"].to_list() == [17.0074, 16.7902]
    with_a_number = frame.head(1).select(v=core.cost_per_useful_mtok("usd", "tps", 0.32, 0.58).round(4))
    assert with_a_number["v"].item() == 17.0074


def test_expressions_take_other_formulas_as_arguments():
    # The marts feed one formula's result to the next: prefill and decode rates into the blend.
    frame = pl.DataFrame({"params": [70.0, 70.0], "tflops": [989.0, 989.0], "decode": [996.6, None]})
    prefill = core.prefill_tokens_per_second("params", "tflops", 0.45)
    got = frame.select(v=core.blended_tokens_per_second(prefill, "decode", 0.75))["v"].to_list()
    expected = scalar.blended_tokens_per_second(scalar.prefill_tokens_per_second(70, 989, 0.45), 996.6, 0.75)
    assert got == [pytest.approx(expected, rel=1e-12), None]


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
