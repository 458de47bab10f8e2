"""Curated token prices: dated launch prices and price changes that no live feed carries.

The embedded default is ``sources/catalog/token_prices.csv``; an analyst's own CSV in the same
format is read by the same parser (``costcurve ingest token_prices FILE --source curated``).
One row is one price of one model from one date on. Columns (header names are fixed; order is free;
UTF-8, comma-separated, CRLF or LF):

==============================  =========  =================================================================
column                          required   meaning
==============================  =========  =================================================================
provider                        yes        who sells the tokens, lowercase (openai, anthropic, google, groq)
model                           yes        the model id as that provider's API names it (gpt-4o-2024-08-06)
valid_from                      yes        ISO date the price took effect (launch or price change)
source_url                      yes        http(s) page where the price and date can be checked
input_usd_per_mtok              one of     USD per million input tokens, a plain decimal (2.50)
output_usd_per_mtok             the two    USD per million output tokens
cache_read_usd_per_mtok         no         cached input read
cache_write_usd_per_mtok        no         cache write (the default 5-minute write)
batch_input_usd_per_mtok        no         input through the batch API
batch_output_usd_per_mtok       no         output through the batch API
tier                            no         'base' (default) or a prompt-size threshold such as '>200k'
service_tier                    no         'standard' (default), 'flex', 'priority', ...
off_peak                        no         true for a discounted time-of-day window (default false)
mode                            no         chat (default), embedding, image, audio, ...
context_window                  no         maximum context in tokens
max_output_tokens               no         maximum output tokens
currency                        no         USD (default; other currencies are rejected)
valid_to                        no         ISO date (exclusive) a price ended without a successor row,
                                           e.g. the end of DeepSeek's off-peak discount
note                            no         the quote or reasoning behind the row
==============================  =========  =================================================================

A later row for the same provider, model, tier, service tier and off-peak flag is a price change.
Outcomes: a missing required value, a bad number or date, a negative price, a price above 10,000
USD/MTok, a non-USD currency or a second row for the same key and date rejects that row; a column
not listed here is ignored (with a warning if it looks like a price); a file without the required
columns or without rows fails as a whole.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from importlib.resources import files
from typing import Any

from sources.base import (
    TRUNCATED,
    BadRecord,
    ParseResult,
    Records,
    SourceError,
    checked_price,
    plain_id,
    read_date,
)
from sources.gpu_rows import read_csv
from sources.http import Fetched, Http
from sources.model_identity import canonical_model
from sources.schemas import TOKEN_PRICES

NAME = "curated"
DATASET = "token_prices"
# One payload is the whole feed: a key it no longer lists is closed (warehouse.history).
SNAPSHOT_SCOPE: tuple[str, ...] | None = ("source",)
CATALOG = "token_prices.csv"

_REQUIRED = ("provider", "model", "valid_from", "source_url")
_PRICES = (
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cache_read_usd_per_mtok",
    "cache_write_usd_per_mtok",
    "batch_input_usd_per_mtok",
    "batch_output_usd_per_mtok",
)
_OPTIONAL = (
    "tier", "service_tier", "off_peak", "mode", "context_window", "max_output_tokens", "currency", "valid_to", "note",
)  # fmt: skip
_BOOLEANS = {"": False, "false": False, "no": False, "0": False, "true": True, "yes": True, "1": True}


def fetch_live(http: Http) -> list[Fetched]:
    """No live feed: curated prices change only when someone edits the CSV."""
    return []


def embedded() -> list[Fetched]:
    resource = files("sources") / "catalog" / CATALOG
    return [Fetched(f"package:sources/catalog/{CATALOG}", resource.read_bytes())]


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    rows, malformed, _ = read_csv(NAME, body, required=_REQUIRED, key=_key, numbered=True)
    if rows and not any(c in rows[0] for c in _PRICES[:2]):
        raise SourceError(
            NAME, f"{origin} lacks the columns {list(_PRICES[:2])}; the header is {list(rows[0])}"
        )
    prices = Records(NAME, TOKEN_PRICES, versioned=True)
    prices.rejects.extend(malformed)
    prices.complete = not any(r.rule == TRUNCATED for r in malformed)
    for row in rows:
        line = row.pop("line")
        if not any(row.values()):  # a row of empty cells, as spreadsheets save them
            continue
        where = f"line {line} ({row.get('provider') or '?'}/{row.get('model') or '?'})"
        prices.read(
            where, {"line": line, **row}, _key(row), lambda where=where, row=row: [_record(where, row)]
        )
    unknown = sorted(set(rows[0]) - set(_REQUIRED) - set(_PRICES) - set(_OPTIONAL)) if rows else []
    prices.warnings.extend(
        f"{NAME}: column {column!r} in {origin} looks like a price but is not a known column; it is ignored"
        for column in unknown
        if "usd" in column or "price" in column or "cost" in column
    )
    if not prices.rows and not prices.rejects:
        raise SourceError(NAME, f"{origin} holds no price rows")
    return prices.result()


def _key(row: dict[str, str]) -> dict[str, Any]:
    """The natural key a row would have had, from the cells it has: a cell the row lacks (a file cut
    mid-row, or no such column) is left out, so the key matches every value of it."""
    key: dict[str, Any] = {}
    if row.get("provider"):
        key["provider"] = row["provider"].lower()
    if row.get("model"):
        key["model"] = row["model"]
    if "tier" in row:
        key["tier"] = row["tier"] or "base"
    if "service_tier" in row:
        key["service_tier"] = row["service_tier"] or "standard"
    if "off_peak" in row and row["off_peak"].lower() in _BOOLEANS:
        key["off_peak"] = _BOOLEANS[row["off_peak"].lower()]
    return key


def _record(where: str, row: dict[str, str]) -> dict[str, Any]:
    for column in _REQUIRED:
        if not row.get(column):
            raise BadRecord("missing_field", f"{where}: no {column}", column, row.get(column))
    if not row["source_url"].startswith(("https://", "http://")):
        raise BadRecord(
            "bad_value",
            f"{where}: source_url {row['source_url']!r} is not a web address",
            "source_url",
            row["source_url"],
        )
    currency = (row.get("currency") or "USD").upper()
    if currency != "USD":
        raise BadRecord(
            "bad_value", f"{where}: currency {currency!r}; prices must be in USD", "currency", currency
        )
    prices = {column: _price(where, column, row.get(column)) for column in _PRICES}
    if prices["input_usd_per_mtok"] is None and prices["output_usd_per_mtok"] is None:
        raise BadRecord(
            "missing_field", f"{where}: neither an input nor an output price", "input_usd_per_mtok", None
        )
    valid_from, valid_to = (
        read_date(row["valid_from"], field="valid_from", label=where),
        read_date(row.get("valid_to"), field="valid_to", label=where),
    )
    if valid_to is not None and valid_to <= valid_from:
        raise BadRecord(
            "bad_date",
            f"{where}: valid_to {valid_to} is not after valid_from {valid_from}",
            "valid_to",
            row.get("valid_to"),
        )
    off_peak = (row.get("off_peak") or "").lower()
    if off_peak not in _BOOLEANS:
        raise BadRecord(
            "bad_value", f"{where}: off_peak {off_peak!r} is not true or false", "off_peak", off_peak
        )
    provider, model = row["provider"].lower(), plain_id(row["model"], field="model", label=where)
    return {
        "source": NAME,
        "provider": provider,
        "model": model,
        "canonical_model": canonical_model(provider, model),
        "tier": row.get("tier") or "base",
        "service_tier": row.get("service_tier") or "standard",
        "off_peak": _BOOLEANS[off_peak],
        "mode": row.get("mode") or "chat",
        **prices,
        "context_window": _count(where, "context_window", row.get("context_window")),
        "max_output_tokens": _count(where, "max_output_tokens", row.get("max_output_tokens")),
        "currency": currency,
        "valid_from": valid_from,
        "valid_to": valid_to,
    }


def _price(where: str, column: str, value: str | None) -> Decimal | None:
    return checked_price(value, label=where, field=column)


def _count(where: str, column: str, value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise BadRecord(
            "bad_value", f"{where}: {column} {value!r} is not a whole number of tokens", column, value
        )
    return int(value)
