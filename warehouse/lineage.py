"""Which models a build must run: those whose inputs changed since they were last built.

A model's *fingerprint* hashes everything its table is a function of:

- the text of every file under ``dbt_like_models/`` and every macro the warehouse carries (a change
  to any model, seed or formula rebuilds everything: cheap to decide, never wrong);
- for each table it reads that no model builds (directly, or through a table macro such as
  ``token_prices_asof``): a token of that table's state. A history table's token is its row count,
  its latest ``recorded_at`` and the sums of ``first_seen_at`` and ``last_seen_at`` (a version is
  never changed in place but for those two, see warehouse/history.py); a superseded table's is its
  count and latest ``superseded_at``; any other table's (the assumption set) is an md5 of its rows;
- ``current_date``, when its SQL (or a macro it calls) reads the clock;
- the fingerprints of the models it reads.

``meta.model_builds`` keeps the fingerprint each model was last built with. ``stale`` returns the
models whose table is missing or whose fingerprint moved: after an ingest of one dataset, exactly the
models downstream of it (and every model after a change of code, assumptions or day). A model left
out is, by construction, what a rebuild would produce.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from warehouse.db import create_tables, document, upsert
from warehouse.models import MODELS_DIR, Model

BUILDS = "meta.model_builds"
_COMMENT = re.compile(r"--[^\n]*")
_QUALIFIED = re.compile(r"\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_MACRO = re.compile(r"create\s+(?:or\s+replace\s+)?macro\s+(\w+)", re.IGNORECASE)
_CLOCK = re.compile(
    r"\b(current_date|current_timestamp|now\s*\(|today\s*\(|get_current_\w+\s*\()", re.IGNORECASE
)


@dataclass(frozen=True)
class Selection:
    """The models to build, in build order, and why the others are left as they are."""

    build: list[Model]
    reused: list[Model]

    def describe(self) -> str:
        total = len(self.build) + len(self.reused)
        if not self.reused:
            return f"rebuilt all {total} models"
        if not self.build:
            return f"rebuilt none of {total} models: no input changed since they were built"
        return (
            f"rebuilt {len(self.build)} of {total} models whose inputs changed "
            f"({', '.join(m.table for m in self.build)}); {len(self.reused)} unchanged since their last build"
        )


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    create_tables(
        con,
        f"""create table if not exists {BUILDS} (
                model varchar primary key, fingerprint varchar not null,
                built_at timestamptz not null, run_id varchar)""",
    )
    document(
        con,
        BUILDS,
        "The inputs each model was last built from, as a fingerprint: a build after an ingest reruns only "
        "the models whose fingerprint moved (warehouse/lineage.py).",
        {
            "model": "The model's table, schema.name.",
            "fingerprint": "sha256 over the model code and macros, the state of the tables it reads, the day "
            "when it reads the clock, and the fingerprints of the models it reads.",
            "built_at": "When it was last built.",
            "run_id": "The run that built it.",
        },
    )


def fingerprints(con: duckdb.DuckDBPyConnection, models: list[Model], macro_sql: list[str]) -> dict[str, str]:
    """Every model's fingerprint (``models`` in build order, as ``models.discover`` gives them)."""
    schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    macros = _macros(macro_sql, schemas)
    code = hashlib.sha256()
    for path in sorted(MODELS_DIR.rglob("*")):
        if path.is_file():
            code.update(str(path.relative_to(MODELS_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    for statement in macro_sql:
        code.update(statement.encode() + b"\0")
    built = {m.table for m in models}
    tokens: dict[str, str] = {}
    today = None
    result: dict[str, str] = {}
    for model in models:
        reads, clock = _inputs(model.sql, macros, schemas)
        parts = [code.hexdigest(), model.table]
        for table in sorted(reads | set(model.depends_on)):
            if table in built:
                parts.append(f"{table}={result.get(table, 'unbuilt')}")
            else:
                if table not in tokens:
                    tokens[table] = _token(con, table)
                parts.append(f"{table}={tokens[table]}")
        if clock:
            today = today or str(con.execute("select current_date").fetchone()[0])
            parts.append(f"day={today}")
        result[model.table] = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return result


def stale(con: duckdb.DuckDBPyConnection, models: list[Model], prints: dict[str, str]) -> Selection:
    """The models to build: a missing table, no build record or a fingerprint that moved."""
    ensure(con)
    recorded = dict(con.execute(f"select model, fingerprint from {BUILDS}").fetchall())
    existing = {
        f"{s}.{n}"
        for s, n in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
            "union all select schema_name, view_name from duckdb_views() where database_name = current_database()"
        ).fetchall()
    }
    build, reused = [], []
    for model in models:
        fresh = model.table in existing and recorded.get(model.table) == prints[model.table]
        (reused if fresh else build).append(model)
    return Selection(build, reused)


def record(con: duckdb.DuckDBPyConnection, model: Model, fingerprint: str, run_id: str | None) -> None:
    ensure(con)
    upsert(
        con,
        BUILDS,
        ["model"],
        dict(model=model.table, fingerprint=fingerprint, built_at=datetime.now(UTC), run_id=run_id),
    )


def _macros(macro_sql: list[str], schemas: set[str]) -> dict[str, tuple[set[str], bool, str]]:
    """Per macro name: the tables its body reads, whether it reads the clock, and its body."""
    found = {}
    for statement in macro_sql:
        body = _COMMENT.sub("", statement)
        for name in _MACRO.findall(body):
            found[name.lower()] = (_tables(body, schemas), bool(_CLOCK.search(body)), body)
    return found


def _inputs(sql: str, macros: dict, schemas: set[str]) -> tuple[set[str], bool]:
    """Tables read and whether the clock is read, through the macros called, transitively."""
    body = _COMMENT.sub("", sql)
    reads, clock = _tables(body, schemas), bool(_CLOCK.search(body))
    seen: set[str] = set()
    todo = [body]
    while todo:
        text = todo.pop()
        for name, (tables, reads_clock, macro_body) in macros.items():
            if name not in seen and re.search(rf"\b{re.escape(name)}\s*\(", text, re.IGNORECASE):
                seen.add(name)
                reads |= tables
                clock = clock or reads_clock
                todo.append(macro_body)
    return reads, clock


def _tables(body: str, schemas: set[str]) -> set[str]:
    # A qualified name whose first part is a schema of this warehouse; an alias that happens to be
    # named like a schema only adds an input, which can cost a rebuild but never skips one.
    return {f"{s.lower()}.{t.lower()}" for s, t in _QUALIFIED.findall(body) if s.lower() in schemas}


def _token(con: duckdb.DuckDBPyConnection, table: str) -> str:
    schema, name = table.split(".")
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and table_name = ?",
        [schema, name],
    ).fetchone()[0]
    if not found:
        return "absent"
    if schema == "history":
        query = (
            f"select count(*), max(recorded_at), sum(epoch_us(first_seen_at)), sum(epoch_us(last_seen_at)) "
            f"from {table}"
        )
    elif schema == "superseded":
        query = f"select count(*), max(superseded_at) from {table}"
    else:
        query = f"select count(*), md5(string_agg(t::varchar, '\n' order by t::varchar)) from {table} t"
    return "|".join(str(v) for v in con.execute(query).fetchone())
