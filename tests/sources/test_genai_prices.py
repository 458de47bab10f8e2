import json
from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from sources import genai_prices
from sources.base import SourceError
from sources.schemas import TOKEN_PRICES

OBSERVED = datetime(2026, 11, 22, 6, tzinfo=UTC)


def parse(body: bytes):
    return genai_prices.parse(body, observed_at=OBSERVED, origin="fixture")


def rows(result, **where) -> list[dict]:
    frame = result.rows
    for column, value in where.items():
        frame = frame.filter(pl.col(column) == value)
    return frame.sort("valid_from", nulls_last=False).to_dicts()


@pytest.fixture
def fixture_result(fixtures):
    return parse((fixtures / "token_prices" / "genai_prices_v2.json").read_bytes())


def test_frame_has_the_contract_schema(fixture_result):
    assert fixture_result.rows.schema == pl.Schema(TOKEN_PRICES.schema)


def test_dated_price_change_becomes_two_versions(fixture_result):
    o3 = rows(fixture_result, model="o3", service_tier="standard", tier="base")
    assert [
        (r["valid_from"], r["valid_to"], r["input_usd_per_mtok"], r["output_usd_per_mtok"]) for r in o3
    ] == [
        (None, None, Decimal("10"), Decimal("40")),
        (date(2025, 6, 10), None, Decimal("2"), Decimal("8")),
        (date(2026, 10, 14), None, Decimal("2"), Decimal("8")),
    ]
    # The batch variant starts 2026-10-14: only the last version carries batch prices.
    assert [r["batch_input_usd_per_mtok"] for r in o3] == [None, None, Decimal("1")]
    assert o3[0]["cache_read_usd_per_mtok"] == Decimal("2.5")
    assert {r["canonical_model"] for r in o3} == {"openai/o3"}


def test_service_tier_variant_starts_on_its_own_date(fixture_result):
    flex = rows(fixture_result, model="o3", service_tier="flex")
    assert [(r["valid_from"], r["input_usd_per_mtok"], r["output_usd_per_mtok"]) for r in flex] == [
        (date(2026, 10, 12), Decimal("1"), Decimal("4"))
    ]


def test_future_dated_price_is_kept(fixture_result):
    future = rows(fixture_result, model="gpt-future")
    assert [(r["valid_from"], r["input_usd_per_mtok"]) for r in future] == [
        (None, Decimal("3")),
        (date(2031, 1, 1), Decimal("1.5")),
    ]


def test_context_tier_dropped_by_a_dated_change_is_closed(fixture_result):
    above = rows(fixture_result, model="claude-opus-4-6", tier=">200k")
    assert [
        (
            r["valid_from"],
            r["valid_to"],
            r["input_usd_per_mtok"],
            r["output_usd_per_mtok"],
            r["cache_read_usd_per_mtok"],
        )
        for r in above
    ] == [(None, date(2026, 3, 13), Decimal("10"), Decimal("37.5"), Decimal("1"))]
    base = rows(fixture_result, model="claude-opus-4-6", tier="base")
    assert [(r["valid_from"], r["input_usd_per_mtok"]) for r in base] == [(None, Decimal("5"))]


def test_cheaper_daily_window_is_off_peak(fixture_result):
    deepseek = {r["off_peak"]: r for r in rows(fixture_result, model="deepseek-chat")}
    assert deepseek[True]["input_usd_per_mtok"] == Decimal("0.135")
    assert deepseek[False]["input_usd_per_mtok"] == Decimal("0.27")
    assert deepseek[True]["context_window"] == 64000


def test_undated_single_price_has_no_declared_start(fixture_result):
    (mini,) = rows(fixture_result, model="gpt-4o-mini")
    assert mini["valid_from"] is None and mini["output_usd_per_mtok"] == Decimal("0.6")
    assert mini["currency"] == "USD" and mini["mode"] == "chat"


def test_bad_models_are_rejected_with_field_and_value(fixture_result):
    by_model = {r.record["model"]: r for r in fixture_result.rejects}
    assert set(by_model) == {"gpt-broken", "gpt-typo"}
    assert by_model["gpt-broken"].rule == "negative_price"
    assert by_model["gpt-broken"].field == "input_mtok" and str(by_model["gpt-broken"].value) == "-1"
    assert by_model["gpt-typo"].rule == "not_a_number" and by_model["gpt-typo"].value == "1.2.3"
    assert fixture_result.rows.filter(pl.col("model").is_in(["gpt-broken", "gpt-typo"])).is_empty()


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (b"[]", "non-empty list"),
        (b'{"providers": []}', "non-empty list"),
        (b'[{"id": "x", "models": []}]', "holds no token prices"),
    ],
)
def test_unusable_payloads_fail_the_source_with_a_plain_message(body, message):
    with pytest.raises(SourceError, match=message) as info:
        parse(body)
    assert str(info.value).startswith("genai_prices:")


def test_a_provider_without_an_id_is_a_reject_not_a_failed_payload():
    result = parse(b'[{"name": "no id"}]')
    assert result.rows.is_empty()
    (reject,) = result.rejects
    assert (reject.rule, reject.field, reject.value) == ("missing_field", "id", None)
    assert reject.reason == "providers[0]: a provider entry has no 'id'"
    assert reject.key == {"source": "genai_prices"}  # which keys it held is unknown: all stay open


def test_twelve_decimal_places_survive_exactly():
    body = json.dumps(
        [{"id": "p", "models": [{"id": "m", "prices": {"input_mtok": "0.000000123456", "output_mtok": 0.1}}]}]
    ).encode()
    (row,) = parse(body).rows.to_dicts()
    assert row["input_usd_per_mtok"] == Decimal("0.000000123")  # nine places: the storage scale
    assert row["output_usd_per_mtok"] == Decimal("0.1")


def test_embedded_package_data_parses_into_real_history():
    (payload,) = genai_prices.embedded()
    assert payload.url.startswith("package:genai-prices==")
    result = parse(payload.body)
    frame = result.rows
    assert frame.height > 2000 and not result.rejects
    o3 = frame.filter(
        (pl.col("provider") == "openai")
        & (pl.col("model") == "o3")
        & (pl.col("service_tier") == "standard")
        & (pl.col("tier") == "base")
    ).sort("valid_from", nulls_last=False)
    assert o3["input_usd_per_mtok"].to_list()[:2] == [Decimal("10"), Decimal("2")]
    assert o3["valid_from"].to_list()[1] == date(2025, 6, 10)
    providers = set(frame["provider"])
    assert {"openai", "anthropic", "google", "deepseek", "mistral"} <= providers
    assert frame.filter(pl.col("valid_from").is_not_null()).height > 100


def test_models_with_no_per_token_price_are_counted_in_one_warning_per_kind(fixtures):
    result = parse((fixtures / "token_prices" / "genai_prices_v2_unpriced.json").read_bytes())
    assert result.rows["model"].to_list() == ["phi-4"] and result.rejects == []
    assert result.warnings == [
        "genai_prices: 1 models give no row, no per-token price (e.g. google/imagen-4)",
        "genai_prices: 3 models give no row, their 'prices' is {} "
        "(e.g. azure/mai-ds-r1:free, google/gemma-3, google/gemma-3n)",
    ]
