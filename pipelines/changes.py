"""The change feed read from marts.price_change_events: `costcurve changes --since DATE` and the
"today's notable changes" lines that end the refresh summary."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import polars as pl
from rich.table import Table

from pipelines.terminal import number

TABLE = "marts.price_change_events"

FIELD_LABELS = {
    "input_usd_per_mtok": "input $/Mtok",
    "output_usd_per_mtok": "output $/Mtok",
    "usd_per_gpu_hour": "$/GPU-hour",
}


class NoChangeFeed(LookupError):
    """The warehouse predates the change feed."""


def changes(con: duckdb.DuckDBPyConnection, since: date, today: date | None = None) -> pl.DataFrame:
    """Every price change taking effect on or after `since`, newest first, biggest moves first within a day.

    Changes a source announced ahead (a change_date after `today`, by default today in UTC) are included:
    they are known news, marked `scheduled` as they have not happened yet.
    """
    today = today or datetime.now(UTC).date()
    frame = _feed(con, "change_date >= $on", "change_date desc, abs(pct_change) desc nulls last", since)
    return frame.with_columns(scheduled=pl.col("change_date") > today)


def notable_today(con: duckdb.DuckDBPyConnection, on: date, limit: int = 10) -> pl.DataFrame:
    """The biggest moves that are news on day `on`: prices taking effect that day, and changes a refresh
    first caught that day (whatever date they took effect). History read in one go from a dated source
    (the first refresh) is not news, so it does not flood the summary."""
    where = "change_date = $on or (detected_by_refresh and detected_at::date = $on)"
    return _feed(con, where, "abs(pct_change) desc nulls last", on, limit)


def latest(con: duckdb.DuckDBPyConnection, until: date, limit: int = 15) -> pl.DataFrame:
    """The `limit` most recent changes that took effect on or before `until`."""
    return _feed(con, "change_date <= $on", "change_date desc, abs(pct_change) desc nulls last", until, limit)


def _feed(con: duckdb.DuckDBPyConnection, where: str, order: str, on: date, limit: int | None = None):
    """One row per change, however many sources report it (their names joined in `source`)."""
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'marts' and table_name = 'price_change_events'"
    ).fetchone()[0]
    if not found:
        raise NoChangeFeed(f"{TABLE} is not in this warehouse: run `costcurve refresh` to build it")
    return con.execute(
        f"""from (
                select change_date, what, field, old_value::double as old_value, new_value::double as new_value,
                       pct_change, direction, change_kind, dataset,
                       string_agg(distinct source, ', ' order by source) as source
                from {TABLE}
                where {where}
                group by all
            )
            order by {order}, what, field
            limit $limit""",
        {"on": on, "limit": limit},
    ).pl()


def as_table(frame: pl.DataFrame, title: str) -> Table:
    """A frame from `changes` or `notable_today` as a rich table: signed percentages, compact prices, the
    model or instance (`what`) never cut, and a change that has not taken effect yet marked scheduled."""
    table = Table(title=title)
    table.add_column("date")
    table.add_column("what", no_wrap=True)
    table.add_column("price")
    for name in ("old", "new", "change"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("source")
    for row in frame.iter_rows(named=True):
        pct = row["pct_change"]
        table.add_row(
            f"{row['change_date']}{' (scheduled)' if row.get('scheduled') else ''}",
            row["what"],
            FIELD_LABELS.get(row["field"], row["field"]),
            _price(row["old_value"]),
            _price(row["new_value"]),
            "" if pct is None else f"{pct:+.1f}%",
            row["source"],
            style="green" if row["direction"] == "cut" else "red" if row["direction"] == "rise" else "",
        )
    return table


def _price(value: float | None) -> str:
    return "" if value is None else number(value)
