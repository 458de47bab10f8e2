from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import polars as pl

from sources import gpu_curated
from sources.http import Http

FIXTURE = Path(__file__).parents[1] / "fixtures" / "gpu_rates" / "curated_gpu_rates.csv"
NOW = datetime(2026, 5, 20, tzinfo=UTC)


def parse(body: bytes):
    return gpu_curated.parse(body, observed_at=NOW, origin=str(FIXTURE))


def test_dated_versions_of_one_offer_are_kept_with_their_effective_dates():
    rows = parse(FIXTURE.read_bytes()).rows
    p5 = rows.filter(pl.col("instance_type") == "p5.48xlarge").sort("valid_from")
    assert p5["valid_from"].to_list() == [date(2023, 7, 27), date(2025, 6, 1)]
    assert p5["usd_per_instance_hour"].to_list() == [Decimal("98.32"), Decimal("55.04")]
    assert p5["usd_per_gpu_hour"].to_list() == [Decimal("12.29"), Decimal("6.88")]
    assert set(p5["source"]) == {"curated"}


def test_gpu_hour_prices_are_multiplied_out_to_the_instance():
    vultr = parse(FIXTURE.read_bytes()).rows.filter(pl.col("provider") == "vultr").row(0, named=True)
    assert vultr["pricing_type"] == "committed_36m"
    assert (vultr["usd_per_gpu_hour"], vultr["usd_per_instance_hour"]) == (Decimal("2.3"), Decimal("18.4"))
    assert vultr["region"] == ""


def test_bad_rows_are_rejected_and_unmapped_accelerators_kept():
    result = parse(FIXTURE.read_bytes())
    assert sorted(r.rule for r in result.rejects) == [
        "bad_date",
        "duplicate_key",
        "gpu_count",
        "price_band",
        "price_unit",
        "pricing_type",
    ]
    mystery = result.rows.filter(pl.col("accelerator_name") == "Mystery GPU").row(0, named=True)
    assert mystery["accelerator"] is None
    assert mystery["usd_per_instance_hour"] == Decimal("3")


def test_the_embedded_catalog_parses_cleanly_and_covers_the_required_accelerators():
    [embedded] = gpu_curated.embedded()
    result = parse(embedded.body)
    assert result.rejects == [] and result.warnings == []
    rows = result.rows
    assert rows.height >= 40
    assert rows["accelerator"].null_count() == 0
    assert rows["valid_from"].null_count() == 0
    required = {
        "nvidia-h100-sxm-80gb",
        "nvidia-h200-sxm-141gb",
        "nvidia-a100-sxm-40gb",
        "nvidia-a100-sxm-80gb",
        "nvidia-l40s-48gb",
        "nvidia-a10g-24gb",
        "nvidia-l4-24gb",
        "nvidia-b200-180gb",
        "amd-mi300x-192gb",
    }
    assert required <= set(rows["accelerator"])
    assert {"reserved_1y", "committed_36m", "spot", "on_demand"} & set(rows["pricing_type"]) >= {
        "committed_36m",
        "spot",
        "on_demand",
    }
    versions = rows.group_by("provider", "instance_type", "region", "pricing_type").len()
    assert versions.filter(pl.col("len") > 1).height >= 5  # offers with dated price changes
    aws = rows.filter((pl.col("instance_type") == "p5.48xlarge") & (pl.col("valid_from") == date(2025, 6, 1)))
    assert aws["usd_per_gpu_hour"].to_list() == [Decimal("6.88")]


def test_no_live_upstream():
    http = Http(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500))))
    assert gpu_curated.fetch_live(http) == []
