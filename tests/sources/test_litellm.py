from datetime import UTC, datetime
from decimal import Decimal

import httpx
import polars as pl
import pytest

from sources import litellm
from sources.base import SourceError
from sources.http import Http
from sources.schemas import TOKEN_PRICES

OBSERVED = datetime(2026, 11, 22, 6, tzinfo=UTC)


def parse(body: bytes):
    return litellm.parse(body, observed_at=OBSERVED, origin="fixture")


def row(
    result, model: str, tier: str = "base", service_tier: str = "standard", off_peak: bool = False
) -> dict:
    found = result.rows.filter(
        (pl.col("model") == model)
        & (pl.col("tier") == tier)
        & (pl.col("service_tier") == service_tier)
        & (pl.col("off_peak") == off_peak)
    ).to_dicts()
    assert len(found) == 1, (model, tier, service_tier, off_peak, found)
    return found[0]


@pytest.fixture
def prices(fixtures):
    return parse((fixtures / "token_prices" / "litellm_prices.json").read_bytes())


@pytest.fixture
def bad(fixtures):
    return parse((fixtures / "token_prices" / "litellm_bad_records.json").read_bytes())


def test_frame_has_the_contract_schema_and_live_defaults(prices):
    assert prices.rows.schema == pl.Schema(TOKEN_PRICES.schema)
    assert set(prices.rows["source"]) == {"litellm"}
    assert set(prices.rows["currency"]) == {"USD"}
    assert prices.rows["valid_from"].null_count() == prices.rows.height
    assert prices.rejects == []


def test_per_token_floats_become_exact_usd_per_million(prices):
    o3 = row(prices, "o3")
    assert (o3["input_usd_per_mtok"], o3["output_usd_per_mtok"]) == (Decimal("2"), Decimal("8"))
    assert o3["cache_read_usd_per_mtok"] == Decimal("0.5")
    assert (o3["canonical_model"], o3["provider"], o3["mode"]) == ("openai/o3", "openai", "chat")
    assert (o3["context_window"], o3["max_output_tokens"]) == (200000, 100000)
    # 7.8596e-08 per token has no exact binary float; read as Decimal it is 0.078596 exactly.
    flash = row(prices, "deepinfra/deepseek-ai/DeepSeek-V4-Flash")
    assert str(flash["input_usd_per_mtok"]) == "0.078596000"
    assert flash["output_usd_per_mtok"] == Decimal("0.157192")
    assert flash["context_window"] == 131072  # from max_tokens when max_input_tokens is absent


def test_batch_prices_fill_the_batch_columns_of_the_same_row(prices):
    o3 = row(prices, "o3")
    assert (o3["batch_input_usd_per_mtok"], o3["batch_output_usd_per_mtok"]) == (Decimal("1"), Decimal("4"))
    assert "batches" not in set(prices.rows["service_tier"])


def test_flex_and_priority_are_service_tier_rows(prices):
    flex, priority = row(prices, "o3", service_tier="flex"), row(prices, "o3", service_tier="priority")
    assert (flex["input_usd_per_mtok"], flex["output_usd_per_mtok"], flex["cache_read_usd_per_mtok"]) == (
        Decimal("1"),
        Decimal("4"),
        Decimal("0.25"),
    )
    assert (priority["input_usd_per_mtok"], priority["output_usd_per_mtok"]) == (
        Decimal("3.5"),
        Decimal("14"),
    )
    assert flex["batch_input_usd_per_mtok"] is None


def test_above_200k_keys_become_a_context_tier(prices):
    base = row(prices, "vertex_ai/claude-sonnet-4-5")
    long = row(prices, "vertex_ai/claude-sonnet-4-5", tier=">200k")
    assert (long["input_usd_per_mtok"], long["output_usd_per_mtok"]) == (Decimal("6"), Decimal("22.5"))
    assert (long["cache_read_usd_per_mtok"], long["cache_write_usd_per_mtok"]) == (
        Decimal("0.6"),
        Decimal("7.5"),
    )
    # A batch price stated only for the base tier is unknown above 200k, not inherited.
    assert base["batch_input_usd_per_mtok"] == Decimal("1.5")
    assert long["batch_input_usd_per_mtok"] is None
    assert long["canonical_model"] == "anthropic/claude-sonnet-4.5"


def test_a_context_tier_of_a_service_tier(prices):
    long_priority = row(prices, "gemini/gemini-2.5-pro", tier=">200k", service_tier="priority")
    assert (long_priority["input_usd_per_mtok"], long_priority["output_usd_per_mtok"]) == (
        Decimal("4.5"),
        Decimal("27"),
    )


def test_cache_write_is_the_5_minute_write_not_the_1_hour_one(prices):
    sonnet = row(prices, "claude-sonnet-4-5")
    assert (sonnet["cache_write_usd_per_mtok"], sonnet["cache_read_usd_per_mtok"]) == (
        Decimal("3.75"),
        Decimal("0.3"),
    )


def test_tiered_pricing_gives_one_row_per_range_inheriting_unstated_prices(prices):
    tiers = {r["tier"]: r for r in prices.rows.filter(pl.col("model") == "dashscope/qwen3-max").to_dicts()}
    assert set(tiers) == {"base", ">32k", ">128k"}
    assert (tiers["base"]["input_usd_per_mtok"], tiers["base"]["output_usd_per_mtok"]) == (
        Decimal("1.2"),
        Decimal("6"),
    )
    assert tiers[">32k"]["input_usd_per_mtok"] == Decimal("2.4")
    # The last range states no output price: LiteLLM bills the entry's flat output price.
    assert (tiers[">128k"]["input_usd_per_mtok"], tiers[">128k"]["output_usd_per_mtok"]) == (
        Decimal("3"),
        Decimal("15"),
    )


def test_regional_keys_keep_their_own_id_and_provider(prices):
    eu = row(prices, "azure/eu/gpt-4o")
    assert (eu["provider"], eu["canonical_model"], eu["input_usd_per_mtok"]) == (
        "azure",
        "openai/gpt-4o",
        Decimal("2.75"),
    )
    bedrock = row(prices, "eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert (bedrock["provider"], bedrock["canonical_model"]) == (
        "bedrock_converse",
        "anthropic/claude-sonnet-4.5",
    )
    assert bedrock["output_usd_per_mtok"] == Decimal("16.5")


def test_off_peak_block_and_legacy_cache_hit_field(prices):
    standard = row(prices, "deepseek/deepseek-chat")
    off_peak = row(prices, "deepseek/deepseek-chat", off_peak=True)
    assert standard["cache_read_usd_per_mtok"] == Decimal("0.07")
    assert (off_peak["input_usd_per_mtok"], off_peak["output_usd_per_mtok"]) == (
        Decimal("0.135"),
        Decimal("0.55"),
    )
    assert off_peak["cache_read_usd_per_mtok"] == Decimal("0.07")  # not restated: the base price


def test_embedding_output_zero_means_no_output_tokens(prices):
    embedding = row(prices, "text-embedding-3-small")
    assert embedding["mode"] == "embedding"
    assert (embedding["input_usd_per_mtok"], embedding["output_usd_per_mtok"]) == (Decimal("0.02"), None)
    assert embedding["batch_input_usd_per_mtok"] == Decimal("0.01")


def test_entries_not_billed_per_token_give_a_warning_not_a_row(prices):
    models = set(prices.rows["model"])
    assert {"sample_spec", "gemini/gemma-3-27b-it", "whisper-1"}.isdisjoint(models)
    [warning] = [w for w in prices.warnings if "not billed per token" in w]
    assert "gemini/gemma-3-27b-it" in warning and "whisper-1" in warning


def test_an_unknown_price_looking_field_is_warned_about(prices):
    [warning] = [w for w in prices.warnings if "not mapped" in w]
    assert "input_cost_per_token_gold_tier" in warning
    assert not any("search_context" in w or "above_1hr" in w for w in prices.warnings)


def test_bad_records_are_rejected_naming_model_field_and_value(bad):
    by_model = {r.record["model"]: r for r in bad.rejects if r.rule != "duplicate_key"}
    assert {m: (r.rule, r.field) for m, r in by_model.items()} == {
        "negative-model": ("negative_price", "input_cost_per_token"),
        "nan-model": ("not_a_number", "input_cost_per_token"),
        "text-model": ("not_a_number", "input_cost_per_token"),
        "orphan-model": ("missing_field", "litellm_provider"),
        "per-million-model": ("price_band", "input_cost_per_token"),
        "tiered-model": ("malformed_tier", "tiered_pricing.range"),
        "not-an-object": ("malformed_record", None),
    }
    assert by_model["negative-model"].value == "-0.000001"
    assert by_model["text-model"].value == "two dollars"
    assert "2500000" in by_model["per-million-model"].reason
    assert all(r.source == "litellm" and r.reason.startswith(r.record["model"]) for r in bad.rejects)


def test_a_repeated_key_keeps_the_first_entry(bad):
    [duplicate] = [r for r in bad.rejects if r.rule == "duplicate_key"]
    assert (duplicate.record["model"], duplicate.field, duplicate.value) == (
        "gpt-4o-mini",
        "model",
        "gpt-4o-mini",
    )
    kept = row(bad, "gpt-4o-mini")
    assert kept["input_usd_per_mtok"] == Decimal("0.15")  # the first entry, not the later 1.5
    assert bad.rows.height == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"{not json", "not JSON"),
        (b'[{"input_cost_per_token": 1e-06}]', "expected an object"),
        (b'{"sample_spec": {}}', "no model entries"),
        # Every entry is free or unpriced: nothing to keep and nothing refused. (A payload whose every
        # entry is refused returns its rejects: tests/reliability/test_record_isolation.py.)
        (b'{"a": {"litellm_provider": "x", "input_cost_per_token": 0}}', "no token price rows"),
    ],
)
def test_unusable_payloads_fail_the_source_with_a_plain_message(body, message):
    with pytest.raises(SourceError, match=message) as error:
        parse(body)
    assert str(error.value).startswith("litellm:")


def test_fetch_live_goes_through_http(fixtures):
    body = (fixtures / "token_prices" / "litellm_prices.json").read_bytes()
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=body)

    [fetched] = litellm.fetch_live(Http(httpx.Client(transport=httpx.MockTransport(handler))))
    assert seen == [litellm.LIVE_URL] and fetched.url == litellm.LIVE_URL
    assert row(parse(fetched.body), "o3")["output_usd_per_mtok"] == Decimal("8")


@pytest.fixture
def aliases(fixtures):
    return parse((fixtures / "token_prices" / "litellm_aliases_and_tiers.json").read_bytes())


PRICE_COLUMNS = (
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cache_read_usd_per_mtok",
    "batch_input_usd_per_mtok",
)


def prices_by_key(result, model: str) -> dict[tuple, tuple]:
    return {
        (r["tier"], r["service_tier"]): tuple(r[c] for c in PRICE_COLUMNS)
        for r in result.rows.filter(pl.col("model") == model).to_dicts()
    }


def test_every_service_tier_suffix_is_its_own_service_tier_row(aliases):
    astra = prices_by_key(aliases, "gpt-6-astra")
    d = Decimal
    assert astra == {
        ("base", "standard"): (d("2.5"), d("15"), d("0.25"), d("1.25")),  # _batches: the batch columns
        ("base", "flex"): (d("1.25"), d("7.5"), d("0.125"), None),
        ("base", "priority"): (d("5"), d("30"), d("0.5"), None),
        ("base", "ultrafast"): (d("10"), d("60"), d("1"), None),
        ("base", "decisions"): (d("3"), d("18"), None, None),
        (">272k", "standard"): (d("5"), d("22.5"), d("0.25"), None),
        (">272k", "ultrafast"): (d("20"), d("90"), d("1"), None),
    }
    assert prices_by_key(aliases, "sail/moonshotai/Kimi-K3")[("base", "balanced")] == (
        d("0.4"),
        d("2"),
        d("0.1"),
        None,
    )
    assert not any("not mapped" in w for w in aliases.warnings)


def test_an_alias_chain_is_priced_as_its_final_target_under_its_own_id(aliases):
    astra = prices_by_key(aliases, "gpt-6-astra")
    for alias in ("gpt-astra-latest", "gpt-astra-stable"):
        assert prices_by_key(aliases, alias) == astra
        rows = aliases.rows.filter(pl.col("model") == alias)
        assert set(rows["provider"]) == {"openai"}  # the target's provider
        assert set(rows["canonical_model"]) == {"openai/gpt-6-astra"}
        assert set(rows["context_window"]) == {1050000}


def test_an_alias_that_states_a_provider_keeps_it(aliases):
    azure = aliases.rows.filter(pl.col("model") == "azure/gpt-astra-latest")
    assert set(azure["provider"]) == {"azure"}
    assert prices_by_key(aliases, "azure/gpt-astra-latest") == prices_by_key(aliases, "gpt-6-astra")


def test_alias_cycles_and_missing_targets_are_rejected_naming_both_ids(aliases):
    found = {r.key["model"]: (r.rule, r.field, r.value, r.reason) for r in aliases.rejects}
    assert found == {
        "loop-a-latest": (
            "alias_cycle",
            "alias_of",
            "loop-b-latest",
            "loop-a-latest: alias_of chain loop-a-latest -> loop-b-latest -> loop-a-latest loops back to "
            "loop-a-latest",
        ),
        "loop-b-latest": (
            "alias_cycle",
            "alias_of",
            "loop-a-latest",
            "loop-b-latest: alias_of chain loop-b-latest -> loop-a-latest -> loop-b-latest loops back to "
            "loop-b-latest",
        ),
        "orphan-latest": (
            "alias_target_missing",
            "alias_of",
            "gpt-9-retired",
            "orphan-latest: alias_of chain orphan-latest -> gpt-9-retired ends at 'gpt-9-retired', "
            "which is not an entry of the map",
        ),
    }


def test_entries_not_billed_per_token_are_counted_by_unit_in_one_warning(aliases):
    # dall-e-latest aliases dall-e-3: it is counted with its target's unit, and gives no row either.
    assert {"dall-e-3", "dall-e-latest", "whisper-1", "tts-1", "gemini/gemma-3-27b-it"}.isdisjoint(
        set(aliases.rows["model"])
    )
    assert aliases.warnings == [
        "litellm: 5 entries not billed per token give no row: 2 per image (e.g. dall-e-latest), "
        "1 per character (e.g. tts-1), 1 per second (e.g. whisper-1), "
        "1 priced all zero or not at all (e.g. gemini/gemma-3-27b-it)"
    ]


def ingest_warnings(fixtures, capsys, *flags: str) -> str:
    from pipelines.cli import main

    path = fixtures / "token_prices" / "litellm_many_warnings.json"
    assert main(["ingest", "token_prices", str(path), "--source", "litellm", *flags]) == 0
    return capsys.readouterr().err


def test_ingest_prints_the_first_10_warnings_and_verbose_prints_all(costcurve_home, fixtures, capsys):
    fields = [f"'loyalty_cost_{letter}'" for letter in "abcdefghijkl"]
    short = ingest_warnings(fixtures, capsys)
    assert short.count("warning:") == 10
    assert [f in short for f in fields] == [True] * 10 + [False] * 2
    assert "... and 2 more warnings" in short
    full = ingest_warnings(fixtures, capsys, "--verbose")
    assert full.count("warning:") == 12 and all(f in full for f in fields)
    assert "more warnings" not in full
