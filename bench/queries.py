"""4. As-of and single-model-history lookups on 10M history rows, each layout from a fresh process.

Layouts: naive (versions in the order daily merges append them), sorted by `warehouse.layout`
(what the published snapshot would hold), and the naive layout plus an ART index on
canonical_model. Each is queried by a new process that imports DuckDB and opens the file
read-only, so DuckDB's buffer pool starts empty (the OS page cache does not: the files were just
written, as a snapshot a dashboard opens after publish would be).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import duckdb

from bench.common import Result, Sizes, check, run_child, say
from warehouse import layout

# Run in the child, one query per process so that no query finds blocks another one read: time its
# first (cold buffer pool) and later executions. Results come
# back as Arrow, as a dashboard or `costcurve sql` (polars) reads them; pyarrow is imported before
# the clock starts, since importing it is the process's cost, not the query's.
CHILD = """
import json, sys, time
import duckdb, pyarrow
start = time.perf_counter()
con = duckdb.connect(sys.argv[1], read_only=True)
out = {"connect": {"first": time.perf_counter() - start, "warm": 0.0, "rows": 0}}
for name, sql in json.loads(sys.argv[2]).items():
    times, rows = [], 0
    for _ in range(3):
        start = time.perf_counter()
        rows = con.execute(sql).to_arrow_reader().read_all().num_rows
        times.append(time.perf_counter() - start)
    out[name] = {"first": times[0], "warm": min(times[1:]), "rows": rows}
print(json.dumps(out))
"""


def queries(sizes: Sizes) -> dict[str, str]:
    model = sizes.history_keys // sizes.snapshot_providers // 2 + 17
    canonical = f"org{model % 97}/model-{model}"
    provider = f"prov{model % sizes.snapshot_providers:03d}"
    return {
        "as-of one model": f"select * from token_prices_asof(date '2021-06-01') where canonical_model = '{canonical}'",
        "model history": f"select * from model_price_history('{canonical}')",
        "key history": f"""select * from history.token_prices where provider = '{provider}'
                           and model = '{provider}/model-{model}' order by valid_from""",
    }


def _query(path: Path, work: Path, sizes: Sizes, label: str) -> dict[str, dict[str, float]]:
    timings = {}
    for name, sql in queries(sizes).items():
        log = work / f"query-{label}.log"
        check(
            run_child([sys.executable, "-c", CHILD, str(path), json.dumps({name: sql})], log=log),
            f"{name} on {label}",
            log,
        )
        timings.update(json.loads(log.read_text().strip().splitlines()[-1]))
    say(
        f"  {label:>23}: "
        + "; ".join(
            f"{q} {t['first'] * 1000:.0f} ms" + (f" ({t['rows']} rows)" if q != "connect" else "")
            for q, t in timings.items()
        )
    )
    return timings


def run(sizes: Sizes, work: Path, history_db: Path) -> tuple[list[Result], dict[str, float]]:
    naive = _query(history_db, work, sizes, "naive layout")

    sorted_db = work / "sorted.duckdb"
    shutil.copy(history_db, sorted_db)
    start = time.perf_counter()
    with duckdb.connect(str(sorted_db)) as con:
        for table, order in layout.HISTORY_ORDER.items():
            layout.compact(con, table, order)
        con.execute("checkpoint")
    compact_s = time.perf_counter() - start
    say(f"  layout.compact of the history tables: {compact_s:.1f} s")
    ordered = _query(sorted_db, work, sizes, "sorted (layout.compact)")
    sorted_db.unlink()

    index_db = work / "indexed.duckdb"
    shutil.copy(history_db, index_db)
    start = time.perf_counter()
    with duckdb.connect(str(index_db)) as con:
        con.execute("create index token_prices_canonical on history.token_prices (canonical_model)")
        con.execute("checkpoint")
    index_s = time.perf_counter() - start
    say(f"  ART index on canonical_model: {index_s:.1f} s")
    indexed = _query(index_db, work, sizes, "naive + ART index")
    index_db.unlink()

    results = []
    for name in ("as-of one model", "model history"):
        figure, reference = ordered[name]["first"], naive[name]["first"]
        results.append(
            Result(
                f"4 {name} (fresh process)",
                figure,
                reference,
                ">= 10x faster, tens of ms",
                reference >= 10 * figure and figure < 0.1,
                "sorted layout, first run",
                "naive layout, first run",
                [
                    f"ART index instead: {indexed[name]['first'] * 1000:.0f} ms",
                    f"warm: sorted {ordered[name]['warm'] * 1000:.0f} ms, naive {naive[name]['warm'] * 1000:.0f} ms",
                    f"{ordered[name]['rows']} rows",
                ],
                faster=True,
            )
        )
    key = "key history"
    say(
        f"  key history (provider + model, not the sort's lead column): naive {naive[key]['first'] * 1000:.0f} ms, "
        f"sorted {ordered[key]['first'] * 1000:.0f} ms, ART {indexed[key]['first'] * 1000:.0f} ms"
    )
    return results, {"compact_s": compact_s, "index_s": index_s}
