"""Self-hosting formulas: memory fit, KV cache, roofline decode throughput, prefill and blended throughput,
cost per million tokens."""

from __future__ import annotations

import pytest

from core import scalar

# NVIDIA H100 SXM5 80GB spec sheet: 3.35 TB/s HBM3, 989 dense BF16 TFLOPS, 1979 dense FP8 TFLOPS.
H100_TBPS, H100_BF16_TFLOPS, H100_FP8_TFLOPS = 3.35, 989.0, 1979.0
# Llama 3.x 70B: 80 layers, 8 KV heads of dimension 128 (grouped-query attention).
LAYERS_70B, KV_HEADS_70B, HEAD_DIM = 80, 8, 128


class TestGpusNeeded:
    @pytest.mark.parametrize(
        ("params_b", "bytes_per_param", "overhead", "memory_gb", "expected"),
        [
            (70, 2, 1.2, 80, 3),  # 168 GB / 80 GB = 2.1
            (70, 1, 1.2, 80, 2),  # 84 GB / 80 GB = 1.05
            (70, 0.5, 1.2, 80, 1),  # 42 GB
            (7, 2, 1.2, 24, 1),  # seed 002: 7B FP16 x 1.2 = 16.8 GB fits one 24 GB A10G
            (1000, 2, 1.2, 24, 100),  # seed 002: 1T x 2 x 1.2 = 2.4 TB
            (40, 2, 1.0, 80, 1),  # exactly full: one card, not two
            (3, 1.1, 1.0, 3.3, 1),  # 3 x 1.1 / 3.3 is 1.0000000000000002 in floating point
            (0, 2, 1.2, 80, 0),
        ],
    )
    def test_hand_computed(self, formula, params_b, bytes_per_param, overhead, memory_gb, expected):
        assert formula("gpus_needed", params_b, bytes_per_param, overhead, memory_gb) == expected

    def test_model_that_fits_nowhere_still_gets_a_count(self, formula):
        # A 1,000,000B-parameter model in BF16 on 24 GB cards: 2.4e6 GB / 24 GB.
        assert formula("gpus_needed", 1_000_000, 2, 1.2, 24) == 100_000

    @pytest.mark.parametrize("memory_gb", [0, -80, None])
    def test_no_memory_figure(self, formula, memory_gb):
        assert formula("gpus_needed", 70, 2, 1.2, memory_gb) is None


class TestKvCacheBytes:
    def test_seed_002_golden_70b_full_attention(self, formula):
        # Seed 002: 80 layers, hidden 8192 (= 64 heads x 128), FP16, batch 1: ~20 GiB at 8K, ~40 GiB at 16K.
        assert formula("kv_cache_bytes", 80, 64, 128, 8192, 1, 2) == 21_474_836_480
        assert formula("kv_cache_bytes", 80, 64, 128, 16384, 1, 2) == 42_949_672_960

    def test_grouped_query_attention_is_eight_times_smaller(self, formula):
        assert formula("kv_cache_bytes", 80, 8, 128, 8192, 1, 2) == 21_474_836_480 / 8

    def test_batch_multiplies(self, formula):
        # 2 x 80 x 8 x 128 x 2,048 x 8 x 2 bytes
        assert formula("kv_cache_bytes", LAYERS_70B, KV_HEADS_70B, HEAD_DIM, 2048, 8, 2) == 5_368_709_120


class TestRoofline:
    KV = 5_368_709_120.0  # 70B, 2,048 tokens of context, batch 8, BF16 cache (see TestKvCacheBytes)
    ARGS_70B_FP8 = (70, 1, H100_TBPS, H100_FP8_TFLOPS, 8, KV, 0.7, 0.45)

    def test_70b_fp8_on_one_h100_is_memory_bound(self, formula):
        # Bytes per step: 70e9 weights + 5.368709120e9 KV = 75.36870912e9, over 3.35e12 x 0.7 B/s.
        memory_s = formula("decode_memory_seconds", 70, 1, self.KV, H100_TBPS, 0.7)
        assert memory_s == pytest.approx(75.36870912e9 / 2.345e12, rel=1e-12)
        assert memory_s == pytest.approx(0.0321402, rel=1e-6)
        # FLOPs per step: 2 x 70e9 x 8 = 1.12e12, over 1979e12 x 0.45 FLOP/s.
        compute_s = formula("decode_compute_seconds", 70, 8, H100_FP8_TFLOPS, 0.45)
        assert compute_s == pytest.approx(1.12e12 / 8.9055e14, rel=1e-12)
        assert formula("decode_step_seconds", *self.ARGS_70B_FP8) == memory_s
        assert formula("decode_tokens_per_second", *self.ARGS_70B_FP8) == pytest.approx(248.9097, rel=1e-6)
        assert formula("roofline_bound", *self.ARGS_70B_FP8) == "memory"

    def test_seed_003_batch_one_bandwidth_ceiling(self, formula):
        # Seed 003: 70B FP16 reads ~140 GB per token; at 3 TB/s that caps decode at 3e12 / 140e9 = 21.43.
        assert formula("decode_tokens_per_second", 70, 2, 3.0, 989, 1, 0, 1.0, 1.0) == pytest.approx(
            21.428571, rel=1e-6
        )

    def test_huge_batch_of_small_model_is_compute_bound(self, formula):
        # Compute-bound throughput is tflops / (2 x params): 1979e12 / 2e9 = 989,500 tokens/s.
        args = (1, 1, H100_TBPS, H100_FP8_TFLOPS, 4096, 0, 1.0, 1.0)
        assert formula("decode_tokens_per_second", *args) == pytest.approx(989_500)
        assert formula("roofline_bound", *args) == "compute"

    def test_tie_counts_as_memory_bound(self, formula):
        # 2e9 bytes / 1e12 B/s = 2e9 FLOPs / 1e12 FLOP/s = 2 ms.
        assert formula("roofline_bound", 1, 2, 1, 1, 1, 0, 1.0, 1.0) == "memory"
        assert formula("decode_tokens_per_second", 1, 2, 1, 1, 1, 0, 1.0, 1.0) == pytest.approx(500)

    @pytest.mark.parametrize(
        "args",
        [
            (70, 1, H100_TBPS, None, 8, KV, 0.7, 0.45),  # no compute figure: no silent memory-only answer
            (70, 1, H100_TBPS, 0, 8, KV, 0.7, 0.45),
            (70, 1, 0, H100_FP8_TFLOPS, 8, KV, 0.7, 0.45),
            (70, 1, H100_TBPS, H100_FP8_TFLOPS, 0, KV, 0.7, 0.45),
            (70, 1, H100_TBPS, H100_FP8_TFLOPS, 8, KV, 0.0, 0.45),
        ],
    )
    def test_no_answer_without_hardware_or_work(self, formula, args):
        assert formula("decode_tokens_per_second", *args) is None
        assert formula("roofline_bound", *args) is None

    def test_efficiency_outside_unit_interval(self, sql):
        with pytest.raises(ValueError, match="bw_efficiency.*1.5"):
            scalar.decode_tokens_per_second(70, 1, H100_TBPS, H100_FP8_TFLOPS, 8, 0, 1.5, 0.45)
        assert sql("decode_tokens_per_second", 70, 1, H100_TBPS, H100_FP8_TFLOPS, 8, 0, 1.5, 0.45) is None


class TestPrefillAndBlend:
    def test_prefill_is_compute_bound(self, formula):
        # 70B in BF16 on one H100: 989e12 x 0.45 FLOP/s / (2 x 70e9 FLOP per token) = 445.05e12 / 140e9.
        assert formula("prefill_tokens_per_second", 70, H100_BF16_TFLOPS, 0.45) == pytest.approx(
            3178.928571, rel=1e-9
        )
        # FP8 on two H100s with the 0.75 multi-GPU factor: 2 x 1,979e12 x 0.45 x 0.75 / 140e9.
        assert formula("prefill_tokens_per_second", 70, 2 * H100_FP8_TFLOPS, 0.45 * 0.75) == pytest.approx(
            9541.607143, rel=1e-9
        )

    def test_prefill_of_a_compute_bound_decode_is_the_same_rate(self, formula):
        # Both cost 2 FLOPs per parameter per token, so at the compute ceiling they run at the same speed.
        args = (1, 1, H100_TBPS, H100_FP8_TFLOPS, 4096, 0, 1.0, 1.0)
        assert formula("prefill_tokens_per_second", 1, H100_FP8_TFLOPS, 1.0) == pytest.approx(
            scalar.decode_tokens_per_second(*args)
        )

    def test_blend_adds_times_not_rates(self, formula):
        # 0.75 / 3,178.93 + 0.25 / 996.6 = 2.35929e-4 + 2.50853e-4 = 4.86781e-4 s per token: 2,054.31
        # tokens/s, not the 0.75 x 3,178.93 + 0.25 x 996.6 = 2,633.3 an average of rates would give.
        prefill = scalar.prefill_tokens_per_second(70, H100_BF16_TFLOPS, 0.45)
        assert formula("blended_tokens_per_second", prefill, 996.6, 0.75) == pytest.approx(2054.31, rel=1e-6)

    # Half and half is the harmonic mean: 2 x 3,178.9 x 996.6 / (3,178.9 + 996.6) = 1,517.467.
    @pytest.mark.parametrize(("share", "expected"), [(0, 996.6), (1, 3178.9), (0.5, 1517.467005)])
    def test_all_output_all_input_and_half(self, formula, share, expected):
        assert formula("blended_tokens_per_second", 3178.9, 996.6, share) == pytest.approx(expected, rel=1e-9)

    def test_roofline_example_blended_cost(self, formula):
        # TestRoofline's 70B FP8 on one H100: prefill 1,979e12 x 0.45 / 140e9 = 6,361.07 tokens/s, decode
        # 248.9097. Per blended token 0.75 / 6,361.07 + 0.25 / 248.9097 = 1.17905e-4 + 1.00438e-3
        # = 1.12229e-3 s: 891.04 tokens/s. At $2.50/GPU-h and 60%: 2.5 x 1.12229e-3 / 2,160 x 1e6 = $1.2989,
        # against $4.6499 per output token (TestSelfHostCostPerMtok).
        prefill = formula("prefill_tokens_per_second", 70, H100_FP8_TFLOPS, 0.45)
        decode = scalar.decode_tokens_per_second(*TestRoofline.ARGS_70B_FP8)
        blended = formula("blended_tokens_per_second", prefill, decode, 0.75)
        assert blended == pytest.approx(891.0392, rel=1e-6)
        assert formula("self_host_cost_per_mtok", 2.5, 1, blended, 0.6) == pytest.approx(1.298941, rel=1e-6)

    @pytest.mark.parametrize(
        ("params_b", "tflops", "efficiency"),
        [
            (0, 989, 0.45),
            (-70, 989, 0.45),
            (70, None, 0.45),
            (70, 0, 0.45),
            (70, 989, 0.0),
            (None, 989, 0.45),
        ],
    )
    def test_no_prefill_rate_without_a_model_or_compute(self, formula, params_b, tflops, efficiency):
        assert formula("prefill_tokens_per_second", params_b, tflops, efficiency) is None

    @pytest.mark.parametrize(("prefill", "decode"), [(0, 996.6), (3178.9, 0), (-1, 996.6), (3178.9, None)])
    def test_no_blend_without_both_rates(self, formula, prefill, decode):
        assert formula("blended_tokens_per_second", prefill, decode, 0.75) is None

    def test_shares_outside_unit_interval(self, sql):
        with pytest.raises(ValueError, match="compute_efficiency.*1.5"):
            scalar.prefill_tokens_per_second(70, H100_BF16_TFLOPS, 1.5)
        assert sql("prefill_tokens_per_second", 70, H100_BF16_TFLOPS, 1.5) is None
        with pytest.raises(ValueError, match="input_share.*-0.1"):
            scalar.blended_tokens_per_second(3178.9, 996.6, -0.1)
        assert sql("blended_tokens_per_second", 3178.9, 996.6, -0.1) is None


class TestSelfHostCostPerMtok:
    def test_hand_computed(self, formula):
        # $2/GPU-h x 2 GPUs / (1,000 tok/s x 3,600 s x 0.5) x 1e6 = 4 / 1.8e6 x 1e6
        assert formula("self_host_cost_per_mtok", 2.0, 2, 1000, 0.5) == pytest.approx(2.222222, rel=1e-6)

    def test_roofline_example(self, formula):
        # The 70B FP8 H100 example at $2.50/GPU-h and 60% utilization: 2.5 / (248.9097 x 3600 x 0.6) x 1e6.
        tps = scalar.decode_tokens_per_second(*TestRoofline.ARGS_70B_FP8)
        assert formula("self_host_cost_per_mtok", 2.5, 1, tps, 0.6) == pytest.approx(4.649910, rel=1e-6)

    @pytest.mark.parametrize(("tps", "utilization"), [(1000, 0), (0, 0.5)])
    def test_idle_hardware_has_no_finite_cost(self, formula, tps, utilization):
        assert formula("self_host_cost_per_mtok", 2.0, 1, tps, utilization) is None

    def test_utilization_above_one(self, sql):
        with pytest.raises(ValueError, match="utilization.*1.2"):
            scalar.self_host_cost_per_mtok(2.0, 1, 1000, 1.2)
        assert sql("self_host_cost_per_mtok", 2.0, 1, 1000, 1.2) is None
