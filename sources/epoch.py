"""Epoch AI's Machine Learning Hardware CSV: the live source of the accelerators dataset.

Units are converted exactly (decimal shifts): FLOP/s and OP/s to TFLOPS/TOPS, bytes to GB (1e9),
bytes/s to TB/s (1e12). Only tensor columns are read: ``Tensor-FP16/BF16``, never the plain
``FP16 (half precision)`` column, which holds shader (non-tensor) throughput for most rows; and
``FP4 performance``, never ``INT4/FP4``. Epoch lists dense figures (its notes say where it halved
a with-sparsity figure); a row whose notes say its figures include sparsity keeps no tensor values.

Only hardware with a canonical id (see ``accelerator_identity``) becomes a row; the rest (old
consumer cards, chips no rate source rents) is named in one warning so it can be aliased later.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sources.accelerator_identity import canonical_accelerator
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

NAME = "epoch"
DATASET = "accelerators"
# One payload is the whole feed: a key it no longer lists is closed (warehouse.history).
SNAPSHOT_SCOPE: tuple[str, ...] | None = ("source",)
LIVE_URL = "https://epoch.ai/data/ml_hardware.csv"
PAGE = "https://epoch.ai/data/machine-learning-hardware"

# column -> (dataset column, decimal exponent that converts the unit)
CONVERSIONS = {
    "Memory size per board (Byte)": ("memory_gb", -9),
    "Memory bandwidth (byte/s)": ("memory_bandwidth_tbps", -12),
    "Tensor-FP16/BF16 performance (FLOP/s)": ("bf16_dense_tflops", -12),
    "FP8 performance (FLOP/s)": ("fp8_dense_tflops", -12),
    "INT8 performance (OP/s)": ("int8_dense_tops", -12),
    "FP4 performance (FLOP/s)": ("fp4_dense_tflops", -12),
    "TDP (W)": ("tdp_w", 0),
    "Release price (USD)": ("launch_price_usd", 0),
}
TENSOR = ("bf16_dense_tflops", "fp8_dense_tflops", "int8_dense_tops", "fp4_dense_tflops")
# FP8 and FP4 columns were added later than the others; a file without them still parses.
OPTIONAL = ("FP8 performance (FLOP/s)", "FP4 performance (FLOP/s)", "Notes", "Link to datasheet")
REQUIRED = ("Hardware name", "Release date", *(c for c in CONVERSIONS if c not in OPTIONAL))
KNOWN = (
    *OPTIONAL,
    "Manufacturer",
    "Type",
    "FP64 (double precision) performance (FLOP/s)",
    "FP32 (single precision) performance (FLOP/s)",
    "FP16 (half precision) performance (FLOP/s)",
    "TF32 (TensorFloat-32) performance (FLOP/s)",
    "INT16 performance (OP/s)",
    "INT4/FP4 performance (OP/s)",
    "Intranode bandwidth (byte/s)",
    "Internode bandwidth (bit/s)",
    "Die Size (mm^2)",
    "Base clock (MHz)",
    "Boost clock (MHz)",
    "Memory clock (MHz)",
    "Memory bus (bit)",
    "Tensor cores",
    "Process size (nm)",
    "Foundry",
    "Transistors (millions)",
    "Source for the price",
    "ML models",
    "Last modified",
    "Max performance",
    "Energy efficiency",
    "Total processing performance (bit-OP/s)",
    "Price-performance",
    "ML OP/s",
)
_SPARSE_NOTE = re.compile(r"\b(with|including|includes) (structured )?sparsity\b", re.IGNORECASE)
_UNMAPPED_SHOWN = 12


def fetch_live(http: Http) -> list[Fetched]:
    return [Fetched(LIVE_URL, http.get(LIVE_URL))]


def embedded() -> list[Fetched]:
    # The curated catalog (accelerator_specs) is the accelerators dataset's embedded default.
    return []


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    rows, malformed, warnings = read_csv(NAME, body, required=REQUIRED, known=KNOWN, key=_key)
    specs = Records(NAME, ACCELERATORS)
    specs.rejects.extend(malformed)
    specs.warnings.extend(warnings)
    specs.complete = not any(r.rule == TRUNCATED for r in malformed)
    seen: dict[str, str] = {}
    unmapped: list[str] = []

    def read(row: dict[str, str]) -> list[dict[str, Any]]:
        name = plain_id(row["Hardware name"], field="Hardware name")
        accelerator = canonical_accelerator(name)
        if accelerator is None:
            unmapped.append(name or "(no name)")
            return []
        if accelerator in seen:
            reason = (
                f"{name!r} maps to {accelerator}, already given by {seen[accelerator]!r}; the first is kept"
            )
            raise BadRecord("duplicate_key", reason, "Hardware name", name)
        record = _record(row, accelerator, specs.warnings)
        seen[accelerator] = name
        return [record]

    for i, row in enumerate(rows):
        specs.read(row.get("Hardware name") or f"row {i + 1}", row, _key(row), lambda row=row: read(row))
    if unmapped:
        shown = ", ".join(unmapped[:_UNMAPPED_SHOWN]) + (", ..." if len(unmapped) > _UNMAPPED_SHOWN else "")
        specs.warnings.append(
            f"{len(unmapped)} hardware rows have no canonical accelerator id and were left out: {shown}"
        )
    return specs.result()


def _key(row: dict[str, str]) -> dict[str, str]:
    """The accelerator a row names, when its name maps to one (a look-alike name maps to none)."""
    try:
        accelerator = canonical_accelerator(row.get("Hardware name", ""))
    except BadRecord:
        accelerator = None
    return {"accelerator": accelerator} if accelerator else {}


def _record(row: dict[str, str], accelerator: str, warnings: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {"source": NAME, "accelerator": accelerator, "vendor": accelerator.split("-")[0]}
    for column, (target, exponent) in CONVERSIONS.items():
        value = non_negative(row.get(column, ""), field=column)
        record[target] = None if value is None else quantize_price(value.scaleb(exponent))
    if _SPARSE_NOTE.search(row.get("Notes", "")):
        warnings.append(
            f"{row['Hardware name']}: Epoch's notes say its figures include sparsity; tensor values left empty"
        )
        record.update(dict.fromkeys(TENSOR))
    record["release_date"] = read_date(row["Release date"], field="Release date")
    links = re.split(r"[\s;]+", row.get("Link to datasheet", "").strip())
    record["source_url"] = next((u for u in links if u.startswith("http")), PAGE)
    return record
