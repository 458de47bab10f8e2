"""Epoch AI's hardware names map to their own canonical parts, with Epoch's figures.

The fixture copies rows of Epoch's real file (2025-11-14, 'ML models' emptied): parts that had no
canonical id before (Ascend 910C, Trainium2, B100, MI308X, V100 DGXS), China-market look-alikes
of other parts (A800, H20) and a CPU (Sunway SW26010-Pro), which is no accelerator.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from sources import accelerator_specs, epoch

FIXTURE = Path(__file__).parents[1] / "fixtures" / "hardware" / "epoch_ml_hardware_identity.csv"
COLUMNS = (
    "memory_gb",
    "memory_bandwidth_tbps",
    "bf16_dense_tflops",
    "fp8_dense_tflops",
    "int8_dense_tops",
    "fp4_dense_tflops",
    "tdp_w",
    "release_date",
    "launch_price_usd",
)
# Epoch name -> canonical id and Epoch's figures in COLUMNS order (units converted by sources.epoch).
EXPECTED = {
    "Huawei Ascend 910C": (
        "huawei-ascend-910c-128gb",
        (128, Decimal("3.2"), None, None, None, None, 700, date(2024, 10, 15), None),
    ),
    "Amazon Trainium2": (
        "aws-trainium2-96gb",
        (96, Decimal("2.9"), 667, 1299, None, None, 500, date(2024, 12, 3), None),
    ),
    "NVIDIA B100": (
        "nvidia-b100-192gb",
        (192, 8, 1750, 3500, 3500, 7000, 700, date(2024, 11, 15), 35000),
    ),
    "AMD Radeon Instinct MI308X": (
        "amd-mi308x-192gb",
        (192, Decimal("10.3"), None, None, None, None, 750, date(2023, 12, 6), None),
    ),
    "NVIDIA A800 SXM": (
        "nvidia-a800-sxm-80gb",
        (None, Decimal("2.04"), Decimal("311.8"), None, None, None, 400, date(2022, 8, 11), None),
    ),
    "NVIDIA HGX H20": (
        "nvidia-h20-96gb",
        (96, 4, 148, None, 296, None, 400, date(2023, 11, 9), 12000),
    ),
    "NVIDIA Tesla V100 DGXS 16 GB": (
        "nvidia-v100-dgxs-16gb",
        (16, Decimal("0.897"), 125, None, None, None, 250, date(2018, 3, 27), None),
    ),
    "NVIDIA Tesla V100 DGXS 32 GB": (
        "nvidia-v100-dgxs-32gb",
        (32, Decimal("0.897"), 125, None, None, None, 250, date(2018, 3, 27), None),
    ),
}
# Parts first described by these Epoch rows: the curated catalog carries the same figures.
NEW_PARTS = (
    "Huawei Ascend 910C",
    "Amazon Trainium2",
    "NVIDIA B100",
    "AMD Radeon Instinct MI308X",
    "NVIDIA Tesla V100 DGXS 16 GB",
    "NVIDIA Tesla V100 DGXS 32 GB",
)


@pytest.fixture(scope="module")
def parsed():
    return epoch.parse(
        FIXTURE.read_bytes(), observed_at=datetime(2026, 5, 20, tzinfo=UTC), origin=epoch.LIVE_URL
    )


@pytest.fixture(scope="module")
def curated():
    embedded = accelerator_specs.embedded()[0]
    specs = accelerator_specs.parse(embedded.body, observed_at=datetime(2026, 1, 1), origin=embedded.url)
    return {row["accelerator"]: row for row in specs.rows.iter_rows(named=True)}


def test_each_epoch_name_maps_to_its_own_part_with_epochs_figures(parsed):
    got = {row["accelerator"]: tuple(row[c] for c in COLUMNS) for row in parsed.rows.iter_rows(named=True)}
    assert got == dict(EXPECTED.values())
    assert parsed.rejects == []


def test_china_market_parts_are_not_their_look_alikes(parsed):
    accelerators = set(parsed.rows["accelerator"])
    assert {"nvidia-a800-sxm-80gb", "nvidia-h20-96gb"} <= accelerators
    assert accelerators.isdisjoint({"nvidia-a100-sxm-80gb", "nvidia-h200-sxm-141gb"})


def test_memory_variants_stay_apart(parsed):
    memory = dict(zip(parsed.rows["accelerator"], parsed.rows["memory_gb"], strict=True))
    assert memory["nvidia-v100-dgxs-16gb"] == 16
    assert memory["nvidia-v100-dgxs-32gb"] == 32
    # The DGX Station part (250 W) is not the SXM2 module (300 W) that shares its memory sizes.
    assert "nvidia-v100-sxm2-16gb" not in memory


def test_a_cpu_stays_unmapped_and_is_named_in_the_warning(parsed):
    assert parsed.warnings == [
        "1 hardware rows have no canonical accelerator id and were left out: Sunway SW26010-Pro"
    ]
    assert parsed.rows.height == len(EXPECTED) == 8


def test_the_curated_row_of_a_new_part_carries_epochs_figures_and_link(parsed, curated):
    by_id = {row["accelerator"]: row for row in parsed.rows.iter_rows(named=True)}
    for name in NEW_PARTS:
        accelerator = EXPECTED[name][0]
        row = curated[accelerator]
        assert tuple(row[c] for c in COLUMNS) == EXPECTED[name][1], name
        assert row["source_url"] == by_id[accelerator]["source_url"], name
        assert row["vendor"] == accelerator.split("-")[0]
    assert curated["huawei-ascend-910c-128gb"]["source_url"] == (
        "https://www.trendforce.com/news/2025/03/13/"
        "news-huaweis-ascend-910c-takes-on-nvidia-as-chinas-ai-race-heats-up-more-alleged-details/"
    )
