import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import polars as pl
import pytest

from sources import runpod
from sources.base import SourceError
from sources.http import Http

FIXTURE = Path(__file__).parents[1] / "fixtures" / "gpu_rates" / "runpod_graphql_gputypes.json"
NOW = datetime(2026, 5, 20, tzinfo=UTC)


def parse(body: bytes | None = None):
    return runpod.parse(
        FIXTURE.read_bytes() if body is None else body, observed_at=NOW, origin=runpod.LIVE_URL
    )


def rates(rows: pl.DataFrame, gpu: str) -> dict[tuple[str, str], Decimal]:
    found = rows.filter(pl.col("instance_type") == gpu)
    return {(r["region"], r["pricing_type"]): r["usd_per_gpu_hour"] for r in found.iter_rows(named=True)}


def test_secure_community_spot_and_savings_plan_prices_per_gpu():
    rows = parse().rows
    assert rates(rows, "NVIDIA H100 80GB HBM3") == {
        ("secure", "on_demand"): Decimal("2.99"),
        ("community", "on_demand"): Decimal("2.69"),
        ("secure", "spot"): Decimal("1.75"),
        # communitySpotPrice equals communityPrice: not a spot price.
        ("secure", "committed_1m"): Decimal("2.79"),
        ("secure", "committed_3m"): Decimal("2.69"),
        ("secure", "committed_6m"): Decimal("2.59"),
    }
    h100 = rows.filter(pl.col("instance_type") == "NVIDIA H100 80GB HBM3").row(0, named=True)
    assert (h100["provider"], h100["gpu_count"], h100["accelerator"]) == ("runpod", 1, "nvidia-h100-sxm-80gb")


def test_spot_above_on_demand_and_zero_prices_give_no_rows():
    result = parse()
    assert rates(result.rows, "NVIDIA A100-SXM4-80GB") == {("secure", "on_demand"): Decimal("1.89")}
    assert rates(result.rows, "AMD Instinct MI300X OAM") == {
        ("secure", "on_demand"): Decimal("2.49"),
        ("secure", "spot"): Decimal("1.49"),
    }
    assert rates(result.rows, "unknown") == {}
    warning = result.warnings[0]
    assert "secureSpotPrice not below securePrice" in warning and "securePrice 0 or empty" in warning


def test_accelerator_identity_uses_id_display_name_and_memory():
    rows = parse().rows
    ids = dict(zip(rows["instance_type"], rows["accelerator"], strict=False))
    assert ids["NVIDIA A100-SXM4-80GB"] == "nvidia-a100-sxm-80gb"
    assert ids["AMD Instinct MI300X OAM"] == "amd-mi300x-192gb"
    assert ids["NVIDIA GeForce RTX 3070"] == "nvidia-rtx3070-8gb"


def test_a_negative_price_rejects_the_gpu_type():
    result = parse()
    assert [(r.rule, r.field, r.record["id"]) for r in result.rejects] == [
        ("negative", "securePrice", "NVIDIA L4")
    ]
    assert rates(result.rows, "NVIDIA L4") == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty payload"),
        (b"nope", "not JSON"),
        (b'{"errors": [{"message": "unauthorized"}]}', "GraphQL errors"),
        (b'{"NVIDIA H100": {"secure_price": 2.99}}', "expected a GraphQL response"),
        (b'{"data": {"gpuTypes": []}}', "empty"),
        (b'{"data": {"gpuTypes": [{"id": "x", "price": 1}]}}', "securePrice"),
    ],
)
def test_unusable_payloads_raise_source_errors(body, message):
    with pytest.raises(SourceError, match=message):
        parse(body)


def test_fetch_live_posts_the_graphql_query():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert "gpuTypes" in json.loads(request.content)["query"]
        return httpx.Response(200, content=FIXTURE.read_bytes())

    [fetched] = runpod.fetch_live(Http(httpx.Client(transport=httpx.MockTransport(handler))))
    assert fetched.url == runpod.LIVE_URL
    assert parse(fetched.body).rows.height == 11
