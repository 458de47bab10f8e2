from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import polars as pl

from sources import accelerator_specs
from sources.http import Http

FIXTURE = Path(__file__).parents[1] / "fixtures" / "hardware" / "accelerators_curated.csv"
NOW = datetime(2026, 5, 20, tzinfo=UTC)


def parse(body: bytes):
    return accelerator_specs.parse(body, observed_at=NOW, origin=str(FIXTURE))


def test_fixture_rows_and_rejects():
    result = parse(FIXTURE.read_bytes())
    assert result.rows["accelerator"].to_list() == ["nvidia-h100-sxm-80gb"]
    row = result.rows.row(0, named=True)
    assert (row["source"], row["memory_gb"], row["bf16_dense_tflops"]) == (
        "curated",
        Decimal("80"),
        Decimal("989.4"),
    )
    assert (row["interconnect"], row["release_date"]) == ("NVLink 4 (900 GB/s)", date(2022, 9, 20))
    assert row["fp4_dense_tflops"] is None
    assert sorted((r.rule, r.field) for r in result.rejects) == [
        ("bad_date", "release_date"),
        ("duplicate_key", None),  # the key as a whole: Reject.key names it
        ("missing_field", "accelerator"),
        ("not_a_number", "bf16_dense_tflops"),
    ]
    duplicate = next(r for r in result.rejects if r.rule == "duplicate_key")
    assert duplicate.key == {"source": "curated", "accelerator": "nvidia-h100-sxm-80gb"}


def test_embedded_catalog_has_the_reference_accelerators_with_dense_values():
    [embedded] = accelerator_specs.embedded()
    result = parse(embedded.body)
    assert result.rejects == [] and result.warnings == []
    rows = result.rows
    assert rows.height >= 18
    assert rows["source_url"].null_count() == 0
    assert rows["vendor"].null_count() == 0

    def value(accelerator: str, column: str):
        return rows.filter(pl.col("accelerator") == accelerator)[column].item()

    assert value("nvidia-h100-sxm-80gb", "bf16_dense_tflops") == Decimal("989.4")  # not the 1979 sparse
    assert value("nvidia-h100-sxm-80gb", "memory_bandwidth_tbps") == Decimal("3.35")
    assert value("amd-mi300x-192gb", "bf16_dense_tflops") == Decimal("1307.4")  # not the 2614.9 sparse
    assert value("nvidia-a100-sxm-40gb", "memory_gb") == Decimal("40")
    assert value("nvidia-b200-180gb", "fp4_dense_tflops") == Decimal("9000")
    assert value("nvidia-l40s-48gb", "fp8_dense_tflops") == Decimal("733")


def test_embedded_catalog_covers_consumer_workstation_and_new_parts_with_sourced_values_only():
    [embedded] = accelerator_specs.embedded()
    rows = parse(embedded.body).rows

    def spec(accelerator: str) -> dict:
        return rows.filter(pl.col("accelerator") == accelerator).row(0, named=True)

    rtx3090 = spec("nvidia-rtx3090-24gb")
    assert (rtx3090["memory_gb"], rtx3090["memory_bandwidth_tbps"], rtx3090["tdp_w"]) == (
        Decimal("24"),
        Decimal("0.936"),
        Decimal("350"),
    )
    assert rtx3090["bf16_dense_tflops"] is None  # GeForce: Epoch's 16-bit figure is FP16 accumulate
    gb300 = spec("nvidia-gb300-288gb")
    assert (gb300["bf16_dense_tflops"], gb300["fp8_dense_tflops"], gb300["fp4_dense_tflops"]) == (
        Decimal("2500"),
        Decimal("5000"),
        Decimal("15000"),
    )
    assert gb300["int8_dense_tops"] is None  # sources disagree (165 vs 5000)
    mi355x = spec("amd-mi355x-288gb")
    assert (mi355x["memory_gb"], mi355x["fp8_dense_tflops"], mi355x["fp4_dense_tflops"]) == (
        Decimal("288"),
        Decimal("5000"),
        None,
    )
    assert spec("nvidia-rtx-pro6000-server-96gb")["memory_bandwidth_tbps"] == Decimal("1.79")
    assert spec("nvidia-quadro-rtx6000-24gb")["memory_gb"] == Decimal("24")
    assert spec("nvidia-a800-pcie-80gb")["tdp_w"] == Decimal("250")
    assert spec("nvidia-h20-96gb")["bf16_dense_tflops"] == Decimal("148")
    # No source in reach gives these specs: every value stays empty, the row still names a source.
    for unsourced in ("nvidia-rtx5090-32gb", "nvidia-rtx-pro6000-ws-96gb", "nvidia-rtx5880-ada-48gb"):
        row = spec(unsourced)
        assert all(row[column] is None for column in accelerator_specs.NUMERIC), unsourced
        assert row["source_url"]


def test_no_live_upstream():
    http = Http(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500))))
    assert accelerator_specs.fetch_live(http) == []
