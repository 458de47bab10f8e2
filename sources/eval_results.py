"""Eval results: pass rates and tokens per attempt, from an analyst's CSV or JSON file.

Columns (CSV header or JSON object keys; a JSON file is a list of objects): ``model``, ``task``,
``pass_rate`` (0..1, or a percentage such as ``68.4%``), ``mean_input_tokens``,
``mean_output_tokens`` and ``source`` are required; ``n``, ``mean_cached_input_tokens``,
``tokens_basis`` (measured | assumed, default measured), ``cost_per_attempt_usd`` (what one attempt
cost, as published), ``source_url``, ``provider`` (helps map the model id) and ``measured_on`` (ISO date,
becomes ``valid_from``) are optional. Leaderboards in their own formats have their own modules
(``sources/aider.py``). The embedded default
is ``sources/catalog/eval_results.csv``: a few public figures quoted in the project's seed notes,
with the tokens per attempt stated as assumptions.

Each row's own ``source`` column (who measured it) is part of the key, so an analyst's file never
closes the curated rows or another analyst's.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from importlib.resources import files
from typing import Any

from sources.base import (
    TRUNCATED,
    BadRecord,
    ParseResult,
    Records,
    Reject,
    SourceError,
    json_object,
    non_negative,
    plain_id,
    quantize_price,
    read_date,
)
from sources.gpu_rows import read_csv
from sources.http import Fetched, Http
from sources.model_identity import canonical_model
from sources.schemas import EVAL_RESULTS

NAME = "evals"
DATASET = "eval_results"
# An eval file adds results; results it does not list do not end.
SNAPSHOT_SCOPE: tuple[str, ...] | None = None
CATALOG = "eval_results.csv"
REQUIRED = ("model", "task", "pass_rate", "mean_input_tokens", "mean_output_tokens", "source")
_TOKENS = ("mean_input_tokens", "mean_output_tokens", "mean_cached_input_tokens")


def fetch_live(http: Http) -> list[Fetched]:
    """No live feed: eval results come from files."""
    return []


def embedded() -> list[Fetched]:
    resource = files("sources") / "catalog" / CATALOG
    return [Fetched(f"embedded:sources/catalog/{CATALOG}", resource.read_bytes())]


def _records(body: bytes, origin: str) -> tuple[list[Any], list[Reject]]:
    """The records of a JSON list or a CSV file, and the CSV rows that do not fit its header."""
    text = body.decode("utf-8-sig", errors="replace").strip()
    if not text:
        raise SourceError(NAME, f"{origin} is empty")
    if text[0] in "[{":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SourceError(NAME, f"{origin} is not valid JSON ({e})") from None
        if not isinstance(data, list):
            raise SourceError(NAME, f"{origin}: a JSON eval file is a list of objects")
        return data, []
    try:
        rows, malformed, _ = read_csv(NAME, body, required=REQUIRED, key=_key)
    except SourceError as e:
        raise SourceError(NAME, f"{origin}: {str(e).removeprefix(f'{NAME}: ')}") from None
    return rows, malformed


def _key(record: Any) -> dict[str, Any]:
    """The natural key a record would have had: its own ``source`` (who measured), model and task."""
    if not isinstance(record, dict):
        return {}
    fields = {k: record.get(k) for k in ("source", "model", "task")}
    return {k: v.strip() for k, v in fields.items() if isinstance(v, str) and v.strip()}


def _number(record: dict[str, Any], field: str) -> Decimal | None:
    value = record.get(field)
    text = str(value).strip() if value is not None else ""
    percent = field == "pass_rate" and text.endswith("%")
    number = non_negative(text[:-1] if percent else value, field=field)
    return number / 100 if percent and number is not None else number


def _count(record: dict[str, Any], field: str) -> int | None:
    value = record.get(field)
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    if not text.isdigit():
        raise BadRecord("not_a_number", f"{field} {value!r} is not a whole number", field, value)
    return int(text)


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    records, malformed = _records(body, origin)
    if not records and not malformed:
        raise SourceError(NAME, f"{origin} holds no eval results")
    results = Records(NAME, EVAL_RESULTS)
    results.rejects.extend(malformed)
    results.complete = not any(r.rule == TRUNCATED for r in malformed)
    for i, record in enumerate(records):
        label = (
            f"{record.get('model')}/{record.get('task')}" if isinstance(record, dict) else f"record {i + 1}"
        )
        results.read(label, record, _key(record), lambda record=record: [_row(record)])
    return results.result()


def _row(entry: Any) -> dict[str, Any]:
    record = json_object(entry, what="an eval result")
    absent = [c for c in REQUIRED if str(record.get(c) or "").strip() == ""]
    if absent:
        raise BadRecord("missing_field", f"missing {', '.join(absent)}", absent[0], record.get(absent[0]))
    rate = _number(record, "pass_rate")
    if not 0 <= rate <= 1:
        raise BadRecord(
            "out_of_range",
            f"pass_rate {record['pass_rate']!r} is not in 0..1 (or 0%..100%)",
            "pass_rate",
            record["pass_rate"],
        )
    tokens = {c: _number(record, c) for c in _TOKENS}
    basis = (record.get("tokens_basis") or "measured").strip()
    if basis not in ("measured", "assumed"):
        raise BadRecord(
            "not_allowed", f"tokens_basis {basis!r} is not measured or assumed", "tokens_basis", basis
        )
    model = plain_id(record["model"].strip(), field="model")
    return {
        "source": record["source"].strip(),
        "model": model,
        "canonical_model": canonical_model(record.get("provider") or "", model),
        "task": record["task"].strip(),
        "pass_rate": quantize_price(rate),
        "n": _count(record, "n"),
        **{c: quantize_price(v) for c, v in tokens.items()},
        "tokens_basis": basis,
        "cost_per_attempt_usd": quantize_price(_number(record, "cost_per_attempt_usd")),
        "source_url": record.get("source_url") or None,
        "valid_from": read_date(record.get("measured_on"), field="measured_on"),
    }
