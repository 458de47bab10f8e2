from datetime import UTC, datetime
from decimal import Decimal

import httpx
import polars as pl
import pytest

from sources import openrouter
from sources.base import SourceError
from sources.http import Http
from sources.schemas import TOKEN_PRICES

OBSERVED = datetime(2026, 11, 22, 6, tzinfo=UTC)


def parse(body: bytes):
    return openrouter.parse(body, observed_at=OBSERVED, origin="fixture")


def rows(result, model: str) -> list[dict]:
    """The model's rows in payload order: base tier first, standard before off-peak."""
    return result.rows.filter(pl.col("model") == model).to_dicts()


@pytest.fixture
def models(fixtures):
    return parse((fixtures / "token_prices" / "openrouter_models.json").read_bytes())


@pytest.fixture
def bad(fixtures):
    return parse((fixtures / "token_prices" / "openrouter_bad_models.json").read_bytes())


def test_frame_has_the_contract_schema_and_live_defaults(models):
    assert models.rows.schema == pl.Schema(TOKEN_PRICES.schema)
    assert set(models.rows["source"]) == {"openrouter"} and set(models.rows["provider"]) == {"openrouter"}
    assert set(models.rows["currency"]) == {"USD"}
    assert models.rows["valid_from"].null_count() == models.rows.height


def test_decimal_strings_per_token_become_exact_usd_per_million(models):
    [o3] = rows(models, "openai/o3")
    assert (o3["input_usd_per_mtok"], o3["output_usd_per_mtok"]) == (Decimal("2"), Decimal("8"))
    assert o3["cache_read_usd_per_mtok"] == Decimal("0.5")
    assert (o3["canonical_model"], o3["tier"], o3["service_tier"], o3["off_peak"]) == (
        "openai/o3",
        "base",
        "standard",
        False,
    )
    assert (o3["context_window"], o3["max_output_tokens"], o3["mode"]) == (200000, 100000, "chat")


def test_a_12_decimal_string_converts_without_drift(models):
    [flash] = rows(models, "deepseek/deepseek-v4-flash")
    assert str(flash["input_usd_per_mtok"]) == "0.078596000"
    assert str(flash["cache_read_usd_per_mtok"]) == "0.015719200"
    assert flash["max_output_tokens"] == 384000


def test_min_prompt_tokens_override_is_a_context_tier(models):
    base, long = rows(models, "anthropic/claude-sonnet-4.5")
    assert (base["tier"], long["tier"]) == ("base", ">200k")
    assert (long["input_usd_per_mtok"], long["output_usd_per_mtok"]) == (Decimal("6"), Decimal("22.5"))
    # cache_write is the 5-minute write; input_cache_write_1h has no column.
    assert (base["cache_write_usd_per_mtok"], long["cache_write_usd_per_mtok"]) == (
        Decimal("3.75"),
        Decimal("7.5"),
    )
    assert {base["canonical_model"], long["canonical_model"]} == {"anthropic/claude-sonnet-4.5"}


def test_deepseek_daily_windows_give_a_standard_and_an_off_peak_row(models):
    standard, off_peak = rows(models, "deepseek/deepseek-v4-pro-0813")
    assert (standard["off_peak"], off_peak["off_peak"]) == (False, True)
    assert (standard["input_usd_per_mtok"], standard["output_usd_per_mtok"]) == (
        Decimal("1.32"),
        Decimal("3.96"),
    )
    assert (off_peak["input_usd_per_mtok"], off_peak["output_usd_per_mtok"]) == (
        Decimal("0.66"),
        Decimal("1.98"),
    )
    assert off_peak["cache_read_usd_per_mtok"] == Decimal("0.022")
    assert off_peak["canonical_model"] == "deepseek/deepseek-v4-pro"


def test_free_models_are_real_zero_price_rows_of_the_base_model(models):
    [free] = rows(models, "deepseek/deepseek-r1-0528:free")
    assert (free["input_usd_per_mtok"], free["output_usd_per_mtok"]) == (Decimal("0"), Decimal("0"))
    assert (free["service_tier"], free["canonical_model"]) == ("free", "deepseek/deepseek-r1")
    assert free["max_output_tokens"] is None


def test_a_batch_variant_is_a_service_tier(models):
    [batch] = rows(models, "google/gemini-3.7-flash:batch")
    assert (batch["service_tier"], batch["canonical_model"]) == ("batch", "google/gemini-3.7-flash")
    assert batch["input_usd_per_mtok"] == Decimal("0.1875")
    assert batch["cache_write_usd_per_mtok"] == Decimal(
        "0.020833333"
    )  # 0.0000000208333... rounded to 9 places


def test_a_router_alias_takes_the_canonical_model_of_its_target(models):
    [alias] = rows(models, "~x-ai/grok-latest")
    assert alias["canonical_model"] == "x-ai/grok-4.6"


def test_embedding_has_no_output_price(models):
    [embedding] = rows(models, "voyageai/voyage-code-4")
    assert (embedding["mode"], embedding["input_usd_per_mtok"], embedding["output_usd_per_mtok"]) == (
        "embedding",
        Decimal("0.12"),
        None,
    )


def test_minus_one_placeholder_is_rejected(models):
    [placeholder] = [r for r in models.rejects if r.rule == "placeholder_price"]
    assert (placeholder.record["model"], placeholder.field, placeholder.value) == (
        "openrouter/auto",
        "pricing.prompt",
        "-1",
    )
    assert rows(models, "openrouter/auto") == []
    assert len(models.rejects) == 1


def test_zero_priced_media_model_is_not_a_token_price(models):
    assert rows(models, "bytedance-seed/seedream-5-0-lite") == []
    [warning] = [w for w in models.warnings if "priced all zero" in w]
    assert "bytedance-seed/seedream-5-0-lite" in warning and "deepseek-r1-0528:free" not in warning


def test_unknown_pricing_fields_and_override_conditions_are_warned_about(models):
    assert any("'input_video'" in w and "deepseek/deepseek-v4-flash" in w for w in models.warnings)
    assert any("mistralai/mistral-large" in w and "min_completion_tokens" in w for w in models.warnings)
    assert not any("web_search" in w or "input_cache_write_1h" in w for w in models.warnings)
    [large] = rows(models, "mistralai/mistral-large")  # the unknown override is ignored, the model kept
    assert large["output_usd_per_mtok"] == Decimal("6")


def test_bad_records_are_rejected_naming_model_field_and_value(bad):
    found = {(r.record["model"], r.rule, r.field, r.value) for r in bad.rejects}
    assert found == {
        ("acme/negative", "negative_price", "pricing.prompt", "-0.000001"),
        ("acme/not-a-number", "not_a_number", "pricing.prompt", "NaN"),
        ("acme/no-completion", "missing_field", "pricing.completion", None),
        ("acme/per-million", "price_band", "pricing.prompt", "0.15"),
        (None, "missing_field", "id", None),
        ("openai/gpt-4o-mini", "duplicate_key", "id", "openai/gpt-4o-mini"),
    }
    [kept] = rows(bad, "openai/gpt-4o-mini")
    assert kept["input_usd_per_mtok"] == Decimal("0.15")  # the first, not the repeated 1.5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"<html>rate limited</html>", "not JSON"),
        (b'[{"id": "openai/o3"}]', "'data' list"),
        (b'{"data": []}', "no models"),
        # Only a model priced all zero: nothing to keep and nothing refused. (A payload whose every
        # model is refused returns its rejects: tests/reliability/test_record_isolation.py.)
        (
            b'{"data": [{"id": "x/image", "pricing": {"prompt": "0", "completion": "0"}}]}',
            "no token price",
        ),
    ],
)
def test_unusable_payloads_fail_the_source_with_a_plain_message(body, message):
    with pytest.raises(SourceError, match=message) as error:
        parse(body)
    assert str(error.value).startswith("openrouter:")


def test_fetch_live_asks_for_every_output_modality(fixtures):
    body = (fixtures / "token_prices" / "openrouter_models.json").read_bytes()
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, content=body)

    [fetched] = openrouter.fetch_live(Http(httpx.Client(transport=httpx.MockTransport(handler))))
    assert seen[0].path == "/api/v1/models" and seen[0].params["output_modalities"] == "all"
    assert fetched.body == body
    assert rows(parse(fetched.body), "openai/o3")[0]["input_usd_per_mtok"] == Decimal("2")


def test_models_without_a_per_token_price_are_counted_by_kind(fixtures):
    result = parse((fixtures / "token_prices" / "openrouter_unpriced_models.json").read_bytes())
    # A transcription model with an output price is billed per token; one without is per audio unit.
    assert result.rows.select("model", "input_usd_per_mtok", "output_usd_per_mtok").rows() == [
        ("openai/gpt-4o-mini", Decimal("0.15"), Decimal("0.6")),
        ("openai/gpt-4o-transcribe", Decimal("2.5"), Decimal("10")),
    ]
    assert [(r.rule, r.key["model"]) for r in result.rejects] == [
        ("placeholder_price", "openrouter/auto"),
        ("placeholder_price", "openrouter/fusion"),
    ]
    assert result.warnings == [
        "openrouter: 2 models are priced -1, OpenRouter's placeholder for a routed price: rejected as "
        "placeholder_price (e.g. openrouter/auto, openrouter/fusion)",
        "openrouter: 2 models are transcription models priced per audio unit in 'prompt', not per token: "
        "no row (e.g. openai/whisper-1, google/chirp-3)",
        "openrouter: 1 models are priced all zero without being a :free variant (billed per image, request "
        "or search): no row (e.g. bytedance-seed/seedream-5-0-lite)",
    ]
