"""Eval results: pass rates and tokens per attempt, from an analyst's CSV or JSON file.

Columns (CSV header or JSON object keys; a JSON file is a list of objects): ``model``, ``task``,
``pass_rate`` (0..1, or a percentage such as ``68.4%``), ``mean_input_tokens``,
``mean_output_tokens`` and ``source`` are required; ``n``, ``mean_cached_input_tokens``,
``tokens_basis`` (measured | assumed, default measured), ``source_url``, ``provider`` (helps map the
model id) and ``measured_on`` (ISO date, becomes ``valid_from``) are optional. The embedded default
is ``sources/catalog/eval_results.csv``: a few public figures quoted in the project's seed notes,
with the tokens per attempt stated as assumptions.

Each row's own ``source`` column (who measured it) is part of the key, so an analyst's file never
closes the curated rows or another analyst's.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from importlib.resources import files
from typing import Any

from sources.base import ParseResult, Reject, SourceError, quantize_price, to_decimal
from sources.http import Fetched, Http
from sources.model_identity import canonical_model
from sources.schemas import EVAL_RESULTS

NAME = "evals"
DATASET = "eval_results"
CATALOG = "eval_results.csv"
REQUIRED = ("model", "task", "pass_rate", "mean_input_tokens", "mean_output_tokens", "source")
_TOKENS = ("mean_input_tokens", "mean_output_tokens", "mean_cached_input_tokens")


def fetch_live(http: Http) -> list[Fetched]:
    """No live feed: eval results come from files."""
    return []


def embedded() -> list[Fetched]:
    resource = files("sources") / "catalog" / CATALOG
    return [Fetched(f"embedded:sources/catalog/{CATALOG}", resource.read_bytes())]


def _records(body: bytes, origin: str) -> list[dict[str, Any]]:
    text = body.decode("utf-8-sig", errors="replace").strip()
    if not text:
        raise SourceError(NAME, f"{origin} is empty")
    if text[0] in "[{":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SourceError(NAME, f"{origin} is not valid JSON ({e})") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise SourceError(NAME, f"{origin}: a JSON eval file is a list of objects")
        return data
    rows = list(csv.DictReader(io.StringIO(text)))
    missing = [c for c in REQUIRED if c not in (rows[0] if rows else {})]
    if missing:
        raise SourceError(NAME, f"{origin} lacks required column(s) {', '.join(missing)}")
    return rows


def _pass_rate(value: Any) -> Decimal | None:
    text = str(value).strip() if value is not None else ""
    if text.endswith("%"):
        d = to_decimal(text[:-1])
        return None if d is None else d / 100
    return to_decimal(value)


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    records = _records(body, origin)
    if not records:
        raise SourceError(NAME, f"{origin} holds no eval results")
    rows, rejects, seen = [], [], set()
    for record in records:
        label = f"{record.get('model')}/{record.get('task')}"

        def reject(rule: str, reason: str, field: str | None = None, value: Any = None) -> None:
            rejects.append(Reject(NAME, rule, f"{label}: {reason}", record, field, value))  # noqa: B023

        absent = [c for c in REQUIRED if str(record.get(c) or "").strip() == ""]
        if absent:
            reject("missing_field", f"missing {', '.join(absent)}", absent[0], None)
            continue
        try:
            rate = _pass_rate(record["pass_rate"])
            tokens = {c: to_decimal(record.get(c)) for c in _TOKENS}
            n = int(record["n"]) if str(record.get("n") or "").strip() else None
            measured_on = date.fromisoformat(record["measured_on"]) if record.get("measured_on") else None
        except ValueError as e:
            reject("not_a_number", str(e), None, None)
            continue
        if not 0 <= rate <= 1:
            reject(
                "out_of_range",
                f"pass_rate {record['pass_rate']!r} is not in 0..1 (or 0%..100%)",
                "pass_rate",
                record["pass_rate"],
            )
            continue
        bad_tokens = [c for c, v in tokens.items() if v is not None and v < 0]
        if bad_tokens:
            reject("out_of_range", f"{bad_tokens[0]} is negative", bad_tokens[0], record[bad_tokens[0]])
            continue
        basis = (record.get("tokens_basis") or "measured").strip()
        if basis not in ("measured", "assumed"):
            reject("not_allowed", f"tokens_basis {basis!r} is not measured or assumed", "tokens_basis", basis)
            continue
        key = (record["source"], record["model"], record["task"])
        if key in seen:
            reject(
                "duplicate_key", "a second row for the same source, model and task", "task", record["task"]
            )
            continue
        seen.add(key)
        rows.append(
            {
                "source": record["source"].strip(),
                "model": record["model"].strip(),
                "canonical_model": canonical_model(record.get("provider") or "", record["model"].strip()),
                "task": record["task"].strip(),
                "pass_rate": quantize_price(rate),
                "n": n,
                **{c: quantize_price(v) for c, v in tokens.items()},
                "tokens_basis": basis,
                "source_url": record.get("source_url") or None,
                "valid_from": measured_on,
            }
        )
    return ParseResult(EVAL_RESULTS.frame(rows), rejects)
