"""The normalized GPU-rate row every rate parser builds, and the CSV reading every CSV parser shares.

``RateRows`` is shared by every gpu_rates parser so that the per-GPU price, the price band, the
duplicate-key rule and the rejects read the same everywhere; ``read_csv`` by every CSV parser of
rates and specs so that encodings, CRLF, missing and unknown columns are handled once.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from sources.accelerator_identity import canonical_accelerator
from sources.base import (
    TRUNCATED,
    BadRecord,
    Records,
    Reject,
    SourceError,
    non_negative,
    plain_id,
    quantize_price,
)
from sources.schemas import GPU_RATES

# What str.strip() strips (every character Python counts as whitespace), for the same strip of a
# whole column in polars, whose own default omits U+001C..U+001F.
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())

# Sane bounds for one GPU-hour: below a cent is a placeholder or a unit error (per-minute,
# per-second); above $100 is a per-term or per-month price mistaken for hourly.
MIN_USD_PER_GPU_HOUR = Decimal("0.01")
MAX_USD_PER_GPU_HOUR = Decimal("100")


class RateRows(Records):
    """The gpu_rates rows and rejects of one payload.

    The natural key (provider, instance type, region, zone, pricing type) may appear once per payload;
    a ``versioned`` payload (the curated catalog) may hold one row per key and ``valid_from``.
    """

    def __init__(self, source: str, *, versioned: bool = False):
        super().__init__(source, GPU_RATES, versioned=versioned)

    def number(self, record: dict[str, Any], field: str, value: Any = None) -> Decimal | None:
        """A non-negative number from ``record[field]`` (or ``value``); None when empty."""
        raw = record.get(field) if value is None else value
        try:
            return non_negative(raw, field=field)
        except BadRecord as e:
            self.reject(e.rule, e.reason, record, e.field, e.value)

    def gpu_count(self, record: dict[str, Any], field: str, value: Any = None) -> Decimal:
        raw = record.get(field) if value is None else value
        count = self.number(record, field, raw)
        if count is None or count == 0:
            self.reject("gpu_count", f"{field} must be a positive GPU count, got {raw!r}", record, field, raw)
        return count

    def add(
        self,
        record: dict[str, Any],
        *,
        provider: str,
        instance_type: str,
        region: str,
        pricing_type: str,
        zone: str | None = None,
        accelerator_name: str,
        gpu_count: Decimal,
        usd_per_instance_hour: Decimal,
        accelerator: str | None = None,
        memory_gb: Any = None,
        hint: str | None = None,
        currency: str = "USD",
        valid_from: date | None = None,
        price_field: str | None = None,
    ) -> None:
        """One rate row; rejects it (price band, a value that does not fit, duplicate key) instead
        when it cannot stand."""
        key = {
            "provider": provider,
            "instance_type": instance_type,
            "region": region,
            "zone": zone,
            "pricing_type": pricing_type,
        }
        per_gpu = usd_per_instance_hour / gpu_count
        if not MIN_USD_PER_GPU_HOUR <= per_gpu <= MAX_USD_PER_GPU_HOUR:
            self.reject(
                "price_band",
                f"{pricing_type} price {quantize_price(per_gpu)} USD per GPU-hour is outside "
                f"[{MIN_USD_PER_GPU_HOUR}, {MAX_USD_PER_GPU_HOUR}]",
                record,
                price_field,
                str(usd_per_instance_hour),
                key=key,
            )
        try:
            name = plain_id(accelerator_name, field="accelerator_name")
            if accelerator is None:
                accelerator = canonical_accelerator(name, memory_gb=memory_gb, hint=hint)
            self.keep(
                [
                    {
                        "source": self.source,
                        **key,
                        "accelerator": accelerator,
                        "accelerator_name": name,
                        "gpu_count": quantize_price(gpu_count),
                        "usd_per_instance_hour": quantize_price(usd_per_instance_hour),
                        "usd_per_gpu_hour": quantize_price(per_gpu),
                        "currency": currency,
                        "valid_from": valid_from,
                    }
                ]
            )
        except BadRecord as e:
            self.reject(e.rule, e.reason, record, e.field, e.value, key=key)


def read_csv(
    source: str,
    body: bytes,
    *,
    required: Iterable[str],
    known: Iterable[str] = (),
    key: Callable[[dict[str, str]], dict[str, Any]] | None = None,
    numbered: bool = False,
    unquoted: tuple[str, re.Pattern[str]] | None = None,
) -> tuple[list[dict[str, Any]], list[Reject], list[str]]:
    """``read_csv_frame``'s rows as dicts, for parsers that apply their rules one row at a time;
    ``numbered`` adds each row's line number under ``"line"``, for parsers that name rows by line."""
    frame, rejects, warnings = read_csv_frame(
        source, body, required=required, known=known, key=key, unquoted=unquoted
    )
    frame = frame.rename({"_line": "line"}) if numbered else frame.drop("_line")
    return frame.to_dicts(), rejects, warnings


def read_csv_frame(
    source: str,
    body: bytes,
    *,
    required: Iterable[str],
    known: Iterable[str] = (),
    key: Callable[[dict[str, str]], dict[str, Any]] | None = None,
    unquoted: tuple[str, re.Pattern[str]] | None = None,
) -> tuple[pl.DataFrame, list[Reject], list[str]]:
    """The rows of a CSV payload as a frame of text columns (values stripped, ``_line`` the line each
    row ends on), the rows that do not fit its header, and warnings.

    Tolerates a BOM and CRLF line ends. Raises SourceError for an empty or undecodable payload,
    a missing (e.g. renamed) required column, or no data rows; unknown columns are ignored with
    a warning so an upstream that adds a column keeps working. ``key`` gives the natural key of a
    row that does not fit from the columns it still has (a short row's first fields are where the
    header says; a long row's may not be, so it gets none). A file that ends inside its last row (too
    few fields, or a quote left open) rejects that row with rule ``TRUNCATED``: the payload was cut.
    ``unquoted`` names a column some writers leave unquoted although its value holds a comma, and the
    pattern each piece of it matches: a row exactly one field too long whose two fields at that
    column both match is read with them rejoined (counted in a warning); any other long row is
    rejected, as its intent is a guess.

    The csv module splits the fields (its quoting rules are the contract every CSV parser was
    written against); rows are kept as lists and become columns in one step, never one dict per row.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SourceError(source, f"payload is not UTF-8 text ({e.reason} at byte {e.start})") from None
    if not text.strip():
        raise SourceError(source, "empty payload")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as e:
        raise SourceError(source, f"malformed CSV at line {reader.line_num}: {e}") from None
    required = list(required)
    missing = [c for c in required if c not in header]
    if missing:
        raise SourceError(source, f"missing required column(s) {', '.join(missing)}; the header is {header}")
    expected = set(required) | set(known)
    unknown = [c for c in header if c not in expected]
    warnings = [f"ignored unknown column(s): {', '.join(unknown)}"] if unknown else []
    width = len(header)
    at = header.index(unquoted[0]) if unquoted and unquoted[0] in header else None
    rows, lines, rejects = [], [], []
    rejoined: Counter[str] = Counter()
    short = False
    try:
        for fields in reader:
            if not fields:  # a blank line is no row
                continue
            short = len(fields) < width
            if len(fields) == width:
                rows.append(fields)
                lines.append(reader.line_num)
            elif (
                len(fields) == width + 1 and at is not None and (joined := _rejoined(fields, at, unquoted[1]))
            ):
                rejoined[joined[at]] += 1
                rows.append(joined)
                lines.append(reader.line_num)
            else:
                reason = f"line {reader.line_num} has {len(fields)} fields, the header has {width}"
                named = _named(header, fields) if short else {}
                natural = {"source": source, **(key(named) if key else {})}
                record = {"line": reader.line_num, "fields": fields}
                rejects.append(Reject(source, "malformed_row", reason, record, key=natural))
    except csv.Error as e:
        raise SourceError(source, f"malformed CSV at line {reader.line_num}: {e}") from None
    # The file ends inside its last row when that row is short, or when an odd number of quote
    # characters leaves a quote open (the reader then took the rest of the file into one field).
    open_quote = text.count('"') % 2 == 1
    if short or (open_quote and rejects and rejects[-1].record.get("line") == reader.line_num):
        cut = rejects.pop()
        rejects.append(
            dataclasses.replace(cut, rule=TRUNCATED, reason=f"{cut.reason}: the file ends inside it")
        )
    elif open_quote and rows:
        cut = _named(header, rows.pop())
        lines.pop()
        reason = f"line {reader.line_num} opens a quote the file never closes"
        natural = {"source": source, **(key(cut) if key else {})}
        rejects.append(Reject(source, TRUNCATED, reason, {"line": reader.line_num, **cut}, key=natural))
    if not rows and not rejects:
        raise SourceError(source, "no data rows")
    if rejoined:
        written = " or ".join(sorted(rejoined))
        warnings.append(
            f"recovered {rejoined.total():,} rows whose {unquoted[0]} was written unquoted as {written}"
        )
    # A repeated column name keeps its last field, as a dict of the row would.
    index = {name: i for i, name in enumerate(header)}
    frame = pl.DataFrame(
        {name: [row[i] for row in rows] for name, i in index.items()}, schema=dict.fromkeys(index, pl.Utf8)
    ).with_columns(pl.all().str.strip_chars(_WHITESPACE), pl.Series("_line", lines, pl.Int64))
    return frame, rejects, warnings


def _named(header: list[str], fields: list[str]) -> dict[str, str]:
    """A row's fields by column name, stripped, as far as it has them."""
    return {name: value.strip() for name, value in zip(header, fields, strict=False)}


def _rejoined(fields: list[str], at: int, piece: re.Pattern[str]) -> list[str] | None:
    """``fields`` with the two at ``at`` joined back into one value, when both are pieces of that
    column's value; None otherwise."""
    first, second = fields[at].strip(), fields[at + 1].strip()
    if not (piece.fullmatch(first) and piece.fullmatch(second)):
        return None
    return fields[:at] + [f"{first},{second}"] + fields[at + 2 :]
