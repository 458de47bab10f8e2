import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import polars as pl
import pytest

from sources import vastai
from sources.base import SourceError
from sources.http import Http

FIXTURE = Path(__file__).parents[1] / "fixtures" / "gpu_rates" / "vastai_bundles.json"
NOW = datetime(2026, 5, 20, tzinfo=UTC)


def parse(body: bytes | None = None):
    return vastai.parse(
        FIXTURE.read_bytes() if body is None else body, observed_at=NOW, origin=vastai.LIVE_URL
    )


def one(rows: pl.DataFrame, **where) -> dict:
    found = rows.filter(pl.all_horizontal(pl.col(k) == v for k, v in where.items()))
    assert found.height == 1, found
    return found.row(0, named=True)


def test_offers_become_marketplace_rates_per_gpu():
    rows = parse().rows
    h100 = one(rows, instance_type="m31001/8x H100 SXM")
    assert (h100["provider"], h100["pricing_type"], h100["region"]) == ("vastai", "marketplace", "Texas, US")
    assert h100["accelerator"] == "nvidia-h100-sxm-80gb"
    assert h100["usd_per_instance_hour"] == Decimal("15")
    assert h100["usd_per_gpu_hour"] == Decimal("1.875")


def test_gpu_frac_is_a_share_of_the_machine_not_a_fractional_gpu():
    rtx = one(parse().rows, instance_type="m22990/1x RTX 4090")
    assert rtx["gpu_count"] == Decimal("1")
    assert rtx["usd_per_gpu_hour"] == Decimal("0.246675926")  # from the float's shortest repr
    assert rtx["accelerator"] == "nvidia-rtx4090-24gb"


def test_memory_tells_the_nvl_part():
    assert one(parse().rows, instance_type="m31002/1x H100 NVL")["accelerator"] == "nvidia-h100-nvl-94gb"


def test_bad_offers_are_rejected_and_duplicates_keep_the_first():
    result = parse()
    assert result.rows.height == 3
    rejects = {(r.rule, r.field, r.record.get("machine_id")) for r in result.rejects}
    assert rejects == {
        ("gpu_count", "num_gpus", 31004),
        ("not_a_number", "dph_total", 31005),
        ("not_a_number", "dph_total", 31003),  # NaN
        ("duplicate_key", None, 31001),
    }
    assert one(result.rows, instance_type="m31001/8x H100 SXM")["usd_per_instance_hour"] == Decimal("15")


def test_the_bare_list_printed_by_the_cli_is_accepted():
    offers = json.loads(FIXTURE.read_text().replace("NaN", "0.93"))["offers"][:1]
    assert parse(json.dumps(offers).encode()).rows.height == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty payload"),
        (b"{offers", "not JSON"),
        (b'{"offers": []}', "no offers"),
        (b'{"data": 1}', "expected"),
        (b'{"offers": [{"gpu_name": "H100", "num_gpus": 1, "price": 2}]}', "dph_total"),
    ],
)
def test_unusable_payloads_raise_source_errors(body, message):
    with pytest.raises(SourceError, match=message):
        parse(body)


def test_fetch_live_posts_the_search_and_returns_the_body():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert json.loads(request.content)["rentable"] == {"eq": True}
        return httpx.Response(200, content=b'{"offers": []}')

    [fetched] = vastai.fetch_live(Http(httpx.Client(transport=httpx.MockTransport(handler))))
    assert (fetched.url, fetched.body) == (vastai.LIVE_URL, b'{"offers": []}')
