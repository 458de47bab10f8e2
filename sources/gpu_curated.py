"""Curated GPU rental rates: the embedded default of the gpu_rates dataset.

``catalog/gpu_rates.csv`` holds rates read off public price pages, cloud price catalogs and the
seed notes, each with the date it took effect (``effective_date`` -> ``valid_from``) and the URL it
can be checked at. The same offer appears once per price it has had, so the history keeps the
changes: a payload may hold several rows of one natural key, told apart by ``valid_from``.

``price`` is quoted as its source quotes it: per instance-hour or per GPU-hour (``price_unit``);
the other is derived exactly. Offers without a region (one global price) have region ''.
There is no live upstream: the catalog ships with the package.
"""

from __future__ import annotations

import re
from datetime import datetime
from importlib.resources import files

from sources.base import TRUNCATED, ParseResult, read_date
from sources.gpu_rows import RateRows, read_csv
from sources.http import Fetched, Http

NAME = "curated"
DATASET = "gpu_rates"
# One payload is the whole feed: a key it no longer lists is closed (warehouse.history).
SNAPSHOT_SCOPE: tuple[str, ...] | None = ("source",)
EMBEDDED_URL = "package://sources/catalog/gpu_rates.csv"
REQUIRED = (
    "provider",
    "instance_type",
    "region",
    "pricing_type",
    "accelerator_name",
    "gpu_count",
    "price",
    "price_unit",
    "currency",
    "effective_date",
    "source_url",
)
KNOWN = ("note",)
PRICING_TYPE = re.compile(r"^(on_demand|spot|reserved_1y|reserved_3y|marketplace|committed_[1-9]\d*m)$")
PRICE_UNITS = ("instance_hour", "gpu_hour")


def fetch_live(http: Http) -> list[Fetched]:
    return []


def embedded() -> list[Fetched]:
    return [Fetched(EMBEDDED_URL, (files("sources") / "catalog" / "gpu_rates.csv").read_bytes())]


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    rows, malformed, warnings = read_csv(NAME, body, required=REQUIRED, known=KNOWN, key=_key)
    rates = RateRows(NAME, versioned=True)
    rates.rejects.extend(malformed)
    rates.warnings.extend(warnings)
    rates.complete = not any(r.rule == TRUNCATED for r in malformed)
    for i, row in enumerate(rows):
        rates.read(f"row {i + 1}", row, _key(row), lambda row=row: _add(rates, row))
    return rates.result()


def _key(row: dict[str, str]) -> dict[str, str]:
    return {k: row[k] for k in ("provider", "instance_type", "region", "pricing_type") if k in row}


def _add(rates: RateRows, row: dict[str, str]) -> None:
    for field in ("provider", "instance_type", "pricing_type", "accelerator_name", "currency", "source_url"):
        if not row[field]:
            rates.reject("missing_field", f"{field} is empty", row, field, row[field])
    if not PRICING_TYPE.match(row["pricing_type"]):
        reason = f"pricing_type {row['pricing_type']!r} is not on_demand, spot, reserved_1y/3y, marketplace or committed_<N>m"
        rates.reject("pricing_type", reason, row, "pricing_type", row["pricing_type"])
    if row["price_unit"] not in PRICE_UNITS:
        reason = f"price_unit {row['price_unit']!r} is not one of {', '.join(PRICE_UNITS)}"
        rates.reject("price_unit", reason, row, "price_unit", row["price_unit"])
    effective = read_date(row["effective_date"], field="effective_date")
    if effective is None:
        rates.reject("missing_field", "effective_date is empty", row, "effective_date", "")
    count = rates.gpu_count(row, "gpu_count")
    price = rates.number(row, "price")
    if price is None:
        rates.reject("missing_field", "price is empty", row, "price", "")
    rates.add(
        row,
        provider=row["provider"],
        instance_type=row["instance_type"],
        region=row["region"],
        pricing_type=row["pricing_type"],
        accelerator_name=row["accelerator_name"],
        gpu_count=count,
        usd_per_instance_hour=price * count if row["price_unit"] == "gpu_hour" else price,
        hint=row["instance_type"],
        currency=row["currency"],
        valid_from=effective,
        price_field="price",
    )
