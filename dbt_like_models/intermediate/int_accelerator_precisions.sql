-- description: What each accelerator offers each weight precision of the assumption set (meta.dtypes): the precision its matrix multiplies run in and the dense TFLOPS of that precision, from the spec of record. The one rule the self-hosting marts share for turning a weight precision into a compute ceiling. A precision the accelerator cannot compute in (fp8 without FP8 tensor cores) has a null dense_tflops.
-- materialized: table
-- grain: accelerator, dtype
-- tests:
--   not_null(accelerator, dtype, bytes_per_param, compute_dtype)
--   range(dense_tflops: 0..)
-- columns:
--   accelerator: Canonical accelerator id.
--   dtype: Weight precision (meta.dtypes).
--   bytes_per_param: Bytes per weight in that precision.
--   compute_dtype: Precision the matrix multiplies run in: fp8, fp4 and int8 run natively; bf16 and weight-only int4 multiply in bf16.
--   memory_gb: Memory per GPU, GB.
--   memory_bandwidth_tbps: Memory bandwidth per GPU, TB/s.
--   dense_tflops: Dense TFLOPS per GPU in compute_dtype; null where the spec has no figure for it.
select
    s.accelerator, d.dtype, d.bytes_per_param,
    case when d.dtype in ('fp8', 'fp4', 'int8') then d.dtype else 'bf16' end as compute_dtype,
    s.memory_gb::double as memory_gb,
    s.memory_bandwidth_tbps::double as memory_bandwidth_tbps,
    case d.dtype
        when 'fp8' then s.fp8_dense_tflops
        when 'fp4' then s.fp4_dense_tflops
        when 'int8' then s.int8_dense_tops
        else s.bf16_dense_tflops
    end::double as dense_tflops
from intermediate.int_accelerator_spec_of_record s
cross join meta.dtypes d
