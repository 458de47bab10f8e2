"""The writing commands on a DuckLake: `costcurve refresh`, `ingest` and `rebuild` into a lake (a local
``.ducklake`` catalog, and a PostgreSQL catalog the fixtures start), read back by `status`, `sql` and
`changes`, and by time travel. One offline refresh (minutes) is shared by the tests of the file catalog;
the PostgreSQL catalog gets an ingest, which creates and publishes the whole warehouse just the same."""

from __future__ import annotations

import json

import pytest

from pipelines.cli import main
from warehouse import readers

pytestmark = pytest.mark.filterwarnings("ignore")

RUNPOD = ["gpu_rates", "runpod_graphql_gputypes.json", "runpod"]
GENAI = ["token_prices", "genai_prices_v2.json", "genai_prices"]


def point_at(monkeypatch, home, catalog: str) -> None:
    monkeypatch.setenv("COSTCURVE_HOME", str(home))
    monkeypatch.setenv("COSTCURVE_WAREHOUSE", f"ducklake:{catalog}")
    monkeypatch.setenv("COSTCURVE_LAKE_DATA", str(home / "lake-data"))


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    home = tmp_path_factory.mktemp("lake")
    with pytest.MonkeyPatch.context() as env:
        point_at(env, home, str(home / "catalog.ducklake"))
        code = main(["refresh", "--offline"])
    return home, code


@pytest.fixture
def lake_home(refreshed, monkeypatch):
    home, _ = refreshed
    point_at(monkeypatch, home, str(home / "catalog.ducklake"))
    return home


def query(sql: str, **as_of) -> list[tuple]:
    con = readers.published(**as_of)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def ingest(fixtures, dataset: str, name: str, source: str, day: str) -> int:
    path = fixtures / dataset / name
    return main(["ingest", dataset, str(path), "--source", source, "--observed-at", day])


HISTORY = """select source, provider, model, tier, valid_from, valid_to, input_usd_per_mtok, output_usd_per_mtok
             from history.token_prices order by all"""


def test_a_refresh_publishes_a_whole_run_that_status_sql_and_changes_read(refreshed, lake_home, capsys):
    _, code = refreshed
    runs = query("select run_id, kind, status, snapshot_id from meta.runs")
    assert len(runs) == 1
    run_id, kind, status, snapshot = runs[0]
    # The embedded aider file has records its rules reject, which makes the run partial on any storage;
    # the exit code says so (1), and nothing failed.
    assert (kind, code) == ("refresh", 0 if status == "success" else 1) and status in ("success", "partial")
    assert query("select count(*) from meta.run_failures") == [(0,)]
    assert query("select count(*) from history.token_prices")[0][0] > 5000
    assert query("select count(*) from history.gpu_rates")[0][0] > 3000
    # The run's snapshot is the one readers attach, and the manifest names it.
    assert snapshot is not None
    manifest = json.loads((lake_home / "published" / "manifest.json").read_text())
    assert manifest["run"]["run_id"] == run_id and manifest["run"]["snapshot_id"] == snapshot
    capsys.readouterr()
    assert main(["status"]) == 0
    assert "token_prices" in capsys.readouterr().out
    assert main(["sql", "select count(*) as n from marts.token_prices_current", "--format", "csv"]) == 0
    assert int(capsys.readouterr().out.split()[1]) > 1000
    assert main(["changes", "--since", "2024-01-01", "--format", "csv"]) == 0
    assert len(capsys.readouterr().out.splitlines()) > 10


def test_an_ingest_then_a_rebuild_on_the_refreshed_lake(lake_home, fixtures, capsys):
    before = query("select max(snapshot_id) from meta.runs")[0][0]
    assert ingest(fixtures, *RUNPOD, "2026-12-01") == 0, capsys.readouterr().err
    ingested = query("select run_id, status, snapshot_id from meta.runs where kind = 'ingest'")
    assert len(ingested) == 1 and ingested[0][1] == "success" and ingested[0][2] > before
    runpod = "select count(*) from history.gpu_rates where source = 'runpod' and valid_to is null"
    assert query(runpod) == [(11,)]
    versions = query(HISTORY)

    assert main(["rebuild"]) == 0, capsys.readouterr().err
    # Raw is the truth: the replay reaches the same versions, and the runs it replayed are all kept.
    assert query(HISTORY) == versions
    assert query(runpod) == [(11,)]
    kinds = query("select kind, count(*) from meta.runs group by kind order by kind")
    assert kinds == [("ingest", 1), ("rebuild", 1), ("refresh", 1)]
    # The lake's snapshots keep what was published before the rebuild.
    assert query(runpod, run_id=ingested[0][0]) == [(11,)]


def test_ingest_status_sql_and_rebuild_on_a_postgres_catalog(
    postgres, tmp_path, monkeypatch, fixtures, capsys
):
    point_at(monkeypatch, tmp_path, f"postgres:{postgres.dsn(postgres.create_database())}")
    assert ingest(fixtures, *GENAI, "2026-11-01") == 0, capsys.readouterr().err
    assert ingest(fixtures, *RUNPOD, "2026-12-01") == 0, capsys.readouterr().err
    runs = query("select run_id, status, snapshot_id from meta.runs order by started_at")
    assert [r[1] for r in runs] == ["success", "success"] and runs[0][2] < runs[1][2]
    versions = query(HISTORY)
    assert len(versions) > 10
    capsys.readouterr()
    # The payloads were observed weeks ago: status reads them off the lake and flags them stale (exit 1).
    assert main(["status"]) == 1
    shown = capsys.readouterr().out
    assert "runpod" in shown and "genai_prices" in shown and "STALE" in shown
    sql = "select count(*) as n from history.gpu_rates where source = 'runpod'"
    assert main(["sql", sql, "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", "11"]
    # Before the gpu_rates ingest the lake had none of them.
    assert main(["sql", sql, "--format", "csv", "--as-of-run", runs[0][0]]) == 0
    assert capsys.readouterr().out.split() == ["n", "0"]
    assert main(["rebuild"]) == 0, capsys.readouterr().err
    assert query(HISTORY) == versions
