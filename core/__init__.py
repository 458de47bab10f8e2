"""costcurve's compute core: the economics formulas, pure and vectorized, with no I/O.

The names below build polars expressions (arguments: expressions, column names or numbers). For plain
numbers in and out use `core.scalar`, which has the same names; for SQL, `core.macros`.
"""

from core.assumptions import Assumptions, SizeClass
from core.breakeven import (
    amortized_usd_per_hour,
    api_monthly_usd,
    breakeven_hours,
    breakeven_monthly_tokens,
    breakeven_months,
    own_opex_per_hour,
    payback_months,
    self_host_monthly_usd,
)
from core.cost import (
    blended_price,
    cascade_cost_per_correct,
    cost_per_correct,
    cost_per_request,
    cost_per_useful_mtok,
    implied_gross_margin,
    tokens_from_cost,
)
from core.index import jevons_chain_index, margin_compression_index
from core.macros import MACROS, macro_statements
from core.selfhost import (
    blended_tokens_per_second,
    decode_compute_seconds,
    decode_memory_seconds,
    decode_step_seconds,
    decode_tokens_per_second,
    gpus_needed,
    kv_cache_bytes,
    max_batch_in_memory,
    moe_params_read_b,
    prefill_tokens_per_second,
    replica_billed_gpus,
    roofline_bound,
    self_host_cost_per_mtok,
    split_efficiency,
    tensor_parallel_gpus,
)

__all__ = [
    "MACROS",
    "Assumptions",
    "SizeClass",
    "amortized_usd_per_hour",
    "api_monthly_usd",
    "blended_price",
    "blended_tokens_per_second",
    "breakeven_hours",
    "breakeven_monthly_tokens",
    "breakeven_months",
    "cascade_cost_per_correct",
    "cost_per_correct",
    "cost_per_request",
    "cost_per_useful_mtok",
    "decode_compute_seconds",
    "decode_memory_seconds",
    "decode_step_seconds",
    "decode_tokens_per_second",
    "gpus_needed",
    "implied_gross_margin",
    "jevons_chain_index",
    "kv_cache_bytes",
    "macro_statements",
    "margin_compression_index",
    "max_batch_in_memory",
    "moe_params_read_b",
    "own_opex_per_hour",
    "payback_months",
    "prefill_tokens_per_second",
    "replica_billed_gpus",
    "roofline_bound",
    "self_host_cost_per_mtok",
    "self_host_monthly_usd",
    "split_efficiency",
    "tensor_parallel_gpus",
    "tokens_from_cost",
]
