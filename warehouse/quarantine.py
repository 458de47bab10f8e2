"""Rejected rows: written with their reason so nothing a source sent disappears silently."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

import duckdb


def write(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    dataset: str,
    rejects: Iterable,
    payload_sha256: str | None,
) -> int:
    """Store ``Reject``-like records (source, rule, reason, record, field, value)."""
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
            json.dumps(r.record, default=str, sort_keys=True),
            payload_sha256,
            now,
        )
        for r in rejects
    ]
    if rows:
        con.executemany("insert into quarantine.rejected_rows values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)
