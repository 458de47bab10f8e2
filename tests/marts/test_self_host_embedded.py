"""Issue 14's acceptance checks on the embedded data, read from the shared offline refresh's snapshot."""

from __future__ import annotations

import duckdb
import pytest

pytestmark = pytest.mark.filterwarnings("ignore")

VALID_TP = {1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64}


@pytest.fixture(scope="module")
def snapshot(published_db):
    con = duckdb.connect(str(published_db), read_only=True)
    yield con
    con.close()


def test_no_self_host_row_has_an_invalid_gpu_count(snapshot):
    counts = {
        gpus for (gpus,) in snapshot.execute("select distinct gpus from marts.self_host_cost").fetchall()
    }
    assert counts <= VALID_TP
    short = snapshot.execute(
        "select count(*) from marts.self_host_cost where billed_gpus < gpus or gpus < gpus_for_memory"
    ).fetchone()[0]
    assert short == 0


def test_mixture_of_experts_classes_are_costed(snapshot):
    rows = dict(
        snapshot.execute(
            "select size_class, min(params_read_b / model_size_b) from marts.self_host_cost"
            " where active_params_b < model_size_b group by 1"
        ).fetchall()
    )
    assert set(rows) == {"deepseek-v3-671b", "qwen3-235b-a22b", "gpt-oss-120b"}
    # At batch 32 a step reads more than the active share and less than all of the weights.
    assert all(0 < share < 1 for share in rows.values())


def test_h200_measurements_are_calibrated_and_used(snapshot):
    n = snapshot.execute(
        "select count(*) from marts.throughput_calibration where accelerator = 'nvidia-h200-sxm-141gb'"
    ).fetchone()[0]
    assert n == 50
    # Llama-3-8B BF16, batch 1, 1,024 tokens: weights 16.06e9 B + KV 2 x 32 x 8 x 128 x 1,024 x 2 B over
    # 4.8e12 x 0.7 B/s (memory-bound): the roofline gives 1 / 0.0048197 s = 207.48 tokens/s; 178.5 measured.
    ratio = snapshot.execute(
        "select measured_to_roofline from marts.throughput_calibration where model = 'llama3-8b'"
        " and phase = 'decode' and batch = 1 and context_tokens = 1024"
    ).fetchone()[0]
    assert ratio == pytest.approx(178.5 * (16.06e9 + 2 * 32 * 8 * 128 * 1024 * 2) / 3.36e12, rel=1e-6)
    used = snapshot.execute(
        "select distinct tokens_per_second from marts.self_host_cost where throughput_basis = 'measured'"
        " and accelerator = 'nvidia-h200-sxm-141gb' and size_class = '8b' and dtype = 'bf16'"
    ).fetchall()
    assert used == [(3150.3,)]
