"""6. warehouse.publish.publish of a 10M-row warehouse vs COPY FROM DATABASE of the same content.

The reference copies everything publish copies (the history, marts, meta and quarantine schemas
and the macros) and nothing else: the working file is first trimmed of raw and staging, which
publish leaves out. A third figure is the sorted variant `warehouse.layout` recommends: the same
copy with the history tables written in lookup order.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb

from bench.common import Result, say
from warehouse import layout


def run(work: Path, history_db: Path) -> tuple[Result, dict[str, float]]:
    from pipelines import flow
    from warehouse import publish

    source = work / "publish_source.duckdb"
    shutil.copy(history_db, source)
    with duckdb.connect(str(source)) as con:
        for schema in ("raw", "staging"):
            con.execute(f"drop schema if exists {schema} cascade")
        con.execute("checkpoint")
        statements = flow.macro_sql()

        target = work / "published" / "costcurve.duckdb"
        start = time.perf_counter()
        publish.publish(con, statements, target)
        publish_s = time.perf_counter() - start
        target.unlink()

        copy = work / "copy.duckdb"
        start = time.perf_counter()
        con.execute(f"attach '{copy}' as copy_target")
        con.execute("copy from database publish_source to copy_target")
        con.execute("detach copy_target")
        copy_s = time.perf_counter() - start
        copy.unlink()

        sorted_s = _sorted_copy(con, work / "sorted-snapshot.duckdb")
    source.unlink()
    say(
        f"  publish {publish_s:.1f} s; COPY FROM DATABASE {copy_s:.1f} s; "
        f"the history tables alone copied in layout order {sorted_s:.1f} s"
    )
    return (
        Result(
            "6 publish snapshot (10M history rows)",
            publish_s,
            copy_s,
            "<= 1.5x",
            publish_s <= 1.5 * copy_s,
            "warehouse.publish.publish",
            "ATTACH + COPY FROM DATABASE",
            [f"history written sorted (layout.sorted_select) {sorted_s:.1f} s"],
        ),
        {"sorted_copy_s": sorted_s},
    )


def _sorted_copy(con: duckdb.DuckDBPyConnection, path: Path) -> float:
    """What publish would spend on the history tables if it wrote them in layout order."""
    start = time.perf_counter()
    con.execute(f"attach '{path}' as sorted_snap")
    con.execute("create schema sorted_snap.history")
    for table, order in layout.HISTORY_ORDER.items():
        con.execute(f"create table sorted_snap.{table} as {layout.sorted_select(table, order)}")
    con.execute("detach sorted_snap")
    elapsed = time.perf_counter() - start
    path.unlink()
    return elapsed
