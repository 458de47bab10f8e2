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
    """The rows of a CSV payload, the rows that do not fit its header, and warnings.

    Tolerates a BOM and CRLF line ends. Raises SourceError for an empty or undecodable payload,
    a missing (e.g. renamed) required column, or no data rows; unknown columns are ignored with
    a warning so an upstream that adds a column keeps working. ``key`` gives the natural key of a
    row that does not fit from the columns it still has (a short row's first fields are where the
    header says; a long row's may not be, so it gets none). A file that ends inside its last row (too
    few fields, or a quote left open) rejects that row with rule ``TRUNCATED``: the payload was cut.
    ``numbered`` adds each row's line number under ``"line"``, for parsers that name rows by line.
    ``unquoted`` names a column some writers leave unquoted although its value holds a comma, and the
    pattern each piece of it matches: a row exactly one field too long whose two fields at that
    column both match is read with them rejoined (counted in a warning); any other long row is
    rejected, as its intent is a guess.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SourceError(source, f"payload is not UTF-8 text ({e.reason} at byte {e.start})") from None
    if not text.strip():
        raise SourceError(source, "empty payload")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    required = list(required)
    missing = [c for c in required if c not in header]
    if missing:
        raise SourceError(source, f"missing required column(s) {', '.join(missing)}; the header is {header}")
    expected = set(required) | set(known)
    unknown = [c for c in header if c not in expected]
    warnings = [f"ignored unknown column(s): {', '.join(unknown)}"] if unknown else []
    rows, rejects = [], []
    rejoined: Counter[str] = Counter()
    short = False
    try:
        for row in reader:
            short = None in row.values()
            if unquoted and not short and None in row and (fixed := _rejoined(row, header, *unquoted)):
                rejoined[fixed[unquoted[0]]] += 1
                row = fixed
            elif short or None in row:
                # DictReader pads a short row with None values and gathers a long row's extras under None.
                fields = [v for k, v in row.items() if k is not None and v is not None] + list(
                    row.get(None) or []
                )
                record = {"line": reader.line_num, "fields": fields}
                reason = f"line {reader.line_num} has {len(fields)} fields, the header has {len(header)}"
                named = {k: v.strip() for k, v in row.items() if short and k is not None and v is not None}
                natural = {"source": source, **(key(named) if key else {})}
                rejects.append(Reject(source, "malformed_row", reason, record, key=natural))
                continue
            rows.append(
                {k: v.strip() for k, v in row.items()} | ({"line": reader.line_num} if numbered else {})
            )
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
        cut = rows.pop()
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
    return rows, rejects, warnings


def _rejoined(
    row: dict[str | None, Any], header: list[str], column: str, piece: re.Pattern[str]
) -> dict[str, str] | None:
    """``row`` with the two fields at ``column`` joined back into one, when it is one field too long
    and both are pieces of that column's value; None otherwise."""
    extra = row[None]
    if len(extra) != 1 or column not in header:
        return None
    at = header.index(column)
    fields = [row[k] for k in header] + extra
    first, second = fields[at].strip(), fields[at + 1].strip()
    if not (piece.fullmatch(first) and piece.fullmatch(second)):
        return None
    return dict(zip(header, fields[:at] + [f"{first},{second}"] + fields[at + 2 :], strict=True))
