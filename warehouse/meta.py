"""Run bookkeeping: what ran, in which mode, with how many rows, and what failed, in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from warehouse.db import create_tables, document, upsert

# A source not refreshed in 36 h missed a daily run and its retry window.
STALE_AFTER = timedelta(hours=36)

SNAPSHOT_ID_DOC = (
    "The DuckLake snapshot this run published (read it with costcurve sql --as-of-run RUN_ID); "
    "null on a local-file warehouse and for a run that published nothing."
)

DDL = """
create table if not exists meta.runs (
    run_id varchar primary key,
    kind varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,
    summary varchar,
    snapshot_id bigint
);
create table if not exists meta.run_failures (
    run_id varchar not null,
    step varchar not null,
    error varchar not null,
    failed_at timestamptz not null
);
create table if not exists meta.validations (
    run_id varchar not null,
    dataset varchar not null,
    validated_at timestamptz not null,
    success boolean not null,
    rows bigint not null,
    rejected bigint not null,
    rules_broken varchar[] not null,
    summary varchar not null,
    merged_at timestamptz,
    primary key (run_id, dataset)
);
create table if not exists meta.source_runs (
    run_id varchar not null,
    source varchar not null,
    dataset varchar not null,
    mode varchar not null,
    status varchar not null,
    rows_in bigint,
    rows_accepted bigint,
    rows_rejected bigint,
    versions_inserted bigint,
    duration_s double,
    observed_at timestamptz not null,
    error varchar,
    warnings varchar[],
    primary key (run_id, source, dataset)
);
create table if not exists quarantine.rejected_rows (
    run_id varchar not null,
    source varchar not null,
    dataset varchar not null,
    rule varchar not null,
    reason varchar not null,
    field varchar,
    value varchar,
    row_json json not null,
    payload_sha256 varchar,
    rejected_at timestamptz not null,
    natural_key json
);
-- Warehouses from before these columns existed.
alter table meta.source_runs add column if not exists versions_superseded bigint;
alter table meta.source_runs add column if not exists keys_closed bigint;
alter table meta.source_runs add column if not exists keys_held_open bigint;
alter table quarantine.rejected_rows add column if not exists natural_key json;
alter table meta.source_runs add column if not exists origin varchar;
alter table meta.source_runs add column if not exists licence varchar;
alter table meta.runs add column if not exists snapshot_id bigint;
"""

DOCS = {
    "meta.runs": (
        "One row per refresh, ingest or rebuild.",
        {
            "run_id": "Unique id of the run.",
            "kind": "refresh, ingest or rebuild.",
            "started_at": "When the run started.",
            "finished_at": "When it finished; null while running or if it died.",
            "status": (
                "running; success; partial (a source failed or a dataset's validation blocked its batch); "
                "failed (nothing reached history, or a merge, model or publish step failed); "
                "died (killed before it finished)."
            ),
            "summary": "One line of what happened, naming each failed source, blocked dataset and failed step.",
            "snapshot_id": SNAPSHOT_ID_DOC,
        },
    ),
    "meta.run_failures": (
        "Each step of a run that failed (merge, models, publish), with the real cause in words.",
        {
            "run_id": "The run (meta.runs).",
            "step": "What failed, e.g. 'merge gpu_rates' or 'publish'.",
            "error": "The exception, type and message (e.g. OSError: [Errno 28] No space left on device).",
            "failed_at": "When it failed.",
        },
    ),
    "meta.validations": (
        "The validation verdict on each dataset's staged batch per run: Dagster's asset check reads it, "
        "and the merge refuses a batch whose verdict is not success.",
        {
            "run_id": "The run that staged the batch.",
            "dataset": "The dataset.",
            "validated_at": "When the suite ran.",
            "success": "False: the batch is blocked (structural failure, or most rows rejected) and never merges.",
            "rows": "Rows the suite judged (after the parsers and the rules).",
            "rejected": "Rows the suite rejected into quarantine.rejected_rows.",
            "rules_broken": "The expectations that failed (gx:<expectation>(<column>)).",
            "summary": "The verdict in words.",
            "merged_at": "When the batch reached history; null while not merged.",
        },
    ),
    "meta.source_runs": (
        "One row per source and dataset per run: mode, counts and the error in words.",
        {
            "run_id": "The run (meta.runs).",
            "source": "Source module.",
            "dataset": "Dataset it feeds.",
            "mode": "live (fetched now), embedded (shipped default), file (costcurve ingest) or skipped.",
            "status": "success, partial (some of its payloads could not be read), failed or skipped.",
            "rows_in": "Rows the parser produced plus rows it rejected.",
            "rows_accepted": "Rows that passed validation and reached the merge.",
            "rows_rejected": "Rows sent to quarantine.rejected_rows.",
            "versions_inserted": "New history versions this source's payload created.",
            "versions_superseded": (
                "History versions this source's payloads replaced (moved to superseded.<dataset>): "
                "history grows by versions_inserted less versions_superseded."
            ),
            "keys_closed": "Keys of history this source's payloads closed (no longer listed in a whole snapshot).",
            "keys_held_open": (
                "Keys a whole snapshot no longer listed but kept open because a record of them was rejected."
            ),
            "duration_s": "Seconds spent fetching, parsing and validating.",
            "observed_at": (
                "When the source ran (fetched, or read its embedded default or file). An embedded snapshot's "
                "payloads are observed on the upstream's own date (raw.fetches, history), see origin."
            ),
            "origin": "Where an embedded snapshot came from (upstream, version or commit); null for live and file payloads.",
            "licence": (
                "The embedded snapshot's licence, and 'derived facts' where the upstream file has none "
                "and only prices were taken from it; null for live and file payloads."
            ),
            "error": "Why the source failed, naming source, field and value; null on success.",
            "warnings": "Things worth a look that did not stop the source.",
        },
    ),
    "quarantine.rejected_rows": (
        "Every row a parser or a validation rule refused, with the reason: nothing disappears silently.",
        {
            "run_id": "The run that rejected it.",
            "source": "Source module.",
            "dataset": "Dataset it was meant for.",
            "rule": "Short name of the rule (price_band, duplicate_key, not_a_number, gx:<expectation>, ...).",
            "reason": "What is wrong, in words, naming the field and the value.",
            "field": "The offending field, where one is to blame.",
            "value": "The offending value as text.",
            "row_json": "The record as the parser saw it.",
            "payload_sha256": "The raw.payloads body it came from.",
            "rejected_at": "When it was rejected.",
            "natural_key": (
                "The natural key the record would have had, as far as it is known (JSON; a missing "
                "column means any value): history keeps these keys as they were."
            ),
        },
    ),
}


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    create_tables(con, DDL)
    for table, (doc, columns) in DOCS.items():
        document(con, table, doc, columns)


def now() -> datetime:
    return datetime.now(UTC)


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, summary: str) -> None:
    con.execute(
        "update meta.runs set finished_at = ?, status = ?, summary = ? where run_id = ?",
        [now(), status, summary, run_id],
    )


def record_failure(con: duckdb.DuckDBPyConnection, run_id: str, step: str, error: BaseException) -> None:
    con.execute(
        "insert into meta.run_failures values (?, ?, ?, ?)",
        [run_id, step, f"{type(error).__name__}: {error}", now()],
    )


def fail_run(con: duckdb.DuckDBPyConnection, run_id: str, cause: str) -> None:
    """Mark a run failed that its own process could not close (the run-failure sensor): a status the
    run already computed as failed keeps its more precise summary."""
    con.execute(
        "update meta.runs set status = 'failed', finished_at = coalesce(finished_at, ?), summary = ? "
        "where run_id = ? and status <> 'failed'",
        [now(), cause, run_id],
    )


def record_source_run(con: duckdb.DuckDBPyConnection, **row) -> None:
    columns = [
        "run_id",
        "source",
        "dataset",
        "mode",
        "status",
        "rows_in",
        "rows_accepted",
        "rows_rejected",
        "versions_inserted",
        "versions_superseded",
        "keys_closed",
        "keys_held_open",
        "duration_s",
        "observed_at",
        "error",
        "warnings",
        "origin",
        "licence",
    ]
    upsert(con, "meta.source_runs", ["run_id", "source", "dataset"], {c: row.get(c) for c in columns})
