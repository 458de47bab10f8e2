"""Full history of each dataset as SCD2 versions, merged from one payload's frame at a time.

A version is (natural key, valid_from) with its values; ``valid_to`` is exclusive and null while
current. Merging a payload observed at time T:

1. Each incoming row gets an effective start: the date the source declares; else, when the source
   declares other dates for the same key (a dated price timeline), null, meaning "before the
   source's first dated change, start unknown"; else T's date (first observation).
2. It is compared with the version in effect at that start. Same values: only ``last_seen_at``
   moves (re-ingesting a payload adds nothing). Different values and the same start: the version is
   corrected in place (a re-run of a day or a source correcting a declared price; the raw archive
   keeps the older payload). Otherwise a new version is inserted.
3. ``valid_to`` of every version of a touched key becomes the earliest of its own value, the next
   version's start and any end the source declares, so intervals never overlap.
4. A key of the same source and provider that the payload no longer carries is closed at T; it
   is never deleted. Only a clean payload closes keys: when records of it were rejected, a missing
   key may be one of them.

Every step is set-based SQL, so the cost grows with the payload, not with the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from warehouse.db import document

_DUCK_TYPES = {
    pl.Utf8: "varchar",
    pl.Boolean: "boolean",
    pl.Int64: "bigint",
    pl.Date: "date",
    pl.Float64: "double",
}
# The open start of a version (valid_from null) sorts and compares before every real date.
_NEG_INF = "date '0001-01-01'"
# An open end as a date: an OR of "is null" in a join condition would turn the hash join on the key
# into a nested loop over all of history (minutes at 10M rows instead of a second).
_POS_INF = "date '9999-12-31'"

SYSTEM_COLUMNS = {
    "valid_from": (
        "date",
        "First day the values apply (declared by the source, else first observation); "
        "null = in effect before the source's first dated change, start unknown.",
    ),
    "valid_to": ("date", "Day the values stop applying (exclusive); null while current."),
    "first_seen_at": ("timestamptz", "When costcurve first observed this version."),
    "last_seen_at": ("timestamptz", "When costcurve last observed this version in a payload."),
    "payload_sha256": ("varchar", "sha256 of the raw.payloads body this version was read from."),
    "row_hash": ("varchar", "Hash of the value columns, used to detect changes."),
}


@dataclass(frozen=True)
class MergeStats:
    inserted: int
    corrected: int
    unchanged: int
    closed: int


def duck_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision}, {dtype.scale})"
    return _DUCK_TYPES[dtype.base_type()]


def table_name(dataset) -> str:
    return f"history.{dataset.name}"


def ensure(con: duckdb.DuckDBPyConnection, dataset) -> None:
    table = table_name(dataset)
    data_cols = [c for c in dataset.columns if c.name not in SYSTEM_COLUMNS]
    ddl = [f"{c.name} {duck_type(c.dtype)}" for c in data_cols]
    ddl += [f"{name} {kind}" for name, (kind, _) in SYSTEM_COLUMNS.items()]
    con.execute(f"create table if not exists {table} ({', '.join(ddl)})")
    document(
        con,
        table,
        f"Full SCD2 history. {dataset.doc} Natural key: {', '.join(dataset.key)}.",
        {c.name: c.doc for c in data_cols} | {name: doc for name, (_, doc) in SYSTEM_COLUMNS.items()},
    )


def _hash_expr(columns) -> str:
    # U+241F SYMBOL FOR UNIT SEPARATOR / U+2400 SYMBOL FOR NULL: never part of a real value.
    parts = ", ".join(f"coalesce(cast({c} as varchar), '\u2400')" for c in columns)
    return f"md5(concat_ws('\u241f', {parts}))"


def merge(
    con: duckdb.DuckDBPyConnection,
    dataset,
    frame: pl.DataFrame,
    *,
    observed_at: datetime,
    payload_sha256: str,
    scope: tuple[str, ...] = ("source", "provider"),
    close_missing: bool = True,
) -> MergeStats:
    """Merge one payload's normalized rows into history (see the module docstring).

    ``close_missing=False`` keeps keys the payload lacks open: a payload some of whose records were
    rejected is no complete snapshot, and a rejected record must not end a good price.
    """
    ensure(con, dataset)
    table = table_name(dataset)
    key = list(dataset.key)
    values = list(dataset.value_columns)
    data_cols = key + values
    on_key = " and ".join(f"h.{k} is not distinct from i.{k}" for k in key)
    if "valid_to" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias("valid_to"))
    incoming = frame.select([*data_cols, "valid_from", "valid_to"])  # noqa: F841 - read by DuckDB
    obs_date = observed_at.date()
    key_list = ", ".join(key)
    con.execute("begin transaction")
    try:
        con.execute(
            f"""
            create or replace temp table _inc as
            select {", ".join(data_cols)},
                   case when valid_from is not null then valid_from
                        when bool_or(valid_from is not null or valid_to is not null)
                             over (partition by {key_list}) then null
                        else ?::date end as eff_from,
                   valid_to as declared_to,
                   {_hash_expr(values)} as row_hash
            from incoming
            qualify row_number() over (partition by {key_list}, valid_from order by valid_from) = 1
            """,
            [obs_date],
        )
        con.execute(
            f"""
            create or replace temp table _match as
            select i.*, h.rowid as h_rowid, h.valid_from as h_from, h.row_hash as h_hash
            from _inc i left join {table} h
              on {on_key}
             and coalesce(h.valid_from, {_NEG_INF}) <= coalesce(i.eff_from, {_NEG_INF})
             and coalesce(h.valid_to, {_POS_INF}) > coalesce(i.eff_from, {_NEG_INF})
            """
        )
        unchanged = con.execute(
            f"""
            update {table} h set last_seen_at = greatest(h.last_seen_at, ?::timestamptz),
                                 valid_to = least(h.valid_to, m.declared_to)
            from _match m where h.rowid = m.h_rowid and m.h_hash = m.row_hash
            """,
            [observed_at],
        ).fetchone()[0]
        set_values = ", ".join(f"{c} = m.{c}" for c in values)
        corrected = con.execute(
            f"""
            update {table} h set {set_values}, row_hash = m.row_hash, payload_sha256 = ?,
                   last_seen_at = greatest(h.last_seen_at, ?::timestamptz),
                   valid_to = least(h.valid_to, m.declared_to)
            from _match m
            where h.rowid = m.h_rowid and m.h_hash <> m.row_hash
              and h.valid_from is not distinct from m.eff_from
            """,
            [payload_sha256, observed_at],
        ).fetchone()[0]
        con.execute(
            f"""
            create or replace temp table _inserted_keys as
            select distinct {key_list} from _match
            where h_rowid is null or (h_hash <> row_hash and h_from is distinct from eff_from)
            """
        )
        inserted = con.execute(
            f"""
            insert into {table} ({", ".join(data_cols)}, valid_from, valid_to, first_seen_at,
                                 last_seen_at, payload_sha256, row_hash)
            select {", ".join(data_cols)}, eff_from, declared_to, ?::timestamptz, ?::timestamptz, ?, row_hash
            from _match
            where h_rowid is null or (h_hash <> row_hash and h_from is distinct from eff_from)
            """,
            [observed_at, observed_at, payload_sha256],
        ).fetchone()[0]
        if inserted:
            _relink(con, table, key)
        closed = _close_missing(con, table, key, scope, obs_date) if close_missing else 0
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return MergeStats(inserted=inserted, corrected=corrected, unchanged=unchanged, closed=closed)


def _relink(con: duckdb.DuckDBPyConnection, table: str, key: list[str]) -> None:
    """valid_to = the earliest of its own value and the next version's start, for keys that got a
    new version (``_inserted_keys``)."""
    t_keys = ", ".join(f"t.{k}" for k in key)
    on_key = " and ".join(f"h.{k} is not distinct from n.{k}" for k in key)
    # A semi join on the key columns: `(a, b, ...) in (select (a, b, ...))` would build a struct for
    # every history row first, several times slower on a large table.
    in_keys = " and ".join(f"t.{k} is not distinct from k.{k}" for k in key)
    con.execute(
        f"""
        update {table} h set valid_to = n.next_from
        from (
            select t.rowid as rid, {t_keys},
                   lead(t.valid_from) over (partition by {t_keys}
                                            order by coalesce(t.valid_from, {_NEG_INF})) as next_from,
                   t.valid_to
            from {table} t semi join _inserted_keys k on {in_keys}
        ) n
        where h.rowid = n.rid and {on_key} and n.next_from is not null
          and (n.valid_to is null or n.next_from < n.valid_to)
        """
    )


def _close_missing(con, table: str, key: list[str], scope: tuple[str, ...], obs_date) -> int:
    scope_cols = [c for c in scope if c in key]
    in_scope = " and ".join(f"t.{c} is not distinct from s.{c}" for c in scope_cols)
    same_key = " and ".join(f"t.{k} is not distinct from i.{k}" for k in key)
    return con.execute(
        f"""
        update {table} h set valid_to = ?::date
        from (
            select t.rowid as rid
            from {table} t
            semi join (select distinct {", ".join(scope_cols)} from _inc) s on {in_scope}
            anti join _inc i on {same_key}
            where t.valid_to is null and coalesce(t.valid_from, {_NEG_INF}) < ?::date
        ) c
        where h.rowid = c.rid
        """,
        [obs_date, obs_date],
    ).fetchone()[0]


def asof(con: duckdb.DuckDBPyConnection, dataset, on) -> pl.DataFrame:
    """The versions in effect on date ``on``."""
    return con.execute(
        f"""select * from {table_name(dataset)}
            where coalesce(valid_from, {_NEG_INF}) <= ?::date and (valid_to is null or valid_to > ?::date)""",
        [on, on],
    ).pl()
