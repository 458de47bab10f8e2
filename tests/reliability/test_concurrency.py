"""Readers never see a half-published warehouse, and a second writer is turned away, not let in."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from warehouse_checks import lock_is_free, published_files

from pipelines import flow
from pipelines.cli import main
from warehouse.lock import writer_lock

pytestmark = pytest.mark.filterwarnings("ignore")

HERE = Path(__file__).parent
GENAI = HERE.parent / "fixtures" / "token_prices" / "genai_prices_v2.json"
READERS = 3
MAX_QUERIES = 2000
MAX_SECONDS = 90


def payloads(tmp_path: Path) -> list[Path]:
    """The genai-prices fixture and a next-day version of it with one price cut: each publish differs."""
    original = json.loads(GENAI.read_text())
    cut = json.loads(GENAI.read_text())
    models = {m["id"]: m for m in cut[0]["models"]}
    models["gpt-4o-mini"]["prices"]["input_mtok"] = 0.1
    paths = [tmp_path / "day1.json", tmp_path / "day2.json"]
    paths[0].write_text(json.dumps(original))
    paths[1].write_text(json.dumps(cut))
    return paths


def test_readers_see_one_whole_snapshot_while_runs_publish(home, spawn, tmp_path):
    stop = tmp_path / "stop"
    readers = [
        spawn(
            [sys.executable, str(HERE / "reader.py"), str(home / "published" / "costcurve.duckdb"), str(stop),
             str(MAX_QUERIES), str(MAX_SECONDS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(READERS)
    ]  # fmt: skip
    time.sleep(0.5)  # the readers query the baseline snapshot before the first publish
    # Each ingest is a run that publishes a new snapshot, through the same publish step as a refresh.
    for observed, path in zip(("2026-12-01", "2026-12-02"), payloads(tmp_path), strict=True):
        argv = ["ingest", "token_prices", str(path), "--source", "genai_prices", "--observed-at", observed]
        assert main(argv) == 0
    time.sleep(0.75)  # and query the last one before they stop
    stop.touch()
    reports = []
    for reader in readers:
        out, err = reader.communicate(timeout=60)
        assert reader.returncode == 0, err.decode()
        reports.append(json.loads(out))
    for report in reports:
        assert report["errors"] == []
        assert report["inconsistent"] == []
        assert report["queries"] >= 5
    # Between them the readers saw the warehouse change under them, snapshot after snapshot.
    seen = set().union(*(r["runs"] for r in reports))
    assert len(seen) == 3, seen  # the baseline's refresh and both ingests


def test_a_second_writer_while_a_refresh_runs_is_refused_at_once(home, spawn, tmp_path, capsys):
    marker = tmp_path / "running"
    refresh = spawn(
        # Paused at its first connection to the warehouse: it holds the writer lock from there on.
        [sys.executable, str(HERE / "paused.py"), "warehouse.db", "connect", "before", str(marker), "--",
         "refresh", "--offline"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert refresh.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    files_before = published_files(home)
    attempts = {
        "refresh": ["refresh", "--offline"],
        "ingest": ["ingest", "token_prices", str(GENAI), "--source", "genai_prices"],
        "rebuild": ["rebuild"],
    }
    for name, argv in attempts.items():
        capsys.readouterr()
        started = time.monotonic()
        assert main(argv) == 2, name
        assert time.monotonic() - started < 2, f"{name} took long to give up"
        message = " ".join(capsys.readouterr().err.split())
        assert "already running" in message and f"pid {refresh.pid}" in message, message
    assert published_files(home) == files_before
    os.kill(refresh.pid, signal.SIGKILL)
    refresh.wait()
    assert lock_is_free(home)


def test_a_dagster_run_holds_the_writer_lock_from_setup_to_teardown(costcurve_home, spawn):
    """The Warehouse resource takes the writer lock and opens the run when the run starts and keeps
    both until it ends, so no other writer gets in between two assets. Inside it the same process
    takes the lock again (the CLI's refresh around its assets), while another process is refused,
    `costcurve refresh` before it even imports Dagster. Teardown closes the run it opened."""
    import dagster as dg

    from pipelines.resources import Warehouse

    refresh = (
        "import sys; from pipelines.cli import main; code = main(['refresh', '--offline']); "
        "print('dagster' in sys.modules); sys.exit(code)"
    )
    with Warehouse().yield_for_execution(dg.build_init_resource_context()) as warehouse:
        with writer_lock("refresh"):
            runs = warehouse.con.execute("select run_id, status from meta.runs").fetchall()
            assert runs == [(warehouse.run_id, "running")]
        assert not lock_is_free(costcurve_home)  # leaving the inner lock kept the outer one
        second = spawn([sys.executable, "-c", refresh], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = second.communicate(timeout=60)
        run_id = warehouse.run_id
    assert second.returncode == 2, err.decode()
    message = " ".join(err.decode().split())
    assert "another dagster run is already running" in message and f"(pid {os.getpid()}," in message, message
    assert out.decode().strip() == "False"  # refused before importing Dagster
    assert lock_is_free(costcurve_home)
    with duckdb.connect(str(costcurve_home / "costcurve.duckdb"), read_only=True) as con:
        status, summary = con.execute(
            "select status, summary from meta.runs where run_id = ?", [run_id]
        ).fetchone()
    assert (status, summary) == ("success", f"all sources landed; {flow.NOT_PUBLISHED}")
