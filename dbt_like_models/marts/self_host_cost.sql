-- description: What a million tokens costs when you rent GPUs and serve an open-weights model yourself, per output token and per token of the blended input:output mix: per current rental offer (each provider's cheapest instance for each accelerator and pricing type that can host the deployment), model-size class (dense or mixture of experts), weight precision and utilization. GPUs per replica: the smallest valid tensor-parallel degree (1, 2, 4, 8, then multiples of 8: tensor_parallel_gpus) holding weights x overhead plus the batch's KV cache (gpus_needed); paid for as whole instances (replica_billed_gpus). Decode throughput: a matching measurement from history.throughput_measurements where one exists (throughput_basis = measured), else the roofline (decode_tokens_per_second; a mixture of experts reads moe_params_read_b and computes its active parameters); prefill from the compute ceiling (prefill_tokens_per_second), their mix from blended_tokens_per_second, cost from self_host_cost_per_mtok. Absent: offers for a fraction of a GPU; deployments needing more than 64 GPUs, or more GPUs than an instance of fewer than 8 holds; precisions the accelerator cannot compute in; accelerators without a bandwidth or dense-compute figure. See docs/methodology.md, "Self-hosting marts".
-- materialized: table
-- grain: accelerator, source, provider, pricing_type, size_class, dtype, utilization
-- tests:
--   not_null(assumption_set_id, accelerator, source, provider, pricing_type, instance_type, region, gpu_count, usd_per_gpu_hour, offer_rank, size_class, model_size_b, active_params_b, params_read_b, dtype, bytes_per_param, compute_dtype, memory_gb, memory_bandwidth_tbps, dense_tflops, batch_size, kv_cache_gb, gpus_for_memory, gpus, billed_gpus, deployment_usd_per_hour, utilization, tokens_per_second, roofline_tokens_per_second, roofline_bound, prefill_tokens_per_second, blended_tokens_per_second, throughput_basis, usd_per_mtok, usd_per_blended_mtok)
--   accepted_values(roofline_bound: memory, compute)
--   accepted_values(throughput_basis: roofline, measured)
--   accepted_values(gpus: 1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64)
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
--   instance_type: Instance, SKU or offer id: the provider's cheapest offer for this accelerator and pricing type that can host the deployment (cheapest per replica, whole instances paid).
--   region: Region of the offer; '' when not regional.
--   gpu_count: GPUs in the offer's instance.
--   usd_per_gpu_hour: The offer's price per GPU-hour.
--   rate_since: Date the offer's rate took effect.
--   offer_rank: 1 for the provider with the cheapest replica of this accelerator, pricing type, size class and precision, 2 for the next, and so on (ties by provider name). Filter offer_rank = 1 for one offer per accelerator, pricing type, size class and precision.
--   size_class: Model-size class (meta.size_classes).
--   model_size_b: Total parameters of the size class, billions: what memory holds.
--   active_params_b: Parameters each token runs, billions (= model_size_b for a dense class): what a token computes.
--   params_read_b: Parameters one decode step of the batch reads, billions: moe_params_read_b(model_size_b, active_params_b, experts, experts_per_token, batch_size); model_size_b for a dense class.
--   dtype: Weight precision (meta.dtypes): bf16, fp8, int4, ...
--   bytes_per_param: Bytes per weight in that precision.
--   compute_dtype: Precision the matrix multiplies run in (intermediate.int_accelerator_precisions).
--   memory_gb: Memory per GPU, GB.
--   memory_bandwidth_tbps: Memory bandwidth per GPU, TB/s.
--   dense_tflops: Dense TFLOPS per GPU in compute_dtype.
--   batch_size: Concurrent sequences per decode step (assumption).
--   kv_cache_gb: KV cache of the whole batch, GB: kv_cache_bytes(layers, kv_heads, head_dim, context_tokens, batch_size, kv_bytes_per_elem) / 1e9.
--   gpus_for_memory: GPUs the weights x memory_overhead plus the batch's KV cache need (gpus_needed), before rounding to a tensor-parallel degree.
--   gpus: GPUs one replica runs on: tensor_parallel_gpus(gpus_for_memory), i.e. 1, 2, 4, 8 or a multiple of 8.
--   billed_gpus: GPUs paid for per replica: replica_billed_gpus(gpus, gpu_count). Replicas share an instance they fit in whole (an 8-GPU instance runs four 2-GPU replicas); a replica larger than an instance spans whole 8-GPU (or larger) instances.
--   deployment_usd_per_hour: usd_per_gpu_hour x billed_gpus: what one running replica costs per hour.
--   utilization: Share of paid hours the deployment serves traffic (assumption grid; never 0).
--   tokens_per_second: Output tokens per second of one replica while busy: the matched measurement's where throughput_basis = measured, else roofline_tokens_per_second.
--   roofline_tokens_per_second: decode_tokens_per_second(params_read_b, bytes_per_param, gpus x bandwidth, gpus x dense_tflops, batch_size, KV bytes, bw_efficiency x s, compute_efficiency x s, active_params_b), s = split_efficiency(gpus, multi_gpu_efficiency).
--   roofline_bound: memory or compute: which ceiling sets roofline_tokens_per_second.
--   throughput_basis: measured (a row of history.throughput_measurements matched: same accelerator, GPU count and dtype, decode phase, parameters, batch and context within the measured_*_tolerance shares of the assumptions) or roofline.
--   measurement_source: The matched measurement's source; null on the roofline.
--   measurement_model: The matched measurement's model or shape; null on the roofline.
--   prefill_tokens_per_second: Input (prompt) tokens per second of one replica while busy: prefill_tokens_per_second(active_params_b, gpus x dense_tflops, compute_efficiency x s). Compute-bound: 2 FLOPs per active parameter per token, attention left out. Always the roofline.
--   blended_tokens_per_second: Tokens per second of the blended mix: blended_tokens_per_second(prefill_tokens_per_second, tokens_per_second, blend_input_share), prefill and decode taking turns (times per token add).
--   usd_per_mtok: self_host_cost_per_mtok(usd_per_gpu_hour, billed_gpus, tokens_per_second, utilization): USD per million output tokens (decode only).
--   usd_per_blended_mtok: self_host_cost_per_mtok(usd_per_gpu_hour, billed_gpus, blended_tokens_per_second, utilization): USD per million tokens of the blend_input_share mix, the cost to compare with a blended API price.
with offers as (
    -- A fractional offer rents a slice of a card, not its memory, so it cannot hold a model by the spec.
    select
        source, provider, instance_type, region, zone, pricing_type, accelerator,
        gpu_count::double as gpu_count, usd_per_gpu_hour::double as usd_per_gpu_hour, rate_since
    from marts.gpu_rates_current
    where gpu_count >= 1 and usd_per_gpu_hour > 0
),
shapes as (
    select
        p.*, c.size_class, c.params_b, c.active_params_b, c.experts, c.experts_per_token,
        kv_cache_bytes(
            c.layers, c.kv_heads, c.head_dim, a.context_tokens, a.batch_size, a.kv_bytes_per_elem
        ) as kv_bytes,
        a.assumption_set_id, a.batch_size, a.context_tokens, a.memory_overhead, a.bw_efficiency,
        a.compute_efficiency, a.multi_gpu_efficiency, a.blend_input_share, a.measured_params_tolerance,
        a.measured_batch_tolerance, a.measured_context_tolerance
    from intermediate.int_accelerator_precisions p
    cross join meta.size_classes c
    cross join meta.assumptions a
),
sized as (
    -- gpus_needed counts weights x overhead; the batch's KV cache must fit beside them, so it is passed
    -- as the parameters that would take its bytes (kv / (1e9 x bytes_per_param x overhead) billion).
    select *, tensor_parallel_gpus(gpus_for_memory) as gpus
    from (
        select *,
               gpus_needed(
                   params_b + kv_bytes / (1e9 * bytes_per_param * memory_overhead),
                   bytes_per_param, memory_overhead, memory_gb
               ) as gpus_for_memory
        from shapes
    )
),
roofline as (
    select *,
           decode_tokens_per_second(
               params_read_b, bytes_per_param, gpus * memory_bandwidth_tbps, gpus * dense_tflops, batch_size,
               kv_bytes, bw_efficiency * split, compute_efficiency * split, active_params_b
           ) as roofline_tokens_per_second,
           roofline_bound(
               params_read_b, bytes_per_param, gpus * memory_bandwidth_tbps, gpus * dense_tflops, batch_size,
               kv_bytes, bw_efficiency * split, compute_efficiency * split, active_params_b
           ) as roofline_bound,
           -- Same TFLOPS (the compute precision's) and split loss as decode: prefill runs the same matmuls.
           prefill_tokens_per_second(active_params_b, gpus * dense_tflops, compute_efficiency * split)
               as prefill_tokens_per_second
    from (
        select *,
               split_efficiency(gpus, multi_gpu_efficiency) as split,
               moe_params_read_b(params_b, active_params_b, experts, experts_per_token, batch_size)
                   as params_read_b
        from sized
        -- More than 64 GPUs is no deployment a renter assembles; a null count means no memory figure.
        where gpus <= 64
    )
    -- No bandwidth or no compute figure in the precision used: no estimate, so no row.
    where roofline_tokens_per_second is not null
),
measured as (
    -- The closest current decode measurement of the same deployment, within the stated tolerances.
    select
        r.accelerator, r.size_class, r.dtype,
        m.tokens_per_second::double as measured_tokens_per_second,
        m.source as measurement_source, m.model as measurement_model
    from roofline r
    join history.throughput_measurements m
        on m.valid_to is null and m.phase = 'decode' and m.accelerator = r.accelerator
        and m.gpus = r.gpus and m.dtype = r.dtype
        and abs(m.params_b - r.params_b) <= r.measured_params_tolerance * r.params_b
        and abs(m.active_params_b - r.active_params_b) <= r.measured_params_tolerance * r.active_params_b
        and abs(m.batch - r.batch_size) <= r.measured_batch_tolerance * r.batch_size
        and abs(m.context_tokens - r.context_tokens) <= r.measured_context_tolerance * r.context_tokens
    qualify row_number() over (
        partition by r.accelerator, r.size_class, r.dtype
        order by abs(m.batch / r.batch_size - 1) + abs(m.context_tokens / r.context_tokens - 1)
                 + abs(m.params_b / r.params_b - 1),
                 m.valid_from desc, m.source, m.model
    ) = 1
),
placed as (
    -- Each provider's cheapest instance that can host a replica, whole instances paid.
    select o.*, r.* exclude (accelerator), replica_billed_gpus(r.gpus, o.gpu_count) as billed_gpus
    from offers o
    join roofline r on r.accelerator = o.accelerator
    where replica_billed_gpus(r.gpus, o.gpu_count) is not null
    qualify row_number() over (
        partition by o.accelerator, o.pricing_type, o.provider, r.size_class, r.dtype
        order by o.usd_per_gpu_hour * billed_gpus, o.instance_type, o.region, o.zone, o.source
    ) = 1
),
served as (
    select p.*, m.measurement_source, m.measurement_model,
           coalesce(m.measured_tokens_per_second, p.roofline_tokens_per_second) as tokens_per_second,
           case when m.measured_tokens_per_second is null then 'roofline' else 'measured' end
               as throughput_basis,
           row_number() over (
               partition by p.accelerator, p.pricing_type, p.size_class, p.dtype
               order by p.usd_per_gpu_hour * p.billed_gpus, p.provider
           ) as offer_rank
    from placed p
    left join measured m on m.accelerator = p.accelerator and m.size_class = p.size_class and m.dtype = p.dtype
)
select
    s.assumption_set_id,
    s.accelerator, s.source, s.provider, s.pricing_type, s.instance_type, s.region, s.gpu_count,
    s.usd_per_gpu_hour, s.rate_since, s.offer_rank,
    s.size_class, s.params_b as model_size_b, s.active_params_b, s.params_read_b,
    s.dtype, s.bytes_per_param, s.compute_dtype,
    s.memory_gb, s.memory_bandwidth_tbps, s.dense_tflops, s.batch_size,
    s.kv_bytes / 1e9 as kv_cache_gb,
    s.gpus_for_memory::bigint as gpus_for_memory,
    s.gpus::bigint as gpus,
    s.billed_gpus,
    s.usd_per_gpu_hour * s.billed_gpus as deployment_usd_per_hour,
    u.utilization,
    s.tokens_per_second, s.roofline_tokens_per_second, s.roofline_bound, s.throughput_basis,
    s.measurement_source, s.measurement_model,
    s.prefill_tokens_per_second,
    blended_tokens_per_second(
        s.prefill_tokens_per_second, s.tokens_per_second, s.blend_input_share
    ) as blended_tokens_per_second,
    self_host_cost_per_mtok(s.usd_per_gpu_hour, s.billed_gpus, s.tokens_per_second, u.utilization)
        as usd_per_mtok,
    self_host_cost_per_mtok(
        s.usd_per_gpu_hour, s.billed_gpus, blended_tokens_per_second, u.utilization
    ) as usd_per_blended_mtok
from served s
cross join (select unnest(utilization_grid) as utilization from meta.assumptions) u
