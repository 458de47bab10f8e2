-- description: One spec per canonical accelerator, the one every mart reads: the current curated spec where there is one (written from vendor datasheets, with sources), otherwise the current spec of the other source first in alphabetical order (Epoch AI today).
-- materialized: table
-- grain: accelerator
-- tests:
--   not_null(accelerator, spec_source)
--   range(memory_gb: 0..)
--   range(memory_bandwidth_tbps: 0..)
-- columns:
--   accelerator: Canonical accelerator id.
--   spec_source: Source of the spec (curated or epoch).
--   vendor: Accelerator vendor.
--   memory_gb: Memory per GPU, GB.
--   memory_bandwidth_tbps: Memory bandwidth per GPU, TB/s.
--   bf16_dense_tflops: Dense BF16 TFLOPS.
--   fp8_dense_tflops: Dense FP8 TFLOPS.
--   int8_dense_tops: Dense INT8 TOPS.
--   fp4_dense_tflops: Dense FP4 TFLOPS.
--   tdp_w: Thermal design power, watts.
--   interconnect: GPU-to-GPU interconnect.
--   release_date: Release date.
--   launch_price_usd: Launch price of one GPU, USD.
--   source_url: Where the spec comes from.
select
    accelerator, source as spec_source, vendor, memory_gb, memory_bandwidth_tbps, bf16_dense_tflops,
    fp8_dense_tflops, int8_dense_tops, fp4_dense_tflops, tdp_w, interconnect, release_date,
    launch_price_usd, source_url
from history.accelerators
where valid_to is null and accelerator is not null
qualify row_number() over (partition by accelerator order by source = 'curated' desc, source) = 1
