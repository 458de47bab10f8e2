"""The whole graph end to end on the embedded default, through Dagster and through the CLI."""

import json
from datetime import date

import duckdb
import pytest

from pipelines.cli import main

pytestmark = pytest.mark.filterwarnings("ignore")


class Snapshot:
    """Opens the published DB per query: the CLI under test opens it with its own configuration,
    and DuckDB refuses two configurations of one file in one process."""

    def __init__(self, path):
        self.path = path

    def execute(self, sql):
        with duckdb.connect(str(self.path), read_only=True) as con:
            return _Rows(con.execute(sql).fetchall())


class _Rows(list):
    def fetchall(self):
        return list(self)

    def fetchone(self):
        return self[0] if self else None


@pytest.fixture
def published(published_home):
    """A copy of the shared offline refresh as this test's warehouse."""
    return Snapshot(published_home)


def test_definitions_load_with_the_daily_schedule():
    import dagster as dg

    from pipelines.definitions import defs

    job = defs.resolve_job_def("daily_refresh")
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"staging/token_prices", "history/token_prices", "marts/token_prices_current", "publish"} <= keys
    assert job.executor_def is dg.in_process_executor
    (schedule,) = list(defs.schedules)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "UTC")
    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    from sources.schemas import DATASETS
    from warehouse import models

    datasets = tuple(DATASETS)
    declared = {(f"{m.schema}/{m.name}", t.name) for m in models.discover() for t in m.tests}
    assert ("marts/token_prices_current", "grain") in declared
    from pipelines.registry import modules

    sources = {(f"staging/{d}", f"source_{m.NAME}") for d in datasets for m in modules(d)}
    assert checks == {(f"staging/{d}", "gx_suite") for d in datasets} | declared | sources | {
        ("publish", "run_status")
    }
    for dataset in datasets:
        policy = graph.get(dg.AssetKey(["staging", dataset])).freshness_policy
        assert policy.fail_window.to_timedelta().total_seconds() == 36 * 3600
    assert {s.name for s in defs.sensors} == {"record_failed_refresh"}


def test_materialize_whole_graph_runs_checks_and_publishes(costcurve_home):
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.resources import RefreshSettings, Warehouse
    from sources.schemas import DATASETS

    result = defs.resolve_job_def("daily_refresh").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        resources={"warehouse": Warehouse(), "settings": RefreshSettings(offline=True)},
    )
    assert result.success
    # Offline, a source with no embedded default warns on its own row (tests/pipelines/test_dagster_*.py);
    # every other check passes.
    evaluations = [
        e for e in result.get_asset_check_evaluations() if e.severity != dg.AssetCheckSeverity.WARN
    ]
    assert all(e.passed for e in evaluations)
    # Every dataset's suite ran, and every test a model declares.
    from warehouse import models

    declared = [(f"{m.schema}/{m.name}", t.name) for m in models.discover() for t in m.tests]
    assert sorted(
        (e.asset_key.to_user_string(), e.check_name)
        for e in evaluations
        if not e.check_name.startswith("source_")
    ) == sorted(
        [(f"staging/{d}", "gx_suite") for d in sorted(DATASETS)] + declared + [("publish", "run_status")]
    )
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"history/token_prices", "marts/token_prices_current", "publish"} <= materialized
    assert (costcurve_home / "published" / "costcurve.duckdb").exists()
    assert (costcurve_home / "published" / "parquet" / "token_prices_current.parquet").exists()
    assert (costcurve_home / "published" / "data_docs" / "index.html").exists()
    # What the Dagster UI shows of each asset: row counts, a preview, the sources' modes.
    by_key = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    mart = by_key["marts/token_prices_current"]
    assert mart["rows"].value > 2000
    assert mart["preview"].value.startswith("| source | provider | model |")
    assert by_key["history/token_prices"]["preview"].value.count("\n") == 6  # header, rule, five rows
    assert "| genai_prices | embedded | success |" in by_key["staging/token_prices"]["sources"].value


def test_history_holds_thousands_of_declared_prices_over_years(published):
    n, first, last, models = published.execute(
        "select count(*), min(valid_from), max(valid_from), count(distinct model) from history.token_prices"
    ).fetchone()
    assert n > 2000 and models > 1000
    assert first <= date(2025, 6, 10) and last >= date(2026, 1, 1)


def test_o3_as_of_before_and_after_the_june_2025_cut(published):
    def o3(day):
        return published.execute(
            f"""select input_usd_per_mtok::double, output_usd_per_mtok::double
                from token_prices_asof(date '{day}')
                where source = 'genai_prices' and provider = 'openai' and model = 'o3'
                  and tier = 'base' and service_tier = 'standard'"""
        ).fetchall()

    assert o3("2025-06-01") == [(10.0, 40.0)]
    assert o3("2025-06-11") == [(2.0, 8.0)]


def test_status_reports_source_mode_and_counts(published, capsys):
    assert main(["status", "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["last_run"]["status"] in ("success", "partial")
    genai = next(s for s in status["sources"] if s["source"] == "genai_prices")
    assert genai["mode"] == "embedded" and genai["status"] == "success" and genai["rows_accepted"] > 2000
    assert status["history_rows"]["token_prices"] > 2000


def test_sql_formats(published, capsys):
    assert main(["sql", "select count(*) as n from history.token_prices", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["n"] > 2000
    assert main(["sql", "select 1 as a, 'x' as b", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["a,b", "1,x"]


def test_sql_is_read_only(published, capsys):
    assert main(["sql", "drop table history.token_prices"]) == 2
    assert "read-only" in capsys.readouterr().err.replace("\n", " ")
    assert published.execute("select count(*) from history.token_prices").fetchone()[0] > 0


def test_second_refresh_adds_no_history(costcurve_home):
    assert main(["refresh", "--offline"]) == 0
    con = duckdb.connect(str(costcurve_home / "published" / "costcurve.duckdb"), read_only=True)
    before = con.execute("select count(*) from history.token_prices").fetchone()[0]
    con.close()
    assert main(["refresh", "--offline"]) == 0
    con = duckdb.connect(str(costcurve_home / "published" / "costcurve.duckdb"), read_only=True)
    assert con.execute("select count(*) from history.token_prices").fetchone()[0] == before
    runs = con.execute("select count(*) from meta.runs where status = 'success'").fetchone()[0]
    assert runs == 2


@pytest.mark.parametrize(
    "query",
    [
        "select * from read_csv('/etc/passwd')",
        "copy (select 1) to '{tmp}/out.csv'",
        "attach '{tmp}/other.duckdb' as other",
        "set enable_external_access = true",
        "insert into meta.runs select * from meta.runs",
    ],
)
def test_sql_refuses_writes_and_file_access(published, capsys, tmp_path, query):
    assert main(["sql", query.format(tmp=tmp_path)]) == 2
    assert "query failed" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_sql_reads_files_only_when_allowed(published, capsys, tmp_path):
    data = tmp_path / "mine.csv"
    data.write_text("a\n41\n")
    assert (
        main(["sql", f"select a + 1 as b from read_csv('{data}')", "--allow-files", "--format", "csv"]) == 0
    )
    assert capsys.readouterr().out.splitlines() == ["b", "42"]
