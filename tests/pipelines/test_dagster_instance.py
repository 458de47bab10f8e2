"""One Dagster instance: `costcurve refresh` runs on $COSTCURVE_HOME/dagster, the instance `make dev`
opens, so its run, materializations, column schemas, row counts and source checks are there to read
afterwards; the daily schedule is on; the dashboards' Parquet and manifest come typed and dated."""

import json

import dagster as dg
import duckdb
import pandas as pd
import polars as pl
import pytest
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from pipelines.resources import INSTANCE_YAML, dagster_home
from sources.schemas import DATASETS

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def home(published_db):
    """The home of the shared offline refresh through the CLI (read only here)."""
    return published_db.parent.parent


@pytest.fixture
def instance(home):
    """The instance as the UI opens it: a new object reading only what is on disk."""
    with dg.DagsterInstance.from_config(str(home / "dagster")) as opened:
        yield opened


def check_record(instance, asset: list[str], name: str):
    (record,) = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey(asset), name), limit=1
    )
    return record


def test_the_cli_refresh_is_a_run_of_the_persistent_instance(home, instance):
    assert (home / "dagster" / "dagster.yaml").read_text() == INSTANCE_YAML
    assert not instance.is_ephemeral
    (run,) = instance.get_runs()
    assert run.job_name == "daily_refresh" and run.status == dg.DagsterRunStatus.SUCCESS
    with duckdb.connect(str(home / "published" / "costcurve.duckdb"), read_only=True) as con:
        assert con.execute("select run_id, status from meta.runs").fetchall() == [(run.run_id, "success")]
    for key in (["staging", "token_prices"], ["history", "token_prices"], ["marts", "token_prices_current"]):
        event = instance.get_latest_materialization_event(dg.AssetKey(key))
        assert event is not None and event.run_id == run.run_id


def test_assets_carry_column_schema_and_row_count(home, instance):
    with duckdb.connect(str(home / "published" / "costcurve.duckdb"), read_only=True) as con:
        for key in (["history", "token_prices"], ["marts", "token_prices_current"]):
            table = ".".join(key)
            metadata = instance.get_latest_materialization_event(
                dg.AssetKey(key)
            ).asset_materialization.metadata
            assert (
                metadata["dagster/row_count"].value
                == con.execute(f"select count(*) from {table}").fetchone()[0]
            )
            columns = {c.name: c for c in metadata["dagster/column_schema"].value.columns}
            documented = con.execute(
                "select column_name, data_type, comment from duckdb_columns() "
                "where schema_name = ? and table_name = ?",
                key,
            ).fetchall()
            assert [(n, columns[n].type, columns[n].description) for n, _, _ in documented] == documented
            assert columns["input_usd_per_mtok"].description.startswith("USD per million input")
    # Staging has no comments of its own: its columns take their history table's.
    staging = instance.get_latest_materialization_event(
        dg.AssetKey(["staging", "token_prices"])
    ).asset_materialization.metadata
    columns = {c.name: c for c in staging["dagster/column_schema"].value.columns}
    (model,) = [c.doc for c in DATASETS["token_prices"].columns if c.name == "model"]
    assert columns["model"].description == model
    assert staging["dagster/row_count"].value == staging["rows"].value > 2000


def test_each_source_has_its_check_and_offline_skips_warn(instance):
    genai = check_record(instance, ["staging", "token_prices"], "source_genai_prices")
    assert genai.status == AssetCheckExecutionRecordStatus.SUCCEEDED
    assert genai.event.asset_check_evaluation.description.startswith("genai_prices embedded: ")
    # Offline, Vast.ai has no embedded default: no data from it, said on its own row as a warning.
    vast = check_record(instance, ["staging", "gpu_rates"], "source_vastai")
    evaluation = vast.event.asset_check_evaluation
    assert vast.status == AssetCheckExecutionRecordStatus.FAILED
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.description == (
        "vastai skipped, no data this run: offline and no embedded default (last success never, STALE)"
    )
    run_status = check_record(instance, ["publish"], "run_status").event.asset_check_evaluation
    assert run_status.passed and run_status.description == "success: all sources landed"


def test_every_registered_source_is_a_check_of_its_dataset():
    from pipelines.definitions import defs
    from pipelines.registry import modules

    graph = defs.resolve_asset_graph()
    for dataset in DATASETS:
        names = {k.name for k in graph.asset_check_keys if k.asset_key == dg.AssetKey(["staging", dataset])}
        assert names == {"gx_suite"} | {f"source_{m.NAME}" for m in modules(dataset)}
    assert dg.AssetCheckKey(dg.AssetKey(["publish"]), "run_status") in graph.asset_check_keys


def test_the_daily_schedule_is_on_by_default_and_offline_is_a_setting(monkeypatch):
    from pipelines.definitions import defs
    from pipelines.resources import RefreshSettings

    (schedule,) = defs.schedules
    assert schedule.name == "daily_refresh_schedule"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    monkeypatch.setenv("COSTCURVE_OFFLINE", "1")
    assert RefreshSettings().offline and not RefreshSettings(offline=False).offline
    monkeypatch.delenv("COSTCURVE_OFFLINE")
    assert not RefreshSettings().offline


def test_dagster_home_is_made_once_and_keeps_an_edited_config(costcurve_home):
    path = dagster_home()
    assert path == costcurve_home / "dagster"
    (path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    assert dagster_home() == path
    assert (path / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


def test_parquet_prices_load_as_float64_and_history_is_exported(home):
    parquet = home / "published" / "parquet"
    current = pd.read_parquet(parquet / "token_prices_current.parquet")
    assert current["input_usd_per_mtok"].dtype == "float64"
    history = pl.read_parquet(parquet / "history" / "token_prices.parquet")
    assert history.schema["output_usd_per_mtok"] == pl.Float64
    with duckdb.connect(str(home / "published" / "costcurve.duckdb"), read_only=True) as con:
        # The snapshot keeps the exact decimals; the export carries the same values as doubles.
        assert con.execute(
            "select typeof(input_usd_per_mtok) from history.token_prices limit 1"
        ).fetchone() == ("DECIMAL(18,9)",)
        exact = con.execute(
            "select sum(output_usd_per_mtok)::double, count(*) from history.token_prices"
        ).fetchone()
    assert history.height == exact[1] and history["output_usd_per_mtok"].sum() == pytest.approx(exact[0])


def test_manifest_of_a_first_refresh(home):
    doc = json.loads((home / "published" / "manifest.json").read_text())
    assert doc["format_version"] == 2 and doc["previous_run_id"] is None
    tables = {t["name"]: t for t in doc["tables"]}
    assert tables["history.token_prices"]["parquet"] == "parquet/history/token_prices.parquet"
    assert all(t["changed"] and t["last_changed_at"] == doc["refreshed_at"] for t in doc["tables"])
    # genai-prices' embedded package declares its prices' dates: the newest that took effect.
    with duckdb.connect(str(home / "published" / "costcurve.duckdb"), read_only=True) as con:
        (declared,) = con.execute(
            "select max(valid_from) from history.token_prices "
            "where valid_from <= current_date and valid_from < first_seen_at::date"
        ).fetchone()
    assert doc["datasets"]["token_prices"]["data_as_of"] == declared.isoformat()
    # Read in one go from dated sources: every change arrived with its old price, none was caught.
    assert doc["price_changes"]["detected"] == 0 and doc["price_changes"]["loaded_with_history"] > 100
