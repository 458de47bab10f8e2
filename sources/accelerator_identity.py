"""One accelerator identity, and the normalized GPU-rate row every rate parser builds.

Canonical ids look like ``nvidia-h100-sxm-80gb``: vendor, model, form factor where it matters,
memory. The explicit alias table (``catalog/accelerator_aliases.csv``) maps the names sources
write (``H100``, ``NVIDIA H100 80GB HBM3``, SkyPilot's ``A100`` meaning 40 GB, ...) to those ids.
An alias row may be qualified by memory (GB) and/or form factor (sxm, pcie, nvl): the same name
means different parts, e.g. SkyPilot's Vast catalog writes ``H100`` for an H100 NVL 94 GB and only
the memory or the offer name tells them apart. A name that maps to nothing returns None; rate rows
keep ``accelerator = null`` with ``accelerator_name`` set so the pipeline can list them.

``RateRows`` is shared by every gpu_rates parser so that the per-GPU price, the price band, the
duplicate-key rule and the rejects read the same everywhere; ``read_csv`` by every CSV parser of
rates and specs so that encodings, CRLF, missing and unknown columns are handled once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any

from sources.base import ParseResult, Reject, SourceError, quantize_price, to_decimal
from sources.schemas import GPU_RATES

# Vendor and product-line words that sources prepend or omit at will ("NVIDIA GeForce RTX 4090",
# "Tesla V100", "AMD Radeon Instinct MI250X"); stripped only when the full name has no alias.
_PREFIXES = ("nvidia", "amd", "intel", "google", "tesla", "geforce", "radeon", "instinct", "habana")
_FORM_FACTORS = ("sxm", "pcie", "nvl")
_MEMORY_TOLERANCE = Decimal("0.08")

# Sane bounds for one GPU-hour: below a cent is a placeholder or a unit error (per-minute,
# per-second); above $100 is a per-term or per-month price mistaken for hourly.
MIN_USD_PER_GPU_HOUR = Decimal("0.01")
MAX_USD_PER_GPU_HOUR = Decimal("100")


@dataclass(frozen=True)
class Alias:
    canonical: str
    memory_gb: Decimal | None
    form_factor: str | None


def normalize(name: str) -> str:
    """Lower case without spaces, underscores or hyphens: 'RTX6000-Ada' == 'RTX 6000 Ada'."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def form_factor(text: str | None) -> str | None:
    """The form factor a name or offer id states (sxm, pcie, nvl), if exactly one."""
    if not text:
        return None
    t = normalize(text)
    # 'nvlink' is a bridge on SXM and PCIe parts alike, not the NVL product.
    found = {
        ff
        for ff, pattern in (("sxm", r"sxm"), ("pcie", r"pcie"), ("nvl", r"nvl(?!ink)"))
        if re.search(pattern, t)
    }
    return found.pop() if len(found) == 1 else None


def _implied_form_factor(canonical: str) -> str | None:
    parts = canonical.split("-")
    return next((p for p in parts if p in _FORM_FACTORS or p.startswith("sxm")), None)


@cache
def aliases() -> dict[str, tuple[Alias, ...]]:
    """Normalized alias -> its rows in file order (the unqualified row is the default)."""
    text = (files("sources") / "catalog" / "accelerator_aliases.csv").read_text(encoding="utf-8")
    table: dict[str, list[Alias]] = {}
    for row in csv.DictReader(text.splitlines()):
        memory = row["memory_gb"].strip()
        table.setdefault(normalize(row["alias"]), []).append(
            Alias(
                row["canonical"].strip(),
                Decimal(memory) if memory else None,
                row["form_factor"].strip() or None,
            )
        )
    return {k: tuple(v) for k, v in table.items()}


def _candidates(name: str) -> tuple[Alias, ...]:
    key = normalize(name)
    table = aliases()
    while key not in table:
        prefix = next((p for p in _PREFIXES if key.startswith(p) and len(key) > len(p)), None)
        if prefix is None:
            return ()
        key = key[len(prefix) :]
    return table[key]


def _memory_matches(actual: Decimal, nominal: Decimal) -> bool:
    return abs(actual - nominal) <= nominal * _MEMORY_TOLERANCE


def canonical_accelerator(name: str, *, memory_gb: Any = None, hint: str | None = None) -> str | None:
    """The canonical id for an accelerator name, or None when nothing maps it.

    ``memory_gb`` is the memory of one accelerator (GiB as vendors print it: 80, 94, 141);
    ``hint`` is any text that may state the form factor (an offer id, a socket, a display name).
    The most specific alias row whose qualifiers all hold wins. A hint that contradicts the form
    factor of the result (a PCIe offer resolving to an SXM part) gives None rather than a guess.
    """
    if not name or not name.strip():
        return None
    memory = to_decimal(memory_gb) if memory_gb not in (None, "") else None
    ff = form_factor(hint) or form_factor(name)
    best, best_score = None, -1
    for alias in _candidates(name):
        score = 0
        if alias.memory_gb is not None:
            if memory is None or not _memory_matches(memory, alias.memory_gb):
                continue
            score += 1
        if alias.form_factor is not None:
            if alias.form_factor != ff:
                continue
            score += 1
        if score > best_score:
            best, best_score = alias, score
    if best is None:
        return None
    implied = _implied_form_factor(best.canonical)
    if ff and implied and not implied.startswith(ff):
        return None
    return best.canonical


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
                fields = [v for k, v in row.items() if k is not None] + list(row.get(None) or [])
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
