"""Token prices from OpenRouter's model list (``GET /api/v1/models?output_modalities=all``).

The payload is ``{"data": [model, ...]}``. ``pricing`` holds USD per token as decimal strings
(``"0.000000078596"``), converted to USD per million tokens exactly. Every row's provider is
``openrouter`` (the reseller); the model id is OpenRouter's. OpenRouter declares no dates, so
``valid_from`` is null (the first observation).

- ``prompt`` / ``completion`` / ``input_cache_read`` / ``input_cache_write`` -> input / output /
  cache_read / cache_write. ``input_cache_write_1h`` is not stored (cache_write is the default
  5-minute write), nor are media, web-search and per-request prices.
- ``pricing.overrides``: ``min_prompt_tokens`` N -> tier ``'>Nk'``; ``utc_start``/``utc_end``
  (HHMM) -> a daily window. An override restates only what changes; the rest is the base price.
  Among a tier's prices across the day, the dearest is the standard row and the cheapest the
  off_peak row (the genai-prices convention: DeepSeek's standard price is its daytime price).
- A variant suffix (``:free``, ``:batch``, ``:beta``, ``:thinking``, ...) is a service tier of the
  base model: ``deepseek/x:free`` is service_tier ``free``, canonical model ``deepseek/x``.
  ``:free`` models are real zero-price rows.
- ``~vendor/x-latest`` aliases are priced rows whose canonical model is their ``alias_target``.
- mode from ``architecture.output_modalities``: embeddings -> embedding, rerank, text -> chat,
  image, speech/audio -> audio, video.
- context_window is ``context_length``, max_output_tokens is ``top_provider.max_completion_tokens``.

Outcomes: a ``-1`` price (OpenRouter's placeholder for routers such as ``openrouter/auto``,
whose price is the routed model's) is rejected as ``placeholder_price``. A model priced all zero
that is not a ``:free`` variant (image models billed per image, rerankers billed per search), and a
transcription model with no output price (its ``prompt`` is per minute or second of audio), are not
billed per token: no row. Each of these kinds is counted in one warning with a few example ids. Negative, NaN or non-numeric prices, a missing
id or prompt/completion price, a price above 10,000 USD/MTok and a repeated id reject the model.
Unknown pricing fields and override conditions are warned about, never guessed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sources import market_snapshot
from sources.base import BadRecord, ParseResult, Records, SourceError, checked_price, json_object, plain_id
from sources.http import Fetched, Http
from sources.model_identity import canonical_model
from sources.schemas import TOKEN_PRICES

NAME = "openrouter"
DATASET = "token_prices"
# One payload is the whole feed: a key it no longer lists is closed (warehouse.history).
SNAPSHOT_SCOPE: tuple[str, ...] | None = ("source",)
LIVE_URL = "https://openrouter.ai/api/v1/models?output_modalities=all"

_COLUMNS = {
    "prompt": "input_usd_per_mtok",
    "completion": "output_usd_per_mtok",
    "input_cache_read": "cache_read_usd_per_mtok",
    "input_cache_write": "cache_write_usd_per_mtok",
}
_REQUIRED = ("prompt", "completion")
_KNOWN_UNMAPPED = frozenset(
    {
        "input_cache_write_1h", "image", "image_token", "image_output", "audio", "audio_output",
        "input_audio_cache", "web_search", "internal_reasoning", "request", "discount", "overrides",
    }
)  # fmt: skip
_CONDITIONS = frozenset({"min_prompt_tokens", "utc_start", "utc_end"})
_MODES = (
    ("embeddings", "embedding"), ("rerank", "rerank"), ("text", "chat"), ("image", "image"),
    ("speech", "audio"), ("audio", "audio"), ("video", "video"),
)  # fmt: skip
_NO_OUTPUT_MODES = frozenset({"embedding", "rerank"})
# Kinds of models that give no row, each counted in one warning.
_PLACEHOLDER = "are priced -1, OpenRouter's placeholder for a routed price: rejected as placeholder_price"
_AUDIO = "are transcription models priced per audio unit in 'prompt', not per token: no row"
_ALL_ZERO = "are priced all zero without being a :free variant (billed per image, request or search): no row"


def fetch_live(http: Http) -> list[Fetched]:
    return [Fetched(LIVE_URL, http.get(LIVE_URL))]


def embedded() -> list[Fetched]:
    """The market snapshot's copy of this feed, with its date and licence (sources/market_snapshot.py)."""
    return market_snapshot.payloads(NAME)


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    models = _load(body, origin)
    prices = Records(NAME, TOKEN_PRICES)
    # kind -> ids of the models that give no row for a reason that is no fault of the record
    not_per_token: dict[str, list[str]] = defaultdict(list)
    new_fields: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for i, model in enumerate(models):
        model_id = model.get("id") if isinstance(model, dict) else None
        named = isinstance(model_id, str) and model_id
        rows: list[dict[str, Any]] = []

        def read(model=model, model_id=model_id, rows=rows) -> list[dict[str, Any]]:
            model = json_object(model, what="a model")
            if not isinstance(model_id, str) or not model_id:
                raise BadRecord("missing_field", f"a model has no id: {str(model)[:200]}", "id", model_id)
            if model_id in seen:
                raise BadRecord(
                    "duplicate_key", f"{model_id}: the id appears again; the first is kept", "id", model_id
                )
            seen.add(model_id)
            rows.extend(_model_rows(model_id, model, prices.warnings))
            return rows

        key = {"provider": NAME, **({"model": model_id} if named else {})}
        if not prices.read(model_id if named else f"data[{i}]", {"model": model_id}, key, read):
            if prices.rejects[-1].rule == "placeholder_price":
                not_per_token[_PLACEHOLDER].append(model_id)
            continue
        for field in model["pricing"]:
            if field not in _COLUMNS and field not in _KNOWN_UNMAPPED:
                new_fields[field].append(model_id)
        if not rows:
            not_per_token[_AUDIO if _per_audio_unit(model) else _ALL_ZERO].append(model_id)
    prices.warnings.extend(
        f"{NAME}: pricing field {field!r} is not mapped to a column (on {len(ids)} models, e.g. {ids[0]})"
        for field, ids in sorted(new_fields.items())
    )
    prices.warnings.extend(
        f"{NAME}: {len(ids)} models {kind} (e.g. {', '.join(ids[:3])})" for kind, ids in not_per_token.items()
    )
    if not prices.rows and not prices.rejects:
        raise SourceError(
            NAME,
            f"payload from {origin} holds no token price rows "
            f"({sum(map(len, not_per_token.values()))} not billed per token)",
        )
    return prices.result()


def _load(body: bytes, origin: str) -> list[Any]:
    if not body.strip():
        raise SourceError(NAME, f"payload from {origin} is empty")
    try:
        payload = json.loads(body, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SourceError(NAME, f"payload from {origin} is not JSON ({e})") from None
    models = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(models, list):
        raise SourceError(NAME, f"payload from {origin} is not an object with a 'data' list of models")
    if not models:
        raise SourceError(NAME, f"payload from {origin} lists no models")
    return models


def _model_rows(model_id: str, model: dict[str, Any], warnings: list[str]) -> list[dict[str, Any]]:
    pricing = model.get("pricing")
    if not isinstance(pricing, dict):
        raise BadRecord("missing_field", f"{model_id}: no pricing", "pricing", pricing)
    for field in _REQUIRED:
        if pricing.get(field) in (None, ""):
            raise BadRecord(
                "missing_field", f"{model_id}: no pricing.{field}", f"pricing.{field}", pricing.get(field)
            )
    if _per_audio_unit(model):
        return []
    base = _prices(model_id, "pricing", pricing)
    # tier -> its whole-day price, and the prices of its daily windows
    whole_day: dict[str, dict[str, Decimal | None]] = {"base": base}
    windows: dict[str, list[dict[str, Decimal | None]]] = defaultdict(list)
    for i, override in enumerate(pricing.get("overrides") or []):
        known = _CONDITIONS | set(_COLUMNS) | _KNOWN_UNMAPPED
        unknown = sorted(set(override) - known) if isinstance(override, dict) else ["(not an object)"]
        if unknown:
            warnings.append(f"{NAME}: {model_id}: pricing.overrides[{i}] has conditions {unknown} this parser "
                            "does not know; the override is ignored")  # fmt: skip
            continue
        # An override restates only what changes; the rest is the model's base price.
        prices = {**base, **_prices(model_id, f"pricing.overrides[{i}]", override)}
        tier = _tier(model_id, i, override.get("min_prompt_tokens"))
        if "utc_start" in override or "utc_end" in override:
            windows[tier].append(prices)
        else:
            whole_day[tier] = prices
    model_id = plain_id(model_id, field="id")
    variant = model_id.split(":", 1)[1] if ":" in model_id else None
    alias = model.get("alias_target") if isinstance(model.get("alias_target"), dict) else {}
    outputs = (model.get("architecture") or {}).get("output_modalities") or []
    mode = next((mode for modality, mode in _MODES if modality in outputs), None)
    top = model.get("top_provider") or {}
    common = {
        "source": NAME,
        "provider": NAME,
        "model": model_id,
        "canonical_model": canonical_model(NAME, alias.get("slug") or model_id),
        "service_tier": variant or "standard",
        "mode": mode,
        "context_window": _count(model.get("context_length")),
        "max_output_tokens": _count(top.get("max_completion_tokens")),
        "currency": "USD",
        "valid_from": None,
    }
    rows = []
    for tier in dict.fromkeys([*whole_day, *windows]):
        day = ([whole_day[tier]] if tier in whole_day else []) + windows[tier]
        levels = sorted({tuple(sorted(p.items())) for p in day}, key=_dearness)
        if len(levels) > 2:
            warnings.append(
                f"{NAME}: {model_id} tier {tier} has {len(levels)} prices over the day; only the "
                "dearest (standard) and the cheapest (off-peak) are kept"
            )
        kept = [(levels[-1], False)] + ([(levels[0], True)] if len(levels) > 1 else [])
        for prices, off_peak in kept:
            values = dict(prices)
            if mode in _NO_OUTPUT_MODES:
                values["output_usd_per_mtok"] = values["output_usd_per_mtok"] or None
            rows.append({**common, **values, "tier": tier, "off_peak": off_peak})
    if variant != "free" and not any(row.get(c) for row in rows for c in _COLUMNS.values()):
        return []
    return rows


def _per_audio_unit(model: dict[str, Any]) -> bool:
    """A transcription model with no output price: its 'prompt' is per minute or second of audio
    (whisper-1's 0.006 is USD 0.006 a minute), not per token; one with an output price is per token."""
    outputs = (model.get("architecture") or {}).get("output_modalities") or []
    return "transcription" in outputs and str(model["pricing"]["completion"]).strip() in ("0", "0.0")


def _prices(model_id: str, where: str, block: dict[str, Any]) -> dict[str, Decimal | None]:
    return {column: _per_mtok(model_id, f"{where}.{field}", block[field]) for field, column in _COLUMNS.items()
            if field in block}  # fmt: skip


def _per_mtok(model_id: str, field: str, value: Any) -> Decimal | None:
    # -1 per token is OpenRouter's placeholder for a price that depends on the routed model.
    if str(value).strip() in ("-1", "-1.0"):
        raise BadRecord(
            "placeholder_price",
            f"{model_id}: {field} is -1, OpenRouter's placeholder for a price that depends on the routed model",
            field,
            value,
        )
    return checked_price(value, label=model_id, field=field, per_token=True)


def _tier(model_id: str, i: int, min_prompt_tokens: Any) -> str:
    if min_prompt_tokens is None:
        return "base"
    if isinstance(min_prompt_tokens, bool) or not isinstance(min_prompt_tokens, int) or min_prompt_tokens < 0:
        raise BadRecord(
            "malformed_tier",
            f"{model_id}: pricing.overrides[{i}].min_prompt_tokens is {min_prompt_tokens!r}",
            f"pricing.overrides[{i}].min_prompt_tokens",
            min_prompt_tokens,
        )
    if min_prompt_tokens == 0:
        return "base"
    return f">{min_prompt_tokens // 1000}k" if min_prompt_tokens % 1000 == 0 else f">{min_prompt_tokens}"


def _dearness(prices: tuple[tuple[str, Decimal | None], ...]) -> tuple[Decimal, Decimal, str]:
    values = dict(prices)
    # The text of the whole set breaks ties, so the same payload always gives the same rows.
    return (
        values.get("input_usd_per_mtok") or Decimal(0),
        values.get("output_usd_per_mtok") or Decimal(0),
        str(prices),
    )


def _count(value: Any) -> int | None:
    """A token count, or None where OpenRouter writes 0 or null for 'not applicable'."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
