-- description: GPU rental offers in effect on the build date (build_date()), one row per source, provider, instance type, region, zone and pricing type, with the spec of record of their accelerator (intermediate.int_accelerator_spec_of_record). Offers whose accelerator maps to nothing are left out (marts.unmapped_accelerators lists them).
-- materialized: table
-- grain: source, provider, instance_type, region, zone, pricing_type
-- tests:
--   not_null(source, provider, instance_type, region, pricing_type, accelerator, gpu_count, usd_per_instance_hour, usd_per_gpu_hour, last_seen_at)
--   range(usd_per_gpu_hour: 0..)
-- columns:
--   source: Upstream the rate came from.
--   provider: Cloud or marketplace renting the GPU.
--   instance_type: Instance, SKU or offer id.
--   region: Cloud region or location; '' when not regional.
--   zone: Availability zone within the region; null where the source prices per region.
--   pricing_type: on_demand, spot, reserved_1y, reserved_3y, committed_<N>m or marketplace.
--   accelerator: Canonical accelerator id.
--   vendor: Accelerator vendor.
--   gpu_count: GPUs in the instance (fractional for shared GPUs).
--   usd_per_instance_hour: Price of the whole instance per hour.
--   usd_per_gpu_hour: Price per GPU-hour.
--   memory_gb: Memory per GPU in GB.
--   memory_bandwidth_tbps: Memory bandwidth per GPU in TB/s.
--   bf16_dense_tflops: Dense BF16 TFLOPS per GPU.
--   usd_per_tbps_hour: usd_per_gpu_hour / memory_bandwidth_tbps: the cost of one TB/s of memory bandwidth for an hour.
--   rate_since: Date this rate took effect (declared or first observed).
--   last_seen_at: When a payload last carried this rate.
select
    r.source, r.provider, r.instance_type, r.region, r.zone, r.pricing_type, r.accelerator, s.vendor,
    r.gpu_count, r.usd_per_instance_hour, r.usd_per_gpu_hour,
    s.memory_gb, s.memory_bandwidth_tbps, s.bf16_dense_tflops,
    round(r.usd_per_gpu_hour / nullif(s.memory_bandwidth_tbps, 0), 6) as usd_per_tbps_hour,
    r.valid_from as rate_since, r.last_seen_at
from history.gpu_rates r
left join intermediate.int_accelerator_spec_of_record s on s.accelerator = r.accelerator
where r.accelerator is not null and in_effect(r.valid_from, r.valid_to, build_date())
