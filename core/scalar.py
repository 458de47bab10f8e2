"""Plain-number versions of every formula, for notebooks: floats in, float (or None) out.

Each wrapper evaluates the polars expression of the same name, so there is one definition. Where that
expression gives null the wrapper returns None, with one difference: a share, rate, utilization or
efficiency outside [0, 1] (and cached tokens outside [0, input tokens], a PUE below 1) is a mistake in a
hand-typed number, so it raises ValueError naming the value instead of returning None quietly.

    >>> from core import scalar
    >>> round(scalar.cost_per_useful_mtok(2.50, 220, 0.32, 0.58), 4)
    17.0074
"""

from __future__ import annotations

import polars as pl

from core import breakeven as _breakeven
from core import cost as _cost
from core import index as _index
from core import selfhost as _selfhost

Number = float | int


def _value(expr: pl.Expr) -> float | str | None:
    return pl.select(expr.alias("value")).item()


def _require_fraction(name: str, value: Number | None) -> None:
    if value is not None and not 0 <= value <= 1:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")


def blended_price(
    input_usd_per_mtok: Number, output_usd_per_mtok: Number, input_share: Number = 0.75
) -> float | None:
    """See `core.cost.blended_price`."""
    _require_fraction("input_share", input_share)
    return _value(_cost.blended_price(input_usd_per_mtok, output_usd_per_mtok, input_share))


def cost_per_request(
    input_tokens: Number,
    output_tokens: Number,
    input_price: Number,
    output_price: Number,
    cached_tokens: Number = 0,
    cache_read_price: Number | None = None,
) -> float | None:
    """See `core.cost.cost_per_request`."""
    if not 0 <= cached_tokens <= input_tokens:
        raise ValueError(
            f"cached_tokens must lie in [0, input_tokens={input_tokens!r}], got {cached_tokens!r}"
        )
    return _value(
        _cost.cost_per_request(
            input_tokens, output_tokens, input_price, output_price, cached_tokens, cache_read_price
        )
    )


def cost_per_correct(cost_per_attempt: Number, pass_rate: Number) -> float | None:
    """See `core.cost.cost_per_correct`. A pass rate of 0 returns None: no finite cost exists."""
    _require_fraction("pass_rate", pass_rate)
    return _value(_cost.cost_per_correct(cost_per_attempt, pass_rate))


def tokens_from_cost(
    cost_usd: Number, input_usd_per_mtok: Number, output_usd_per_mtok: Number, input_share: Number
) -> float | None:
    """See `core.cost.tokens_from_cost`. A blended price of 0 returns None: no token count follows."""
    _require_fraction("input_share", input_share)
    return _value(_cost.tokens_from_cost(cost_usd, input_usd_per_mtok, output_usd_per_mtok, input_share))


def cascade_cost_per_correct(
    small_cost: Number, small_pass: Number, large_cost: Number, large_pass: Number
) -> float | None:
    """See `core.cost.cascade_cost_per_correct`. Both pass rates 0 returns None."""
    _require_fraction("small_pass", small_pass)
    _require_fraction("large_pass", large_pass)
    return _value(_cost.cascade_cost_per_correct(small_cost, small_pass, large_cost, large_pass))


def cost_per_useful_mtok(
    usd_per_hour: Number, tokens_per_second: Number, utilization: Number, pass_rate: Number
) -> float | None:
    """See `core.cost.cost_per_useful_mtok`. Utilization, pass rate or throughput 0 returns None."""
    _require_fraction("utilization", utilization)
    _require_fraction("pass_rate", pass_rate)
    return _value(_cost.cost_per_useful_mtok(usd_per_hour, tokens_per_second, utilization, pass_rate))


def implied_gross_margin(price: Number, cost: Number) -> float | None:
    """See `core.cost.implied_gross_margin`."""
    return _value(_cost.implied_gross_margin(price, cost))


def gpus_needed(
    params_b: Number, bytes_per_param: Number, overhead: Number, memory_gb: Number
) -> float | None:
    """See `core.selfhost.gpus_needed`: a whole number as a float. memory_gb <= 0 returns None."""
    return _value(_selfhost.gpus_needed(params_b, bytes_per_param, overhead, memory_gb))


def max_batch_in_memory(
    memory_gb: Number,
    params_b: Number,
    bytes_per_param: Number,
    overhead: Number,
    kv_bytes_per_sequence: Number,
) -> float | None:
    """See `core.selfhost.max_batch_in_memory`. No memory or no KV cache per sequence returns None."""
    return _value(
        _selfhost.max_batch_in_memory(memory_gb, params_b, bytes_per_param, overhead, kv_bytes_per_sequence)
    )


def kv_cache_bytes(
    layers: Number,
    kv_heads: Number,
    head_dim: Number,
    context_tokens: Number,
    batch: Number,
    bytes_per_elem: Number,
) -> float | None:
    """See `core.selfhost.kv_cache_bytes`."""
    return _value(_selfhost.kv_cache_bytes(layers, kv_heads, head_dim, context_tokens, batch, bytes_per_elem))


def decode_memory_seconds(
    params_b: Number,
    bytes_per_param: Number,
    kv_bytes: Number,
    memory_bandwidth_tbps: Number,
    bw_efficiency: Number,
) -> float | None:
    """See `core.selfhost.decode_memory_seconds`."""
    _require_fraction("bw_efficiency", bw_efficiency)
    return _value(
        _selfhost.decode_memory_seconds(
            params_b, bytes_per_param, kv_bytes, memory_bandwidth_tbps, bw_efficiency
        )
    )


def decode_compute_seconds(
    params_b: Number, batch: Number, dense_tflops: Number, compute_efficiency: Number
) -> float | None:
    """See `core.selfhost.decode_compute_seconds`."""
    _require_fraction("compute_efficiency", compute_efficiency)
    return _value(_selfhost.decode_compute_seconds(params_b, batch, dense_tflops, compute_efficiency))


def _roofline_args(bw_efficiency: Number, compute_efficiency: Number) -> None:
    _require_fraction("bw_efficiency", bw_efficiency)
    _require_fraction("compute_efficiency", compute_efficiency)


def decode_step_seconds(
    params_b: Number,
    bytes_per_param: Number,
    memory_bandwidth_tbps: Number,
    dense_tflops: Number,
    batch: Number,
    kv_bytes: Number,
    bw_efficiency: Number,
    compute_efficiency: Number,
    compute_params_b: Number | None = None,
) -> float | None:
    """See `core.selfhost.decode_step_seconds`."""
    _roofline_args(bw_efficiency, compute_efficiency)
    return _value(
        _selfhost.decode_step_seconds(
            params_b,
            bytes_per_param,
            memory_bandwidth_tbps,
            dense_tflops,
            batch,
            kv_bytes,
            bw_efficiency,
            compute_efficiency,
            compute_params_b,
        )
    )


def decode_tokens_per_second(
    params_b: Number,
    bytes_per_param: Number,
    memory_bandwidth_tbps: Number,
    dense_tflops: Number,
    batch: Number,
    kv_bytes: Number,
    bw_efficiency: Number,
    compute_efficiency: Number,
    compute_params_b: Number | None = None,
) -> float | None:
    """See `core.selfhost.decode_tokens_per_second`."""
    _roofline_args(bw_efficiency, compute_efficiency)
    return _value(
        _selfhost.decode_tokens_per_second(
            params_b,
            bytes_per_param,
            memory_bandwidth_tbps,
            dense_tflops,
            batch,
            kv_bytes,
            bw_efficiency,
            compute_efficiency,
            compute_params_b,
        )
    )


def roofline_bound(
    params_b: Number,
    bytes_per_param: Number,
    memory_bandwidth_tbps: Number,
    dense_tflops: Number,
    batch: Number,
    kv_bytes: Number,
    bw_efficiency: Number,
    compute_efficiency: Number,
    compute_params_b: Number | None = None,
) -> str | None:
    """See `core.selfhost.roofline_bound`: 'memory' or 'compute'."""
    _roofline_args(bw_efficiency, compute_efficiency)
    return _value(
        _selfhost.roofline_bound(
            params_b,
            bytes_per_param,
            memory_bandwidth_tbps,
            dense_tflops,
            batch,
            kv_bytes,
            bw_efficiency,
            compute_efficiency,
            compute_params_b,
        )
    )


def moe_params_read_b(
    params_b: Number, active_params_b: Number, experts: Number, experts_per_token: Number, batch: Number
) -> float | None:
    """See `core.selfhost.moe_params_read_b`. Inconsistent shapes return None."""
    return _value(_selfhost.moe_params_read_b(params_b, active_params_b, experts, experts_per_token, batch))


def split_efficiency(gpus: Number, multi_gpu_efficiency: Number) -> float | None:
    """See `core.selfhost.split_efficiency`. gpus below 1 returns None."""
    _require_fraction("multi_gpu_efficiency", multi_gpu_efficiency)
    return _value(_selfhost.split_efficiency(gpus, multi_gpu_efficiency))


def tensor_parallel_gpus(gpus: Number) -> float | None:
    """See `core.selfhost.tensor_parallel_gpus`: 1, 2, 4 or a multiple of 8, as a float."""
    return _value(_selfhost.tensor_parallel_gpus(gpus))


def replica_billed_gpus(tp_gpus: Number, instance_gpus: Number) -> float | None:
    """See `core.selfhost.replica_billed_gpus`. None where no whole number of instances hosts it."""
    return _value(_selfhost.replica_billed_gpus(tp_gpus, instance_gpus))


def prefill_tokens_per_second(
    params_b: Number, dense_tflops: Number, compute_efficiency: Number
) -> float | None:
    """See `core.selfhost.prefill_tokens_per_second`. params_b or TFLOPS 0 (or None) returns None."""
    _require_fraction("compute_efficiency", compute_efficiency)
    return _value(_selfhost.prefill_tokens_per_second(params_b, dense_tflops, compute_efficiency))


def blended_tokens_per_second(
    prefill_tokens_per_second: Number, decode_tokens_per_second: Number, input_share: Number
) -> float | None:
    """See `core.selfhost.blended_tokens_per_second`. A rate of 0 returns None."""
    _require_fraction("input_share", input_share)
    return _value(
        _selfhost.blended_tokens_per_second(prefill_tokens_per_second, decode_tokens_per_second, input_share)
    )


def self_host_cost_per_mtok(
    usd_per_gpu_hour: Number, gpus: Number, tokens_per_second: Number, utilization: Number
) -> float | None:
    """See `core.selfhost.self_host_cost_per_mtok`. Utilization or throughput 0 returns None."""
    _require_fraction("utilization", utilization)
    return _value(_selfhost.self_host_cost_per_mtok(usd_per_gpu_hour, gpus, tokens_per_second, utilization))


def own_opex_per_hour(
    power_kw: Number, pue: Number, usd_per_kwh: Number, ops_usd_per_hour: Number
) -> float | None:
    """See `core.breakeven.own_opex_per_hour`."""
    if not pue >= 1:
        raise ValueError(f"pue is facility power / IT power and cannot be below 1, got {pue!r}")
    return _value(_breakeven.own_opex_per_hour(power_kw, pue, usd_per_kwh, ops_usd_per_hour))


def amortized_usd_per_hour(
    capex: Number, depreciation_years: Number, salvage_usd: Number = 0
) -> float | None:
    """See `core.breakeven.amortized_usd_per_hour`."""
    return _value(_breakeven.amortized_usd_per_hour(capex, depreciation_years, salvage_usd))


def breakeven_hours(capex: Number, rent_per_hour: Number, own_opex_per_hour: Number) -> float | None:
    """See `core.breakeven.breakeven_hours`. Rent at or below opex returns None: owning never pays back."""
    return _value(_breakeven.breakeven_hours(capex, rent_per_hour, own_opex_per_hour))


def breakeven_months(
    capex: Number,
    rent_per_hour: Number,
    own_opex_per_hour: Number,
    utilization: Number,
    hours_per_month: Number = _breakeven.HOURS_PER_MONTH,
) -> float | None:
    """See `core.breakeven.breakeven_months`."""
    _require_fraction("utilization", utilization)
    return _value(
        _breakeven.breakeven_months(capex, rent_per_hour, own_opex_per_hour, utilization, hours_per_month)
    )


def payback_months(
    capex: Number,
    rent_per_hour: Number,
    rented_share: Number,
    busy_usd_per_hour: Number,
    owned_usd_per_hour: Number,
    utilization: Number,
    hours_per_month: Number = _breakeven.HOURS_PER_MONTH,
) -> float | None:
    """See `core.breakeven.payback_months`. A saving that is not positive returns None: never pays back."""
    _require_fraction("rented_share", rented_share)
    _require_fraction("utilization", utilization)
    return _value(
        _breakeven.payback_months(
            capex,
            rent_per_hour,
            rented_share,
            busy_usd_per_hour,
            owned_usd_per_hour,
            utilization,
            hours_per_month,
        )
    )


def api_monthly_usd(monthly_tokens: Number, usd_per_mtok: Number) -> float | None:
    """See `core.breakeven.api_monthly_usd`."""
    return _value(_breakeven.api_monthly_usd(monthly_tokens, usd_per_mtok))


def self_host_monthly_usd(
    monthly_tokens: Number,
    usd_per_hour: Number,
    tokens_per_second: Number,
    utilization: Number,
    hours_per_month: Number = _breakeven.HOURS_PER_MONTH,
) -> float | None:
    """See `core.breakeven.self_host_monthly_usd`."""
    _require_fraction("utilization", utilization)
    return _value(
        _breakeven.self_host_monthly_usd(
            monthly_tokens, usd_per_hour, tokens_per_second, utilization, hours_per_month
        )
    )


def breakeven_monthly_tokens(
    self_host_monthly_fixed_usd: Number,
    api_usd_per_mtok: Number,
    self_host_marginal_usd_per_mtok: Number = 0,
) -> float | None:
    """See `core.breakeven.breakeven_monthly_tokens`. An API never dearer per token returns None."""
    return _value(
        _breakeven.breakeven_monthly_tokens(
            self_host_monthly_fixed_usd, api_usd_per_mtok, self_host_marginal_usd_per_mtok
        )
    )


def margin_compression_index(price_index: Number, compute_cost_index: Number) -> float | None:
    """See `core.index.margin_compression_index`."""
    return _value(_index.margin_compression_index(price_index, compute_cost_index))
