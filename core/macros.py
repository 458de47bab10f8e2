"""The formulas as DuckDB SQL macros, so analysts' ad-hoc SQL uses the same definitions as the marts.

`MACROS` maps each macro name to its `CREATE OR REPLACE MACRO` statement; `macro_statements()` lists
them in an order that creates every macro after the macros it calls. Names, argument order and defaults
match the Python functions; tests/core hold both to the same numbers.

Every argument is cast to DOUBLE because the polars side computes in Float64 (see `core._expr.as_expr`):
without the cast, a literal such as 2.5 is a DECIMAL and integer columns stay integers, and DuckDB would
round or overflow differently. Nulls play the same role as in Python: a CASE without ELSE gives NULL
wherever no finite or meaningful answer exists.
"""

from __future__ import annotations

from core.breakeven import HOURS_PER_MONTH, HOURS_PER_YEAR

MACROS: dict[str, str] = {
    "blended_price": """
CREATE OR REPLACE MACRO blended_price(input_usd_per_mtok, output_usd_per_mtok, input_share := 0.75) AS (
    CASE WHEN input_share::DOUBLE BETWEEN 0 AND 1
    THEN input_share::DOUBLE * input_usd_per_mtok::DOUBLE + (1 - input_share::DOUBLE) * output_usd_per_mtok::DOUBLE
    END
)""",
    "cost_per_request": """
CREATE OR REPLACE MACRO cost_per_request(
    input_tokens, output_tokens, input_price, output_price, cached_tokens := 0, cache_read_price := NULL
) AS (
    CASE WHEN cached_tokens::DOUBLE >= 0 AND cached_tokens::DOUBLE <= input_tokens::DOUBLE
    THEN (
        (input_tokens::DOUBLE - cached_tokens::DOUBLE) * input_price::DOUBLE
        + cached_tokens::DOUBLE * coalesce(cache_read_price::DOUBLE, input_price::DOUBLE)
        + output_tokens::DOUBLE * output_price::DOUBLE
    ) / 1e6
    END
)""",
    "cost_per_correct": """
CREATE OR REPLACE MACRO cost_per_correct(cost_per_attempt, pass_rate) AS (
    CASE WHEN pass_rate::DOUBLE > 0 AND pass_rate::DOUBLE <= 1
    THEN cost_per_attempt::DOUBLE / pass_rate::DOUBLE
    END
)""",
    "cascade_cost_per_correct": """
CREATE OR REPLACE MACRO cascade_cost_per_correct(small_cost, small_pass, large_cost, large_pass) AS (
    CASE WHEN small_pass::DOUBLE BETWEEN 0 AND 1 AND large_pass::DOUBLE BETWEEN 0 AND 1
        AND small_pass::DOUBLE + (1 - small_pass::DOUBLE) * large_pass::DOUBLE > 0
    THEN (small_cost::DOUBLE + (1 - small_pass::DOUBLE) * large_cost::DOUBLE)
        / (small_pass::DOUBLE + (1 - small_pass::DOUBLE) * large_pass::DOUBLE)
    END
)""",
    "cost_per_useful_mtok": """
CREATE OR REPLACE MACRO cost_per_useful_mtok(usd_per_hour, tokens_per_second, utilization, pass_rate) AS (
    CASE WHEN utilization::DOUBLE BETWEEN 0 AND 1 AND pass_rate::DOUBLE BETWEEN 0 AND 1
        AND tokens_per_second::DOUBLE * 3600 * utilization::DOUBLE * pass_rate::DOUBLE > 0
    THEN usd_per_hour::DOUBLE
        / (tokens_per_second::DOUBLE * 3600 * utilization::DOUBLE * pass_rate::DOUBLE) * 1e6
    END
)""",
    "tokens_from_cost": """
CREATE OR REPLACE MACRO tokens_from_cost(cost_usd, input_usd_per_mtok, output_usd_per_mtok, input_share) AS (
    CASE WHEN blended_price(input_usd_per_mtok, output_usd_per_mtok, input_share) > 0 AND cost_usd::DOUBLE >= 0
    THEN cost_usd::DOUBLE * 1e6 / blended_price(input_usd_per_mtok, output_usd_per_mtok, input_share)
    END
)""",
    "implied_gross_margin": """
CREATE OR REPLACE MACRO implied_gross_margin(price, cost) AS (
    CASE WHEN price::DOUBLE > 0 THEN (price::DOUBLE - cost::DOUBLE) / price::DOUBLE END
)""",
    "gpus_needed": """
CREATE OR REPLACE MACRO gpus_needed(params_b, bytes_per_param, overhead, memory_gb) AS (
    CASE WHEN memory_gb::DOUBLE > 0
    THEN ceil(
        params_b::DOUBLE * 1e9 * bytes_per_param::DOUBLE * overhead::DOUBLE / (memory_gb::DOUBLE * 1e9)
        * (1 - 1e-12)
    )
    END
)""",
    "max_batch_in_memory": """
CREATE OR REPLACE MACRO max_batch_in_memory(memory_gb, params_b, bytes_per_param, overhead, kv_bytes_per_sequence) AS (
    CASE WHEN memory_gb::DOUBLE > 0 AND kv_bytes_per_sequence::DOUBLE > 0
    THEN greatest(0, floor(
        (memory_gb::DOUBLE * 1e9 - params_b::DOUBLE * 1e9 * bytes_per_param::DOUBLE * overhead::DOUBLE)
        / kv_bytes_per_sequence::DOUBLE * (1 + 1e-12)
    ))
    END
)""",
    "kv_cache_bytes": """
CREATE OR REPLACE MACRO kv_cache_bytes(layers, kv_heads, head_dim, context_tokens, batch, bytes_per_elem) AS (
    2 * layers::DOUBLE * kv_heads::DOUBLE * head_dim::DOUBLE * context_tokens::DOUBLE * batch::DOUBLE
    * bytes_per_elem::DOUBLE
)""",
    "decode_memory_seconds": """
CREATE OR REPLACE MACRO decode_memory_seconds(
    params_b, bytes_per_param, kv_bytes, memory_bandwidth_tbps, bw_efficiency
) AS (
    CASE WHEN bw_efficiency::DOUBLE BETWEEN 0 AND 1
        AND memory_bandwidth_tbps::DOUBLE * 1e12 * bw_efficiency::DOUBLE > 0
    THEN (params_b::DOUBLE * 1e9 * bytes_per_param::DOUBLE + kv_bytes::DOUBLE)
        / (memory_bandwidth_tbps::DOUBLE * 1e12 * bw_efficiency::DOUBLE)
    END
)""",
    "decode_compute_seconds": """
CREATE OR REPLACE MACRO decode_compute_seconds(params_b, batch, dense_tflops, compute_efficiency) AS (
    CASE WHEN compute_efficiency::DOUBLE BETWEEN 0 AND 1
        AND dense_tflops::DOUBLE * 1e12 * compute_efficiency::DOUBLE > 0
    THEN 2 * params_b::DOUBLE * 1e9 * batch::DOUBLE / (dense_tflops::DOUBLE * 1e12 * compute_efficiency::DOUBLE)
    END
)""",
    "decode_step_seconds": """
CREATE OR REPLACE MACRO decode_step_seconds(
    params_b, bytes_per_param, memory_bandwidth_tbps, dense_tflops, batch, kv_bytes, bw_efficiency,
    compute_efficiency, compute_params_b := NULL
) AS (
    CASE
        WHEN decode_memory_seconds(params_b, bytes_per_param, kv_bytes, memory_bandwidth_tbps, bw_efficiency)
            >= decode_compute_seconds(
                coalesce(compute_params_b::DOUBLE, params_b::DOUBLE), batch, dense_tflops, compute_efficiency
            )
        THEN decode_memory_seconds(params_b, bytes_per_param, kv_bytes, memory_bandwidth_tbps, bw_efficiency)
        WHEN decode_memory_seconds(params_b, bytes_per_param, kv_bytes, memory_bandwidth_tbps, bw_efficiency)
            < decode_compute_seconds(
                coalesce(compute_params_b::DOUBLE, params_b::DOUBLE), batch, dense_tflops, compute_efficiency
            )
        THEN decode_compute_seconds(
            coalesce(compute_params_b::DOUBLE, params_b::DOUBLE), batch, dense_tflops, compute_efficiency
        )
    END
)""",
    "decode_tokens_per_second": """
CREATE OR REPLACE MACRO decode_tokens_per_second(
    params_b, bytes_per_param, memory_bandwidth_tbps, dense_tflops, batch, kv_bytes, bw_efficiency,
    compute_efficiency, compute_params_b := NULL
) AS (
    CASE WHEN batch::DOUBLE > 0 AND decode_step_seconds(
            params_b, bytes_per_param, memory_bandwidth_tbps, dense_tflops, batch, kv_bytes, bw_efficiency,
            compute_efficiency, compute_params_b
        ) > 0
    THEN batch::DOUBLE / decode_step_seconds(
        params_b, bytes_per_param, memory_bandwidth_tbps, dense_tflops, batch, kv_bytes, bw_efficiency,
        compute_efficiency, compute_params_b
    )
    END
)""",
    "roofline_bound": """
CREATE OR REPLACE MACRO roofline_bound(
    params_b, bytes_per_param, memory_bandwidth_tbps, dense_tflops, batch, kv_bytes, bw_efficiency,
    compute_efficiency, compute_params_b := NULL
) AS (
    CASE WHEN batch::DOUBLE > 0 AND decode_step_seconds(
            params_b, bytes_per_param, memory_bandwidth_tbps, dense_tflops, batch, kv_bytes, bw_efficiency,
            compute_efficiency, compute_params_b
        ) > 0
    THEN CASE
        WHEN decode_memory_seconds(params_b, bytes_per_param, kv_bytes, memory_bandwidth_tbps, bw_efficiency)
            >= decode_compute_seconds(
                coalesce(compute_params_b::DOUBLE, params_b::DOUBLE), batch, dense_tflops, compute_efficiency
            )
        THEN 'memory' ELSE 'compute'
    END
    END
)""",
    "moe_params_read_b": """
CREATE OR REPLACE MACRO moe_params_read_b(params_b, active_params_b, experts, experts_per_token, batch) AS (
    CASE
        WHEN batch::DOUBLE >= 1 AND active_params_b::DOUBLE = params_b::DOUBLE AND params_b::DOUBLE > 0
        THEN params_b::DOUBLE
        WHEN batch::DOUBLE >= 1 AND active_params_b::DOUBLE > 0 AND active_params_b::DOUBLE < params_b::DOUBLE
            AND experts_per_token::DOUBLE >= 1 AND experts::DOUBLE > experts_per_token::DOUBLE
            AND active_params_b::DOUBLE - experts_per_token::DOUBLE
                * (params_b::DOUBLE - active_params_b::DOUBLE) / (experts::DOUBLE - experts_per_token::DOUBLE) >= 0
        THEN active_params_b::DOUBLE - experts_per_token::DOUBLE
                * (params_b::DOUBLE - active_params_b::DOUBLE) / (experts::DOUBLE - experts_per_token::DOUBLE)
            + experts::DOUBLE * (params_b::DOUBLE - active_params_b::DOUBLE)
                / (experts::DOUBLE - experts_per_token::DOUBLE)
                * (1 - pow(1 - experts_per_token::DOUBLE / experts::DOUBLE, batch::DOUBLE))
    END
)""",
    "split_efficiency": """
CREATE OR REPLACE MACRO split_efficiency(gpus, multi_gpu_efficiency) AS (
    CASE WHEN multi_gpu_efficiency::DOUBLE BETWEEN 0 AND 1 AND gpus::DOUBLE >= 1
    THEN CASE WHEN gpus::DOUBLE > 1 THEN multi_gpu_efficiency::DOUBLE ELSE 1.0::DOUBLE END
    END
)""",
    "tensor_parallel_gpus": """
CREATE OR REPLACE MACRO tensor_parallel_gpus(gpus) AS (
    CASE WHEN ceil(gpus::DOUBLE) > 0 THEN
        CASE
            WHEN ceil(gpus::DOUBLE) <= 1 THEN 1.0::DOUBLE
            WHEN ceil(gpus::DOUBLE) <= 2 THEN 2.0::DOUBLE
            WHEN ceil(gpus::DOUBLE) <= 4 THEN 4.0::DOUBLE
            ELSE ceil(ceil(gpus::DOUBLE) / 8) * 8
        END
    END
)""",
    "replica_billed_gpus": """
CREATE OR REPLACE MACRO replica_billed_gpus(tp_gpus, instance_gpus) AS (
    CASE WHEN tp_gpus::DOUBLE >= 1 AND instance_gpus::DOUBLE >= 1 THEN
        CASE
            WHEN tp_gpus::DOUBLE <= instance_gpus::DOUBLE
            THEN instance_gpus::DOUBLE / floor(instance_gpus::DOUBLE / tp_gpus::DOUBLE)
            WHEN instance_gpus::DOUBLE >= 8
            THEN ceil(tp_gpus::DOUBLE / instance_gpus::DOUBLE * (1 - 1e-12)) * instance_gpus::DOUBLE
        END
    END
)""",
    "prefill_tokens_per_second": """
CREATE OR REPLACE MACRO prefill_tokens_per_second(params_b, dense_tflops, compute_efficiency) AS (
    CASE WHEN params_b::DOUBLE > 0 AND compute_efficiency::DOUBLE BETWEEN 0 AND 1
        AND dense_tflops::DOUBLE * 1e12 * compute_efficiency::DOUBLE > 0
    THEN dense_tflops::DOUBLE * 1e12 * compute_efficiency::DOUBLE / (2 * params_b::DOUBLE * 1e9)
    END
)""",
    "blended_tokens_per_second": """
CREATE OR REPLACE MACRO blended_tokens_per_second(
    prefill_tokens_per_second, decode_tokens_per_second, input_share
) AS (
    CASE WHEN input_share::DOUBLE BETWEEN 0 AND 1
        AND prefill_tokens_per_second::DOUBLE > 0 AND decode_tokens_per_second::DOUBLE > 0
    THEN 1 / (
        input_share::DOUBLE / prefill_tokens_per_second::DOUBLE
        + (1 - input_share::DOUBLE) / decode_tokens_per_second::DOUBLE
    )
    END
)""",
    "self_host_cost_per_mtok": """
CREATE OR REPLACE MACRO self_host_cost_per_mtok(usd_per_gpu_hour, gpus, tokens_per_second, utilization) AS (
    CASE WHEN utilization::DOUBLE BETWEEN 0 AND 1
        AND tokens_per_second::DOUBLE * 3600 * utilization::DOUBLE > 0
    THEN usd_per_gpu_hour::DOUBLE * gpus::DOUBLE / (tokens_per_second::DOUBLE * 3600 * utilization::DOUBLE) * 1e6
    END
)""",
    "own_opex_per_hour": """
CREATE OR REPLACE MACRO own_opex_per_hour(power_kw, pue, usd_per_kwh, ops_usd_per_hour) AS (
    CASE WHEN pue::DOUBLE >= 1
    THEN power_kw::DOUBLE * pue::DOUBLE * usd_per_kwh::DOUBLE + ops_usd_per_hour::DOUBLE
    END
)""",
    "amortized_usd_per_hour": f"""
CREATE OR REPLACE MACRO amortized_usd_per_hour(capex, depreciation_years, salvage_usd := 0) AS (
    CASE WHEN depreciation_years::DOUBLE > 0
    THEN (capex::DOUBLE - salvage_usd::DOUBLE) / (depreciation_years::DOUBLE * {HOURS_PER_YEAR})
    END
)""",
    "breakeven_hours": """
CREATE OR REPLACE MACRO breakeven_hours(capex, rent_per_hour, own_opex_per_hour) AS (
    CASE WHEN rent_per_hour::DOUBLE > own_opex_per_hour::DOUBLE
    THEN capex::DOUBLE / (rent_per_hour::DOUBLE - own_opex_per_hour::DOUBLE)
    END
)""",
    "breakeven_months": f"""
CREATE OR REPLACE MACRO breakeven_months(
    capex, rent_per_hour, own_opex_per_hour, utilization, hours_per_month := {HOURS_PER_MONTH}
) AS (
    CASE WHEN utilization::DOUBLE BETWEEN 0 AND 1 AND utilization::DOUBLE * hours_per_month::DOUBLE > 0
    THEN breakeven_hours(capex, rent_per_hour, own_opex_per_hour)
        / (utilization::DOUBLE * hours_per_month::DOUBLE)
    END
)""",
    "payback_months": f"""
CREATE OR REPLACE MACRO payback_months(
    capex, rent_per_hour, rented_share, busy_usd_per_hour, owned_usd_per_hour, utilization,
    hours_per_month := {HOURS_PER_MONTH}
) AS (
    CASE WHEN utilization::DOUBLE BETWEEN 0 AND 1 AND rented_share::DOUBLE BETWEEN 0 AND 1
        AND hours_per_month::DOUBLE > 0
        AND (rent_per_hour::DOUBLE * rented_share::DOUBLE - busy_usd_per_hour::DOUBLE * utilization::DOUBLE
             - owned_usd_per_hour::DOUBLE) * hours_per_month::DOUBLE > 0
    THEN capex::DOUBLE / ((rent_per_hour::DOUBLE * rented_share::DOUBLE
                          - busy_usd_per_hour::DOUBLE * utilization::DOUBLE
                          - owned_usd_per_hour::DOUBLE) * hours_per_month::DOUBLE)
    END
)""",
    "api_monthly_usd": """
CREATE OR REPLACE MACRO api_monthly_usd(monthly_tokens, usd_per_mtok) AS (
    monthly_tokens::DOUBLE * usd_per_mtok::DOUBLE / 1e6
)""",
    "self_host_monthly_usd": f"""
CREATE OR REPLACE MACRO self_host_monthly_usd(
    monthly_tokens, usd_per_hour, tokens_per_second, utilization, hours_per_month := {HOURS_PER_MONTH}
) AS (
    CASE WHEN utilization::DOUBLE BETWEEN 0 AND 1 AND monthly_tokens IS NOT NULL
        AND tokens_per_second::DOUBLE * 3600 * utilization::DOUBLE * hours_per_month::DOUBLE > 0
    THEN greatest(
        1.0::DOUBLE,
        ceil(
            monthly_tokens::DOUBLE
            / (tokens_per_second::DOUBLE * 3600 * utilization::DOUBLE * hours_per_month::DOUBLE)
            * (1 - 1e-12)
        )
    ) * usd_per_hour::DOUBLE * hours_per_month::DOUBLE
    END
)""",
    "breakeven_monthly_tokens": """
CREATE OR REPLACE MACRO breakeven_monthly_tokens(
    self_host_monthly_fixed_usd, api_usd_per_mtok, self_host_marginal_usd_per_mtok := 0
) AS (
    CASE WHEN api_usd_per_mtok::DOUBLE > self_host_marginal_usd_per_mtok::DOUBLE
    THEN self_host_monthly_fixed_usd::DOUBLE
        / (api_usd_per_mtok::DOUBLE - self_host_marginal_usd_per_mtok::DOUBLE) * 1e6
    END
)""",
    "margin_compression_index": """
CREATE OR REPLACE MACRO margin_compression_index(price_index, compute_cost_index) AS (
    CASE WHEN compute_cost_index::DOUBLE > 0
    THEN 100 * price_index::DOUBLE / compute_cost_index::DOUBLE
    END
)""",
}


def macro_statements() -> list[str]:
    """The `CREATE OR REPLACE MACRO` statements, callees before callers; run them in this order."""
    return [statement.strip() for statement in MACROS.values()]
