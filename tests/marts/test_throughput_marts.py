"""Measured throughput in marts.self_host_cost and marts.throughput_calibration, and mixture-of-experts
size classes, on the tiny warehouse of conftest.py (bw and compute efficiency 0.5, batch 4, context
10,000, multi-GPU 0.8, overhead 1.25; the 8b class's KV cache is 1 GB). Every number is worked by hand.

test-gpu40: 40 GB, 2 TB/s, 500 BF16 / 1,000 FP8 TFLOPS. The 8b roofline in fp8 on one card:
(8e9 + 1e9) / (2e12 x 0.5) = 0.009 s a step, 4 / 0.009 = 444.44 tokens/s.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

SINCE = date(2026, 1, 1)

# A mixture of experts: 16B total, 4B active, 8 routed experts of which 2 per token. Per expert
# X = (16 - 4) / (8 - 2) = 2B, shared S = 4 - 2 x 2 = 0. A step of 4 sequences reads
# 0 + 8 x 2 x (1 - (1 - 2/8)^4) = 16 x 0.68359375 = 10.9375B parameters.
MOE = """
[size_classes.moe]
params_b = 16.0
active_params_b = 4.0
experts = 8
experts_per_token = 2
layers = 10
kv_heads = 5
head_dim = 125
reference_api_models = ["acme/acme-1"]
"""


def measurement(wh, **values) -> None:
    row = {
        "source": "lab",
        "accelerator_name": "test-gpu40",
        "accelerator": "test-gpu40",
        "gpus": 1,
        "engine": "vllm",
        "engine_version": "0.1",
        "model": "shape-8b",
        "params_b": 8.0,
        "active_params_b": 8.0,
        "layers": 10,
        "kv_heads": 5,
        "head_dim": 125,
        "dtype": "fp8",
        "phase": "decode",
        "batch": 4,
        "context_tokens": 10_000,
        "prompt_tokens": 0,
        "measured_on": SINCE,
        "valid_from": SINCE,
        "source_url": "https://example.test/bench",
    }
    wh.insert("throughput_measurements", **(row | values))


@pytest.fixture
def wh(tiny, tmp_path, monkeypatch):
    # The tiny warehouse's assumption set plus one mixture-of-experts class.
    path = tmp_path / "moe_assumptions.toml"
    path.write_text(Path(os.environ["COSTCURVE_ASSUMPTIONS"]).read_text() + MOE)
    monkeypatch.setenv("COSTCURVE_ASSUMPTIONS", str(path))
    tiny.card(
        "test-gpu40", memory_gb=40, memory_bandwidth_tbps=2, bf16_dense_tflops=500, fp8_dense_tflops=1000
    )
    tiny.rate("cloudx", "x1", "test-gpu40", 2.00, 1, SINCE)
    tiny.rate("gcp", "bb8", "test-gpu40", 2.50, 8, SINCE)
    # fp8 decode at the assumed point: used.
    measurement(tiny, tokens_per_second=300)
    # The same on two cards: another deployment, never matched to a one-card replica.
    measurement(tiny, gpus=2, tokens_per_second=5000)
    # bf16 at batch 6 (50% off batch 4, beyond the 25% tolerance) and at batch 5 (25% off: inside).
    measurement(tiny, dtype="bf16", batch=6, tokens_per_second=999)
    measurement(tiny, dtype="bf16", batch=5, tokens_per_second=200)
    # A prefill and a serving measurement, for the calibration mart only.
    measurement(
        tiny,
        dtype="bf16",
        phase="prefill",
        batch=1,
        context_tokens=2000,
        prompt_tokens=2000,
        tokens_per_second=10_000,
    )
    measurement(
        tiny,
        phase="serving",
        context_tokens=4000,
        prompt_tokens=3000,
        output_tokens=1000,
        tokens_per_second=400,
    )
    counts = tiny.build("self_host_cost", "throughput_calibration")
    assert all(counts.values()), counts
    return tiny


def cost(wh, provider: str, size: str, dtype: str) -> dict:
    (row,) = wh.rows(
        "select * from marts.self_host_cost where provider = ? and size_class = ? and dtype = ?"
        " and utilization = 0.5",
        [provider, size, dtype],
    )
    return row


def test_a_matching_measurement_replaces_the_roofline(wh):
    row = cost(wh, "cloudx", "8b", "fp8")
    assert (row["throughput_basis"], row["measurement_source"], row["measurement_model"]) == (
        "measured",
        "lab",
        "shape-8b",
    )
    assert row["tokens_per_second"] == pytest.approx(300)
    assert row["roofline_tokens_per_second"] == pytest.approx(4 / 0.009)
    # $2 x 1 / (300 x 3600 x 0.5) x 1e6 = $3.7037 per million output tokens.
    assert row["usd_per_mtok"] == pytest.approx(2e6 / (300 * 1800))
    # The blend takes the measured decode: 0.75 / 31,250 (fp8 prefill roofline) + 0.25 / 300.
    assert row["blended_tokens_per_second"] == pytest.approx(1 / (0.75 / 31_250 + 0.25 / 300))


def test_the_closest_measurement_within_tolerance_wins(wh):
    row = cost(wh, "cloudx", "8b", "bf16")
    assert (row["throughput_basis"], row["tokens_per_second"]) == ("measured", pytest.approx(200))


def test_no_measurement_of_a_shape_leaves_the_roofline(wh):
    row = cost(wh, "gcp", "200b", "fp8")
    assert (row["throughput_basis"], row["measurement_source"]) == ("roofline", None)
    assert row["tokens_per_second"] == row["roofline_tokens_per_second"]


def test_mixture_of_experts_memory_from_total_bandwidth_and_flops_from_active(wh):
    row = cost(wh, "cloudx", "moe", "fp8")
    # Memory: 16 x 1 x 1.25 + 1 GB KV = 21 GB, one card (the 4B active alone would suggest 6 GB).
    assert (row["model_size_b"], row["active_params_b"], row["gpus"]) == (16.0, 4.0, 1)
    assert row["params_read_b"] == pytest.approx(10.9375)
    # Step: (10.9375e9 + 1e9) / 1e12 = 0.0119375 s against 2 x 4e9 x 4 / 5e14 = 6.4e-5 s of compute.
    assert row["tokens_per_second"] == pytest.approx(4 / 0.0119375)
    assert row["roofline_bound"] == "memory"
    # Prefill runs the active parameters: 1,000e12 x 0.5 / (2 x 4e9) = 62,500 tokens/s.
    assert row["prefill_tokens_per_second"] == pytest.approx(62_500)
    # bf16: 16 x 2 x 1.25 + 1 = 41 GB, two cards: only gcp's 8-card instance hosts them (4 replicas).
    (bf16,) = wh.rows(
        "select * from marts.self_host_cost where size_class = 'moe' and dtype = 'bf16' and utilization = 0.5"
    )
    assert (bf16["provider"], bf16["gpus"], bf16["billed_gpus"]) == ("gcp", 2, 2.0)


def test_calibration_compares_each_phase_with_its_roofline(wh):
    rows = {
        (r["phase"], r["dtype"], r["gpus"], r["batch"]): r
        for r in wh.rows("select * from marts.throughput_calibration")
    }
    decode = rows[("decode", "fp8", 1, 4)]
    assert decode["roofline_tokens_per_second"] == pytest.approx(4 / 0.009)
    assert decode["measured_to_roofline"] == pytest.approx(300 * 0.009 / 4)  # 0.675
    # Batch 5 in bf16: (16e9 + 1.25e9 KV) / 1e12 = 0.01725 s, 5 / 0.01725 = 289.86 tokens/s.
    assert rows[("decode", "bf16", 1, 5)]["roofline_tokens_per_second"] == pytest.approx(5 / 0.01725)
    # Two cards, split x 0.8: (8e9 + 1e9) / (4e12 x 0.4) = 0.005625 s, 711.1 tokens/s.
    assert rows[("decode", "fp8", 2, 4)]["roofline_tokens_per_second"] == pytest.approx(4 / 0.005625)
    # Prefill in bf16: 500e12 x 0.5 / 16e9 = 15,625 tokens/s against 10,000 measured.
    prefill = rows[("prefill", "bf16", 1, 1)]
    assert (prefill["roofline_tokens_per_second"], prefill["roofline_bound"]) == (
        pytest.approx(15_625),
        "compute",
    )
    assert prefill["measured_to_roofline"] == pytest.approx(0.64)
    # Serving 3,000 in / 1,000 out: decode at a context of 3,500 (KV 0.35 GB): (8e9 + 0.35e9) / 1e12 =
    # 8.35e-3 s, 479.04 tokens/s; prefill 31,250. Output tokens/s: 0.25 / (0.75 / 31,250 + 0.25 / 479.04).
    serving = rows[("serving", "fp8", 1, 4)]
    expected = 0.25 / (0.75 / 31_250 + 0.25 * 8.35e-3 / 4)
    assert serving["roofline_tokens_per_second"] == pytest.approx(expected)
    assert serving["measured_to_roofline"] == pytest.approx(400 / expected)
    assert len(rows) == 6
