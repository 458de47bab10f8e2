"""Physical order of history tables, the lever that keeps years of history interactive.

DuckDB keeps min/max statistics per row group (122,880 rows) and skips a row group whose range
cannot match a filter. Daily merges append new versions at the end, so one model's versions end up
spread over the whole file and every lookup reads every row group. Rewriting a table sorted by the
columns analysts filter on (the canonical model first, then the natural key and ``valid_from``)
puts each model's versions in one or two row groups, and a lookup reads those alone.

Where to sort: the published snapshot, which ``warehouse.publish`` already rewrites table by table,
so sorting there costs only the sort (``create table snap.history.x as from history.x order by
...``, see `sorted_select`); ``compact`` does the same in place for a working or old snapshot file.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from warehouse.db import comment_on_column, comment_on_table

# Analysts look a model up by its canonical id (model_price_history, token_prices_asof examples),
# so it leads; the natural key and valid_from keep one key's versions together and in order.
TOKEN_PRICES_ORDER = (
    "canonical_model",
    "provider",
    "model",
    "tier",
    "service_tier",
    "off_peak",
    "source",
    "valid_from",
)
GPU_RATES_ORDER = (
    "accelerator",
    "pricing_type",
    "provider",
    "instance_type",
    "region",
    "zone",
    "source",
    "valid_from",
)
HISTORY_ORDER = {"history.token_prices": TOKEN_PRICES_ORDER, "history.gpu_rates": GPU_RATES_ORDER}


def sorted_select(table: str, order_by: Sequence[str]) -> str:
    """``from <table> order by ...``: the body of a CREATE TABLE AS that writes the table sorted."""
    if not order_by:
        raise ValueError(f"no columns to order {table} by")
    # Nulls first: an open start (valid_from null) is the earliest version of its key.
    return f"from {table} order by {', '.join(f'{c} nulls first' for c in order_by)}"


def compact(con: duckdb.DuckDBPyConnection, table: str, order_by: Sequence[str]) -> None:
    """Rewrite ``schema.table`` sorted by ``order_by``, in one transaction, keeping its comments.

    Meant for tables without constraints or indexes (the history tables have none): CREATE TABLE
    AS would silently drop them, so such a table is refused rather than rewritten poorer.
    """
    schema, name = table.split(".")
    database = con.execute("select current_database()").fetchone()[0]
    where = "database_name = ? and schema_name = ? and table_name = ?"
    args = [database, schema, name]
    found = con.execute(f"select comment from duckdb_tables() where {where}", args).fetchall()
    if not found:
        raise ValueError(f"no table {table} in {database}")
    constraints = con.execute(
        f"select count(*) from duckdb_constraints() where {where} and constraint_type <> 'NOT NULL'", args
    ).fetchone()[0]
    indexes = con.execute(f"select count(*) from duckdb_indexes() where {where}", args).fetchone()[0]
    if constraints or indexes:
        raise ValueError(f"{table} has constraints or indexes, which a sorted copy would lose")
    not_null = {
        column
        for (column,) in con.execute(
            f"select column_name from duckdb_columns() where {where} and not is_nullable", args
        ).fetchall()
    }
    column_comments = con.execute(
        f"select column_name, comment from duckdb_columns() where {where} and comment is not null", args
    ).fetchall()
    scratch = f"{schema}._compact_{name}"
    con.execute("begin transaction")
    try:
        con.execute(f"create or replace table {scratch} as {sorted_select(table, order_by)}")
        for column in sorted(not_null):
            con.execute(f"alter table {scratch} alter column {column} set not null")
        con.execute(f"drop table {table}")
        con.execute(f"alter table {scratch} rename to {name}")
        if found[0][0]:
            comment_on_table(con, table, found[0][0])
        for column, text in column_comments:
            comment_on_column(con, table, column, text)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
