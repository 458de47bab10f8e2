"""The sandbox `costcurve sql` runs an analyst's query in: it reads the published snapshot and, with
``--allow-files``, local files; it never writes, configures, loads code or reaches the network.

Three layers, each enough for what it covers (see docs/reliability.md, "The sql sandbox"):

1. The connection: the snapshot is opened read-only; without ``--allow-files`` DuckDB's external
   access is off (no file, no network, no extension); extensions never autoload or autoinstall,
   Python objects are never scanned, and ``lock_configuration`` keeps all of that as set.
2. Every statement's type is checked before anything runs: only read statements pass (a PRAGMA
   that only reads arrives as a SELECT). ``--allow-files`` turns external access on, so this check
   is what keeps COPY TO, EXPORT, ATTACH and INSTALL out.
3. A SELECT can still call functions that write or configure (``from enable_logging()``,
   ``select write_log(...)``); every function a statement names, read from DuckDB's own parse tree
   (``json_serialize_sql``), is checked against ``REFUSED_FUNCTIONS``.

A timer interrupts a statement that runs past its timeout. Every failure is a ``QueryError`` whose
message is one line that says what to do.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import duckdb
import polars as pl

READ_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
READ_ONLY = (
    "the published warehouse is read-only, and costcurve sql runs reads only "
    "(SELECT, FROM, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE, a PRAGMA that reads, EXPLAIN)"
)
# Functions a SELECT can call that change settings (logging, profiling), write (a log, a checkpoint),
# run SQL text this check never sees (query, json_execute_serialized_sql) or read raw memory
# addresses (the Arrow, pandas and Python scans the client uses internally).
REFUSED_FUNCTIONS = frozenset(
    {
        "enable_logging", "disable_logging", "truncate_duckdb_logs", "write_log",
        "enable_profiling", "disable_profiling",
        "checkpoint", "force_checkpoint",
        "query", "json_execute_serialized_sql",
        "arrow_scan", "arrow_scan_dumb", "pandas_scan", "python_map_function",
    }
)  # fmt: skip
DEFAULT_TIMEOUT_S = 60.0

# What to do instead, by the kind of a refused statement.
_INSTEAD = {
    "COPY": "to save a result, redirect it: costcurve sql '<query>' --format csv > result.csv",
    "EXPORT": "to save a result, redirect it: costcurve sql '<query>' --format csv > result.csv",
    "ATTACH": "to read another file, use --allow-files with read_csv, read_parquet or read_duckdb",
    "SET": "settings are fixed in costcurve sql",
    "PRAGMA": "settings are fixed in costcurve sql; use a duckdb_* table function to inspect them",
    "LOAD": "extensions are off in costcurve sql",
    "CALL": "call a read-only table function with SELECT * FROM <function>(...)",
}
# The first line of a DuckDB error says what went wrong; the advice depends on its kind.
_ADVICE: tuple[tuple[type[Exception], str], ...] = (
    (duckdb.ParserException, "fix the SQL syntax"),
    (duckdb.CatalogException, 'list the tables with: costcurve sql "show all tables"'),
    (duckdb.BinderException, 'check the column names and types: costcurve sql "describe <table>"'),
    (duckdb.PermissionException, "add --allow-files to let the query read local files"),
    (duckdb.IOException, "check the file's path and format"),
    (duckdb.OutOfMemoryException, "aggregate, filter or add a limit"),
    (pl.exceptions.PolarsError, "cast the column holding that type to varchar in the query"),
)


class QueryError(Exception):
    """A query refused or failed: the one-line message says why and what to do."""


def config(allow_files: bool) -> dict[str, Any]:
    """Connection settings of the sandbox (layer 1)."""
    return {
        "enable_external_access": allow_files,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        "python_enable_replacements": False,
        "lock_configuration": True,
    }


def run(con: duckdb.DuckDBPyConnection, query: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> pl.DataFrame:
    """Check every statement of ``query`` (layers 2 and 3), then run them in order and return the last
    one's result, interrupting any that runs past ``timeout_s`` seconds (0: no limit)."""
    statements = checked(con, query)
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        con.interrupt()

    timer = threading.Timer(timeout_s, stop) if timeout_s > 0 else None
    if timer:
        timer.daemon = True
        timer.start()
    try:
        for statement in statements[:-1]:
            con.execute(statement.query)
        return con.execute(statements[-1].query).pl()
    except (duckdb.Error, pl.exceptions.PolarsError) as e:
        if timed_out.is_set():
            raise QueryError(
                f"query stopped after {timeout_s:g} s: narrow it (a where clause, a limit) or give it "
                "longer with --timeout SECONDS (0 = no limit)"
            ) from None
        raise QueryError(failure(e)) from None
    finally:
        if timer:
            timer.cancel()


def checked(con: duckdb.DuckDBPyConnection, query: str) -> list[duckdb.Statement]:
    """The statements of ``query``, or a ``QueryError`` naming the first one the sandbox refuses."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as e:
        raise QueryError(failure(e)) from None
    if not statements:
        raise QueryError("query failed: the query is empty: give a SELECT (or a path to a .sql file)")
    for number, statement in enumerate(statements, 1):
        refusal = _refusal(con, statement)
        if refusal:
            where = f"statement {number}: " if len(statements) > 1 else ""
            raise QueryError(f"query failed: {where}{refusal}")
    return statements


def failure(error: Exception) -> str:
    """One line for a failed query: DuckDB's first line, then what to do."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    advice = next((a for kind, a in _ADVICE if isinstance(error, kind)), "fix the query and run it again")
    return f"query failed: {first}; {advice}"


def _refusal(con: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> str | None:
    text = statement.query.strip().rstrip(";")
    if statement.type not in READ_STATEMENTS and not text:
        # A statement DuckDB generated itself: a PIVOT without an IN list first creates an enum type.
        return (
            f"{statement.type.name} generated by a PIVOT without an IN list is refused: {READ_ONLY}; "
            "list the pivot values: PIVOT ... ON column IN (value, ...)"
        )
    if statement.type not in READ_STATEMENTS:
        kind = _kind(statement)
        instead = _INSTEAD.get(kind, "")
        return f"{kind} ({_snippet(text)}) is refused: {READ_ONLY}" + (f"; {instead}" if instead else "")
    if statement.type == duckdb.StatementType.EXPLAIN:
        # EXPLAIN ANALYZE runs the statement it explains: that statement must pass on its own.
        inner = _explained(text)
        if inner is None:
            return f"EXPLAIN ({_snippet(text)}) must explain one SELECT"
        return _refusal(con, inner)
    (tree,) = con.execute("select json_serialize_sql(?::varchar)", [text]).fetchone()
    parsed = json.loads(tree)
    if parsed.get("error"):
        # A SELECT-typed statement that is not a plain SELECT (none is known): refuse what cannot be read.
        return f"{_snippet(text)} cannot be checked: {parsed.get('error_message')}"
    refused = sorted(set(_functions(parsed)) & REFUSED_FUNCTIONS)
    if refused:
        return f"{', '.join(refused)} would change settings or write: {READ_ONLY}"
    return None


def _kind(statement: duckdb.Statement) -> str:
    name = statement.type.name
    # Types the Python client has no name for (UPDATE EXTENSIONS) are named by their first word.
    return name if name.isidentifier() else statement.query.split()[0].upper()


def _explained(text: str) -> duckdb.Statement | None:
    """The one statement an EXPLAIN [ANALYZE] names. DuckDB's tokenizer skips comments, so a comment
    cannot hide or fake the keywords."""
    starts = [position for position, _ in duckdb.tokenize(text)]
    words = [re.match(r"\w*", text[p:]).group().lower() for p in starts]
    skip = 2 if words[1:2] == ["analyze"] else 1
    if len(starts) <= skip:
        return None
    try:
        inner = duckdb.extract_statements(text[starts[skip] :])
    except duckdb.Error:
        return None
    return inner[0] if len(inner) == 1 and inner[0].type == duckdb.StatementType.SELECT else None


def _functions(node: Any) -> Iterator[str]:
    """Every function name in a serialized parse tree: table functions and scalar ones alike."""
    if isinstance(node, dict):
        name = node.get("function_name")
        if isinstance(name, str):
            yield name.lower()
        for value in node.values():
            yield from _functions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _functions(value)


def _snippet(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else f"{flat[: limit - 3]}..."
