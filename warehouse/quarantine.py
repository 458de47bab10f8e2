"""Rejected rows: written with their reason so nothing a source sent disappears silently."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

import duckdb
import polars as pl

COLUMNS = {
    "run_id": pl.Utf8,
    "source": pl.Utf8,
    "dataset": pl.Utf8,
    "rule": pl.Utf8,
    "reason": pl.Utf8,
    "field": pl.Utf8,
    "value": pl.Utf8,
    "row_json": pl.Utf8,
    "payload_sha256": pl.Utf8,
    "rejected_at": pl.Datetime("us", "UTC"),
    "natural_key": pl.Utf8,
}


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


def write(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    dataset: str,
    rejects: Iterable,
    payload_sha256: str | None,
) -> int:
    """Store ``Reject``-like records (source, rule, reason, record, field, value, key) in one insert:
    a catalog of tens of thousands of rejects row by row takes minutes."""
    now = datetime.now(UTC)
    rows = [
        (
            run_id,
            r.source,
            dataset,
            r.rule,
            r.reason,
            r.field,
            None if r.value is None else str(r.value),
            _json(r.record),
            payload_sha256,
            now,
            _json(r.key),
        )
        for r in rejects
    ]
    if rows:
        frame = pl.DataFrame(rows, schema=COLUMNS, orient="row")  # noqa: F841 - read by DuckDB
        con.execute("insert into quarantine.rejected_rows by name select * from frame")
    return len(rows)
