"""The normalized GPU-rate row every rate parser builds, and the CSV reading every CSV parser shares.

``RateRows`` is shared by every gpu_rates parser so that the per-GPU price, the price band, the
duplicate-key rule and the rejects read the same everywhere; ``read_csv`` by every CSV parser of
rates and specs so that encodings, CRLF, missing and unknown columns are handled once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sources.accelerator_identity import canonical_accelerator
from sources.base import ParseResult, Reject, SourceError, quantize_price, to_decimal
from sources.schemas import GPU_RATES

# Sane bounds for one GPU-hour: below a cent is a placeholder or a unit error (per-minute,
# per-second); above $100 is a per-term or per-month price mistaken for hourly.
MIN_USD_PER_GPU_HOUR = Decimal("0.01")
MAX_USD_PER_GPU_HOUR = Decimal("100")


class RowRejected(Exception):
    """Raised by RateRows after it recorded a Reject, so a parser can move on to the next row."""


class RateRows:
    """The gpu_rates rows and rejects of one payload.

    The natural key (provider, instance type, region, pricing type) may appear once per payload;
    a ``versioned`` payload (the curated catalog) may hold one row per key and ``valid_from``.
    """

    def __init__(self, source: str, *, versioned: bool = False):
        self.source = source
        self.versioned = versioned
        self.records: list[dict[str, Any]] = []
        self.rejects: list[Reject] = []
        self.warnings: list[str] = []
        self._keys: set[tuple[str, ...]] = set()

    def reject(
        self, rule: str, reason: str, record: dict[str, Any], field: str | None = None, value: Any = None
    ):
        self.rejects.append(Reject(self.source, rule, reason, dict(record), field, value))
        raise RowRejected(reason)

    def number(self, record: dict[str, Any], field: str, value: Any = None) -> Decimal | None:
        """A non-negative number from ``record[field]`` (or ``value``); None when empty."""
        raw = record.get(field) if value is None else value
        try:
            result = to_decimal(raw)
        except ValueError:
            self.reject("not_a_number", f"{field} is not a number: {raw!r}", record, field, raw)
        if result is not None and result < 0:
            self.reject("negative", f"{field} is negative: {raw!r}", record, field, raw)
        return result

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
        """One rate row; rejects it (price band, duplicate key) instead when it cannot stand."""
        per_gpu = quantize_price(usd_per_instance_hour / gpu_count)
        if not MIN_USD_PER_GPU_HOUR <= per_gpu <= MAX_USD_PER_GPU_HOUR:
            self.reject(
                "price_band",
                f"{pricing_type} price {per_gpu} USD per GPU-hour is outside "
                f"[{MIN_USD_PER_GPU_HOUR}, {MAX_USD_PER_GPU_HOUR}]",
                record,
                price_field,
                str(usd_per_instance_hour),
            )
        key = (provider, instance_type, region, pricing_type)
        if self.versioned:
            key += (str(valid_from),)
        if key in self._keys:
            self.reject(
                "duplicate_key",
                f"duplicate of an earlier row for {' / '.join(key)}; the first one is kept",
                record,
            )
        self._keys.add(key)
        if accelerator is None:
            accelerator = canonical_accelerator(accelerator_name, memory_gb=memory_gb, hint=hint)
        self.records.append(
            {
                "source": self.source,
                "provider": provider,
                "instance_type": instance_type,
                "region": region,
                "pricing_type": pricing_type,
                "accelerator": accelerator,
                "accelerator_name": accelerator_name,
                "gpu_count": quantize_price(gpu_count),
                "usd_per_instance_hour": quantize_price(usd_per_instance_hour),
                "usd_per_gpu_hour": per_gpu,
                "currency": currency,
                "valid_from": valid_from,
            }
        )

    def result(self) -> ParseResult:
        return ParseResult(GPU_RATES.frame(self.records), self.rejects, self.warnings)


def read_csv(
    source: str, body: bytes, *, required: Iterable[str], known: Iterable[str] = ()
) -> tuple[list[dict[str, str]], list[Reject], list[str]]:
    """The rows of a CSV payload, the rows that do not fit its header, and warnings.

    Tolerates a BOM and CRLF line ends. Raises SourceError for an empty or undecodable payload,
    a missing (e.g. renamed) required column, or no data rows; unknown columns are ignored with
    a warning so an upstream that adds a column keeps working.
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
    try:
        for row in reader:
            if None in row or None in row.values():
                # DictReader pads a short row with None values and gathers a long row's extras under None.
                fields = [v for k, v in row.items() if k is not None and v is not None] + list(
                    row.get(None) or []
                )
                record = {"line": reader.line_num, "fields": fields}
                reason = f"line {reader.line_num} has {len(fields)} fields, the header has {len(header)}"
                rejects.append(Reject(source, "malformed_row", reason, record))
                continue
            rows.append({k: v.strip() for k, v in row.items()})
    except csv.Error as e:
        raise SourceError(source, f"malformed CSV at line {reader.line_num}: {e}") from None
    if not rows and not rejects:
        raise SourceError(source, "no data rows")
    return rows, rejects, warnings
