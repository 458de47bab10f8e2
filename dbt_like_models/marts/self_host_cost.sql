-- description: What a million tokens costs when you rent GPUs and serve an open-weights model yourself, per output token and per token of the blended input:output mix: per current rental offer (the cheapest of each provider for each accelerator and pricing type), model-size class, weight precision and utilization. GPUs from gpus_needed (weights x overhead plus the batch's KV cache), decode throughput from the roofline (decode_tokens_per_second), prefill throughput from the compute ceiling (prefill_tokens_per_second), their mix from blended_tokens_per_second, cost from self_host_cost_per_mtok. Absent: offers for a fraction of a GPU; deployments needing more than 8 x the offer's GPUs or more than 64; precisions the accelerator cannot compute in (fp8 without FP8 tensor cores); accelerators without a bandwidth or dense-compute figure. See docs/methodology.md, "Self-hosting marts".
-- materialized: table
-- grain: accelerator, source, provider, pricing_type, size_class, dtype, utilization
-- tests:
--   not_null(assumption_set_id, accelerator, source, provider, pricing_type, instance_type, region, gpu_count, usd_per_gpu_hour, offer_rank, size_class, model_size_b, dtype, bytes_per_param, compute_dtype, memory_gb, memory_bandwidth_tbps, dense_tflops, batch_size, kv_cache_gb, gpus, deployment_usd_per_hour, utilization, tokens_per_second, roofline_bound, prefill_tokens_per_second, blended_tokens_per_second, throughput_basis, usd_per_mtok, usd_per_blended_mtok)
--   accepted_values(roofline_bound: memory, compute)
--   accepted_values(throughput_basis: estimated, measured)
--   range(offer_rank: 1..)
--   range(gpus: 1..64)
--   range(utilization: 0..1)
--   range(usd_per_mtok: 0..)
-- columns:
--   assumption_set_id: The assumption set (meta.assumptions) these numbers were computed with.
--   accelerator: Canonical accelerator id.
--   source: Upstream the offer's rate came from.
--   provider: Cloud or marketplace renting the GPU.
--   pricing_type: on_demand, spot, reserved_1y, reserved_3y, committed_<N>m or marketplace.
--   instance_type: Instance, SKU or offer id: the provider's cheapest offer for this accelerator and pricing type.
--   region: Region of the offer; '' when not regional.
--   gpu_count: GPUs in the offer's instance; a deployment may rent up to 8 such instances.
--   usd_per_gpu_hour: The offer's price per GPU-hour.
--   rate_since: Date the offer's rate took effect.
--   offer_rank: 1 for the cheapest provider of this accelerator and pricing type, 2 for the next, and so on (ties by provider name). Filter offer_rank = 1 for one offer per accelerator and pricing type.
--   size_class: Model-size class (meta.size_classes).
--   model_size_b: Parameters of the size class, billions.
--   dtype: Weight precision (meta.dtypes): bf16, fp8, int4, ...
--   bytes_per_param: Bytes per weight in that precision.
--   compute_dtype: Precision the matrix multiplies run in: fp8 (and fp4, int8) run natively; bf16 and weight-only int4 multiply in bf16.
--   memory_gb: Memory per GPU, GB.
--   memory_bandwidth_tbps: Memory bandwidth per GPU, TB/s.
--   dense_tflops: Dense TFLOPS per GPU in compute_dtype.
--   batch_size: Concurrent sequences per decode step (assumption).
--   kv_cache_gb: KV cache of the whole batch, GB: kv_cache_bytes(layers, kv_heads, head_dim, context_tokens, batch_size, kv_bytes_per_elem) / 1e9.
--   gpus: GPUs the deployment needs: gpus_needed over the weights x memory_overhead plus the batch's KV cache.
--   deployment_usd_per_hour: usd_per_gpu_hour x gpus: what one running replica costs per hour.
--   utilization: Share of paid hours the deployment serves traffic (assumption grid; never 0).
--   tokens_per_second: Output tokens per second of the whole deployment while busy: decode_tokens_per_second with the GPUs' summed bandwidth and compute; efficiencies x multi_gpu_efficiency when gpus > 1.
--   roofline_bound: memory or compute: which ceiling sets tokens_per_second.
--   prefill_tokens_per_second: Input (prompt) tokens per second of the whole deployment while busy: prefill_tokens_per_second(model_size_b, gpus x dense_tflops, compute_efficiency), the efficiency x multi_gpu_efficiency when gpus > 1 as for decode. Compute-bound: 2 FLOPs per parameter per token, attention left out.
--   blended_tokens_per_second: Tokens per second of the blended mix: blended_tokens_per_second(prefill_tokens_per_second, tokens_per_second, blend_input_share), prefill and decode taking turns (times per token add).
--   throughput_basis: estimated (the roofline) or measured. Always estimated today: the warehouse has no measured-throughput table yet; the column is kept so dashboards need not change when one arrives.
--   usd_per_mtok: self_host_cost_per_mtok(usd_per_gpu_hour, gpus, tokens_per_second, utilization): USD per million output tokens (decode only).
--   usd_per_blended_mtok: self_host_cost_per_mtok(usd_per_gpu_hour, gpus, blended_tokens_per_second, utilization): USD per million tokens of the blend_input_share mix, the cost to compare with a blended API price.
with specs as (
    -- Curated specs win over Epoch's, as in marts.gpu_rates_current; source breaks the remaining ties.
    select *
    from history.accelerators
    where valid_to is null
    qualify row_number() over (partition by accelerator order by (source = 'curated') desc, source) = 1
),
offers as (
    -- A fractional offer rents a slice of a card, not its memory, so it cannot hold a model by the spec.
    select
        source, provider, instance_type, region, zone, pricing_type, accelerator,
        gpu_count::double as gpu_count, usd_per_gpu_hour::double as usd_per_gpu_hour, rate_since
    from marts.gpu_rates_current
    where gpu_count >= 1 and usd_per_gpu_hour > 0
    qualify row_number() over (
        partition by accelerator, pricing_type, provider
        order by usd_per_gpu_hour, instance_type, region, zone, source
    ) = 1
),
ranked as (
    select *,
           row_number() over (
               partition by accelerator, pricing_type order by usd_per_gpu_hour, provider
           ) as offer_rank
    from offers
),
deployments as (
    select
        o.*, c.size_class, c.params_b, d.dtype, d.bytes_per_param,
        case when d.dtype in ('fp8', 'fp4', 'int8') then d.dtype else 'bf16' end as compute_dtype,
        s.memory_gb::double as memory_gb,
        s.memory_bandwidth_tbps::double as memory_bandwidth_tbps,
        case d.dtype
            when 'fp8' then s.fp8_dense_tflops
            when 'fp4' then s.fp4_dense_tflops
            when 'int8' then s.int8_dense_tops
            else s.bf16_dense_tflops
        end::double as dense_tflops,
        kv_cache_bytes(
            c.layers, c.kv_heads, c.head_dim, a.context_tokens, a.batch_size, a.kv_bytes_per_elem
        ) as kv_bytes,
        a.assumption_set_id, a.batch_size, a.memory_overhead, a.bw_efficiency, a.compute_efficiency,
        a.multi_gpu_efficiency, a.blend_input_share
    from ranked o
    join specs s on s.accelerator = o.accelerator
    cross join meta.size_classes c
    cross join meta.dtypes d
    cross join meta.assumptions a
),
sized as (
    -- gpus_needed counts weights x overhead; the batch's KV cache must fit beside them, so it is passed
    -- as the parameters that would take its bytes (kv / (1e9 x bytes_per_param x overhead) billion).
    select *,
           gpus_needed(
               params_b + kv_bytes / (1e9 * bytes_per_param * memory_overhead),
               bytes_per_param, memory_overhead, memory_gb
           ) as gpus
    from deployments
),
served as (
    select *,
           decode_tokens_per_second(
               params_b, bytes_per_param, gpus * memory_bandwidth_tbps, gpus * dense_tflops, batch_size,
               kv_bytes, bw_efficiency * split_efficiency, compute_efficiency * split_efficiency
           ) as tokens_per_second,
           roofline_bound(
               params_b, bytes_per_param, gpus * memory_bandwidth_tbps, gpus * dense_tflops, batch_size,
               kv_bytes, bw_efficiency * split_efficiency, compute_efficiency * split_efficiency
           ) as roofline_bound,
           -- Same TFLOPS (the compute precision's) and split loss as decode: prefill runs the same matmuls.
           prefill_tokens_per_second(
               params_b, gpus * dense_tflops, compute_efficiency * split_efficiency
           ) as prefill_tokens_per_second
    from (
        -- Tensor parallelism loses 20-30% to communication (seed 002), folded into the efficiencies.
        select *, case when gpus > 1 then multi_gpu_efficiency else 1 end as split_efficiency from sized
    )
    -- A deployment spread over more than 8 of the offer's instances (or 64 GPUs) is not one a renter can
    -- assemble from this offer with a fast interconnect; a null count means no memory figure.
    where gpus <= least(64, 8 * gpu_count)
)
select
    s.assumption_set_id,
    s.accelerator, s.source, s.provider, s.pricing_type, s.instance_type, s.region, s.gpu_count,
    s.usd_per_gpu_hour, s.rate_since, s.offer_rank,
    s.size_class, s.params_b as model_size_b, s.dtype, s.bytes_per_param, s.compute_dtype,
    s.memory_gb, s.memory_bandwidth_tbps, s.dense_tflops, s.batch_size,
    s.kv_bytes / 1e9 as kv_cache_gb,
    s.gpus::bigint as gpus,
    s.usd_per_gpu_hour * s.gpus as deployment_usd_per_hour,
    u.utilization,
    s.tokens_per_second, s.roofline_bound, s.prefill_tokens_per_second,
    blended_tokens_per_second(
        s.prefill_tokens_per_second, s.tokens_per_second, s.blend_input_share
    ) as blended_tokens_per_second,
    'estimated' as throughput_basis,
    self_host_cost_per_mtok(s.usd_per_gpu_hour, s.gpus, s.tokens_per_second, u.utilization) as usd_per_mtok,
    self_host_cost_per_mtok(
        s.usd_per_gpu_hour, s.gpus, blended_tokens_per_second, u.utilization
    ) as usd_per_blended_mtok
from served s
cross join (select unnest(utilization_grid) as utilization from meta.assumptions) u
-- No bandwidth or no compute figure in the precision used: no estimate, so no row.
where s.tokens_per_second is not null
