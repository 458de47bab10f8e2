import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import polars as pl
import pytest

from sources import azure
from sources.base import SourceError
from sources.http import FetchError, Http

FIXTURE = Path(__file__).parents[1] / "fixtures" / "gpu_rates" / "azure_retail_prices_page.json"
NOW = datetime(2026, 5, 20, tzinfo=UTC)


def parse(body: bytes | None = None):
    return azure.parse(FIXTURE.read_bytes() if body is None else body, observed_at=NOW, origin=azure.LIVE_URL)


def one(rows: pl.DataFrame, **where) -> dict:
    found = rows.filter(pl.all_horizontal(pl.col(k) == v for k, v in where.items()))
    assert found.height == 1, found
    return found.row(0, named=True)


def test_on_demand_linux_price_per_instance_and_per_gpu():
    row = one(parse().rows, instance_type="Standard_ND96isr_H100_v5", pricing_type="on_demand")
    assert row["provider"] == "azure"
    assert row["region"] == "eastus"
    assert row["accelerator"] == "nvidia-h100-sxm-80gb"
    assert row["gpu_count"] == Decimal("8")
    assert row["usd_per_instance_hour"] == Decimal("98.32")  # not the Windows 102.736
    assert row["usd_per_gpu_hour"] == Decimal("12.29")
    assert row["valid_from"] == date(2026, 3, 1)  # effectiveStartDate


def test_spot_comes_from_the_meter_name_and_must_be_below_on_demand():
    result = parse()
    spot = one(result.rows, instance_type="Standard_ND96isr_H100_v5", pricing_type="spot")
    assert spot["usd_per_gpu_hour"] == Decimal("2.271192")
    # NC40ads spot 7.2 is above its on-demand 6.98: no spot row.
    assert result.rows.filter(
        (pl.col("instance_type") == "Standard_NC40ads_H100_v5") & (pl.col("pricing_type") == "spot")
    ).is_empty()
    assert "no spot row where the spot price is not one: 1 above on-demand" in result.warnings


def test_reservations_hold_the_whole_term_and_are_converted_to_hourly():
    rows = parse().rows
    one_year = one(rows, instance_type="Standard_NC48ads_A100_v4", pricing_type="reserved_1y")
    assert one_year["usd_per_instance_hour"] == Decimal("4.802054795")  # 42066 / 8760
    assert one_year["usd_per_gpu_hour"] == Decimal("2.401027397")
    assert one_year["accelerator"] == "nvidia-a100-pcie-80gb"
    three_years = one(rows, instance_type="Standard_ND96isr_H100_v5", pricing_type="reserved_3y")
    assert three_years["usd_per_instance_hour"] == Decimal("58.980213090")  # 1550000 / 26280


def test_windows_low_priority_and_dev_test_items_are_skipped_with_warnings():
    result = parse()
    assert "skipped 1 Windows items (rates are for Linux)" in result.warnings
    assert "skipped 1 Low Priority items (not spot)" in result.warnings
    assert "skipped 1 DevTestConsumption items" in result.warnings
    assert result.rows.filter(
        pl.col("usd_per_instance_hour").is_in([Decimal("102.736"), Decimal("60")])
    ).is_empty()


def test_fractional_gpu_sizes():
    row = one(parse().rows, instance_type="Standard_NV6ads_A10_v5")
    assert row["gpu_count"] == Decimal("0.166666667")
    assert row["usd_per_gpu_hour"] == Decimal("2.724")  # 0.454 x 6
    assert row["accelerator"] == "nvidia-a10-24gb"


def test_bad_items_are_rejected_and_unmapped_skus_are_named():
    rejects = {(r.rule, r.field, r.record.get("armSkuName")) for r in parse().rejects}
    assert rejects == {
        ("unmapped_sku", "armSkuName", "Standard_M8ms"),
        ("not_a_number", "retailPrice", "Standard_NC24ads_A100_v4"),
        ("negative", "retailPrice", "Standard_NC96ads_A100_v4"),
        ("missing_field", "armRegionName", "Standard_NC24ads_A100_v4"),
    }


def test_the_sku_table_knows_the_gpu_families():
    assert azure.vm_gpus("standard_nd96isr_h200_v5").accelerator == "nvidia-h200-sxm-141gb"
    assert azure.vm_gpus("Standard_NC80adis_H100_v5").count == 2
    assert azure.vm_gpus("Standard_ND96isr_MI300X_v5").accelerator == "amd-mi300x-192gb"
    assert azure.vm_gpus("Standard_D2s_v5") is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty payload"),
        (b"<html>", "not JSON"),
        (b'{"_note": "x", "examples": []}', "expected a Retail Prices page"),
        (b'{"Items": []}', "no items"),
        (b"[1, 2]", "expected a Retail Prices page"),
    ],
)
def test_unusable_payloads_raise_source_errors(body, message):
    with pytest.raises(SourceError, match=message):
        parse(body)


def test_fetch_live_follows_next_page_link_and_assembles_one_body():
    item = json.loads(FIXTURE.read_text())["Items"][0]
    second = f"{azure.LIVE_URL}?$filter=x&$skip=1"
    requests = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request.url)
        if "$skip" in str(request.url):
            page = {
                "BillingCurrency": "USD",
                "Items": [{**item, "armRegionName": "westus"}],
                "NextPageLink": None,
            }
        else:
            page = {"BillingCurrency": "USD", "Items": [item], "NextPageLink": second, "Count": 1}
        return httpx.Response(200, json=page)

    http = Http(httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda _: None)
    [fetched] = azure.fetch_live(http)
    assert len(requests) == 2
    query = parse_qs(urlsplit(str(requests[0])).query)
    assert "armSkuName eq 'Standard_ND96isr_H100_v5'" in query["$filter"][0]
    body = json.loads(fetched.body)
    assert [i["armRegionName"] for i in body["Items"]] == ["eastus", "westus"]
    assert (body["NextPageLink"], body["Count"], body["BillingCurrency"]) == (None, 2, "USD")
    assert parse(fetched.body).rows.height == 2


def test_fetch_live_rejects_a_page_without_items():
    http = Http(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"error": 1}))))
    with pytest.raises(FetchError, match="no Items list"):
        azure.fetch_live(http)
