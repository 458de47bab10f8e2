"""Aider's polyglot coding leaderboard: pass rates and what each run cost, in the leaderboard's own YAML.

The file is ``aider/website/_data/polyglot_leaderboard.yml`` in Aider-AI/aider: a list of runs, each
with ``model`` (a display label such as ``o3 (high)``), ``test_cases`` (exercises attempted, 225),
``pass_num_2`` / ``pass_rate_2`` (solved within two tries), ``total_cost`` (USD for the whole run),
``date`` and, in runs from May 2025 on, ``prompt_tokens`` and ``completion_tokens`` (the whole run).

One row per run: an attempt is one exercise (two tries included), so ``pass_rate`` = pass_num_2 /
test_cases, the mean tokens per attempt are the run's tokens / test_cases (``tokens_basis`` measured),
and ``cost_per_attempt_usd`` = total_cost / test_cases. A run that published its cost but no tokens has
``tokens_basis = derived_from_cost`` and null token columns: the tokens follow from the prices in force
on its date (intermediate.int_eval_runs, docs/methodology.md "Tokens derived from a published cost").
Aider writes ``total_cost: 0`` for runs it did not price (free previews, self-hosted models), so a run
with neither a positive cost nor token counts cannot be priced and is rejected (rule ``no_cost``).

The model is mapped through ``sources.model_identity`` after dropping the label's trailing settings in
parentheses, after a comma and the edit format (``o3 (high)`` -> ``o3``, ``Qwen3 235B A22B diff, no
think`` -> ``Qwen3 235B A22B``) and writing spaces as hyphens (``DeepSeek R1`` -> ``deepseek-r1``); the
label itself stays in ``model``, so each reasoning setting is its own row. A run of two models (``o3 (high) + gpt-4.1``: an architect and an editor) maps
to none and is listed in marts.unmapped_models. A label listed twice (two edit formats of one model)
keeps its newest run; the older one is rejected as a duplicate key.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from importlib.resources import files
from typing import Any

import yaml

from sources.base import (
    BadRecord,
    ParseResult,
    Records,
    SourceError,
    json_object,
    non_negative,
    plain_id,
    quantize_price,
    read_date,
)
from sources.http import Fetched, Http
from sources.model_identity import canonical_model
from sources.schemas import EVAL_RESULTS

NAME = "aider"
DATASET = "eval_results"
# A leaderboard file adds runs; a run it no longer lists does not end (Aider replaces re-runs in place).
SNAPSHOT_SCOPE: tuple[str, ...] | None = None
CATALOG = "eval_results_aider_polyglot.yml"
# Who measured (the row's source) and what (its task), as the curated CSV names Aider's other benchmark.
EVAL_SOURCE = "aider-polyglot-leaderboard"
TASK = "aider-polyglot"
SOURCE_URL = "https://aider.chat/docs/leaderboards/"
# The embedded file's upstream commit and its date (sources/catalog/README.md).
UPSTREAM = (
    "https://github.com/Aider-AI/aider/blob/f5a512ba656ab109356f6ab53aaf039423c1d189/"
    "aider/website/_data/polyglot_leaderboard.yml"
)
UPSTREAM_DATE = datetime(2025, 6, 25, 21, 4, 48, tzinfo=UTC)
_SETTINGS = re.compile(r"\s*\([^()]*\)\s*$|\s+(?:diff|udiff|whole|diff-fenced)$", re.IGNORECASE)


def fetch_live(http: Http) -> list[Fetched]:
    """No live fetch: the leaderboard is a file in a repository; ingest a copy with ``costcurve ingest``."""
    return []


def embedded() -> list[Fetched]:
    body = (files("sources") / "catalog" / CATALOG).read_bytes()
    return [
        Fetched(
            f"embedded:sources/catalog/{CATALOG}",
            body,
            observed_at=UPSTREAM_DATE,
            origin=UPSTREAM,
            licence="Apache-2.0",
        )
    ]


def model_id(label: str) -> str | None:
    """The id to map a leaderboard label with, or None for a run of two models (architect + editor)."""
    if "+" in label:
        return None
    # Notes after a comma describe the setup (``Qwen3 235B A22B diff, no think, Alibaba API``).
    name = label.split(",")[0]
    while _SETTINGS.search(name):
        name = _SETTINGS.sub("", name)
    return "-".join(name.lower().split()) or None


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    try:
        runs = yaml.safe_load(body.decode("utf-8-sig", errors="replace"))
    except yaml.YAMLError as e:
        raise SourceError(NAME, f"{origin} is not valid YAML ({e})") from None
    if not isinstance(runs, list) or not runs:
        raise SourceError(NAME, f"{origin}: an Aider leaderboard file is a non-empty list of runs")
    results = Records(NAME, EVAL_RESULTS)
    # Newest run first, so that of two runs under one label the newest is kept (Records keeps the first).
    ordered = sorted(
        enumerate(runs), key=lambda item: str(item[1].get("date", "")) if isinstance(item[1], dict) else ""
    )
    for i, run in reversed(ordered):
        label = str(run.get("model")) if isinstance(run, dict) else f"run {i + 1}"
        key = {"source": EVAL_SOURCE, "model": label, "task": TASK} if isinstance(run, dict) else None
        results.read(label, run, key, lambda run=run: [_row(run)])
    return results.result()


def _whole(run: dict[str, Any], field: str) -> int | None:
    value = run.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRecord("not_a_number", f"{field} {value!r} is not a whole number", field, value)
    return value


def _row(entry: Any) -> dict[str, Any]:
    run = json_object(entry, what="a leaderboard run")
    label = str(run.get("model") or "").strip()
    attempts = _whole(run, "test_cases")
    if not label or not attempts:
        field = "model" if not label else "test_cases"
        raise BadRecord("missing_field", f"missing {field}", field, run.get(field))
    solved = _whole(run, "pass_num_2")
    if solved is None:
        rate = non_negative(run.get("pass_rate_2"), field="pass_rate_2")
        if rate is None:
            raise BadRecord("missing_field", "missing pass_num_2 and pass_rate_2", "pass_num_2", None)
        solved_share = rate / 100
    else:
        solved_share = Decimal(solved) / attempts
    if not 0 <= solved_share <= 1:
        raise BadRecord("out_of_range", f"{solved} solved of {attempts} attempts", "pass_num_2", solved)
    prompt, completion = _whole(run, "prompt_tokens"), _whole(run, "completion_tokens")
    cost = non_negative(run.get("total_cost"), field="total_cost")
    measured = prompt is not None and completion is not None
    if not measured and not cost:
        raise BadRecord(
            "no_cost",
            f"{label}: no token counts and total_cost {run.get('total_cost')!r}: Aider writes 0 for a run it"
            " did not price, so there is nothing to price this run by",
            "total_cost",
            run.get("total_cost"),
        )
    model = plain_id(label, field="model")
    mapped = model_id(model)
    return {
        "source": EVAL_SOURCE,
        "model": model,
        "canonical_model": canonical_model("", mapped) if mapped else None,
        "task": TASK,
        "pass_rate": quantize_price(solved_share),
        "n": attempts,
        "mean_input_tokens": quantize_price(Decimal(prompt) / attempts) if measured else None,
        "mean_output_tokens": quantize_price(Decimal(completion) / attempts) if measured else None,
        "mean_cached_input_tokens": None,
        "tokens_basis": "measured" if measured else "derived_from_cost",
        "cost_per_attempt_usd": quantize_price(cost / attempts) if cost else None,
        "source_url": SOURCE_URL,
        "valid_from": read_date(run.get("date"), field="date"),
    }
