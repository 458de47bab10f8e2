"""The real-format generators: each day's payload parses through the real parser to what the feed
says it holds, prices read back exactly, and a day later the asked churn shows."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bench import real_formats
from sources import genai_prices, litellm, openrouter, skypilot, vastai

PARSERS = {m.NAME: m for m in (litellm, openrouter, genai_prices, skypilot, vastai)}
SMALL = real_formats.Sizes(litellm=60, openrouter=30, genai_prices=40, skypilot=600, vastai=30)
OBSERVED = datetime(2025, 1, 1, tzinfo=UTC)


def _parse(feed):
    rows, rejects = [], []
    for payload in feed.payloads():
        result = PARSERS[feed.name].parse(payload.body, observed_at=OBSERVED, origin=payload.url)
        rows.append(result.rows)
        rejects += result.rejects
    return rows, rejects


@pytest.mark.parametrize("index", range(5), ids=[f.name for f in real_formats.feeds(SMALL)])
def test_each_day_parses_to_the_rows_the_feed_holds(index):
    feed = real_formats.feeds(SMALL, seed=3)[index]
    for _ in range(3):
        rows, rejects = _parse(feed)
        assert sum(r.height for r in rows) == feed.expected_rows() > 0
        assert len(rejects) == feed.expected_rejects()
        feed.next_day()


def test_openrouter_rejects_only_its_router():
    feed = real_formats.OpenRouter(20, seed=1)
    _, rejects = _parse(feed)
    assert [(r.rule, r.key["model"]) for r in rejects] == [("placeholder_price", "openrouter/auto")]


def test_prices_read_back_exactly():
    feed = real_formats.LiteLLM(1)
    (record,) = feed.records.values()
    record |= {"mode": "chat", "input": 2000, "multiple": 3, "cache_read": True, "tier": True}
    record |= {"priority": False, "flex": False}
    feed.text = {0: feed.render(record)}
    (rows,), _ = _parse(feed)
    base = rows.filter(tier="base").row(0, named=True)
    assert json.loads(feed.payloads()[0].body)[record["key"]]["input_cost_per_token"] == 2e-06
    assert (base["input_usd_per_mtok"], base["output_usd_per_mtok"]) == (Decimal("2.000000000"), Decimal(6))
    assert base["cache_read_usd_per_mtok"] == Decimal("0.2")
    assert rows.filter(tier=">200k")["input_usd_per_mtok"].to_list() == [Decimal(4)]

    feed = real_formats.OpenRouter(2, seed=1)
    record = next(r for r in feed.records.values() if r["kind"] == "text")
    record["input"] = 450
    feed.text = {0: feed.render(record)}
    (rows,), _ = _parse(feed)
    assert '"prompt": "0.00000045"' in feed.payloads()[0].body.decode()
    assert rows["input_usd_per_mtok"][0] == Decimal("0.45")


def test_catalogs_name_their_cloud_and_price_gpu_rows_only():
    feed = real_formats.SkyPilot(600, seed=2)
    clouds = [skypilot.cloud_of(p.url) for p in feed.payloads()]
    assert clouds == ["azure", "gcp", "aws", "lambda"]
    rows, _ = _parse(feed)
    azure, gcp = rows[0], rows[1]
    assert set(azure["source"]) == {"anycloud"}  # anycloud's catalog keeps its own source
    body = feed.payloads()[0].body.decode()
    assert body.count("\n") - 1 == len(feed.clouds[0].records) > 5 * azure.height  # mostly CPU sizes
    # A GCP host and its GPU row are one instance priced as their sum.
    pair = next(r for r in feed.clouds[1].records.values() if r["product"].instance_type.startswith("a"))
    row = gcp.filter(instance_type=pair["product"].instance_type, zone=pair["zone"], pricing_type="on_demand")
    assert row["usd_per_instance_hour"][0] == Decimal(pair["price"]) / 100_000


def test_vast_offers_carry_the_api_fields_and_price_per_gpu():
    feed = real_formats.Vast(5, seed=4)
    offers = json.loads(feed.payloads()[0].body)["offers"]
    assert len(offers[0]) > 80 and {"dph_total", "num_gpus", "gpu_name", "machine_id"} <= set(offers[0])
    (rows,), _ = _parse(feed)
    first = rows.row(0, named=True)
    assert first["usd_per_instance_hour"] == Decimal(repr(offers[0]["dph_total"]))
    assert (
        first["instance_type"]
        == f"m{offers[0]['machine_id']}/{offers[0]['num_gpus']}x {offers[0]['gpu_name']}"
    )


def test_a_day_later_the_asked_churn_shows():
    churn = real_formats.Churn(change=0.05, appear=0.02, vanish=0.02)
    feed = real_formats.Vast(2000, seed=5, churn=churn)
    before = dict(feed.text)
    feed.next_day()
    after = feed.text
    kept = before.keys() & after.keys()
    changed = sum(before[k] != after[k] for k in kept) / len(kept)
    assert 0.035 < changed < 0.065  # 2,000 offers at 5%: a binomial's spread is ~0.5 points
    assert 20 < len(before.keys() - after.keys()) < 60 and 20 < len(after.keys() - before.keys()) < 60


def test_genai_prices_writes_a_change_as_a_dated_entry():
    feed = real_formats.GenaiPrices(30, seed=6, churn=real_formats.Churn(change=1, appear=0, vanish=0))
    feed.next_day()
    model = next(r for r in feed.records.values() if not r["empty"])
    text = json.loads(feed.text[next(k for k, r in feed.records.items() if r is model)])
    assert text["prices"][1]["constraint"] == {"start_date": "2025-01-02"}
    (rows,), rejects = _parse(feed)
    assert not rejects and rows.height == feed.expected_rows()
    assert set(rows["valid_from"].drop_nulls().to_list()) == {feed.date}


def test_same_seed_same_bytes():
    def day_two(seed):
        feeds = real_formats.feeds(SMALL, seed=seed)
        for f in feeds:
            f.next_day()
        return [p.body for f in feeds for p in f.payloads()]

    assert day_two(7) == day_two(7) != day_two(8)
