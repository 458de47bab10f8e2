"""A published snapshot of a few rows, for the tests of `costcurve sql` and `costcurve changes` that
need what a query reads and writes, not a whole refresh."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

FORMULA = "=cmd|' /C calc'!A0"


def write(home: Path) -> Path:
    """Publish a snapshot under ``home`` (the test's COSTCURVE_HOME): two token prices, one with a
    model name a spreadsheet would run, and one price change. Returns its path."""
    path = home / "published" / "costcurve.duckdb"
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"""
            create schema history;
            create table history.token_prices as
                select * from (values ('litellm', '{FORMULA.replace("'", "''")}', 2.5::decimal(18, 9), -12.5),
                                      ('genai_prices', 'o3', 2::decimal(18, 9), 0.0))
                t(source, model, input_usd_per_mtok, pct);
            create schema marts;
            create table marts.price_change_events as
                select date '2026-11-03' as change_date, '@SUM(1+1)*cmd|'' /C calc''!A0' as what,
                       'input_usd_per_mtok' as field, 2.0 as old_value, 1.0 as new_value,
                       -50.0::double as pct_change, 'cut' as direction, 'price' as change_kind,
                       'token_prices' as dataset, '-litellm' as source, true as detected_by_refresh,
                       timestamp '2026-11-03 06:00' as detected_at;
            """
        )
    return path


def fingerprint(path: Path) -> tuple[str, list[str]]:
    """The snapshot's bytes and every file beside it: a query that wrote anything changes one."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(p.name for p in path.parent.iterdir())
