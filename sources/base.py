"""The contract every source module follows: what a fetch returns, what a parser returns.

A source module exposes:

- ``NAME`` (e.g. "litellm") and ``DATASET`` (a key of ``sources.schemas.DATASETS``);
- ``fetch_live(http: sources.http.Http) -> list[Fetched]``: the live payload(s), verbatim;
- ``embedded() -> list[Fetched]``: the default shipped with the project, or ``[]`` if it has none;
- ``parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult``: one payload into
  the dataset's normalized frame. ``origin`` is the URL or file path the body came from (some
  formats need it, e.g. the cloud of a SkyPilot ``vms.csv``).

Parsers never raise for one bad record: each record is read through ``Records.read``, which turns
anything the record makes the parser raise into one ``Reject`` naming the source, the record, the
field and the value, and goes on. They raise ``SourceError`` only when the payload as a whole cannot
be read (not JSON, wrong shape, no records); when every record is refused they return empty rows
and all the rejects.
"""

from __future__ import annotations

import json
import math
import traceback
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import polars as pl

# Prices are stored as DECIMAL(18, 9): nine places hold a per-token price of 1e-15 USD once
# scaled to per-million, and an int64-backed decimal keeps DuckDB joins and merges fast.
PRICE_SCALE = 9
PRICE_DTYPE = pl.Decimal(18, PRICE_SCALE)
_QUANTUM = Decimal(1).scaleb(-PRICE_SCALE)
# What the frame's dtypes hold: polars turns a decimal it cannot hold into null without a word, and an
# integer past int64 fails the whole frame, so each row is checked against these first.
_DECIMAL_LIMIT = Decimal(10) ** (18 - PRICE_SCALE)
_INT64 = range(-(2**63), 2**63)
_DTYPE_NAMES = {PRICE_DTYPE: "DECIMAL(18, 9)", pl.Int64: "a 64-bit integer"}

# Dates a source may plausibly give. History's open ends are infinite dates, but a 9999-12-31 or a
# 0001-01-01 is a placeholder written as a date, never a day a price took effect.
EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2100, 1, 1)

# The rule of the last CSV row when the file ends inside it (too few fields or an open quote): the
# payload was cut, so it is no whole snapshot.
TRUNCATED = "truncated_row"


# Above this a per-million-token price is a unit mistake (a per-million price read as per-token), not a
# price: the dearest real list prices are in the hundreds of USD.
MAX_USD_PER_MTOK = Decimal(10_000)


class SourceError(Exception):
    """The payload as a whole cannot be used. The message names the source and what is wrong."""

    def __init__(self, source: str, message: str):
        super().__init__(f"{source}: {message}")
        self.source, self.message = source, message

    def __reduce__(self):
        # Rebuilt from both arguments, so it survives the trip back from a parsing child process.
        return type(self), (self.source, self.message)


@dataclass(frozen=True)
class Reject:
    """One record the parser or a rule refused, with the evidence a person needs to act on it."""

    source: str
    rule: str
    reason: str
    record: dict[str, Any]
    field: str | None = None
    value: Any = None
    # The natural-key values the record would have had, as far as the parser knows them (normalized,
    # e.g. {"source": "litellm", "provider": "openai", "model": "gpt-4o"}); a missing key column
    # matches any value. History keeps the keys it names as they were instead of closing them.
    key: dict[str, Any] | None = None


class BadRecord(Exception):
    """One record cannot be used; the parser turns it into a ``Reject`` and goes on."""

    def __init__(self, rule: str, reason: str, field: str | None = None, value: Any = None):
        super().__init__(reason)
        self.rule, self.reason, self.field = rule, reason, field
        self.value = str(value) if isinstance(value, Decimal | float) else value


class RowRejected(Exception):
    """Raised after a ``Reject`` was recorded, so the parser moves on to the next record."""


@dataclass
class ParseResult:
    rows: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # False when the payload is not a whole snapshot (cut mid-record): it then closes no key.
    complete: bool = True


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

    def check(self, row: dict[str, Any]) -> None:
        """``BadRecord`` naming the first value of ``row`` its column's dtype cannot hold."""
        for column in self.columns:
            value = row.get(column.name)
            if value is None or _fits(column.dtype, value):
                continue
            raise BadRecord(
                "does_not_fit",
                f"{column.name} = {value} does not fit {_DTYPE_NAMES.get(column.dtype, column.dtype)}",
                column.name,
                value,
            )

    def frame(self, records: list[dict[str, Any]]) -> pl.DataFrame:
        """Build a frame with exactly this schema; missing optional fields become null."""
        names = [c.name for c in self.columns]
        return pl.DataFrame([{n: r.get(n) for n in names} for r in records], schema=self.schema, orient="row")


def _fits(dtype: Any, value: Any) -> bool:
    if isinstance(dtype, pl.Decimal):
        return (
            isinstance(value, Decimal | int)
            and not isinstance(value, bool)
            and Decimal(value).is_finite()
            and abs(value) < _DECIMAL_LIMIT
        )
    if dtype == pl.Int64:
        return isinstance(value, int) and not isinstance(value, bool) and value in _INT64
    if dtype == pl.Boolean:
        return isinstance(value, bool)
    if dtype == pl.Date:
        return isinstance(value, date) and not isinstance(value, datetime)
    return isinstance(value, str)


class Records:
    """The rows and rejects of one payload, read one record at a time.

    ``read`` runs the parser's function for one record and keeps the rows it returns; whatever it
    raises becomes one ``Reject`` for that record and the payload goes on. A ``BadRecord`` gives its
    rule, field and value; any other exception (InvalidOperation, TypeError, AttributeError, ...: a
    shape the parser did not foresee) gives rule ``unreadable_record`` with the exception and where it
    was raised. Rows are checked against the dataset's dtypes and for a key the payload already gave
    (with ``valid_from`` when the payload is ``versioned``: a dated timeline).
    """

    def __init__(self, source: str, dataset: Dataset, *, versioned: bool = False):
        self.source, self.dataset, self.versioned = source, dataset, versioned
        self.rows: list[dict[str, Any]] = []
        self.rejects: list[Reject] = []
        self.warnings: list[str] = []
        self.complete = True
        self._keys: set[tuple] = set()
        self._record: tuple[str, dict[str, Any], dict[str, Any] | None] = ("", {}, None)

    def read(
        self,
        label: str,
        record: Any,
        key: dict[str, Any] | None,
        build: Callable[[], Iterable[dict[str, Any]] | None],
    ) -> bool:
        """Reads one record: ``label`` names it in reasons (its id, or its position when it has none),
        ``record`` is the evidence kept with a reject, ``key`` its natural key as far as known, and
        ``build()`` returns its rows (or adds them itself with ``keep``). True when nothing was rejected.
        """
        evidence = record if isinstance(record, dict) else {"record": _excerpt(record)}
        # Key values as rows hold them: an id in its NFKC form.
        natural = {
            k: unicodedata.normalize("NFKC", v) if isinstance(v, str) else v for k, v in (key or {}).items()
        }
        self._record = (label, evidence, {"source": self.source, **natural})
        before = len(self.rejects)
        try:
            self.keep(build() or ())
        except RowRejected:
            pass
        except BadRecord as e:
            reason = e.reason if label in e.reason else f"{label}: {e.reason}"
            self._note(e.rule, reason, None, e.field, e.value, None)
        except Exception as e:  # the reason this class exists: one record must never fail the payload
            self._note("unreadable_record", f"{label}: {_described(e)}", None, None, _excerpt(record), None)
        return len(self.rejects) == before

    def keep(self, rows: Iterable[dict[str, Any]]) -> None:
        """Adds the rows of the record being read, or rejects the record (nothing of it is kept)."""
        rows = list(rows)
        keys = []
        for row in rows:
            self.dataset.check(row)
            key = tuple(row[k] for k in self.dataset.key) + ((row["valid_from"],) if self.versioned else ())
            if key in self._keys or key in keys:
                shown = " / ".join(str(k) for k in key)
                # In a dated timeline the repeated value is the date; otherwise the key as a whole.
                field, value = ("valid_from", str(row["valid_from"])) if self.versioned else (None, shown)
                raise BadRecord("duplicate_key", f"a second row for {shown}; the first is kept", field, value)
            keys.append(key)
        self._keys.update(keys)
        self.rows.extend(rows)

    def reject(
        self,
        rule: str,
        reason: str,
        record: dict[str, Any] | None = None,
        field: str | None = None,
        value: Any = None,
        *,
        key: dict[str, Any] | None = None,
    ):
        """Rejects the record being read (or ``record``, whose natural ``key`` it names): records the
        ``Reject`` and raises ``RowRejected`` so the parser moves on."""
        self._note(rule, reason, record, field, value, key)
        raise RowRejected(reason)

    def _note(self, rule, reason, record, field, value, key) -> None:
        _, evidence, current = self._record
        natural = current if key is None else {"source": self.source, **key}
        evidence = evidence if record is None else record
        self.rejects.append(Reject(self.source, rule, reason, dict(evidence), field, value, natural))

    def result(self) -> ParseResult:
        return ParseResult(self.dataset.frame(self.rows), self.rejects, self.warnings, self.complete)


def _described(error: Exception) -> str:
    """The exception and the parser line that raised it, so the bug can be found from the reject."""
    frames = traceback.extract_tb(error.__traceback__)
    where = next((f for f in reversed(frames) if "/sources/" in f.filename), frames[-1] if frames else None)
    at = f" in {where.name} ({where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else ""
    return f"{type(error).__name__}{at}: {error}"


def _excerpt(value: Any) -> str:
    return str(value)[:200]


def json_object(value: Any, *, what: str) -> dict[str, Any]:
    """``value`` when it is a JSON object, else ``BadRecord`` saying what it is instead."""
    if not isinstance(value, dict):
        raise BadRecord(
            "malformed_record", f"{what} is a {type(value).__name__}, not an object", None, _excerpt(value)
        )
    return value


def read_date(value: Any, *, field: str, label: str = "") -> date | None:
    """Every date a source or a user gives (a declared start or end, a release date, an eval date, the
    ``--observed-at`` of an ingest): None when empty, else the date.

    Takes a ``date``, or ISO text (``2025-06-01``; a time after it, ``2025-06-01T00:00:00Z``, is
    dropped). Raises ``BadRecord`` (rule ``bad_date``, naming ``field`` and the value) when the value
    is not a date, or is outside [EARLIEST_DATE, LATEST_DATE): 9999-12-31 or 0001-01-01 is a
    placeholder, and taken as a date it would stand for history's open ends.
    """
    if value is None or value == "":
        return None
    prefix = f"{label}: " if label else ""
    if isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
    else:
        text = str(value).strip()
        try:
            day = date.fromisoformat(text[:10]) if len(text) == 10 or text[10:11] in ("T", " ") else None
        except ValueError:
            day = None
        if day is None:
            raise BadRecord(
                "bad_date", f"{prefix}{field} {value!r} is not an ISO date (YYYY-MM-DD)", field, value
            )
    if not EARLIEST_DATE <= day < LATEST_DATE:
        raise BadRecord(
            "bad_date",
            f"{prefix}{field} {value!r} is outside {EARLIEST_DATE}..{LATEST_DATE}: a placeholder, not a date",
            field,
            value,
        )
    return day


def plain_id(value: str, *, field: str, label: str = "") -> str:
    """An id or name in its NFKC form (fullwidth letters become ASCII), or ``BadRecord`` (rule
    ``lookalike_id``) naming the first character still outside printable ASCII.

    No model or accelerator id in the real feeds holds one, so such a character (a Cyrillic о, a
    non-breaking hyphen) makes an id that renders like a real one without being it.
    """
    text = unicodedata.normalize("NFKC", value)
    odd = next((c for c in text if not " " <= c <= "~"), None)
    if odd is not None:
        prefix = f"{label}: " if label else ""
        name = unicodedata.name(odd, "unnamed character")
        raise BadRecord(
            "lookalike_id",
            f"{prefix}{field} {value!r} holds U+{ord(odd):04X} {name}, not plain ASCII: a look-alike of a real id?",
            field,
            value,
        )
    return text


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
    """``value`` at the storage scale. One too large for DECIMAL(18, 9) is left as it is: quantizing it
    could overflow, and the row check (``Dataset.check``) rejects it naming the column."""
    if value is None or abs(value) >= _DECIMAL_LIMIT:
        return value
    return value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)


def observed_date(observed_at: datetime):
    return observed_at.date()


def non_negative(value: Any, *, field: str) -> Decimal | None:
    """A number that cannot be negative (a spec, a count, a rate), None when empty, or ``BadRecord``
    naming the field and the value."""
    try:
        number = to_decimal(value)
    except ValueError:
        raise BadRecord("not_a_number", f"{field} is not a number: {value!r}", field, value) from None
    if number is not None and number < 0:
        raise BadRecord("negative", f"{field} is negative: {value!r}", field, value)
    return number


def checked_price(
    value: Any, *, label: str, field: str, per_token: bool = False, maximum: Decimal = MAX_USD_PER_MTOK
) -> Decimal | None:
    """A price in USD per million tokens, or ``BadRecord`` naming the record, the field and the value.

    ``per_token`` reads the value as USD per token (LiteLLM, OpenRouter) and shifts it exactly.
    """
    try:
        number = to_decimal(value)
    except ValueError:
        raise BadRecord(
            "not_a_number", f"{label}: {field} is {value!r}, not a number", field, value
        ) from None
    price = None if number is None else number.scaleb(6) if per_token else number
    if price is None:
        return None
    if price < 0:
        raise BadRecord("negative_price", f"{label}: {field} is negative ({value})", field, value)
    if price > maximum:
        unit = f"per token is {price:f} USD per million tokens," if per_token else "USD per million tokens is"
        hint = " (a per-million price written as per-token?)" if per_token else ""
        raise BadRecord(
            "price_band", f"{label}: {field} = {value} {unit} above {maximum}{hint}", field, value
        )
    return quantize_price(price)
