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


def test_no_live_upstream():
    http = Http(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500))))
    assert accelerator_specs.fetch_live(http) == []
