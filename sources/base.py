"""The contract every source module follows: what a fetch returns, what a parser returns.

A source module exposes:

- ``NAME`` (e.g. "litellm") and ``DATASET`` (a key of ``sources.schemas.DATASETS``);
- ``fetch_live(http: sources.http.Http) -> list[Fetched]``: the live payload(s), verbatim;
- ``embedded() -> list[Fetched]``: the default shipped with the project, or ``[]`` if it has none;
- ``parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult``: one payload into
  the dataset's normalized frame. ``origin`` is the URL or file path the body came from (some
  formats need it, e.g. the cloud of a SkyPilot ``vms.csv``).

Parsers never raise for one bad record: the record becomes a ``Reject`` naming the field and the
value. They raise ``SourceError`` only when the payload as a whole is unusable (not JSON, wrong
shape, no records).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import polars as pl

# Prices are stored as DECIMAL(18, 9): nine places hold a per-token price of 1e-15 USD once
# scaled to per-million, and an int64-backed decimal keeps DuckDB joins and merges fast.
PRICE_SCALE = 9
PRICE_DTYPE = pl.Decimal(18, PRICE_SCALE)
_QUANTUM = Decimal(1).scaleb(-PRICE_SCALE)


# Above this a per-million-token price is a unit mistake (a per-million price read as per-token), not a
# price: the dearest real list prices are in the hundreds of USD.
MAX_USD_PER_MTOK = Decimal(10_000)


class SourceError(Exception):
    """The payload as a whole cannot be used. The message names the source and what is wrong."""

    def __init__(self, source: str, message: str):
        super().__init__(f"{source}: {message}")
        self.source = source


@dataclass(frozen=True)
class Reject:
    """One record the parser or a rule refused, with the evidence a person needs to act on it."""

    source: str
    rule: str
    reason: str
    record: dict[str, Any]
    field: str | None = None
    value: Any = None


class BadRecord(Exception):
    """One record cannot be used; the parser turns it into a ``Reject`` and goes on."""

    def __init__(self, rule: str, reason: str, field: str | None = None, value: Any = None):
        super().__init__(reason)
        self.rule, self.reason, self.field = rule, reason, field
        self.value = str(value) if isinstance(value, Decimal | float) else value


@dataclass
class ParseResult:
    rows: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Column:
    name: str
    dtype: Any
    doc: str


_VALIDITY = ("valid_from", "valid_to")


@dataclass(frozen=True)
class Dataset:
    """A normalized dataset: its columns (the analysts' contract) and its natural key."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    doc: str

    @property
    def schema(self) -> dict[str, Any]:
        return {c.name: c.dtype for c in self.columns}

    @property
    def value_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.name not in self.key and c.name not in _VALIDITY)

    def frame(self, records: list[dict[str, Any]]) -> pl.DataFrame:
        """Build a frame with exactly this schema; missing optional fields become null."""
        names = [c.name for c in self.columns]
        return pl.DataFrame([{n: r.get(n) for n in names} for r in records], schema=self.schema, orient="row")


def load_json(source: str, body: bytes) -> Any:
    """A JSON payload, or SourceError naming the source when it is empty or not JSON."""
    if not body.strip():
        raise SourceError(source, "empty payload")
    try:
        return json.loads(body)
    except ValueError as e:
        raise SourceError(source, f"payload is not JSON ({e})") from None


def to_decimal(value: Any) -> Decimal | None:
    """Read a price exactly: strings and ints as written, floats through their shortest repr.

    Returns None for None or "". Raises ValueError for text that is not a number, NaN or infinity,
    so the caller can reject the record naming the field and the value.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"not a finite number: {value!r}")
        value = repr(value)
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def quantize_price(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)


def per_token_to_per_mtok(value: Any) -> Decimal | None:
    """USD per token -> USD per million tokens, exactly (a decimal shift, never a float product)."""
    d = to_decimal(value)
    return None if d is None else quantize_price(d.scaleb(6))


def observed_date(observed_at: datetime):
    return observed_at.date()


def checked_price(
    value: Any, *, label: str, field: str, per_token: bool = False, maximum: Decimal = MAX_USD_PER_MTOK
) -> Decimal | None:
    """A price in USD per million tokens, or ``BadRecord`` naming the record, the field and the value.

    ``per_token`` reads the value as USD per token (LiteLLM, OpenRouter) and shifts it exactly.
    """
    try:
        price = per_token_to_per_mtok(value) if per_token else quantize_price(to_decimal(value))
    except ValueError:
        raise BadRecord(
            "not_a_number", f"{label}: {field} is {value!r}, not a number", field, value
        ) from None
    if price is None:
        return None
    if price < 0:
        raise BadRecord("negative_price", f"{label}: {field} is negative ({value})", field, value)
    if price > maximum:
        unit = f"per token is {price} USD per million tokens," if per_token else "USD per million tokens is"
        hint = " (a per-million price written as per-token?)" if per_token else ""
        raise BadRecord(
            "price_band", f"{label}: {field} = {value} {unit} above {maximum}{hint}", field, value
        )
    return price
