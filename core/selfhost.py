"""Serving an open-weights model yourself: how many GPUs, how fast it decodes, what a token costs.

Units are the ones spec sheets use: parameters in billions, memory in GB (1e9 bytes, as in seed 002's
"7B x 2 bytes = 14GB"), bandwidth in TB/s (1e12 bytes/s), dense compute in TFLOPS (1e12 FLOP/s).
"""

from __future__ import annotations

import polars as pl

from core._expr import ExprLike, as_expr, fraction
from core.cost import SECONDS_PER_HOUR, TOKENS_PER_MTOK

GIGA = 1e9
TERA = 1e12

# A model that exactly fills n cards must need n, not n + 1 because the last bit of a float product rounded
# up (1.1 x 3 / 3.3 is 1.0000000000000002). Shaving 1e-12 off the ratio before rounding up cannot change
# a real answer: a requirement 1e-12 above a card boundary is far below any precision in the inputs.
CEIL_SLACK = 1 - 1e-12


def gpus_needed(
    params_b: ExprLike, bytes_per_param: ExprLike, overhead: ExprLike, memory_gb: ExprLike
) -> pl.Expr:
    """Accelerators needed to hold the weights: ceil(params_b x 1e9 x bytes_per_param x overhead / (memory_gb x 1e9)).

    overhead (seed 002: 1.2-1.4) covers the framework, engine buffers and a small KV cache. The count is
    never capped: a model too large for any sane deployment still gets its number. Null when memory_gb is
    not positive (no memory figure means no answer, not a division by zero).
    """
    params, bpp, factor, memory = (as_expr(v) for v in (params_b, bytes_per_param, overhead, memory_gb))
    ratio = params * GIGA * bpp * factor / (memory * GIGA)
    return pl.when(memory > 0).then((ratio * CEIL_SLACK).ceil())


def kv_cache_bytes(
    layers: ExprLike,
    kv_heads: ExprLike,
    head_dim: ExprLike,
    context_tokens: ExprLike,
    batch: ExprLike,
    bytes_per_elem: ExprLike,
) -> pl.Expr:
    """Bytes of KV cache: 2 (keys and values) x layers x kv_heads x head_dim x context_tokens x batch x bytes_per_elem.

    With kv_heads = attention heads this is seed 002's full multi-head form (kv_heads x head_dim = hidden
    size); grouped-query models (Llama 3: 8 KV heads) pass their KV head count.
    """
    n_layers, heads, dim = as_expr(layers), as_expr(kv_heads), as_expr(head_dim)
    context, n, elem = as_expr(context_tokens), as_expr(batch), as_expr(bytes_per_elem)
    return 2 * n_layers * heads * dim * context * n * elem


def decode_memory_seconds(
    params_b: ExprLike,
    bytes_per_param: ExprLike,
    kv_bytes: ExprLike,
    memory_bandwidth_tbps: ExprLike,
    bw_efficiency: ExprLike,
) -> pl.Expr:
    """Seconds one decode step spends reading memory: (weight bytes + kv_bytes) / (bandwidth x bw_efficiency).

    Every step reads all weights once (shared by the batch) plus the KV cache of every sequence in the
    batch; kv_bytes is that whole-batch figure (see `kv_cache_bytes`). Null when the effective bandwidth
    is not positive or bw_efficiency is outside [0, 1].
    """
    params, bpp, kv = as_expr(params_b), as_expr(bytes_per_param), as_expr(kv_bytes)
    bandwidth, eff = as_expr(memory_bandwidth_tbps), as_expr(bw_efficiency)
    effective_bytes_per_second = bandwidth * TERA * eff
    return pl.when(fraction(eff) & (effective_bytes_per_second > 0)).then(
        (params * GIGA * bpp + kv) / effective_bytes_per_second
    )


def decode_compute_seconds(
    params_b: ExprLike, batch: ExprLike, dense_tflops: ExprLike, compute_efficiency: ExprLike
) -> pl.Expr:
    """Seconds one decode step spends computing: 2 x params x batch FLOPs / (dense_tflops x compute_efficiency).

    Two FLOPs per parameter per token (one multiply, one add); attention FLOPs are left out, which is
    fair for decode at contexts well below 8 x the model width (seed 003). Use the dense TFLOPS of the
    precision the matmuls run in. Null when the effective compute is not positive or the efficiency is
    outside [0, 1].
    """
    params, n = as_expr(params_b), as_expr(batch)
    tflops, eff = as_expr(dense_tflops), as_expr(compute_efficiency)
    effective_flops_per_second = tflops * TERA * eff
    return pl.when(fraction(eff) & (effective_flops_per_second > 0)).then(
        2 * params * GIGA * n / effective_flops_per_second
    )


def decode_step_seconds(
    params_b: ExprLike,
    bytes_per_param: ExprLike,
    memory_bandwidth_tbps: ExprLike,
    dense_tflops: ExprLike,
    batch: ExprLike,
    kv_bytes: ExprLike,
    bw_efficiency: ExprLike,
    compute_efficiency: ExprLike,
) -> pl.Expr:
    """Seconds per decode step: the larger of `decode_memory_seconds` and `decode_compute_seconds`.

    Null when either is null: a missing compute figure must give no answer rather than a silently
    memory-bound one (which is why this is not max_horizontal, which skips nulls).
    """
    memory_s = decode_memory_seconds(
        params_b, bytes_per_param, kv_bytes, memory_bandwidth_tbps, bw_efficiency
    )
    compute_s = decode_compute_seconds(params_b, batch, dense_tflops, compute_efficiency)
    return pl.when(memory_s >= compute_s).then(memory_s).when(memory_s < compute_s).then(compute_s)


def decode_tokens_per_second(
    params_b: ExprLike,
    bytes_per_param: ExprLike,
    memory_bandwidth_tbps: ExprLike,
    dense_tflops: ExprLike,
    batch: ExprLike,
    kv_bytes: ExprLike,
    bw_efficiency: ExprLike,
    compute_efficiency: ExprLike,
) -> pl.Expr:
    """Roofline decode throughput in output tokens per second for the whole batch.

    batch / `decode_step_seconds`: each step emits one token per sequence and takes as long as the slower
    of reading memory and computing. For several GPUs in tensor parallel pass their summed bandwidth and
    compute (with any scaling loss folded into the efficiencies). Null when the step time is null or not
    positive, or the batch is not positive.
    """
    step_s = decode_step_seconds(
        params_b,
        bytes_per_param,
        memory_bandwidth_tbps,
        dense_tflops,
        batch,
        kv_bytes,
        bw_efficiency,
        compute_efficiency,
    )
    n = as_expr(batch)
    return pl.when((n > 0) & (step_s > 0)).then(n / step_s)


def roofline_bound(
    params_b: ExprLike,
    bytes_per_param: ExprLike,
    memory_bandwidth_tbps: ExprLike,
    dense_tflops: ExprLike,
    batch: ExprLike,
    kv_bytes: ExprLike,
    bw_efficiency: ExprLike,
    compute_efficiency: ExprLike,
) -> pl.Expr:
    """'memory' or 'compute': which ceiling sets `decode_tokens_per_second` for the same arguments.

    A tie counts as 'memory'. Null exactly where the throughput is null.
    """
    throughput = decode_tokens_per_second(
        params_b,
        bytes_per_param,
        memory_bandwidth_tbps,
        dense_tflops,
        batch,
        kv_bytes,
        bw_efficiency,
        compute_efficiency,
    )
    memory_s = decode_memory_seconds(
        params_b, bytes_per_param, kv_bytes, memory_bandwidth_tbps, bw_efficiency
    )
    compute_s = decode_compute_seconds(params_b, batch, dense_tflops, compute_efficiency)
    bound = pl.when(memory_s >= compute_s).then(pl.lit("memory")).otherwise(pl.lit("compute"))
    return pl.when(throughput.is_not_null()).then(bound)


def prefill_tokens_per_second(
    params_b: ExprLike, dense_tflops: ExprLike, compute_efficiency: ExprLike
) -> pl.Expr:
    """Prefill throughput, input (prompt) tokens per second: dense_tflops x 1e12 x efficiency / (2 x params_b x 1e9).

    Prefill pushes a whole prompt through the model in one pass, so each weight read serves hundreds of
    tokens and the pass is compute-bound, at about two FLOPs per parameter per token. That holds once a
    pass carries more tokens than the card has FLOPs per byte of bandwidth (a few hundred); short prompts
    run alone are slower. Attention FLOPs are left out, as in `decode_compute_seconds`: a few per cent at
    moderate contexts (well below 8 x the model width), an overstated rate for very long prompts. For
    several GPUs pass their summed TFLOPS and fold any scaling loss into the efficiency. Null when
    params_b is not positive, the effective compute is not positive (no TFLOPS figure included) or the
    efficiency is outside [0, 1].
    """
    params, tflops, eff = as_expr(params_b), as_expr(dense_tflops), as_expr(compute_efficiency)
    effective_flops_per_second = tflops * TERA * eff
    return pl.when((params > 0) & fraction(eff) & (effective_flops_per_second > 0)).then(
        effective_flops_per_second / (2 * params * GIGA)
    )


def blended_tokens_per_second(
    prefill_tokens_per_second: ExprLike, decode_tokens_per_second: ExprLike, input_share: ExprLike
) -> pl.Expr:
    """Tokens per second of a stream with input_share input tokens: 1 / (share / prefill + (1 - share) / decode).

    Per-token times add, not rates: a 3:1 mix spends 0.75 / prefill + 0.25 / decode seconds per token.
    This takes prefill and decode to run one after the other on the same GPUs; a server that hides
    prefill in the compute a memory-bound decode leaves idle does better (at best decode / (1 - share),
    input tokens free). Pass `blended_price`'s input share, so that a cost per blended token compares
    with a blended API price. Null when either rate is not positive or input_share is outside [0, 1].
    """
    prefill, decode, share = (
        as_expr(prefill_tokens_per_second),
        as_expr(decode_tokens_per_second),
        as_expr(input_share),
    )
    return pl.when(fraction(share) & (prefill > 0) & (decode > 0)).then(
        1 / (share / prefill + (1 - share) / decode)
    )


def self_host_cost_per_mtok(
    usd_per_gpu_hour: ExprLike, gpus: ExprLike, tokens_per_second: ExprLike, utilization: ExprLike
) -> pl.Expr:
    """USD per million tokens served: usd_per_gpu_hour x gpus / (tokens_per_second x 3600 x utilization) x 1e6.

    tokens_per_second is the throughput of the whole deployment of `gpus` cards while busy; utilization
    the share of paid hours it is busy. Null when utilization or throughput is 0 (no tokens, no finite
    cost) or utilization is outside [0, 1].
    """
    usd, n = as_expr(usd_per_gpu_hour), as_expr(gpus)
    tps, util = as_expr(tokens_per_second), as_expr(utilization)
    tokens_per_hour = tps * SECONDS_PER_HOUR * util
    return pl.when(fraction(util) & (tokens_per_hour > 0)).then(usd * n / tokens_per_hour * TOKENS_PER_MTOK)
