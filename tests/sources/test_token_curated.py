import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import polars as pl
import pytest

from sources import token_curated
from sources.base import SourceError
from sources.http import Http
from sources.schemas import TOKEN_PRICES

OBSERVED = datetime(2026, 11, 22, 6, tzinfo=UTC)


def parse(body: bytes):
    return token_curated.parse(body, observed_at=OBSERVED, origin="fixture")


def as_of(frame: pl.DataFrame, canonical: str, day: date, tier: str = "base") -> dict:
    """The curated price of ``canonical`` in effect on ``day`` (latest valid_from on or before it)."""
    candidates = frame.filter(
        (pl.col("canonical_model") == canonical)
        & (pl.col("tier") == tier)
        & ~pl.col("off_peak")
        & (pl.col("valid_from") <= day)
        & (pl.col("valid_to").is_null() | (pl.col("valid_to") > day))
    )
    return candidates.sort("valid_from").to_dicts()[-1]


@pytest.fixture(scope="module")
def catalog():
    [fetched] = token_curated.embedded()
    assert fetched.url.startswith("package:")
    return parse(fetched.body)


@pytest.fixture
def analyst_file(fixtures):
    return parse((fixtures / "token_prices" / "curated_prices.csv").read_bytes())


def test_embedded_catalog_parses_cleanly_into_the_contract_schema(catalog):
    assert catalog.rows.schema == pl.Schema(TOKEN_PRICES.schema)
    assert catalog.rejects == [] and catalog.warnings == []
    assert catalog.rows.height >= 40
    assert set(catalog.rows["source"]) == {"curated"} and set(catalog.rows["currency"]) == {"USD"}
    assert catalog.rows["valid_from"].null_count() == 0
    assert catalog.rows["canonical_model"].null_count() == 0


def test_o3_price_cut_on_2025_06_10(catalog):
    before = as_of(catalog.rows, "openai/o3", date(2025, 6, 1))
    after = as_of(catalog.rows, "openai/o3", date(2025, 6, 11))
    assert (before["input_usd_per_mtok"], before["output_usd_per_mtok"]) == (Decimal("10"), Decimal("40"))
    assert before["cache_read_usd_per_mtok"] == Decimal("2.5")
    assert (after["input_usd_per_mtok"], after["output_usd_per_mtok"]) == (Decimal("2"), Decimal("8"))
    assert after["valid_from"] == date(2025, 6, 10)


def test_gpt_4o_history_includes_the_2024_08_cut(catalog):
    launch = as_of(catalog.rows, "openai/gpt-4o", date(2024, 6, 1))
    assert (launch["input_usd_per_mtok"], launch["output_usd_per_mtok"]) == (Decimal("5"), Decimal("15"))
    snapshot = catalog.rows.filter(pl.col("model") == "gpt-4o-2024-08-06").to_dicts()
    assert [(r["valid_from"], r["input_usd_per_mtok"]) for r in snapshot] == [
        (date(2024, 8, 6), Decimal("2.5"))
    ]
    assert as_of(catalog.rows, "openai/gpt-4o", date(2024, 11, 1))["input_usd_per_mtok"] == Decimal("2.5")


def test_the_catalog_covers_the_models_the_analysts_track(catalog):
    canonical = set(catalog.rows["canonical_model"])
    assert {
        "openai/gpt-4",
        "openai/gpt-4-32k",
        "openai/gpt-4-turbo",
        "openai/gpt-4o",
        "openai/gpt-4o-mini",
        "openai/gpt-3.5-turbo",
        "openai/o1",
        "openai/o3",
        "anthropic/claude-3-opus",
        "anthropic/claude-3-sonnet",
        "anthropic/claude-3-haiku",
        "anthropic/claude-3.5-sonnet",
        "anthropic/claude-3.5-haiku",
        "google/gemini-1.5-pro",
        "google/gemini-2.5-pro",
        "deepseek/deepseek-chat",
        "deepseek/deepseek-reasoner",
        "meta-llama/llama-3.3-70b-instruct",
    } <= canonical


def test_every_catalog_row_names_its_source_and_date():
    [fetched] = token_curated.embedded()
    rows = list(csv.DictReader(io.StringIO(fetched.body.decode("utf-8"))))
    assert all(r["source_url"].startswith("https://") and r["valid_from"] and r["note"] for r in rows)


def test_context_tiers_and_off_peak_windows(catalog):
    long = as_of(catalog.rows, "google/gemini-1.5-pro", date(2024, 10, 2), tier=">128k")
    assert (long["input_usd_per_mtok"], long["output_usd_per_mtok"]) == (Decimal("2.5"), Decimal("10"))
    off_peak = catalog.rows.filter((pl.col("model") == "deepseek-chat") & pl.col("off_peak")).to_dicts()
    assert [(r["valid_from"], r["valid_to"], r["input_usd_per_mtok"]) for r in off_peak] == [
        (date(2025, 2, 26), date(2025, 9, 5), Decimal("0.135"))
    ]


def test_an_analyst_csv_with_crlf_parses_with_rejects_for_bad_rows(analyst_file):
    good = analyst_file.rows.sort("valid_from").to_dicts()
    assert [(r["model"], r["valid_from"], r["input_usd_per_mtok"]) for r in good] == [
        ("gemini-1.5-pro", date(2024, 10, 1), Decimal("2.5")),
        ("deepseek-chat", date(2025, 2, 26), Decimal("0.135")),
        ("o3", date(2025, 4, 16), Decimal("10")),
        ("o3", date(2025, 6, 10), Decimal("2")),
    ]
    o3_cut = good[-1]
    assert (o3_cut["batch_input_usd_per_mtok"], o3_cut["batch_output_usd_per_mtok"]) == (
        Decimal("1"),
        Decimal("4"),
    )
    assert (o3_cut["tier"], o3_cut["service_tier"], o3_cut["off_peak"], o3_cut["mode"]) == (
        "base",
        "standard",
        False,
        "chat",
    )
    assert good[0]["tier"] == ">128k" and good[1]["off_peak"] is True
    found = {(r.record["model"], r.rule, r.field, r.value) for r in analyst_file.rejects}
    assert found == {
        ("no-url", "missing_field", "source_url", ""),
        ("bad-date", "bad_date", "valid_from", "2024-13-01"),
        ("negative", "negative_price", "input_usd_per_mtok", "-1"),
        ("words", "not_a_number", "input_usd_per_mtok", "one dollar"),
        ("absurd", "price_band", "input_usd_per_mtok", "15000000"),
        ("o3", "duplicate_key", "valid_from", "2025-06-10"),
        ("no-price", "missing_field", "input_usd_per_mtok", None),
        ("backwards", "bad_date", "valid_to", "2024-04-01"),
    }
    assert all(r.reason.startswith("line ") for r in analyst_file.rejects)
    assert analyst_file.warnings == [
        "curated: column 'discount_usd_per_mtok' in fixture looks like a price but is not a known column; "
        "it is ignored"
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"model,price\r\ngpt-4,30\r\n", "missing required column"),
        (
            b"provider,model,valid_from,source_url,note\r\nopenai,gpt-4,2023-03-14,https://x.org,\r\n",
            "lacks the columns",
        ),
        (b"provider,model,valid_from,source_url,input_usd_per_mtok\r\n", "no data rows"),
    ],
)
def test_unusable_files_fail_the_source_with_a_plain_message(body, message):
    with pytest.raises(SourceError, match=message) as error:
        parse(body)
    assert str(error.value).startswith("curated:")


def test_a_file_whose_every_row_is_refused_returns_the_rejects():
    result = parse(
        b"provider,model,valid_from,source_url,input_usd_per_mtok\n,gpt-4,2023-03-14,https://x.org,30\n"
    )
    assert result.rows.is_empty()
    (reject,) = result.rejects
    assert (reject.rule, reject.field, reject.value) == ("missing_field", "provider", "")
    # No tier columns in this file: the key names what the row has and matches any tier.
    assert reject.key == {"source": "curated", "model": "gpt-4"}


def test_no_live_feed():
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("the curated source must not touch the network")

    assert token_curated.fetch_live(Http(httpx.Client(transport=httpx.MockTransport(handler)))) == []
