"""marts.self_host_operating_points on the tiny warehouse of conftest.py: bandwidth and compute efficiency
0.5, memory overhead 1.25, the 8b class's KV cache 0.25 GB per sequence at 10,000 tokens
(2 x 10 layers x 5 heads x 125 dims x 10,000 x 2 bytes). Every number is worked by hand.

test-gpu40: 40 GB, 2 TB/s, 500 BF16 / 1,000 FP8 TFLOPS, cheapest on-demand rent $2.00 per GPU-hour.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

GRID = """
batch_grid = [1, 4, 16, 128]
context_grid = [10000]
latency_target_ms_per_token = 10.0
"""


@pytest.fixture
def wh(tiny, tmp_path, monkeypatch):
    path = tmp_path / "grid.toml"
    path.write_text(GRID + Path(os.environ["COSTCURVE_ASSUMPTIONS"]).read_text())
    monkeypatch.setenv("COSTCURVE_ASSUMPTIONS", str(path))
    tiny.card(
        "test-gpu40", memory_gb=40, memory_bandwidth_tbps=2, bf16_dense_tflops=500, fp8_dense_tflops=1000
    )
    tiny.rate("cloudx", "x1", "test-gpu40", 2.00, 1, date(2026, 1, 1))
    tiny.build("self_host_operating_points")
    return tiny


def points(wh, dtype: str) -> dict[int, dict]:
    rows = wh.rows(
        "select * from marts.self_host_operating_points where size_class = '8b' and dtype = ?", [dtype]
    )
    return {r["batch_size"]: r for r in rows}


def test_the_batch_is_limited_by_what_fits_beside_the_weights(wh):
    fp8, bf16 = points(wh, "fp8"), points(wh, "bf16")
    # fp8: weights 8 x 1 x 1.25 = 10 GB on one 40 GB card, (40 - 10) / 0.25 = 120 sequences.
    assert {r["gpus"] for r in fp8.values()} == {1}
    assert fp8[1]["max_batch"] == 120 and fp8[1]["kv_cache_gb_per_sequence"] == pytest.approx(0.25)
    assert [b for b, r in sorted(fp8.items()) if r["fits_memory"]] == [1, 4, 16]
    # Batch 128 does not fit: no throughput, no cost.
    assert (fp8[128]["tokens_per_second"], fp8[128]["usd_per_mtok"], fp8[128]["meets_latency"]) == (
        None,
        None,
        False,
    )
    # bf16: 20 GB of weights leave room for (40 - 20) / 0.25 = 80.
    assert bf16[1]["max_batch"] == 80


def test_latency_and_cost_at_each_point(wh):
    fp8 = points(wh, "fp8")
    # A decode step reads the weights and the batch's KV cache at 2 TB/s x 0.5:
    # batch 1 (8 + 0.25) GB -> 8.25 ms, batch 4 9 ms, batch 16 12 ms (compute, 0.26 ms, never binds).
    assert [fp8[b]["ms_per_token"] for b in (1, 4, 16)] == [
        pytest.approx(8.25),
        pytest.approx(9.0),
        pytest.approx(12.0),
    ]
    assert fp8[16]["tokens_per_second"] == pytest.approx(16 / 0.012)
    assert fp8[16]["roofline_bound"] == "memory"
    # $2.00 / (444.44 tokens/s x 3600) x 1e6 = $1.25 per million output tokens at batch 4.
    assert fp8[4]["usd_per_mtok"] == pytest.approx(1.25)
    assert fp8[16]["usd_per_mtok"] == pytest.approx(2.0 / (16 / 0.012 * 3600) * 1e6)


def test_the_cheapest_point_meeting_the_latency_target(wh):
    fp8, bf16 = points(wh, "fp8"), points(wh, "bf16")
    # 10 ms per token: batches 1 and 4 meet it, 16 (12 ms) is cheaper but too slow.
    assert [b for b, r in sorted(fp8.items()) if r["meets_latency"]] == [1, 4]
    assert [b for b, r in sorted(fp8.items()) if r["cheapest_meeting_target"]] == [4]
    # bf16 reads 16 GB of weights a step: 16.25 ms at batch 1, no point meets the target.
    assert bf16[1]["ms_per_token"] == pytest.approx(16.25)
    assert not any(r["cheapest_meeting_target"] for r in bf16.values())


def test_without_a_target_the_cheapest_point_that_fits_wins(wh, tmp_path, monkeypatch):
    path = tmp_path / "no_target.toml"
    text = Path(os.environ["COSTCURVE_ASSUMPTIONS"]).read_text()
    path.write_text(text.replace("latency_target_ms_per_token = 10.0", "latency_target_ms_per_token = 0.0"))
    monkeypatch.setenv("COSTCURVE_ASSUMPTIONS", str(path))
    wh.build("self_host_operating_points")
    fp8 = points(wh, "fp8")
    assert [b for b, r in sorted(fp8.items()) if r["cheapest_meeting_target"]] == [16]
