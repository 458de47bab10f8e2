-- description: Self-hosted cost at real operating points: for each accelerator with an on-demand rent today, model-size class and weight precision, every batch size and context length of the assumption set's grids (batch_grid, context_grid). A replica runs on the smallest valid tensor-parallel degree that holds the weights and one sequence's KV cache at that context; the batch is limited by what fits beside the weights (max_batch_in_memory), and a point beyond it is reported with fits_memory false and no throughput. Decode throughput and the per-token latency (one decode step) come from the roofline (decode_step_seconds, decode_tokens_per_second); the cost is at full use of the cheapest on-demand per-GPU rate (self_host_cost_per_mtok at utilization 1: divide by a utilization for a partly idle replica). cheapest_meeting_target marks, per accelerator, size class, precision and context length, the cheapest batch that fits and meets latency_target_ms_per_token. See docs/methodology.md, "Operating points".
-- materialized: table
-- grain: accelerator, size_class, dtype, context_tokens, batch_size
-- tests:
--   not_null(assumption_set_id, accelerator, provider, usd_per_gpu_hour, size_class, dtype, bytes_per_param, context_tokens, batch_size, gpus, kv_cache_gb_per_sequence, max_batch, fits_memory, meets_latency, cheapest_meeting_target)
--   accepted_values(gpus: 1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64)
--   accepted_values(roofline_bound: memory, compute)
--   range(batch_size: 1..)
--   range(max_batch: 0..)
--   range(usd_per_mtok: 0..)
-- columns:
--   assumption_set_id: The assumption set (meta.assumptions) these numbers were computed with.
--   accelerator: Canonical accelerator id.
--   provider: Provider of the cheapest on-demand offer today (marts.gpu_rates_daily).
--   usd_per_gpu_hour: That offer's price per GPU-hour (a per-GPU rate: whole-instance pricing is marts.self_host_cost's).
--   size_class: Model-size class (meta.size_classes).
--   model_size_b: Total parameters of the size class, billions.
--   dtype: Weight precision (meta.dtypes).
--   bytes_per_param: Bytes per weight in that precision.
--   context_tokens: Tokens in each sequence's KV cache (context_grid).
--   batch_size: Concurrent sequences per decode step (batch_grid).
--   gpus: GPUs per replica: tensor_parallel_gpus(gpus_needed(weights x memory_overhead + one sequence's KV cache)).
--   kv_cache_gb_per_sequence: KV cache of one sequence at this context, GB: kv_cache_bytes(layers, kv_heads, head_dim, context_tokens, 1, kv_bytes_per_elem) / 1e9.
--   max_batch: max_batch_in_memory(gpus x memory_gb, model_size_b, bytes_per_param, memory_overhead, KV bytes per sequence): the most sequences this replica holds at this context.
--   fits_memory: batch_size <= max_batch. False: the point is out of reach on this replica (no throughput, cost or latency).
--   ms_per_token: Per-token latency of each sequence: decode_step_seconds(...) x 1000, one step making one token per sequence.
--   tokens_per_second: Output tokens per second of the replica while busy: decode_tokens_per_second(...).
--   roofline_bound: memory or compute: which ceiling sets the step.
--   usd_per_mtok: self_host_cost_per_mtok(usd_per_gpu_hour, gpus, tokens_per_second, 1.0): USD per million output tokens at full use.
--   latency_target_ms_per_token: The assumption set's target; 0 = none.
--   meets_latency: fits_memory and (no target or ms_per_token <= the target).
--   cheapest_meeting_target: True on the one batch per accelerator, size class, precision and context length with the lowest usd_per_mtok among those meeting the latency target (ties: the smaller batch); false everywhere when none meets it.
with rents as (
    select accelerator, cheapest_provider as provider, cheapest_usd_per_gpu_hour::double as usd_per_gpu_hour
    from marts.gpu_rates_daily
    where day = build_date() and pricing_type = 'on_demand'
),
shapes as (
    select
        p.accelerator, p.dtype, p.bytes_per_param, p.memory_gb, p.memory_bandwidth_tbps, p.dense_tflops,
        r.provider, r.usd_per_gpu_hour,
        c.size_class, c.params_b, c.active_params_b, c.experts, c.experts_per_token,
        x.context_tokens,
        kv_cache_bytes(c.layers, c.kv_heads, c.head_dim, x.context_tokens, 1, a.kv_bytes_per_elem)
            as kv_bytes_per_sequence,
        a.assumption_set_id, a.memory_overhead, a.bw_efficiency, a.compute_efficiency, a.multi_gpu_efficiency,
        a.latency_target_ms_per_token
    from intermediate.int_accelerator_precisions p
    join rents r on r.accelerator = p.accelerator
    cross join meta.size_classes c
    cross join meta.assumptions a
    cross join (select unnest(context_grid) as context_tokens from meta.assumptions) x
    where p.memory_gb > 0
),
sized as (
    -- As in marts.self_host_cost, the KV cache is passed to gpus_needed as the parameters its bytes would be.
    select *,
           tensor_parallel_gpus(gpus_needed(
               params_b + kv_bytes_per_sequence / (1e9 * bytes_per_param * memory_overhead),
               bytes_per_param, memory_overhead, memory_gb
           )) as gpus
    from shapes
),
limited as (
    select *,
           max_batch_in_memory(gpus * memory_gb, params_b, bytes_per_param, memory_overhead, kv_bytes_per_sequence)
               as max_batch,
           split_efficiency(gpus, multi_gpu_efficiency) as split
    from sized
    -- More than 64 GPUs is no deployment a renter assembles (marts.self_host_cost's limit).
    where gpus <= 64
),
points as (
    select l.*, b.batch_size, b.batch_size <= l.max_batch as fits_memory,
           moe_params_read_b(l.params_b, l.active_params_b, l.experts, l.experts_per_token, b.batch_size)
               as params_read_b
    from limited l
    cross join (select unnest(batch_grid) as batch_size from meta.assumptions) b
),
timed as (
    select *,
           case when fits_memory then decode_step_seconds(
               params_read_b, bytes_per_param, gpus * memory_bandwidth_tbps, gpus * dense_tflops, batch_size,
               kv_bytes_per_sequence * batch_size, bw_efficiency * split, compute_efficiency * split,
               active_params_b
           ) end as step_seconds,
           case when fits_memory then decode_tokens_per_second(
               params_read_b, bytes_per_param, gpus * memory_bandwidth_tbps, gpus * dense_tflops, batch_size,
               kv_bytes_per_sequence * batch_size, bw_efficiency * split, compute_efficiency * split,
               active_params_b
           ) end as tokens_per_second,
           case when fits_memory then roofline_bound(
               params_read_b, bytes_per_param, gpus * memory_bandwidth_tbps, gpus * dense_tflops, batch_size,
               kv_bytes_per_sequence * batch_size, bw_efficiency * split, compute_efficiency * split,
               active_params_b
           ) end as roofline_bound
    from points
),
costed as (
    select *,
           step_seconds * 1000 as ms_per_token,
           self_host_cost_per_mtok(usd_per_gpu_hour, gpus, tokens_per_second, 1.0) as usd_per_mtok,
           coalesce(
               tokens_per_second is not null
               and (latency_target_ms_per_token = 0 or step_seconds * 1000 <= latency_target_ms_per_token),
               false
           ) as meets_latency
    from timed
)
select
    assumption_set_id, accelerator, provider, usd_per_gpu_hour, size_class, params_b as model_size_b,
    dtype, bytes_per_param, context_tokens, batch_size, gpus::bigint as gpus,
    kv_bytes_per_sequence / 1e9 as kv_cache_gb_per_sequence, max_batch::bigint as max_batch, fits_memory,
    ms_per_token, tokens_per_second, roofline_bound, usd_per_mtok, latency_target_ms_per_token, meets_latency,
    coalesce(meets_latency and row_number() over (
        partition by accelerator, size_class, dtype, context_tokens
        order by meets_latency desc, usd_per_mtok nulls last, batch_size
    ) = 1, false) as cheapest_meeting_target
from costed
