"""Full history of each dataset as SCD2 versions: a function of the set of observations, not of
the order they arrive in.

A version is (natural key, valid_from) with its values; ``valid_to`` is exclusive and null while
current; ``valid_from`` null means "before the source's first dated change, start unknown".

**What one payload says.** A payload observed on day d speaks for every key it lists from a
*coverage start* on: a key with no declared dates has the listed values from d on; a key with a
declared timeline (genai-prices' dated price changes, curated rows with valid_from/valid_to) has
its declared segments, each ending at its declared end or the next segment's start, and is absent
in the gaps; the coverage starts at its earliest segment (or d, if that is earlier). A payload that
is a whole snapshot of its *scope* (a whole-feed source, or one cloud of a catalog: the source's
``SNAPSHOT_SCOPE``) also says, for every key of that scope it does not list, "absent from d on",
except the keys whose records it rejected (``held``): about those it says nothing. A payload that is
not complete (mostly rejected, or cut mid-record) speaks only for the keys it lists.

**Which payload wins.** On every day, the payload observed last (``observed_at``, then its sha256
to break ties) among those that speak for that day decides. Because every coverage runs to the
open end, a payload P wins exactly on ``[c, m)``: c its own coverage start, m the earliest coverage
start of the payloads observed after it. Merging P replaces history on that window with what P
says and coalesces equal neighbours; nothing outside it moves. So a late or backfilled payload
slots into place (it may split or extend versions) and never closes a key that a newer
observation shows open, and any order of the same payloads gives the same versions.

What m needs is kept in schema ``observations``: the complete snapshots per scope (their day), the
keys each one held, and coverage starts that differ from the payload's day (dated timelines,
incomplete or scope-less payloads).

**System time.** A version is never changed in place: when a merge replaces it (a correction, a
closing, a late payload, a rebuild), it moves to ``superseded.<dataset>`` with ``superseded_at``,
and the replacement is inserted with ``recorded_at``. Only ``last_seen_at`` is updated in place.

Every step is set-based SQL over the payload and the keys of its scope that are open in its window.

**The key hash.** Every version carries ``key_hash``, a 64-bit hash of its natural key (the low half
of the md5 of the tagged key values, like ``row_hash``: stable across DuckDB versions, which its
``hash()`` is not). The one join against all of history matches on that integer, not on the key's
strings, and only over versions that can reach the payload's earliest coverage start (for a payload
without declared dates: its day, so closed versions are never read). The key columns are then
compared on the matched rows only, so a collision with a key outside the payload costs nothing; two
keys of one merge sharing a hash (odds ~1e-10 at 100k keys) stop the merge with an error rather than
mix them. The hash is filled on open for versions that lack it (a warehouse from before it, a row
written by hand) and recomputed whole when the natural key changes (its column comment names it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

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
# Open ends as DuckDB's infinite dates: no date a source or a user gives can equal them, and a
# comparison with them needs no OR of "is null" (which would turn the hash join on the key into
# a nested loop over all of history).
_NEG_INF = "'-infinity'::date"
_POS_INF = "'infinity'::date"

SYSTEM_COLUMNS = {
    "valid_from": (
        "date",
        "First day the values apply (declared by the source, else first observation); "
        "null = in effect before the source's first dated change, start unknown.",
    ),
    "valid_to": ("date", "Day the values stop applying (exclusive); null while current."),
    "first_seen_at": ("timestamptz", "When costcurve first observed this version."),
    "last_seen_at": ("timestamptz", "When costcurve last observed this version in a payload."),
    "payload_sha256": ("varchar", "sha256 of the raw.payloads body this version was first read from."),
    "row_hash": ("varchar", "Hash of the value columns, used to detect changes."),
    "key_hash": ("ubigint", "64-bit hash of the natural key, used to match payloads against history."),
    "recorded_at": (
        "timestamptz",
        "When the warehouse recorded this version (system time). A version is never changed after; "
        "a correction, late payload or rebuild moves it to superseded.<dataset>.",
    ),
}
SUPERSEDED_AT = (
    "superseded_at",
    "timestamptz",
    "When the warehouse stopped believing this version: a later payload, correction or rebuild replaced it.",
)


class KeyHashCollision(Exception):
    """Two natural keys of one merge share a key hash: merging on it would mix their histories."""


@dataclass(frozen=True)
class MergeStats:
    inserted: int
    superseded: int
    unchanged: int
    closed: int
    held_open: int


def duck_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision}, {dtype.scale})"
    return _DUCK_TYPES[dtype.base_type()]


def table_name(dataset) -> str:
    return f"history.{dataset.name}"


def superseded_name(dataset) -> str:
    return f"superseded.{dataset.name}"


def observations_name(dataset) -> str:
    return f"observations.{dataset.name}"


def _data_columns(dataset) -> list:
    return [c for c in dataset.columns if c.name not in SYSTEM_COLUMNS]


def _existing_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    schema, name = table.split(".")
    return {
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    }


def _ensure_table(con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]]) -> set[str]:
    """Create the table, or add the columns it lacks (null in old rows), as dbt snapshots do.
    Returns the columns that were added to an existing table."""
    existing = _existing_columns(con, table)
    if not existing:
        con.execute(f"create table {table} ({', '.join(f'{n} {t}' for n, t in columns)})")
        return set()
    added = set()
    for name, kind in columns:
        if name not in existing:
            con.execute(f"alter table {table} add column {name} {kind}")
            added.add(name)
    return added


def ensure(con: duckdb.DuckDBPyConnection, dataset) -> None:
    for schema in ("history", "superseded", "observations"):
        con.execute(f"create schema if not exists {schema}")
    data_cols = _data_columns(dataset)
    columns = [(c.name, duck_type(c.dtype)) for c in data_cols]
    columns += [(name, kind) for name, (kind, _) in SYSTEM_COLUMNS.items()]
    added = _ensure_table(con, table_name(dataset), columns)
    if added:
        _migrate(con, dataset, added)
    if _stored_comment(con, table_name(dataset), "key_hash") != _key_hash_doc(dataset):
        # New column, or a natural key that changed: every version's hash is recomputed once.
        con.execute(f"update {table_name(dataset)} set key_hash = {_key_hash_expr(dataset.key)}")
    else:
        fill_key_hash(con, dataset)
    _ensure_table(con, superseded_name(dataset), [*columns, SUPERSEDED_AT[:2]])
    key = [(k, duck_type(dataset.schema[k])) for k in dataset.key]
    _ensure_table(
        con,
        observations_name(dataset),
        [
            *key,
            ("observed_at", "timestamptz"),
            ("payload_sha256", "varchar"),
            ("kind", "varchar"),
            ("covers_from", "date"),
            ("any_value_of", "varchar[]"),
        ],
    )
    con.execute(
        """create table if not exists observations.snapshots (
               dataset varchar not null, payload_sha256 varchar not null,
               observed_at timestamptz not null, observed_on date not null,
               scope_columns varchar not null, scope_value varchar not null)"""
    )
    document(
        con,
        observations_name(dataset),
        f"What later merges of {dataset.name} need to know of each payload merged (working warehouse only).",
        {
            "kind": "'held': a key the payload rejected (it said nothing about it); 'covers': a key it "
            "listed whose coverage does not start on its day (a dated timeline, or a payload that is no snapshot).",
            "covers_from": "Where the payload's word on the key starts; null = before every date.",
            "any_value_of": "Key columns a held key leaves open (the reject did not name them): any value matches.",
        },
    )
    document(
        con,
        "observations.snapshots",
        "Every payload that was a whole snapshot of a scope: from its day on it speaks for every key of the scope.",
        {
            "scope_columns": "The key columns that name the scope (the source's SNAPSHOT_SCOPE).",
            "scope_value": "Their values, joined by U+241F.",
            "observed_on": "The payload's observation day (UTC).",
        },
    )
    docs = {c.name: c.doc for c in data_cols} | {name: doc for name, (_, doc) in SYSTEM_COLUMNS.items()}
    docs["key_hash"] = _key_hash_doc(dataset)
    document(
        con,
        table_name(dataset),
        f"Full SCD2 history, as the warehouse believes it now. {dataset.doc} "
        f"Natural key: {', '.join(dataset.key)}.",
        docs,
    )
    document(
        con,
        superseded_name(dataset),
        f"Versions of history.{dataset.name} the warehouse once recorded and later replaced; "
        f"read both through the {dataset.name}_as_known(on_day, known_at) macro.",
        docs | {SUPERSEDED_AT[0]: SUPERSEDED_AT[2]},
    )


def _key_hash_doc(dataset) -> str:
    # Names the key it hashes: a changed natural key changes this comment, which is what makes
    # ensure() recompute the hashes.
    return (
        f"64-bit hash of the natural key ({', '.join(dataset.key)}), the low half of the md5 of its "
        "tagged values: the merge matches payloads against history by it."
    )


def _stored_comment(con: duckdb.DuckDBPyConnection, table: str, column: str) -> str | None:
    schema, name = table.split(".")
    found = con.execute(
        "select comment from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ? and column_name = ?",
        [schema, name, column],
    ).fetchone()
    return found[0] if found else None


def fill_key_hash(con: duckdb.DuckDBPyConnection, dataset) -> int:
    """Give every version that lacks it its key hash (rows written by other means than a merge);
    returns how many. Checking costs a scan of one column's null counts."""
    table = table_name(dataset)
    return con.execute(
        f"update {table} set key_hash = {_key_hash_expr(dataset.key)} where key_hash is null"
    ).fetchone()[0]


def _migrate(con: duckdb.DuckDBPyConnection, dataset, added: set[str]) -> None:
    """A new column changes no version: recompute row_hash (which skips null values) so old rows
    still match the payloads that do not carry the column; a warehouse from before system time
    learnt each version when it first saw it."""
    table = table_name(dataset)
    sets = [f"row_hash = {_hash_expr(dataset.value_columns)}"]
    if "recorded_at" in added:
        sets.append("recorded_at = first_seen_at")
    con.execute(f"update {table} set {', '.join(sets)}")


def _tagged(columns, alias: str = "") -> str:
    # Only non-null values, each with its column's name: a column added to the schema (null in
    # every old row) changes no hash. U+241F SYMBOL FOR UNIT SEPARATOR is never part of a value.
    parts = ", ".join(f"'{c}=' || cast({alias}{c} as varchar)" for c in columns)
    return f"concat_ws('\u241f', {parts})"


def _hash_expr(columns, alias: str = "") -> str:
    return f"md5({_tagged(columns, alias)})"


def _key_hash_expr(key, alias: str = "") -> str:
    return f"md5_number_lower({_tagged(key, alias)})"


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict):
    """Execute with the named parameters the statement uses (DuckDB refuses unused ones)."""
    return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


def _key_match(key: list[str], left: str, right: str) -> str:
    return " and ".join(f"{left}.{k} is not distinct from {right}.{k}" for k in key)


def _held_match(key: list[str], held: str, row: str) -> str:
    # A held key names the columns it knows; the others match any value.
    return " and ".join(
        f"(list_contains({held}.any_value_of, '{k}') or {held}.{k} is not distinct from {row}.{k})"
        for k in key
    )


def _scope_value(scope: tuple[str, ...], alias: str) -> str:
    return (
        "concat_ws('\u241f', " + ", ".join(f"coalesce(cast({alias}.{c} as varchar), '')" for c in scope) + ")"
    )


def _held_frame(dataset, held: list[dict]) -> pl.DataFrame:
    key = list(dataset.key)
    rows = []
    for h in held:
        known = {k: h[k] for k in key if k in h}
        rows.append({**{k: known.get(k) for k in key}, "any_value_of": [k for k in key if k not in known]})
    schema = {k: dataset.schema[k] for k in key} | {"any_value_of": pl.List(pl.Utf8)}
    return pl.DataFrame(rows, schema=schema, orient="row", strict=False)


def _segments_sql(key: list[str], values: list[str], *, undated: bool) -> str:
    """The statement that makes ``_seg`` from ``_incoming``: each listed key's segments (from, to) and
    row hash. ``undated``: no row of the payload declares a date."""
    key_list, data_cols = ", ".join(key), ", ".join(key + values)
    hashes = f"{_key_hash_expr(key)} as key_hash, {_hash_expr(values)} as row_hash"
    # One row per key and start (parsers already keep the first; this makes it certain). By the
    # key's columns: two keys sharing a hash must both reach the check after _spoken.
    if undated:
        # The daily case, a payload that declares no date: one segment per key, from its day on.
        # The general statement below gives the same rows; its two window functions cost ~40% of it.
        return f"""
        create or replace temp table _seg as
        select {data_cols}, {hashes}, $day as seg_from, {_POS_INF} as seg_to
        from _incoming
        qualify row_number() over (partition by {key_list} order by row_hash) = 1
        """
    return f"""
        create or replace temp table _seg as
        with hashed as (
            select {data_cols}, valid_from, valid_to, {hashes} from _incoming
        ), one as (
            select *, bool_or(valid_from is not null or valid_to is not null)
                          over (partition by key_hash) as dated
            from hashed
            qualify row_number() over (partition by {key_list}, valid_from order by row_hash) = 1
        ), starts as (
            select *, case when valid_from is not null then valid_from
                           when dated then {_NEG_INF} else $day end as seg_from
            from one
        )
        select * exclude (valid_from, valid_to, dated),
               least(coalesce(valid_to, {_POS_INF}),
                     coalesce(lead(seg_from) over (partition by key_hash order by seg_from), {_POS_INF}))
                   as seg_to
        from starts
        """


def merge(
    con: duckdb.DuckDBPyConnection,
    dataset,
    frame: pl.DataFrame,
    *,
    observed_at: datetime,
    payload_sha256: str,
    scope: tuple[str, ...] | None = ("source",),
    held: list[dict] | None = None,
    complete: bool = True,
    recorded_at: datetime | None = None,
) -> MergeStats:
    """Merge one payload's normalized rows into history (see the module docstring).

    ``scope``: the key columns whose values in this payload name the snapshot it is (None: it adds
    and changes values but never closes a key). ``held``: natural keys (partial dicts; a missing
    column matches any value) of records rejected in this payload, kept as they were.
    ``complete=False``: the payload is no whole snapshot (mostly rejected, or cut mid-record) and
    closes nothing. Merging the same payload again changes nothing.
    """
    ensure(con, dataset)
    recorded_at = recorded_at or datetime.now(UTC)
    table, key = table_name(dataset), list(dataset.key)
    values = list(dataset.value_columns)
    data_cols = key + values
    key_list = ", ".join(key)
    if "valid_to" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias("valid_to"))
    if "valid_from" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias("valid_from"))
    con.register("_incoming", frame.select([*data_cols, "valid_from", "valid_to"]))
    undated = frame.select(pl.col("valid_from", "valid_to").null_count()).row(0) == (frame.height,) * 2
    con.register("_held_rows", _held_frame(dataset, held or []))
    obs_day = observed_at.astimezone(UTC).date()
    snapshot = scope is not None and complete
    # Observations "after" this one: later observed_at, or the same and a greater sha256.
    later = "(o.observed_at > $obs or (o.observed_at = $obs and o.payload_sha256 > $sha))"
    params = {"obs": observed_at, "sha": payload_sha256, "day": obs_day}
    con.execute("begin transaction")
    try:
        # 1. What this payload says: each listed key's segments (from, to) and coverage start.
        _run(con, _segments_sql(key, values, undated=undated), params)
        con.execute("create or replace temp table _held as select * from _held_rows")
        # 2. The keys this payload speaks for, with its coverage start c: every listed key, and
        #    (a whole snapshot) every key of its scope still in effect on its day that it neither
        #    lists nor holds.
        listed = f"select {key_list}, key_hash, least(min(seg_from), $day) as c, false as absent from _seg group by all"
        absent = ""
        if snapshot:
            scope_vals = _scope_value(scope, "s")
            not_held = (
                f"and not exists (select 1 from _held x where {_held_match(key, 'x', 'h')})" if held else ""
            )
            absent = f"""
            union all
            select {", ".join(f"h.{k}" for k in key)}, h.key_hash, $day, true
            from {table} h
            where coalesce(h.valid_to, {_POS_INF}) > $day
              and {_scope_value(scope, "h")} in (select distinct {scope_vals} from _seg s)
              and not exists (select 1 from _seg s where s.key_hash = h.key_hash and {_key_match(key, "s", "h")})
              {not_held}
            group by all
            """
        _run(con, f"create or replace temp table _spoken as {listed} {absent}", params)
        # The temp tables below are joined on key_hash alone: exact while no two keys of this merge
        # share a hash (and the history versions matched by hash are checked key by key in _old).
        shared = con.execute(
            "select count(*) - count(distinct key_hash), min(key_hash) filter (where n > 1) "
            "from (select key_hash, count(*) over (partition by key_hash) as n from _spoken)"
        ).fetchone()
        if shared[0]:
            raise KeyHashCollision(
                f"two natural keys of this {dataset.name} payload share the 64-bit key hash {shared[1]}: "
                "the merge stopped rather than mix their histories"
            )
        # 3. m: the earliest coverage start among payloads observed after this one. A later whole
        #    snapshot of the same scope covers from its day unless it held the key; other coverages
        #    are recorded per key in observations.<dataset>. The daily case, a payload newer than
        #    every one merged before, has no later observation: m is the open end for every key.
        obs_table = observations_name(dataset)
        newest = not _run(
            con,
            f"""select exists (select 1 from observations.snapshots o where o.dataset = '{dataset.name}' and {later})
                    or exists (select 1 from {obs_table} o where o.kind = 'covers' and {later})""",
            params,
        ).fetchone()[0]
        if newest:
            con.execute(f"create or replace temp table _window as select *, {_POS_INF} as m from _spoken")
        else:
            snap_m = f"{_POS_INF}"
            if scope is not None:
                snap_m = f"""coalesce((
                    select min(o.observed_on) from observations.snapshots o
                    where o.dataset = '{dataset.name}' and o.scope_columns = '{",".join(scope)}'
                      and o.scope_value = {_scope_value(scope, "a")} and {later}
                      and not exists (select 1 from {obs_table} x
                                      where x.kind = 'held' and x.payload_sha256 = o.payload_sha256
                                        and x.observed_at = o.observed_at and {_held_match(key, "x", "a")})
                ), {_POS_INF})"""
            _run(
                con,
                f"""
                create or replace temp table _window as
                select a.*, least({snap_m}, coalesce((
                           select min(coalesce(o.covers_from, {_NEG_INF})) from {obs_table} o
                           where o.kind = 'covers' and {_key_match(key, "o", "a")} and {later}
                       ), {_POS_INF})) as m
                from _spoken a
                """,
                params,
            )
            con.execute("delete from _window where c >= m")
        # 4. New versions of every key in the window: what history says outside [c, m), what this
        #    payload says inside it, equal neighbours coalesced. The one join against all of history,
        #    by the integer key hash and only over versions that reach the earliest coverage start
        #    (a payload without declared dates: its day, so only versions still open then).
        earliest = con.execute(f"select coalesce(min(c), {_POS_INF})::varchar from _window").fetchone()[0]
        old_cols = ", ".join(f"h.{c}" for c in values)
        con.execute(
            f"""
            create or replace temp table _old as
            select h.rowid as rid, {", ".join(f"h.{k}" for k in key)}, h.key_hash, {old_cols}, h.row_hash,
                   coalesce(h.valid_from, {_NEG_INF}) as f, coalesce(h.valid_to, {_POS_INF}) as t,
                   h.first_seen_at, h.last_seen_at, h.payload_sha256, w.c, w.m,
                   {_key_match(key, "h", "w")} as same_key
            from {table} h join _window w on h.key_hash = w.key_hash
            where coalesce(h.valid_from, {_NEG_INF}) <= w.m and coalesce(h.valid_to, {_POS_INF}) >= w.c
              and coalesce(h.valid_to, {_POS_INF}) >= '{earliest}'::date
            """
        )
        # A separate statement: in the join's WHERE, DuckDB would hash the key strings of every
        # version scanned; here it compares them on the matched rows only.
        con.execute("delete from _old where not same_key")
        # The common day: a key listed at the values of the version that already spans its whole
        # window. Nothing changes but its sightings; the rest of the merge skips it.
        _run(
            con,
            f"""
            create or replace temp table _kept as
            select o.rid, o.key_hash from _old o join _seg s on o.key_hash = s.key_hash
            where s.seg_from = o.c and s.seg_to = {_POS_INF} and o.f <= o.c and o.t >= o.m
              and o.row_hash = s.row_hash
            """,
            params,
        )
        kept = _run(
            con,
            f"""
            update {table} h set last_seen_at = greatest(h.last_seen_at, $obs),
                                 first_seen_at = least(h.first_seen_at, $obs)
            from _kept k where h.rowid = k.rid
            """,
            params,
        ).fetchone()[0]
        for temp in ("_window", "_old"):
            con.execute(f"delete from {temp} where key_hash in (select key_hash from _kept)")
        piece_cols = f"key_hash, {key_list}, {', '.join(values)}, row_hash"
        _run(
            con,
            f"""
            create or replace temp table _new as
            with pieces as (
                select {piece_cols}, f, least(t, c) as t, first_seen_at, last_seen_at, payload_sha256
                from _old where f < c
                union all
                select {piece_cols}, greatest(f, m), t, first_seen_at, last_seen_at, payload_sha256
                from _old where t > m
                union all
                select s.key_hash, {", ".join(f"s.{c}" for c in data_cols)}, s.row_hash,
                       greatest(s.seg_from, w.c), least(s.seg_to, w.m), $obs, $obs, $sha
                from _seg s join _window w on s.key_hash = w.key_hash
                where greatest(s.seg_from, w.c) < least(s.seg_to, w.m)
            ), marked as (
                select *, case when lag(t) over k = f and lag(row_hash) over k = row_hash then 0 else 1 end
                          as starts_island
                from pieces window k as (partition by key_hash order by f)
            ), islands as (
                select *, sum(starts_island) over (partition by key_hash order by f) as island from marked
            )
            select key_hash, {", ".join(f"any_value({c}) as {c}" for c in data_cols)}, row_hash,
                   min(f) as f, max(t) as t, min(first_seen_at) as first_seen_at,
                   max(last_seen_at) as last_seen_at,
                   arg_min(payload_sha256, first_seen_at) as payload_sha256
            from islands group by key_hash, row_hash, island
            """,
            params,
        )
        same = "n.key_hash = o.key_hash and n.f = o.f and n.t = o.t and n.row_hash = o.row_hash"
        unchanged = con.execute(
            f"""
            update {table} h set last_seen_at = greatest(h.last_seen_at, n.last_seen_at),
                                 first_seen_at = least(h.first_seen_at, n.first_seen_at)
            from _old o join _new n on {same}
            where h.rowid = o.rid
            """
        ).fetchone()[0]
        gone = f"select o.rid from _old o where not exists (select 1 from _new n where {same})"
        history_cols = ", ".join([*data_cols, *SYSTEM_COLUMNS])
        superseded = _run(
            con,
            f"""
            insert into {superseded_name(dataset)} ({history_cols}, superseded_at)
            select {history_cols}, $now from {table} where rowid in ({gone})
            """,
            {"now": recorded_at},
        ).fetchone()[0]
        con.execute(f"delete from {table} where rowid in ({gone})")
        inserted = _run(
            con,
            f"""
            insert into {table} ({history_cols})
            select {", ".join(data_cols)}, nullif(n.f, {_NEG_INF}), nullif(n.t, {_POS_INF}),
                   n.first_seen_at, n.last_seen_at, n.payload_sha256, n.row_hash, n.key_hash, $now
            from _new n where not exists (select 1 from _old o where {same})
            """,
            {"now": recorded_at},
        ).fetchone()[0]
        closed = con.execute(
            "select count(*) from _window w where w.absent and exists "
            "(select 1 from _old o where o.key_hash = w.key_hash and o.f < w.m and o.t > w.c)"
        ).fetchone()[0]
        held_open = 0
        if snapshot and held:
            held_open = _run(
                con,
                f"""
                select count(*) from (
                    select distinct {", ".join(f"h.{k}" for k in key)} from {table} h
                    where coalesce(h.valid_to, {_POS_INF}) > $day
                      and {_scope_value(scope, "h")} in (select distinct {_scope_value(scope, "s")} from _seg s)
                      and not exists (select 1 from _seg s where s.key_hash = h.key_hash and {_key_match(key, "s", "h")})
                      and exists (select 1 from _held x where {_held_match(key, "x", "h")}))
                """,
                params,
            ).fetchone()[0]
        _record_observation(con, dataset, scope if snapshot else None, params)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_incoming")
        con.unregister("_held_rows")
    return MergeStats(inserted, superseded, unchanged + kept, closed, held_open)


def _record_observation(
    con: duckdb.DuckDBPyConnection, dataset, scope: tuple[str, ...] | None, params
) -> None:
    """What later merges need to know of this payload (replaced whole, so a re-merge is idempotent):
    the scopes it is a whole snapshot of, the keys it held, and every coverage start that is not
    the payload's day (or every one, when it is no snapshot)."""
    obs_table = observations_name(dataset)
    key_list = ", ".join(dataset.key)
    _run(con, f"delete from {obs_table} where payload_sha256 = $sha and observed_at = $obs", params)
    con.execute(
        "delete from observations.snapshots where dataset = ? and payload_sha256 = ? and observed_at = ?",
        [dataset.name, params["sha"], params["obs"]],
    )
    # A whole snapshot covers its listed keys from its day (observations.snapshots says so), unless
    # a key starts earlier or a held record names it too. _spoken holds each listed key's start.
    only_others = (
        ""
        if scope is None
        else f"and (s.c <> $day or exists (select 1 from _held x where {_held_match(list(dataset.key), 'x', 's')}))"
    )
    _run(
        con,
        f"""
        insert into {obs_table} ({key_list}, observed_at, payload_sha256, kind, covers_from)
        select {", ".join(f"s.{k}" for k in dataset.key)}, $obs, $sha, 'covers', nullif(s.c, {_NEG_INF})
        from _spoken s where not s.absent {only_others}
        """,
        params,
    )
    if scope is None:
        return
    _run(
        con,
        f"""
        insert into {obs_table} ({key_list}, any_value_of, observed_at, payload_sha256, kind)
        select {key_list}, any_value_of, $obs, $sha, 'held' from _held
        """,
        params,
    )
    _run(
        con,
        f"""
        insert into observations.snapshots
        select distinct '{dataset.name}', $sha, $obs, $day, '{",".join(scope)}', {_scope_value(scope, "s")}
        from _seg s
        """,
        params,
    )


def adopt_system_time(con: duckdb.DuckDBPyConnection, previous: str, *, now: datetime | None = None) -> None:
    """After a rebuild replayed the archive into this database: keep when each unchanged version
    was recorded, and record every version the old warehouse believed that the rebuild replaced
    (``previous`` is the attached old warehouse). The replay's own intermediate steps are not
    history of what the warehouse believed, so its superseded rows are dropped."""
    from sources.schemas import DATASETS

    now = now or datetime.now(UTC)
    for dataset in DATASETS.values():
        old_cols = _existing_columns_in(con, previous, "history", dataset.name)
        if not old_cols:
            continue
        table, key = table_name(dataset), list(dataset.key)
        # Through today's hash of the old values: the old warehouse may predate the hash or a column.
        old_hash = _hash_expr([c for c in dataset.value_columns if c in old_cols], "o.")
        same = (
            f"{_key_match(key, 'n', 'o')} and n.valid_from is not distinct from o.valid_from "
            f"and n.valid_to is not distinct from o.valid_to and n.row_hash = {old_hash}"
        )
        recorded = "recorded_at" if "recorded_at" in old_cols else "first_seen_at"
        old = f"(select *, {recorded} as recorded_at_ from {previous}.{table})"
        con.execute(f"delete from {superseded_name(dataset)}")
        con.execute(f"update {table} n set recorded_at = o.recorded_at_ from {old} o where {same}")
        names = [*(c.name for c in _data_columns(dataset)), *SYSTEM_COLUMNS]
        cols = [c for c in names if c in old_cols and c != "recorded_at"]
        con.execute(
            f"""
            insert into {superseded_name(dataset)} ({", ".join(cols)}, recorded_at, superseded_at)
            select {", ".join(f"o.{c}" for c in cols)}, o.recorded_at_, ?
            from {old} o where not exists (select 1 from {table} n where {same})
            """,
            [now],
        )
        if _existing_columns_in(con, previous, "superseded", dataset.name):
            con.execute(
                f"insert into {superseded_name(dataset)} by name "
                f"select * from {previous}.{superseded_name(dataset)}"
            )


def _existing_columns_in(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where database_name = ? and schema_name = ? "
            "and table_name = ?",
            [database, schema, table],
        ).fetchall()
    }


def as_known_macro(dataset) -> str:
    """``<dataset>_as_known(on_day, known_at)``: the versions in effect on ``on_day`` as the warehouse
    recorded them at ``known_at`` (what it would have answered then), from history and superseded."""
    name = dataset.name
    return f"""
create or replace macro {name}_as_known(on_day, known_at) as table
select * exclude (superseded_at)
from (
    select *, null::timestamptz as superseded_at from {table_name(dataset)}
    union all by name
    select * from {superseded_name(dataset)}
)
where recorded_at <= known_at::timestamptz
  and (superseded_at is null or superseded_at > known_at::timestamptz)
  and coalesce(valid_from, {_NEG_INF}) <= on_day::date
  and (valid_to is null or valid_to > on_day::date)
"""


def asof(con: duckdb.DuckDBPyConnection, dataset, on) -> pl.DataFrame:
    """The versions in effect on date ``on``."""
    return con.execute(
        f"""select * from {table_name(dataset)}
            where coalesce(valid_from, {_NEG_INF}) <= ?::date and (valid_to is null or valid_to > ?::date)""",
        [on, on],
    ).pl()
