"""Crash safety and idempotence: a refresh killed (SIGKILL) at any stage leaves a warehouse the next
refresh completes on, and replaying what was already seen adds nothing."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from warehouse_checks import lock_is_free, published_files, scd2_violations, table_counts

from pipelines import flow, registry
from pipelines.cli import main
from sources.http import Fetched
from warehouse import db, publish, raw
from warehouse.publish import PUBLISHED_SCHEMAS

pytestmark = pytest.mark.filterwarnings("ignore")

PAUSED = Path(__file__).with_name("paused.py")
COSTCURVE = Path(sys.executable).with_name("costcurve")
WAIT_S = 120

# Where each refresh dies. The first two stop the process at a function of the pipeline and kill it
# there (tests/reliability/paused.py patches only that subprocess); the last kills the unmodified
# CLI when polling sees the snapshot's temporary file in a new generation, i.e. half-way through
# publishing.
STAGES = {
    "after archiving a raw payload": ("warehouse.raw", "archive", "after"),
    "inside a history merge transaction": ("warehouse.history", "_record_observation", "before"),
    "while writing the published snapshot": None,
}
HALF_SNAPSHOT = "published-*/.costcurve.duckdb.*.tmp"


def kill_during(stage: str, home: Path, spawn, logs: Path) -> None:
    marker = logs / f"{stage.replace(' ', '_')}.reached"
    argv = (
        [sys.executable, str(PAUSED), *STAGES[stage], str(marker), "--", "refresh", "--offline"]
        if STAGES[stage]
        else [str(COSTCURVE), "refresh", "--offline"]
    )

    def reached() -> bool:
        return marker.exists() or (not STAGES[stage] and any(home.glob(HALF_SNAPSHOT)))

    with open(logs / f"{marker.stem}.log", "wb") as log:
        process = spawn(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + WAIT_S
        while not reached():
            assert process.poll() is None, (
                f"refresh exited ({process.returncode}) before {stage}: see {log.name}"
            )
            assert time.monotonic() < deadline, f"refresh did not reach {stage} in {WAIT_S} s"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


def test_a_refresh_killed_at_any_stage_leaves_the_warehouse_intact_and_the_next_one_completes(
    home, spawn, tmp_path
):
    working, snapshot = home / "costcurve.duckdb", home / "published" / "costcurve.duckdb"
    with duckdb.connect(str(working), read_only=True) as con:
        history_before = table_counts(con, ("history",))
    with duckdb.connect(str(snapshot), read_only=True) as con:
        snapshot_before = table_counts(con, PUBLISHED_SCHEMAS)
    files_before = published_files(home)
    logs = tmp_path / "logs"
    logs.mkdir()
    with duckdb.connect(str(working), read_only=True) as con:
        runs = run_ids(con)
    killed = {}

    # One after the other on the same warehouse: each refresh starts from the wreck of the last.
    for stage in STAGES:
        kill_during(stage, home, spawn, logs)
        assert lock_is_free(home), f"killed {stage}: the writer lock is still held"
        # Read-write, as the next refresh opens it: DuckDB replays its WAL and drops the half transaction.
        with duckdb.connect(str(working)) as con:
            (killed[stage],) = run_ids(con) - runs
            runs.add(killed[stage])
            assert scd2_violations(con) == {}, stage
            assert table_counts(con, ("history",)) == history_before, stage
            dangling = con.execute(
                "select count(*) from raw.fetches where sha256 not in (select sha256 from raw.payloads)"
            ).fetchone()[0]
            assert dangling == 0, stage
        assert published_files(home) == files_before, f"killed {stage}: the published files changed"
        with duckdb.connect(str(snapshot), read_only=True) as con:
            assert table_counts(con, PUBLISHED_SCHEMAS) == snapshot_before, stage

    assert any(home.glob(HALF_SNAPSHOT))  # the killed publish's half generation
    current = (home / "published").resolve()
    assert main(["refresh", "--offline"]) == 0
    with duckdb.connect(str(working), read_only=True) as con:
        assert scd2_violations(con) == {}
        # The same embedded payloads as the baseline's refresh: crashes and re-runs add no version.
        assert table_counts(con, ("history",)) == history_before
    with duckdb.connect(str(snapshot), read_only=True) as con:
        status = con.execute("select status from meta.runs order by started_at desc limit 1").fetchone()[0]
        assert status == "success"
        assert table_counts(con, ("history",)) == {
            k: v for k, v in snapshot_before.items() if k.startswith("history.")
        }
        statuses = dict(con.execute("select run_id, status from meta.runs").fetchall())
    # Each run killed mid-way was marked died when the next one began; the one killed while
    # publishing had already closed (finish_run comes before the snapshot) and its rows are published now.
    assert [statuses[killed[stage]] for stage in STAGES] == ["died", "died", "success"]
    assert "running" not in statuses.values()
    # The next publish removed the half-written generation and kept the one it replaced.
    assert not list(home.glob(HALF_SNAPSHOT))
    generations = {p.name for p in home.glob("published-*")}
    assert generations == {current.name, (home / "published").resolve().name}
    assert lock_is_free(home)


def run_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r for (r,) in con.execute("select run_id from meta.runs").fetchall()}


def test_the_next_publish_removes_every_file_a_killed_publish_left(costcurve_home):
    """A killed publish leaves a half generation (and inside it a temporary snapshot and its WAL); the
    next publish removes it, and a half snapshot in its own directory too."""
    wreck = costcurve_home / "published-killed-run"
    wreck.mkdir(parents=True)
    for suffix in ("", ".wal"):
        (wreck / f".costcurve.duckdb.4194304.tmp{suffix}").write_bytes(b"half a snapshot")
    with db.working() as con:
        flow.ensure(con)
        run_id = flow.new_run_id("test")
        flow.begin_run(con, run_id, "test")
        flow.build_models(con, run_id)  # the report reads the marts
        flow.publish(con, run_id)
    assert not wreck.exists()
    generation = (costcurve_home / "published").resolve()
    assert [p.name for p in costcurve_home.glob("published-*")] == [generation.name]
    target = generation / "costcurve.duckdb"
    half = target.with_name(".costcurve.duckdb.4194304.tmp")
    half.write_bytes(b"half a snapshot")
    with db.working() as con:
        publish.publish(con, [], target)
    assert not half.exists()


def test_replaying_the_archive_adds_no_rows(home):
    """Every payload the baseline refresh archived, replayed through the same path a day later (the
    same payload again; a re-run of the same day is the crash test's last refresh): no new version,
    no record refused that was not refused before, no moved date."""
    with duckdb.connect(str(home / "costcurve.duckdb")) as con:
        fetches = con.execute(
            "select dataset, source, mode, url, observed_at, sha256 from raw.fetches where sha256 is not null"
        ).fetchall()
        history_before = {
            d: con.execute(f"select * exclude (last_seen_at) from history.{d} order by all").fetchall()
            for d in ("token_prices", "gpu_rates", "accelerators", "eval_results")
        }
        # Quarantine logs each run's refusals; a replay refuses exactly the records refused before.
        distinct_rejects = (
            "select count(distinct (dataset, payload_sha256, rule, field, value, row_json)) "
            "from quarantine.rejected_rows"
        )
        rejected_before = con.execute(distinct_rejects).fetchone()[0]
        run_id = flow.new_run_id("replay")
        flow.begin_run(con, run_id, "replay")
        for dataset in history_before:
            feeds = [
                flow.Feed(
                    registry.module_for(dataset, source),
                    [Fetched(url, raw.body(con, sha))],
                    mode,
                    observed_at + timedelta(days=1),
                )
                for _, source, mode, url, observed_at, sha in (f for f in fetches if f[0] == dataset)
            ]
            staged, stats = flow.run(con, dataset, feeds, run_id=run_id)
            assert staged.verdict.success and stats.inserted == 0, dataset
        for dataset, rows in history_before.items():
            now = con.execute(
                f"select * exclude (last_seen_at) from history.{dataset} order by all"
            ).fetchall()
            assert now == rows, dataset
        assert con.execute(distinct_rejects).fetchone()[0] == rejected_before
