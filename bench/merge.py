"""2. One day's SCD2 merge of a 100k-key snapshot into 10M history rows vs appending the same rows.

Each statement of the merge is timed separately (`Merger`), so the figure says which step dominates.
An earlier merge joined on ``(h.valid_to is null or h.valid_to > eff_from)``: DuckDB cannot hash-join
on an OR and fell back to a nested loop (about an hour at this size); history.py compares with
``coalesce(h.valid_to, 'infinity'::date)``, and joins on the integer ``key_hash`` rather than the key's
six strings.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from bench import synthetic
from bench.common import Result, Sizes, median, say
from sources.schemas import GPU_RATES, TOKEN_PRICES
from warehouse import history


class Merger:
    """A connection stand-in for history.merge that times every statement it runs."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.steps: dict[str, float] = {}

    def register(self, name: str, frame) -> None:
        self.con.register(name, frame)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def execute(self, sql: str, params=None):
        start = time.perf_counter()
        result = self.con.execute(sql, params) if params is not None else self.con.execute(sql)
        label = _label(sql)
        self.steps[label] = self.steps.get(label, 0.0) + time.perf_counter() - start
        return result

    def merge(self, frame: pl.DataFrame, observed: date, sha: str) -> history.MergeStats:
        at = datetime.combine(observed, datetime.min.time(), UTC)
        return history.merge(self, TOKEN_PRICES, frame, observed_at=at, payload_sha256=sha)


def _label(sql: str) -> str:
    words = " ".join(sql.split())
    for marker, name in (
        ("comment on", "ensure (comments, create if missing)"),
        ("create table if not exists", "ensure (comments, create if missing)"),
        ("duckdb_columns", "ensure (comments, create if missing)"),
        ("key_hash is null", "ensure (comments, create if missing)"),
        ("temp table _seg", "_seg: segments, dedupe, row hash"),
        ("count(distinct key_hash)", "_spoken: listed and vanished keys of the scope"),
        ("select exists (select 1 from observations", "_window: where this payload wins"),
        ("delete from _window where c >= m", "_window: where this payload wins"),
        ("min(c)", "_old: versions in the window"),
        ("not same_key", "_old: versions in the window"),
        ("in (select key_hash from _kept)", "_kept: keys whose version already spans the window"),
        ("temp table _spoken", "_spoken: listed and vanished keys of the scope"),
        ("temp table _window", "_window: where this payload wins"),
        ("temp table _old", "_old: versions in the window"),
        ("temp table _new", "_new: pieces coalesced"),
        ("temp table _kept", "_kept: keys whose version already spans the window"),
        ("set last_seen_at", "update unchanged (last_seen_at)"),
        ("insert into superseded", "supersede replaced versions"),
        ("delete from history", "supersede replaced versions"),
        ("insert into history", "insert new versions"),
        ("observations", "record the observation"),
    ):
        if marker in words:
            return name
    return "transaction and other"


def build_history(path: Path, sizes: Sizes) -> date:
    """The 10M-row naive-layout history the merge, query and publish benches share."""
    from pipelines import flow
    from warehouse import db

    with db.working(path) as con:
        flow.ensure(con)
        next_day = synthetic.history_table(
            con,
            n_keys=sizes.history_keys,
            versions=sizes.history_versions,
            n_current=sizes.snapshot_keys,
            n_providers=sizes.snapshot_providers,
        )
        # A few thousand GPU offers beside it, as the real warehouse has.
        offers = synthetic.gpu_offers(5_000)  # noqa: F841 - read by DuckDB
        con.execute("insert into history.gpu_rates by name select * from offers")
        # Written by SQL, not merged: the rows get their key hash here, not inside the first timed merge.
        for dataset in (TOKEN_PRICES, GPU_RATES):
            history.fill_key_hash(con, dataset)
        for statement in flow.macro_sql():
            con.execute(statement)
        con.execute("checkpoint")
    return next_day


def run(sizes: Sizes, work: Path, history_db: Path, first_day: date) -> Result:
    notes = []
    rng = np.random.default_rng(7)
    with duckdb.connect(str(history_db)) as con:
        frame = synthetic.current_snapshot(con)
        frames = []
        for d in range(sizes.merge_days):
            frame = synthetic.next_day(frame, rng, d + 1)
            frames.append(frame)
        merges, steps = [], {}
        for d, frame in enumerate(frames):
            merger = Merger(con)
            start = time.perf_counter()
            stats = merger.merge(frame, first_day + timedelta(days=d), f"bench-merge-{d}")
            merges.append(time.perf_counter() - start)
            steps = merger.steps
            say(
                f"  merge day {d + 1}: {merges[-1]:.2f} s ({stats.inserted} inserted, "
                f"{stats.unchanged} unchanged, {stats.closed} closed)"
            )
        appends = []
        for d, frame in enumerate(frames):  # noqa: B007 - `frame` is read by DuckDB
            start = time.perf_counter()
            con.execute("insert into history.token_prices by name select * from frame")
            appends.append(time.perf_counter() - start)
            say(f"  append day {d + 1}: {appends[-1]:.2f} s")
        rows = con.execute("select count(*) from history.token_prices").fetchone()[0]
    say("  merge breakdown (last day): " + "; ".join(f"{k} {v:.2f} s" for k, v in steps.items() if v > 0.01))
    figure, reference = median(merges), median(appends)
    notes.insert(0, f"{frames[0].height:,} keys into {rows:,} rows; median of {len(merges)} days")
    notes.append("steps: " + ", ".join(f"{k.split(':')[0]} {v:.2f}" for k, v in steps.items() if v > 0.01))
    return Result(
        "2 daily merge 100k keys into 10M rows",
        figure,
        reference,
        "<= 2x",
        figure <= 2 * reference,
        "history.merge",
        "INSERT ... SELECT from the frame",
        notes,
    )
