"""Measured inference throughput: tokens per second of a model shape on N accelerators, from CSV files.

The embedded default is ``sources/catalog/throughput_measurements.csv``: a plain-PyTorch decode and
prefill benchmark on one NVIDIA H200 and figures NVIDIA published for NIM and TensorRT-LLM, each with
its URL and date. ``tools/measure_throughput.py`` writes a file in the same format for the user's own
GPU, and ``costcurve ingest throughput FILE --source throughput`` loads it.

Columns (CSV header): ``source`` (who measured), ``accelerator`` (the name as written; mapped to a
canonical id through the alias table), ``gpus``, ``engine``, ``model``, ``params_b``, ``dtype``,
``phase`` (decode | prefill | serving), ``batch``, ``tokens_per_second`` and ``measured_on`` are
required; ``engine_version``, ``active_params_b`` (default: ``params_b``, a dense model), ``layers``,
``kv_heads``, ``head_dim``, ``context_tokens``, ``prompt_tokens``, ``output_tokens``, ``source_url``
and ``notes`` are optional. A decode row needs ``context_tokens`` (the KV length); a prefill row takes
its prompt as its context, a serving row prompt + output, when ``context_tokens`` is empty.

Each row's own ``source`` column is part of the key, and a file is a whole snapshot of the sources it
names: a new file from the same source closes the measurements it no longer lists, never another
source's. ``measured_on`` becomes ``valid_from``, so re-measuring a setting adds a version.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from importlib.resources import files
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
from sources.schemas import THROUGHPUT_MEASUREMENTS

NAME = "throughput"
DATASET = "throughput_measurements"
SNAPSHOT_SCOPE: tuple[str, ...] | None = ("source",)
CATALOG = "throughput_measurements.csv"
REQUIRED = (
    "source",
    "accelerator",
    "gpus",
    "engine",
    "model",
    "params_b",
    "dtype",
    "phase",
    "batch",
    "tokens_per_second",
    "measured_on",
)
KNOWN = (
    "engine_version",
    "active_params_b",
    "layers",
    "kv_heads",
    "head_dim",
    "context_tokens",
    "prompt_tokens",
    "output_tokens",
    "source_url",
    "notes",
)
PHASES = ("decode", "prefill", "serving")
_COUNTS = (
    "gpus",
    "batch",
    "layers",
    "kv_heads",
    "head_dim",
    "context_tokens",
    "prompt_tokens",
    "output_tokens",
)


def fetch_live(http: Http) -> list[Fetched]:
    """No live feed: measurements come from the catalog and users' files."""
    return []


def embedded() -> list[Fetched]:
    resource = files("sources") / "catalog" / CATALOG
    return [Fetched(f"embedded:sources/catalog/{CATALOG}", resource.read_bytes())]


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    rows, malformed, warnings = read_csv(NAME, body, required=REQUIRED, known=KNOWN, key=_key)
    out = Records(NAME, THROUGHPUT_MEASUREMENTS, versioned=True)
    out.rejects.extend(malformed)
    out.warnings.extend(warnings)
    out.complete = not any(r.rule == TRUNCATED for r in malformed)
    for i, row in enumerate(rows):
        label = f"row {i + 1} ({row.get('model') or '?'} on {row.get('accelerator') or '?'})"
        out.read(label, row, _key(row), lambda row=row: [_record(row)])
    unmapped = sorted({r["accelerator_name"] for r in out.rows if r["accelerator"] is None})
    if unmapped:
        out.warnings.append(
            f"accelerator name(s) that map to no canonical id (no mart uses these rows): {', '.join(unmapped)}"
        )
    return out.result()


def _key(row: dict[str, str]) -> dict[str, Any]:
    return {k: row[k] for k in ("source", "model", "dtype", "phase") if row.get(k)}


def _count(row: dict[str, str], field: str, *, required: bool = False) -> int | None:
    value = non_negative(row.get(field), field=field)
    if value is None:
        if required:
            raise BadRecord("missing_field", f"{field} is empty", field, "")
        return None
    if value != value.to_integral_value() or (value == 0 and field != "prompt_tokens"):
        raise BadRecord(
            "not_a_count", f"{field} must be a positive whole number: {row[field]!r}", field, row[field]
        )
    return int(value)


def _positive(row: dict[str, str], field: str) -> Decimal | None:
    value = non_negative(row.get(field), field=field)
    if value == 0:
        raise BadRecord("not_positive", f"{field} must be above 0: {row[field]!r}", field, row[field])
    return quantize_price(value)


def _record(row: dict[str, str]) -> dict[str, Any]:
    for field in ("source", "accelerator", "engine", "model", "dtype", "phase"):
        if not (row.get(field) or "").strip():
            raise BadRecord("missing_field", f"{field} is empty", field, "")
    phase = row["phase"].strip().lower()
    if phase not in PHASES:
        raise BadRecord(
            "unknown_phase",
            f"phase must be one of {', '.join(PHASES)}: {row['phase']!r}",
            "phase",
            row["phase"],
        )
    counts = {field: _count(row, field, required=field in ("gpus", "batch")) for field in _COUNTS}
    prompt, output = counts["prompt_tokens"], counts["output_tokens"]
    if phase == "decode":
        # Part of the key, so never null: a decode benchmark times no prompt.
        prompt = prompt or 0
    context = counts["context_tokens"]
    # The context a step attends over: what the roofline's KV term needs for this phase.
    if context is None and phase == "prefill":
        context = prompt
    if context is None and phase == "serving" and prompt is not None and output is not None:
        context = prompt + output
    if context is None:
        needs = {
            "decode": "context_tokens",
            "prefill": "prompt_tokens",
            "serving": "prompt_tokens and output_tokens",
        }
        raise BadRecord("missing_field", f"a {phase} row needs {needs[phase]}", "context_tokens", "")
    params = _positive(row, "params_b")
    active = _positive(row, "active_params_b") if row.get("active_params_b") else params
    if params is None:
        raise BadRecord("missing_field", "params_b is empty", "params_b", "")
    if active > params:
        raise BadRecord(
            "active_above_total",
            f"active_params_b {active} exceeds params_b {params}",
            "active_params_b",
            row["active_params_b"],
        )
    tokens_per_second = _positive(row, "tokens_per_second")
    if tokens_per_second is None:
        raise BadRecord("missing_field", "tokens_per_second is empty", "tokens_per_second", "")
    measured_on = read_date(row["measured_on"], field="measured_on")
    if measured_on is None:
        raise BadRecord("missing_field", "measured_on is empty", "measured_on", "")
    name = row["accelerator"].strip()
    return {
        "source": plain_id(row["source"].strip(), field="source"),
        "accelerator_name": name,
        "accelerator": canonical_accelerator(name),
        "gpus": counts["gpus"],
        "engine": plain_id(row["engine"].strip().lower(), field="engine"),
        "engine_version": (row.get("engine_version") or "").strip(),
        "model": plain_id(row["model"].strip(), field="model"),
        "params_b": params,
        "active_params_b": active,
        "layers": counts["layers"],
        "kv_heads": counts["kv_heads"],
        "head_dim": counts["head_dim"],
        "dtype": plain_id(row["dtype"].strip().lower(), field="dtype"),
        "phase": phase,
        "batch": counts["batch"],
        "context_tokens": context,
        "prompt_tokens": prompt,
        "output_tokens": output,
        "tokens_per_second": tokens_per_second,
        "measured_on": measured_on,
        "source_url": (row.get("source_url") or "").strip() or None,
        "notes": (row.get("notes") or "").strip() or None,
        "valid_from": measured_on,
    }
