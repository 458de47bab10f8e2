"""Run bookkeeping: what ran, in which mode, with how many rows, and what failed, in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from warehouse.db import document

# A source not refreshed in 36 h missed a daily run and its retry window.
STALE_AFTER = timedelta(hours=36)

DDL = """
create table if not exists meta.runs (
    run_id varchar primary key,
    kind varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,
    summary varchar
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
    rejected_at timestamptz not null
);
"""

DOCS = {
    "meta.runs": (
        "One row per refresh, ingest or rebuild.",
        {
            "run_id": "Unique id of the run.",
            "kind": "refresh, ingest or rebuild.",
            "started_at": "When the run started.",
            "finished_at": "When it finished; null while running or if it died.",
            "status": "running, success, partial (some source failed), failed, or died (killed before it finished).",
            "summary": "One line of what happened.",
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
            "duration_s": "Seconds spent fetching, parsing and validating.",
            "observed_at": "When the payload was observed.",
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
        },
    ),
}


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    for table, (doc, columns) in DOCS.items():
        document(con, table, doc, columns)


def now() -> datetime:
    return datetime.now(UTC)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, kind: str) -> None:
    con.execute("insert into meta.runs values (?, ?, ?, null, 'running', null)", [run_id, kind, now()])


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, summary: str) -> None:
    con.execute(
        "update meta.runs set finished_at = ?, status = ?, summary = ? where run_id = ?",
        [now(), status, summary, run_id],
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
        "duration_s",
        "observed_at",
        "error",
        "warnings",
    ]
    con.execute(
        f"insert or replace into meta.source_runs ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
        [row.get(c) for c in columns],
    )
