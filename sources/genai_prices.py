"""Token prices from pydantic's genai-prices: the live v2 JSON feed, or the installed package's data.

Both arrive in the v2 JSON shape (a list of providers, each with ``models``): the embedded default
serializes the package's dataclasses into that shape, so one parser reads both and the raw archive
always holds JSON. A model's ``prices`` is either one price set or a list of conditional prices:
``constraint.start_date`` entries form a dated timeline (the unconstrained entry is the price
before the first date, with no known start), ``start_time``/``end_time`` entries are a daily
window. ``price_variants`` add service tiers (flex, priority, ...) and batch prices, each possibly
from its own start date.

The parser replays each model's timeline and emits one version per key whenever its values
change: ``valid_from`` is the declared date (null for the open-start first price) and
``valid_to`` closes a key the timeline drops (e.g. a context tier removed by a price change).
genai-prices does not say which daily window is off-peak; the cheaper window is marked off-peak.
A model stating no per-token price (``"prices": {}``, or only other units) gives no row; one warning
per kind counts them with a few examples.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal
from importlib.metadata import version
from typing import Any

from sources.base import (
    BadRecord,
    ParseResult,
    Records,
    SourceError,
    checked_price,
    json_object,
    plain_id,
    read_date,
    to_decimal,
)
from sources.http import Fetched, Http
from sources.model_identity import canonical_model
from sources.schemas import TOKEN_PRICES

NAME = "genai_prices"
DATASET = "token_prices"
# One payload is the whole feed: a key it no longer lists is closed (warehouse.history).
SNAPSHOT_SCOPE: tuple[str, ...] | None = ("source",)
LIVE_URL = (
    "https://raw.githubusercontent.com/pydantic/genai-prices/refs/heads/main/prices/new_data/v2/data.json"
)

# genai-prices field -> our column, for the fields that are per-million-token list prices.
_FIELDS = {
    "input_mtok": "input_usd_per_mtok",
    "output_mtok": "output_usd_per_mtok",
    "cache_read_mtok": "cache_read_usd_per_mtok",
    "cache_write_mtok": "cache_write_usd_per_mtok",
}
_STANDARD = "standard"


def fetch_live(http: Http) -> list[Fetched]:
    return [Fetched(LIVE_URL, http.get(LIVE_URL))]


def embedded() -> list[Fetched]:
    from genai_prices.data import providers

    body = json.dumps([_plain(p) for p in providers], separators=(",", ":")).encode()
    return [Fetched(f"package:genai-prices=={version('genai-prices')}", body)]


_DROPPED = {"match", "model_match", "provider_match", "extractors", "api_pattern", "description"}


def _plain(obj: Any) -> Any:
    """The package's objects as v2 JSON: Decimals as strings (exact), dates ISO, no nulls.

    Matching rules and usage extractors are dropped: they say how to recognise a model in API
    traffic, not what it costs.
    """
    if dataclasses.is_dataclass(obj):
        items = ((f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj))
    elif type(obj).__name__ == "ModelPrice":  # a plain class holding only the prices it was given
        items = vars(obj).items()
    else:
        items = None
    if items is not None:
        return {
            k.rstrip("_"): _plain(v)
            for k, v in items
            if v is not None and not k.startswith("_") and k not in _DROPPED
        }
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, (date, time)):
        return obj.isoformat()
    return obj


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    try:
        providers = json.loads(body, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SourceError(NAME, f"payload from {origin} is not JSON ({e})") from None
    if not isinstance(providers, list) or not providers:
        raise SourceError(NAME, f"payload from {origin} is not a non-empty list of providers")
    prices = Records(NAME, TOKEN_PRICES, versioned=True)
    # why -> provider/model of the models read without a reject that give no row
    unpriced: dict[str, list[str]] = defaultdict(list)
    for i, entry in enumerate(providers):
        found: list[tuple[str, list[Any]]] = []
        # A provider without an id or models names none of its keys: its reject holds them all open.
        prices.read(
            f"providers[{i}]", entry, None, lambda entry=entry, found=found: found.append(_provider(entry))
        )
        for provider, models in found:
            for j, model in enumerate(models):
                model_id = model.get("id") if isinstance(model, dict) else None
                label = f"{provider}/{model_id}" if isinstance(model_id, str) else f"{provider}/models[{j}]"
                key = {"provider": provider, **({"model": model_id} if isinstance(model_id, str) else {})}
                record = {"provider": provider, "model": model_id} if model_id is not None else model
                before = len(prices.rows)
                read = prices.read(
                    label, record, key, lambda provider=provider, model=model: _model_records(provider, model)
                )
                if read and len(prices.rows) == before:
                    empty = isinstance(model, dict) and model.get("prices") == {}
                    unpriced["their 'prices' is {}" if empty else "no per-token price"].append(label)
    prices.warnings.extend(
        f"{NAME}: {len(labels)} models give no row, {why} (e.g. {', '.join(labels[:3])})"
        for why, labels in sorted(unpriced.items())
    )
    if not prices.rows and not prices.rejects:
        raise SourceError(NAME, f"payload from {origin} holds no token prices")
    return prices.result()


def _provider(entry: Any) -> tuple[str, list[Any]]:
    provider = json_object(entry, what="a provider")
    provider_id = provider.get("id")
    if not isinstance(provider_id, str) or not provider_id:
        raise BadRecord("missing_field", "a provider entry has no 'id'", "id", provider_id)
    models = provider.get("models") or []
    if not isinstance(models, list):
        raise BadRecord(
            "malformed_record", f"{provider_id}: models is not a list", "models", str(models)[:200]
        )
    return plain_id(provider_id, field="provider"), models


def _model_records(provider: str, entry: Any) -> list[dict[str, Any]]:
    model = json_object(entry, what="a model")
    model_id = model.get("id")
    if not isinstance(model_id, str) or not model_id:
        raise BadRecord("missing_field", f"{provider}: a model has no id", "id", model_id)
    model_id = plain_id(model_id, field="id")
    where = f"{provider}/{model_id}"
    dated, windows = _split_prices(where, model.get("prices"))
    variants = [
        _variant(where, json_object(v, what="a price variant")) for v in model.get("price_variants") or []
    ]
    events = sorted({d for d, _ in dated} | {d for _, d, _ in variants}, key=lambda d: (d is not None, d))
    common = {
        "source": NAME,
        "provider": provider,
        "model": model_id,
        "canonical_model": canonical_model(provider, model_id),
        "context_window": model.get("context_window"),
        "max_output_tokens": None,
        "currency": "USD",
    }
    emitted: dict[tuple, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for event in events:
        state = _state_at(where, event, dated, windows, variants)
        for key, values in state.items():
            last = emitted.get(key)
            if last is not None and last["values"] == values:
                continue
            record = {
                **common,
                **dict(zip(("tier", "service_tier", "off_peak"), key, strict=True)),
                **values,
                "mode": _mode(values),
                "valid_from": event,
                "valid_to": None,
            }
            out.append(record)
            emitted[key] = {"values": values, "record": record}
        for key, last in emitted.items():
            if key not in state and last["record"]["valid_to"] is None and event is not None:
                last["record"]["valid_to"] = event
    return out


def _split_prices(where: str, prices: Any):
    """Dated entries [(start_date|None, price_set)] and daily windows [price_set] of one model."""
    if prices is None:
        raise BadRecord("missing_field", f"{where}: no 'prices'", "prices", None)
    entries = prices if isinstance(prices, list) else [{"prices": prices}]
    dated, windows = [], []
    for entry in entries:
        entry = json_object(entry, what="a conditional price")
        constraint = entry.get("constraint") or {}
        price_set = entry.get("prices") or {}
        if "start_time" in constraint:
            windows.append(price_set)
        elif "start_date" in constraint:
            dated.append((_date(where, constraint["start_date"]), price_set))
        else:
            dated.append((None, price_set))
    if not dated:
        raise BadRecord("missing_field", f"{where}: only time-window prices, no base price", "prices", None)
    return dated, windows


def _variant(where: str, variant: dict[str, Any]):
    when = variant.get("when") or {}
    constraint = variant.get("constraint") or {}
    start = _date(where, constraint["start_date"]) if "start_date" in constraint else None
    if when.get("processing") == "batch":
        name = "batch"
    elif "service_tier" in when:
        name = when["service_tier"]
    else:
        name = ",".join(f"{k}={v}" for k, v in sorted(when.items()))
    return name, start, variant.get("prices") or {}


def _date(where: str, value: Any) -> date:
    return read_date(value, field="start_date", label=where)


def _state_at(where: str, event, dated, windows, variants) -> dict[tuple, dict[str, Any]]:
    """Every key's values in effect from ``event`` on."""

    def starts_by(start):
        return start is None or (event is not None and start <= event)

    base = [p for start, p in dated if starts_by(start)]
    if not base:
        return {}
    price_set = base[-1]
    state: dict[tuple, dict[str, Any]] = {}
    batch = next((p for n, s, p in reversed(variants) if n == "batch" and starts_by(s)), None)
    if windows:
        # Two daily windows of one key: the cheaper one is the off-peak price.
        window = windows[0]
        cheaper_is_window = _input(window) < _input(price_set)
        _add_rows(where, state, price_set, _STANDARD, off_peak=not cheaper_is_window, batch=batch)
        _add_rows(where, state, window, _STANDARD, off_peak=cheaper_is_window, batch=batch)
    else:
        _add_rows(where, state, price_set, _STANDARD, off_peak=False, batch=batch)
    for name, start, prices in variants:
        if name not in ("batch", "default") and starts_by(start) and prices:
            _add_rows(where, state, prices, name, off_peak=False, batch=None)
    return state


def _input(price_set: dict[str, Any]) -> Decimal:
    value = price_set.get("input_mtok")
    if isinstance(value, dict):
        value = value.get("base")
    return to_decimal(value) or Decimal(0)


def _add_rows(where, state, price_set: dict[str, Any], service_tier: str, *, off_peak: bool, batch) -> None:
    thresholds = sorted(
        {t["start"] for v in price_set.values() if isinstance(v, dict) for t in v.get("tiers", [])}
    )
    for threshold in [None, *thresholds]:
        values = {
            col: _price(where, price_set.get(field), threshold, field) for field, col in _FIELDS.items()
        }
        if values["input_usd_per_mtok"] is None and values["output_usd_per_mtok"] is None:
            continue
        batch_set = batch or {}
        values["batch_input_usd_per_mtok"] = _price(
            where, batch_set.get("input_mtok"), threshold, "batch input_mtok", strict_tier=True
        )
        values["batch_output_usd_per_mtok"] = _price(
            where, batch_set.get("output_mtok"), threshold, "batch output_mtok", strict_tier=True
        )
        tier = "base" if threshold is None else f">{_k(threshold)}"
        state[(tier, service_tier, off_peak)] = values


def _k(tokens: int) -> str:
    return f"{tokens // 1000}k" if tokens % 1000 == 0 else str(tokens)


def _price(where: str, value: Any, threshold: int | None, field: str, *, strict_tier: bool = False):
    """The price for prompts above ``threshold`` (None: the base tier)."""
    if isinstance(value, dict):
        chosen = value.get("base")
        for tier in value.get("tiers", []):
            if threshold is not None and tier["start"] <= threshold:
                chosen = tier["price"]
        value = chosen
    elif strict_tier and threshold is not None:
        return None
    return checked_price(value, label=where, field=field)


def _mode(values: dict[str, Any]) -> str:
    return "chat" if values["output_usd_per_mtok"] is not None else "embedding"
