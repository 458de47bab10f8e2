-- description: The roofline against measurement, in public: for every current row of history.throughput_measurements of a dense model whose accelerator has a spec and whose shape (layers, KV heads, head dimension) is stated, the throughput the project's roofline predicts for the same accelerator, GPU count, precision, batch and context with the assumption set's efficiencies, and measured / roofline. Decode rows compare with decode_tokens_per_second, prefill rows with prefill_tokens_per_second, serving rows (whole requests, prefill included) with the output tokens per second of prefill and decode taking turns. Absent: mixture-of-experts measurements (the table does not state their expert counts), measurements of an unmapped accelerator or of a precision outside meta.dtypes. See docs/methodology.md, "Measured throughput".
-- materialized: table
-- grain: source, accelerator_name, gpus, engine, engine_version, model, dtype, phase, batch, context_tokens, prompt_tokens
-- tests:
--   not_null(assumption_set_id, source, accelerator, gpus, engine, model, params_b, dtype, phase, batch, context_tokens, measured_on, measured_tokens_per_second, roofline_tokens_per_second, roofline_bound, measured_to_roofline)
--   accepted_values(phase: decode, prefill, serving)
--   accepted_values(roofline_bound: memory, compute)
--   range(measured_to_roofline: 0..)
-- columns:
--   assumption_set_id: The assumption set (meta.assumptions) whose efficiencies the roofline used.
--   source: Who published or took the measurement.
--   accelerator_name: The accelerator as the measurement names it.
--   accelerator: Canonical accelerator id.
--   gpus: Accelerators the model ran on.
--   engine: Serving engine or framework.
--   engine_version: Its version; '' when not stated.
--   model: The model or shape measured.
--   params_b: Parameters, billions.
--   dtype: Weight precision.
--   phase: decode, prefill or serving (see history.throughput_measurements).
--   batch: Concurrent sequences or requests.
--   context_tokens: Tokens in each sequence's context (history.throughput_measurements).
--   prompt_tokens: Prompt tokens per request; 0 for decode.
--   output_tokens: Output tokens per request (serving); null otherwise.
--   measured_on: Date of the measurement or publication.
--   measured_tokens_per_second: The measurement: output tokens/s (decode, serving) or prompt tokens/s (prefill) of all its GPUs.
--   roofline_tokens_per_second: The roofline for the same setting. decode: decode_tokens_per_second(params_b, bytes_per_param, gpus x bandwidth, gpus x dense_tflops, batch, kv_cache_bytes(layers, kv_heads, head_dim, context_tokens, batch, kv_bytes_per_elem), bw_efficiency x s, compute_efficiency x s), s = split_efficiency(gpus, multi_gpu_efficiency). prefill: prefill_tokens_per_second(params_b, gpus x dense_tflops, compute_efficiency x s). serving: blended_tokens_per_second(prefill, decode at a context of prompt + output / 2, prompt / (prompt + output)) x output / (prompt + output), the output tokens of requests whose prefill and decode take turns.
--   roofline_bound: Which ceiling sets the roofline's decode (memory or compute); compute for prefill.
--   measured_to_roofline: measured_tokens_per_second / roofline_tokens_per_second: above 1, the hardware beat the assumed efficiencies; below, it fell short.
--   source_url: Where the measurement can be checked.
with settings as (
    select
        m.*, p.bytes_per_param, p.memory_bandwidth_tbps, p.dense_tflops,
        split_efficiency(m.gpus, a.multi_gpu_efficiency) as split,
        -- A decode step of a serving run attends, on average, over its prompt and half its output.
        case m.phase
            when 'serving' then m.prompt_tokens + m.output_tokens / 2
            else m.context_tokens
        end as decode_context,
        a.assumption_set_id, a.bw_efficiency, a.compute_efficiency, a.kv_bytes_per_elem
    from history.throughput_measurements m
    join intermediate.int_accelerator_precisions p on p.accelerator = m.accelerator and p.dtype = m.dtype
    cross join meta.assumptions a
    where m.valid_to is null and m.active_params_b = m.params_b
      and m.layers is not null and m.kv_heads is not null and m.head_dim is not null
),
rooflines as (
    select *,
           decode_tokens_per_second(
               params_b, bytes_per_param, gpus * memory_bandwidth_tbps, gpus * dense_tflops, batch,
               kv_cache_bytes(layers, kv_heads, head_dim, decode_context, batch, kv_bytes_per_elem),
               bw_efficiency * split, compute_efficiency * split
           ) as decode_roofline,
           roofline_bound(
               params_b, bytes_per_param, gpus * memory_bandwidth_tbps, gpus * dense_tflops, batch,
               kv_cache_bytes(layers, kv_heads, head_dim, decode_context, batch, kv_bytes_per_elem),
               bw_efficiency * split, compute_efficiency * split
           ) as decode_bound,
           prefill_tokens_per_second(params_b, gpus * dense_tflops, compute_efficiency * split) as prefill_roofline
    from settings
),
compared as (
    select *,
           case phase
               when 'decode' then decode_roofline
               when 'prefill' then prefill_roofline
               else blended_tokens_per_second(
                   prefill_roofline, decode_roofline, prompt_tokens / (prompt_tokens + output_tokens)
               ) * output_tokens / (prompt_tokens + output_tokens)
           end as roofline_tokens_per_second,
           case when phase = 'prefill' then 'compute' else decode_bound end as roofline_bound
    from rooflines
)
select
    assumption_set_id, source, accelerator_name, accelerator, gpus, engine, engine_version, model, params_b,
    dtype, phase, batch, context_tokens, prompt_tokens, output_tokens, measured_on,
    tokens_per_second::double as measured_tokens_per_second,
    roofline_tokens_per_second, roofline_bound,
    tokens_per_second::double / roofline_tokens_per_second as measured_to_roofline,
    source_url
from compared
where roofline_tokens_per_second > 0
