"""Property-based parity: for random inputs the polars expression, the scalar wrapper and the DuckDB
macro of every formula give the same numbers (relative tolerance 1e-9) and the same nulls.

Inputs deliberately stray outside the valid ranges (shares below 0 or above 1, zero memory, rent below
opex), so the null rules are held to parity too: where the scalar wrapper raises ValueError, the
expression and the macro must both give null.
"""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import core
from core import scalar

PARITY = settings(max_examples=200, derandomize=True, deadline=None)

money = st.floats(0, 1e4, allow_subnormal=False)
price = st.floats(0, 200, allow_subnormal=False)
share = st.floats(-0.25, 1.25, allow_subnormal=False) | st.sampled_from([0.0, 1.0])
tokens = st.integers(0, 2_000_000)
throughput = st.floats(0, 5e4, allow_subnormal=False)
positive = st.floats(1e-3, 1e4)
# A month of 0 hours is an edge worth checking; a subnormal one (5e-324) only makes inf * 0 = NaN.
hours = st.one_of(st.just(0.0), st.floats(1e-3, 744))

FORMULAS: dict[str, dict[str, st.SearchStrategy]] = {
    "blended_price": {"input_usd_per_mtok": price, "output_usd_per_mtok": price, "input_share": share},
    "cost_per_request": {
        "input_tokens": tokens,
        "output_tokens": tokens,
        "input_price": price,
        "output_price": price,
        "cached_tokens": tokens,
        "cache_read_price": st.none() | price,
    },
    "cost_per_correct": {"cost_per_attempt": money, "pass_rate": share},
    "tokens_from_cost": {
        "cost_usd": st.floats(-1, 1e4),
        "input_usd_per_mtok": price,
        "output_usd_per_mtok": price,
        "input_share": share,
    },
    "cascade_cost_per_correct": {
        "small_cost": money,
        "small_pass": share,
        "large_cost": money,
        "large_pass": share,
    },
    "cost_per_useful_mtok": {
        "usd_per_hour": money,
        "tokens_per_second": throughput,
        "utilization": share,
        "pass_rate": share,
    },
    "implied_gross_margin": {"price": st.floats(-1, 200), "cost": price},
    "gpus_needed": {
        "params_b": st.floats(0, 5000),
        "bytes_per_param": st.sampled_from([0.5, 1.0, 2.0, 4.0]),
        "overhead": st.floats(1, 1.5),
        "memory_gb": st.floats(-10, 300) | st.sampled_from([0.0, 16.0, 80.0]),
    },
    "max_batch_in_memory": {
        "memory_gb": st.floats(-10, 1000) | st.sampled_from([0.0, 80.0]),
        "params_b": st.floats(0, 500),
        "bytes_per_param": st.sampled_from([0.5, 1.0, 2.0]),
        "overhead": st.floats(1, 1.5),
        "kv_bytes_per_sequence": st.floats(-1, 1e10) | st.sampled_from([0.0, 1e9]),
    },
    "kv_cache_bytes": {
        "layers": st.integers(1, 200),
        "kv_heads": st.integers(1, 128),
        "head_dim": st.sampled_from([64, 128, 256]),
        "context_tokens": st.integers(0, 1_000_000),
        "batch": st.integers(0, 1024),
        "bytes_per_elem": st.sampled_from([0.5, 1.0, 2.0]),
    },
    "decode_memory_seconds": {
        "params_b": st.floats(0, 2000),
        "bytes_per_param": st.sampled_from([0.5, 1.0, 2.0]),
        "kv_bytes": st.floats(0, 1e12),
        "memory_bandwidth_tbps": st.floats(0, 10),
        "bw_efficiency": share,
    },
    "decode_compute_seconds": {
        "params_b": st.floats(0, 2000),
        "batch": st.integers(0, 1024),
        "dense_tflops": st.floats(0, 10_000),
        "compute_efficiency": share,
    },
}
ROOFLINE = {
    "params_b": st.floats(0, 2000),
    "bytes_per_param": st.sampled_from([0.5, 1.0, 2.0]),
    "memory_bandwidth_tbps": st.floats(0, 10),
    "dense_tflops": st.floats(0, 10_000),
    "batch": st.integers(0, 1024),
    "kv_bytes": st.floats(0, 1e12),
    "bw_efficiency": share,
    "compute_efficiency": share,
    "compute_params_b": st.none() | st.floats(0, 2000),
}
FORMULAS |= {name: ROOFLINE for name in ("decode_step_seconds", "decode_tokens_per_second", "roofline_bound")}
FORMULAS |= {
    "moe_params_read_b": {
        "params_b": st.floats(-1, 1000) | st.sampled_from([671.0, 235.0]),
        "active_params_b": st.floats(-1, 1000) | st.sampled_from([37.0, 22.0]),
        "experts": st.sampled_from([1.0, 8.0, 128.0, 256.0]),
        "experts_per_token": st.sampled_from([0.0, 1.0, 2.0, 8.0]),
        "batch": st.integers(0, 512),
    },
    "split_efficiency": {
        "gpus": st.floats(0, 64) | st.sampled_from([1.0, 2.0]),
        "multi_gpu_efficiency": share,
    },
    "tensor_parallel_gpus": {"gpus": st.floats(-2, 100) | st.sampled_from([1.0, 2.0, 3.0, 8.0, 9.0, 13.0])},
    "replica_billed_gpus": {
        "tp_gpus": st.sampled_from([0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 24.0]),
        "instance_gpus": st.sampled_from([0.5, 1.0, 2.0, 3.0, 4.0, 8.0, 16.0]) | st.floats(0, 16),
    },
}
FORMULAS |= {
    "prefill_tokens_per_second": {
        "params_b": st.floats(-10, 2000) | st.sampled_from([0.0, 8.0, 70.0]),
        "dense_tflops": st.none() | st.floats(0, 10_000),
        "compute_efficiency": share,
    },
    "blended_tokens_per_second": {
        "prefill_tokens_per_second": st.floats(-10, 1e6) | st.sampled_from([0.0, 3178.93]),
        "decode_tokens_per_second": st.floats(-10, 5e4) | st.sampled_from([0.0, 996.55]),
        "input_share": share,
    },
    "self_host_cost_per_mtok": {
        "usd_per_gpu_hour": price,
        "gpus": st.integers(1, 64),
        "tokens_per_second": throughput,
        "utilization": share,
    },
    "own_opex_per_hour": {
        "power_kw": st.floats(0, 20),
        "pue": st.floats(0.8, 2.5),
        "usd_per_kwh": st.floats(0, 1),
        "ops_usd_per_hour": st.floats(0, 5),
    },
    "amortized_usd_per_hour": {
        "capex": money,
        "depreciation_years": st.floats(-1, 10),
        "salvage_usd": money,
    },
    "breakeven_hours": {"capex": st.floats(0, 1e6), "rent_per_hour": price, "own_opex_per_hour": price},
    "breakeven_months": {
        "capex": st.floats(0, 1e6),
        "rent_per_hour": price,
        "own_opex_per_hour": price,
        "utilization": share,
        "hours_per_month": hours,
    },
    "payback_months": {
        "capex": st.floats(0, 1e6),
        "rent_per_hour": price,
        "rented_share": share,
        "busy_usd_per_hour": price,
        "owned_usd_per_hour": price,
        "utilization": share,
        "hours_per_month": hours,
    },
    "api_monthly_usd": {"monthly_tokens": st.integers(0, 10**11), "usd_per_mtok": price},
    "self_host_monthly_usd": {
        "monthly_tokens": st.integers(0, 10**11),
        "usd_per_hour": money,
        "tokens_per_second": throughput,
        "utilization": share,
        "hours_per_month": hours,
    },
    "breakeven_monthly_tokens": {
        "self_host_monthly_fixed_usd": money,
        "api_usd_per_mtok": price,
        "self_host_marginal_usd_per_mtok": price,
    },
    "margin_compression_index": {"price_index": positive, "compute_cost_index": st.floats(-10, 1e4)},
}

RAISED = object()


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9)
    return a == b


def test_every_macro_has_a_parity_test():
    assert set(FORMULAS) == set(core.MACROS)


def scalar_outcome(name: str, args: list) -> object:
    try:
        return getattr(scalar, name)(*args)
    except ValueError:
        return RAISED


def assert_agree(expected: object, got: object, context: object) -> None:
    if expected is RAISED:
        assert got is None, context
    else:
        assert same(got, expected), context


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_expression_scalar_and_sql_agree(name, duck):
    arguments = FORMULAS[name]
    seen: list[tuple[list, object]] = []

    @PARITY
    @given(st.lists(st.fixed_dictionaries(arguments), min_size=1, max_size=4))
    def expression_matches_scalar(rows: list[dict]) -> None:
        frame = pl.DataFrame(rows, schema={arg: pl.Float64 for arg in arguments}, strict=False)
        by_expr = frame.select(getattr(core, name)(*arguments).alias("value"))["value"].to_list()
        for r, expr_value in zip(rows, by_expr, strict=True):
            args = [r[arg] for arg in arguments]
            expected = scalar_outcome(name, args)
            assert_agree(expected, expr_value, ("expression", args, expr_value, expected))
            seen.append((args, expected))

    expression_matches_scalar()

    # The macro sees every row hypothesis generated, in one query: a query per example costs more
    # than the rest of the test. Columns travel as list parameters; unnest keeps their order.
    columns = {arg: [args[i] for args, _ in seen] for i, arg in enumerate(arguments)}
    unnested = ", ".join(f"unnest(${arg}::DOUBLE[]) AS {arg}" for arg in arguments)
    query = f"SELECT {name}({', '.join(arguments)}) FROM (SELECT {unnested})"
    by_sql = [value for (value,) in duck.execute(query, columns).fetchall()]
    assert len(by_sql) == len(seen) > 200
    for (args, expected), sql_value in zip(seen, by_sql, strict=True):
        assert_agree(expected, sql_value, ("sql", args, sql_value, expected))
