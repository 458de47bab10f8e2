"""Real deployments and mixtures of experts, by hand: valid tensor-parallel degrees, whole instances,
the parameters a MoE decode step reads, and a roofline that reads one count and computes another."""

from __future__ import annotations

import pytest

from core import scalar


@pytest.mark.parametrize(
    ("needed", "degree"),
    [(0.4, 1), (1, 1), (1.2, 2), (2, 2), (3, 4), (4, 4), (5, 8), (7, 8), (8, 8), (9, 16), (13, 16), (17, 24)],
)
def test_tensor_parallel_degree_is_1_2_4_8_or_whole_nodes(needed, degree):
    assert scalar.tensor_parallel_gpus(needed) == degree


def test_no_degree_for_no_gpus():
    assert scalar.tensor_parallel_gpus(0) is None
    assert scalar.tensor_parallel_gpus(-3) is None


@pytest.mark.parametrize(
    ("tp", "instance", "billed"),
    [
        (1, 1, 1),  # one card, one replica
        (2, 8, 2),  # four 2-GPU replicas share an 8-GPU instance
        (4, 8, 4),
        (2, 3, 3),  # one 2-GPU replica on a 3-GPU instance pays for all 3
        (8, 8, 8),
        (16, 8, 16),  # two whole 8-GPU nodes: the 405B case that 13 GPUs understated
        (24, 16, 32),  # two 16-GPU instances, 8 cards idle
        (1, 4, 1),
    ],
)
def test_replicas_pay_for_whole_instances(tp, instance, billed):
    assert scalar.replica_billed_gpus(tp, instance) == billed


def test_a_replica_cannot_span_small_instances():
    # Four 1-GPU VMs are no tensor-parallel group; only 8-GPU nodes are joined.
    assert scalar.replica_billed_gpus(4, 1) is None
    assert scalar.replica_billed_gpus(8, 4) is None
    assert scalar.replica_billed_gpus(0, 8) is None


def test_the_405b_deployment_costs_16_cards_not_13():
    # 405B bf16 x 1.2 + its KV cache on 80 GB cards needs 13 cards' worth; the replica runs on 16, two
    # 8-GPU instances: the bill is 16/13 = 1.23x the one the GPU count alone gives (13/16: 19% understated).
    assert scalar.replica_billed_gpus(scalar.tensor_parallel_gpus(13), 8) == 16
    assert 1 - 13 / 16 == pytest.approx(0.1875)


def test_split_efficiency():
    assert scalar.split_efficiency(1, 0.75) == 1
    assert scalar.split_efficiency(2, 0.75) == 0.75
    assert scalar.split_efficiency(16, 0.75) == 0.75
    assert scalar.split_efficiency(0, 0.75) is None
    with pytest.raises(ValueError):
        scalar.split_efficiency(2, 1.5)


def test_dense_model_reads_all_its_parameters():
    assert scalar.moe_params_read_b(70, 70, 1, 1, 32) == 70


def test_moe_read_grows_from_active_to_total_with_the_batch():
    # DeepSeek-V3: 671B, 37B active, 256 experts, 8 per token. X = 634 / 248 = 2.5565B per expert,
    # shared S = 37 - 8 x 2.5565 = 16.548B.
    x = 634 / 248
    shared = 37 - 8 * x
    assert scalar.moe_params_read_b(671, 37, 256, 8, 1) == pytest.approx(37)
    # Batch 32: 1 - (248/256)^32 = 0.63795 of the experts are touched: 16.548 + 654.45 x 0.63795 = 434.05B,
    # 11.7x the 37B a single sequence reads.
    at_32 = shared + 256 * x * (1 - (1 - 8 / 256) ** 32)
    assert at_32 == pytest.approx(434.05, abs=0.01)
    assert scalar.moe_params_read_b(671, 37, 256, 8, 32) == pytest.approx(at_32)
    assert scalar.moe_params_read_b(671, 37, 256, 8, 100_000) == pytest.approx(671)


def test_moe_inconsistent_shapes_give_none():
    assert scalar.moe_params_read_b(10, 20, 8, 2, 4) is None  # active above total
    assert scalar.moe_params_read_b(16, 4, 2, 2, 4) is None  # every expert active, yet sparse
    assert scalar.moe_params_read_b(16, 1, 8, 2, 4) is None  # shared part 1 - 2 x 2.5 < 0
    assert scalar.moe_params_read_b(16, 4, 8, 2, 0) is None


def test_roofline_reads_one_count_and_computes_another():
    # 16B read (fp8, 1 byte), 4B computed, batch 64 on 1 TB/s and 100 TFLOPS, efficiencies 1, no KV:
    # memory 16e9 / 1e12 = 0.016 s; compute 2 x 4e9 x 64 / 1e14 = 0.00512 s -> memory-bound, 4,000 tokens/s.
    args = (16, 1, 1, 100, 64, 0, 1, 1)
    assert scalar.decode_step_seconds(*args, compute_params_b=4) == pytest.approx(0.016)
    assert scalar.decode_tokens_per_second(*args, compute_params_b=4) == pytest.approx(4000)
    assert scalar.roofline_bound(*args, compute_params_b=4) == "memory"
    # Computing all 16B: 2 x 16e9 x 64 / 1e14 = 0.02048 s -> compute-bound, 3,125 tokens/s.
    assert scalar.decode_tokens_per_second(*args) == pytest.approx(3125)
    assert scalar.roofline_bound(*args) == "compute"


def test_macros_agree_on_the_hand_numbers(duck):
    assert duck.execute("select tensor_parallel_gpus(13), replica_billed_gpus(16, 8)").fetchone() == (16, 16)
    got = duck.execute("select decode_tokens_per_second(16, 1, 1, 100, 64, 0, 1, 1, 4)").fetchone()[0]
    assert got == pytest.approx(4000)
