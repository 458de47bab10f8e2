"""Great Expectations suites for the normalized datasets, run on the staged frame.

A row that fails an expectation goes to quarantine with the expectation, column and value as its
reason, and is removed from staging; the batch as a whole fails (and the merge is blocked) only
when its structure is wrong or most of it is rejected. GX runs on pandas frames with an ephemeral
context: its SQL datasource cannot read DuckDB (upstream bug in 1.24).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import polars as pl

# Past this share of rejected rows the batch is judged broken rather than a few bad records.
MAX_REJECTED_SHARE = 0.5
ROW_ID = "_row_id"

PRICE_BOUNDS = {
    "token_prices": {
        c: (0, 10_000)
        for c in (
            "input_usd_per_mtok",
            "output_usd_per_mtok",
            "cache_read_usd_per_mtok",
            "cache_write_usd_per_mtok",
            "batch_input_usd_per_mtok",
            "batch_output_usd_per_mtok",
        )
    },
    "gpu_rates": {
        "usd_per_gpu_hour": (0.01, 100),
        # A whole TPU slice is one instance: tpu-v5p-12288 (6,144 chips) lists at about $25,800/h.
        "usd_per_instance_hour": (0.01, 100_000),
        # A TPU slice counts its chips: a whole v7 Ironwood pod is 9,216 of them.
        "gpu_count": (0.01, 9_216),
    },
    "accelerators": {
        "memory_gb": (1, 2_000),
        # TPU v1 reads DDR3 at 0.034 TB/s: the floor is below the slowest real part.
        "memory_bandwidth_tbps": (0.03, 100),
        "bf16_dense_tflops": (0.1, 50_000),
        "tdp_w": (5, 5_000),
    },
    "eval_results": {
        "pass_rate": (0, 1),
        "mean_input_tokens": (0, 10_000_000),
        "mean_output_tokens": (0, 10_000_000),
        "cost_per_attempt_usd": (0, 10_000),
    },
    "throughput_measurements": {
        "tokens_per_second": (0.001, 10_000_000),
        "params_b": (0.0001, 100_000),
        "active_params_b": (0.0001, 100_000),
        "gpus": (1, 100_000),
        "batch": (1, 1_000_000),
    },
}
ALLOWED = {
    "token_prices": {"currency": ["USD"]},
    "gpu_rates": {
        "currency": ["USD"],
    },
    "accelerators": {},
    "eval_results": {"tokens_basis": ["measured", "assumed", "derived_from_cost"]},
    "throughput_measurements": {"phase": ["decode", "prefill", "serving"]},
}
NOT_NULL = {
    "token_prices": ["input_usd_per_mtok", "currency", "canonical_model"],
    "gpu_rates": ["usd_per_instance_hour", "usd_per_gpu_hour", "gpu_count", "currency"],
    # A spec no source publishes (a new consumer card's bandwidth) is unknown, not wrong: the row
    # still gives the part its identity, and every mart skips a null spec.
    "accelerators": [],
    # Token counts are null exactly when a run published only its cost (tokens_basis derived_from_cost:
    # intermediate.int_eval_runs derives them); the CSV/JSON parser requires them, the Aider parser
    # requires them or a positive cost.
    "eval_results": ["pass_rate"],
    "throughput_measurements": ["params_b", "active_params_b", "tokens_per_second", "measured_on"],
}
# Rows breaking these go to quarantine; a null canonical_model is reported as unmapped instead.
_SOFT_NOT_NULL = {"canonical_model"}


@dataclass
class ValidationOutcome:
    success: bool
    passed: pl.DataFrame
    rejected: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""
    statistics: dict[str, Any] = field(default_factory=dict)
    # Expectations the batch as a whole broke (no row to blame): "<expectation>(<column>): <observed>".
    structural: list[str] = field(default_factory=list)


def _suite(gx, dataset) -> Any:
    name = dataset.name
    suite = gx.ExpectationSuite(name=name)
    e = gx.expectations
    suite.add_expectation(
        e.ExpectTableColumnsToMatchSet(
            column_set=[c.name for c in dataset.columns] + [ROW_ID], exact_match=False
        )
    )
    suite.add_expectation(e.ExpectTableRowCountToBeBetween(min_value=1))
    for column in dataset.key:
        # A gpu_rates zone is null where the source prices per region, not per zone.
        if column not in ("off_peak", "zone"):
            suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=column))
    for column in NOT_NULL[name]:
        if column not in _SOFT_NOT_NULL:
            suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=column))
    for column, (low, high) in PRICE_BOUNDS[name].items():
        suite.add_expectation(e.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high))
    for column, allowed in ALLOWED[name].items():
        suite.add_expectation(e.ExpectColumnValuesToBeInSet(column=column, value_set=allowed))
    suite.add_expectation(e.ExpectCompoundColumnsToBeUnique(column_list=[*dataset.key, "valid_from"]))
    return suite


@cache
def _context():
    """One ephemeral GX context per process: the refresh validates every dataset in one process.
    Its Data Docs are not built: pipelines.validation_docs writes pages that work offline."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    context.data_sources.add_pandas("frames")
    return context


@cache
def _definition(dataset):
    """The dataset's suite and validation definition, made once per process: a rebuild validates
    every replayed day, and remaking them each time costs a third of a validation."""
    import great_expectations as gx

    context = _context()
    batch = (
        context.data_sources.get("frames")
        .add_dataframe_asset(name=dataset.name)
        .add_batch_definition_whole_dataframe("staged")
    )
    suite = context.suites.add(_suite(gx, dataset))
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{dataset.name}_staged", data=batch, suite=suite)
    )


def validate(dataset, frame: pl.DataFrame) -> ValidationOutcome:
    """Validate one dataset's staged rows; returns the rows that pass and the ones that do not."""
    if frame.is_empty():
        # Every source failed or was skipped: nothing reaches history, which is what should happen.
        return ValidationOutcome(True, frame, summary=f"{dataset.name}: no rows staged, nothing to merge")
    indexed = frame.with_row_index(ROW_ID)
    # GX compares numbers as floats; exact Decimal values stay in the polars frame.
    pdf = indexed.with_columns(pl.col(pl.Decimal).cast(pl.Float64)).to_pandas()
    definition = _definition(dataset)
    result = definition.run(
        batch_parameters={"dataframe": pdf},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]},
    )

    bad: dict[int, list[str]] = {}
    structural: list[str] = []
    for r in result.results:
        if r.success:
            continue
        kind = r.expectation_config.type
        kwargs = r.expectation_config.kwargs
        column = kwargs.get("column") or ",".join(kwargs.get("column_list") or [])
        indices = r.result.get("unexpected_index_list")
        if not indices:
            structural.append(f"{kind}({column}): {r.result.get('observed_value', r.result)}")
            continue
        for item in indices:
            row_id = int(item[ROW_ID])
            value = item.get(column) if column in item else {k: v for k, v in item.items() if k != ROW_ID}
            bad.setdefault(row_id, []).append(f"gx:{kind}|{column}|{value}")

    rejected = []
    if bad:
        failed_rows = indexed.filter(pl.col(ROW_ID).is_in(list(bad))).to_dicts()
        for row in failed_rows:
            rejected.append(
                {"row": {k: v for k, v in row.items() if k != ROW_ID}, "failures": bad[row[ROW_ID]]}
            )
    passed = indexed.filter(~pl.col(ROW_ID).is_in(list(bad))).drop(ROW_ID)
    share = len(bad) / frame.height
    success = not structural and share <= MAX_REJECTED_SHARE
    summary = (
        f"{dataset.name}: {frame.height} rows, {len(bad)} rejected by the suite"
        + (f"; structural failures: {'; '.join(structural)}" if structural else "")
        + (f"; {share:.0%} rejected exceeds {MAX_REJECTED_SHARE:.0%}" if share > MAX_REJECTED_SHARE else "")
    )
    return ValidationOutcome(success, passed, rejected, summary, dict(result.statistics), structural)
