"""The change feed read from marts.price_change_events: `costcurve changes --since DATE` and the
"today's notable changes" lines that end the refresh summary."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
from rich.table import Table

TABLE = "marts.price_change_events"
COLUMNS = (
    "change_date, what, field, old_value::double as old_value, new_value::double as new_value, pct_change, "
    "direction, change_kind, source, dataset"
)


class NoChangeFeed(LookupError):
    """The warehouse predates the change feed."""


def _require(con: duckdb.DuckDBPyConnection) -> None:
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'marts' and table_name = 'price_change_events'"
    ).fetchone()[0]
    if not found:
        raise NoChangeFeed(f"{TABLE} is not in this warehouse: run `costcurve refresh` to build it")


def changes(con: duckdb.DuckDBPyConnection, since: date) -> pl.DataFrame:
    """Every price change taking effect on or after `since`, newest first, biggest moves first within a day.

    Changes a source announced ahead (a change_date after today) are included: they are known news.
    """
    _require(con)
    return con.execute(
        f"select {COLUMNS} from {TABLE} where change_date >= ? "
        "order by change_date desc, abs(pct_change) desc nulls last, what, field",
        [since],
    ).pl()


def notable_today(con: duckdb.DuckDBPyConnection, on: date, limit: int = 10) -> pl.DataFrame:
    """The biggest moves that are news on day `on`: prices taking effect that day, and changes a refresh
    first caught that day (whatever date they took effect). History read in one go from a dated source
    (the first refresh) is not news, so it does not flood the summary."""
    _require(con)
    return con.execute(
        f"""select {COLUMNS} from {TABLE}
            where change_date = ? or (detected_by_refresh and detected_at::date = ?)
            order by abs(pct_change) desc nulls last, what, field
            limit ?""",
        [on, on, limit],
    ).pl()


def as_table(frame: pl.DataFrame, title: str) -> Table:
    """A frame from `changes` or `notable_today` as a rich table: signed percentages, compact prices."""
    table = Table(title=title)
    for name in ("date", "what", "field", "old", "new", "change", "source"):
        table.add_column(name, justify="right" if name in ("old", "new", "change") else "left")
    for row in frame.iter_rows(named=True):
        pct = row["pct_change"]
        table.add_row(
            str(row["change_date"]),
            row["what"],
            row["field"],
            _price(row["old_value"]),
            _price(row["new_value"]),
            "" if pct is None else f"{pct:+.1f}%",
            row["source"],
            style="green" if row["direction"] == "cut" else "red" if row["direction"] == "rise" else "",
        )
    return table


def _price(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
