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


def max_batch_in_memory(
    memory_gb: ExprLike,
    params_b: ExprLike,
    bytes_per_param: ExprLike,
    overhead: ExprLike,
    kv_bytes_per_sequence: ExprLike,
) -> pl.Expr:
    """Sequences whose KV cache fits beside the weights: floor((memory_gb x 1e9 - params_b x 1e9 x
    bytes_per_param x overhead) / kv_bytes_per_sequence).

    memory_gb is the whole replica's (GPUs x memory per GPU); the weights take params x bytes x overhead as
    in `gpus_needed`, and each sequence adds its KV cache (`kv_cache_bytes` at batch 1). 0 when the weights
    alone fill the memory; null when memory_gb or kv_bytes_per_sequence is not positive.
    """
    memory, params, bpp, factor, kv = (
        as_expr(v) for v in (memory_gb, params_b, bytes_per_param, overhead, kv_bytes_per_sequence)
    )
    free = memory * GIGA - params * GIGA * bpp * factor
    # The mirror of CEIL_SLACK: a batch that exactly fills the memory fits.
    fitting = (free / kv * (2 - CEIL_SLACK)).floor()
    return pl.when((memory > 0) & (kv > 0)).then(pl.max_horizontal(pl.lit(0.0), fitting))


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
    compute_params_b: ExprLike = None,
) -> pl.Expr:
    """Seconds per decode step: the larger of `decode_memory_seconds` and `decode_compute_seconds`.

    params_b is what a step reads from memory; compute_params_b, what each token multiplies through,
    when that differs (a mixture of experts: `moe_params_read_b` read, active parameters computed).
    Null (the default) means params_b, a dense model. Null when either time is null: a missing compute
    figure must give no answer rather than a silently memory-bound one (which is why this is not
    max_horizontal, which skips nulls).
    """
    memory_s = decode_memory_seconds(
        params_b, bytes_per_param, kv_bytes, memory_bandwidth_tbps, bw_efficiency
    )
    compute_s = decode_compute_seconds(
        _compute_params(params_b, compute_params_b), batch, dense_tflops, compute_efficiency
    )
    return pl.when(memory_s >= compute_s).then(memory_s).when(memory_s < compute_s).then(compute_s)


def _compute_params(params_b: ExprLike, compute_params_b: ExprLike) -> pl.Expr:
    return pl.coalesce(as_expr(compute_params_b), as_expr(params_b))


def decode_tokens_per_second(
    params_b: ExprLike,
    bytes_per_param: ExprLike,
    memory_bandwidth_tbps: ExprLike,
    dense_tflops: ExprLike,
    batch: ExprLike,
    kv_bytes: ExprLike,
    bw_efficiency: ExprLike,
    compute_efficiency: ExprLike,
    compute_params_b: ExprLike = None,
) -> pl.Expr:
    """Roofline decode throughput in output tokens per second for the whole batch.

    batch / `decode_step_seconds`: each step emits one token per sequence and takes as long as the slower
    of reading memory and computing. For several GPUs in tensor parallel pass their summed bandwidth and
    compute (with any scaling loss folded into the efficiencies: `split_efficiency`). compute_params_b as
    in `decode_step_seconds`. Null when the step time is null or not positive, or the batch is not
    positive.
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
        compute_params_b,
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
    compute_params_b: ExprLike = None,
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
        compute_params_b,
    )
    memory_s = decode_memory_seconds(
        params_b, bytes_per_param, kv_bytes, memory_bandwidth_tbps, bw_efficiency
    )
    compute_s = decode_compute_seconds(
        _compute_params(params_b, compute_params_b), batch, dense_tflops, compute_efficiency
    )
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


def moe_params_read_b(
    params_b: ExprLike,
    active_params_b: ExprLike,
    experts: ExprLike,
    experts_per_token: ExprLike,
    batch: ExprLike,
) -> pl.Expr:
    """Parameters (billions) one decode step of `batch` sequences reads from memory, expected value.

    A mixture of experts holds params_b but each token runs active_params_b: the shared part S (attention,
    embeddings, dense layers, shared experts) and experts_per_token (k) of its experts routed experts.
    With X = (params_b - active_params_b) / (experts - k) parameters per routed expert (all layers) and
    S = active_params_b - k x X, a step reads S + experts x X x (1 - (1 - k / experts) ^ batch): each
    expert is read once if any of the batch's tokens picks it, routing taken as uniform and independent.
    One sequence reads active_params_b; a large batch reads nearly all params_b. A dense model
    (params_b = active_params_b) reads params_b. Null where the shapes are inconsistent (active above
    total, k not below experts for a sparse model, a negative shared part) or batch < 1.
    """
    total, active = as_expr(params_b), as_expr(active_params_b)
    e, k, n = as_expr(experts), as_expr(experts_per_token), as_expr(batch)
    per_expert = (total - active) / (e - k)
    shared = active - k * per_expert
    sparse = (active < total) & (k >= 1) & (e > k) & (shared >= 0)
    return (
        pl.when((n >= 1) & (active == total) & (total > 0))
        .then(total)
        .when((n >= 1) & (active > 0) & sparse)
        .then(shared + e * per_expert * (1 - (1 - k / e).pow(n)))
    )


def split_efficiency(gpus: ExprLike, multi_gpu_efficiency: ExprLike) -> pl.Expr:
    """Share of the summed bandwidth and compute a model split over `gpus` cards keeps: 1 on one card,
    multi_gpu_efficiency on more (tensor parallelism's communication, seed 002: 20-30% lost).

    Multiply both roofline efficiencies by it. Null when gpus < 1 or the efficiency is outside [0, 1].
    """
    n, eff = as_expr(gpus), as_expr(multi_gpu_efficiency)
    return pl.when(fraction(eff) & (n >= 1)).then(pl.when(n > 1).then(eff).otherwise(1.0))


def tensor_parallel_gpus(gpus: ExprLike) -> pl.Expr:
    """The GPUs a replica runs on: the smallest valid tensor-parallel degree holding `gpus` cards' worth.

    Engines split attention heads and matmuls evenly, so the degree is 1, 2, 4 or 8 within a node and a
    multiple of 8 (whole 8-GPU nodes) beyond: 3 -> 4, 5 -> 8, 13 -> 16. Null when gpus is not positive.
    """
    n = as_expr(gpus).ceil()
    degree = (
        pl.when(n <= 1).then(1.0).when(n <= 2).then(2.0).when(n <= 4).then(4.0).otherwise((n / 8).ceil() * 8)
    )
    return pl.when(n > 0).then(degree)


def replica_billed_gpus(tp_gpus: ExprLike, instance_gpus: ExprLike) -> pl.Expr:
    """GPUs paid for per replica when a provider sells whole instances of instance_gpus cards.

    A replica that fits an instance shares it with as many others as fit whole: an 8-GPU instance runs
    four 2-GPU replicas, so each pays for 2; a 3-GPU instance runs one 2-GPU replica, which pays for 3.
    A replica larger than an instance spans whole instances only when they are 8-GPU (or larger) nodes,
    the only ones built for a model split across machines: 16 GPUs on 8-GPU nodes pay for 16. Null where
    no whole number of instances can host it (a 4-GPU replica on 1-GPU instances), or either count is
    below 1.
    """
    tp, inst = as_expr(tp_gpus), as_expr(instance_gpus)
    billed = (
        pl.when(tp <= inst)
        .then(inst / (inst / tp).floor())
        .when(inst >= 8)
        .then((tp / inst * CEIL_SLACK).ceil() * inst)
    )
    return pl.when((tp >= 1) & (inst >= 1)).then(billed)
