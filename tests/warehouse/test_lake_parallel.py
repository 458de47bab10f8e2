"""One refresh with its steps in processes of their own: on a DuckLake with a PostgreSQL catalog the
daily refresh runs on Dagster's multiprocess executor, so the datasets' staging and history steps run
at once, each with its own connection, taking turns only at what they write. The history it lands is
the history of the same refresh run one step after another (on a local file)."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.cli import main
from pipelines.resources import instance
from warehouse import readers

pytestmark = pytest.mark.filterwarnings("ignore")

DATASETS = ("token_prices", "gpu_rates", "accelerators", "eval_results", "throughput_measurements")


def history(con) -> dict[str, list[tuple]]:
    """Every version of every dataset, without the instants of the runs that wrote them."""
    return {
        d: con.execute(
            f"select * exclude (first_seen_at, last_seen_at, recorded_at) from history.{d} order by all"
        ).fetchall()
        for d in DATASETS
    }


def test_a_parallel_refresh_on_a_postgres_lake_lands_what_a_serial_one_does(
    postgres, tmp_path, monkeypatch, published_db, capfd
):
    monkeypatch.setenv("COSTCURVE_HOME", str(tmp_path))
    monkeypatch.setenv("COSTCURVE_WAREHOUSE", f"ducklake:postgres:{postgres.dsn(postgres.create_database())}")
    monkeypatch.setenv("COSTCURVE_LAKE_DATA", str(tmp_path / "lake-data"))

    assert main(["refresh", "--offline"]) in (0, 1), capfd.readouterr().err
    err = capfd.readouterr().err
    assert "✓ publish" in err  # progress lines come from the step processes too

    con = readers.published()
    try:
        (status,) = con.execute("select status from meta.runs").fetchone()
        assert status in ("success", "partial")
        assert con.execute("select count(*) from meta.run_failures").fetchone() == (0,)
        parallel = history(con)
    finally:
        con.close()
    with duckdb.connect(str(published_db), read_only=True) as serial:
        assert parallel == history(serial)
    assert len(parallel["token_prices"]) > 5000 and len(parallel["gpu_rates"]) > 3000

    # Each step ran in a process of its own, and staging steps of different datasets overlapped.
    with instance() as dagster:
        (run,) = dagster.get_runs()
        events = dagster.all_logs(run.run_id)
    pids = {
        e.dagster_event.pid
        for e in events
        if e.is_dagster_event and e.dagster_event.event_type_value == "STEP_START"
    }
    assert len(pids) > 10
    spans: dict[str, list[float]] = {}
    for e in events:
        if e.is_dagster_event and e.step_key and e.step_key.startswith("staging__"):
            kind = e.dagster_event.event_type_value
            if kind in ("STEP_START", "STEP_SUCCESS"):
                spans.setdefault(e.step_key, []).append(e.timestamp)
    starts = sorted((s[0], s[-1]) for s in spans.values())
    assert any(b_start < a_end for (_, a_end), (b_start, _) in zip(starts, starts[1:], strict=False))
