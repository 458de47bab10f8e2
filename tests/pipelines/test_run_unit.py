"""A Dagster run is one unit: the Warehouse resource holds the writer lock and the run from setup to
teardown, so any selection of assets either completes consistently or changes nothing, and the
published files always agree with each other."""

import json
import shutil

import duckdb
import pytest

from pipelines import validation
from pipelines.cli import main
from warehouse import db

pytestmark = pytest.mark.filterwarnings("ignore")

EVALS = ["staging", "eval_results"]


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    home = tmp_path_factory.mktemp("refreshed")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COSTCURVE_HOME", str(home))
        assert main(["refresh", "--offline"]) == 0
    return home


@pytest.fixture
def home(refreshed, costcurve_home):
    shutil.copytree(refreshed, costcurve_home, symlinks=True)
    return costcurve_home


def materialize(*keys: list[str], checks: bool = True):
    import dagster as dg

    from pipelines.assets import ASSETS, CHECKS
    from pipelines.resources import RefreshSettings, Warehouse

    selection = dg.AssetSelection.assets(*(dg.AssetKey(k) for k in keys))
    return dg.materialize(
        [*ASSETS, *CHECKS],
        selection=selection if checks else selection.without_checks(),
        instance=dg.DagsterInstance.ephemeral(),
        resources={"warehouse": Warehouse(), "settings": RefreshSettings(offline=True)},
        raise_on_error=False,
    )


def working(sql: str, params=()):
    with db.working() as con:
        return con.execute(sql, list(params)).fetchall()


def history() -> dict[str, list[tuple]]:
    with db.working() as con:
        return {
            d: con.execute(f"select * exclude (last_seen_at) from history.{d} order by all").fetchall()
            for d in ("token_prices", "gpu_rates", "accelerators", "eval_results")
        }


def run_of(run_id: str) -> tuple[str, str]:
    return working("select status, summary from meta.runs where run_id = ?", [run_id])[0]


def published_run(home) -> tuple[str, str]:
    """The run the manifest names, and the latest run in the snapshot beside it."""
    manifest = json.loads((home / "published" / "manifest.json").read_text())
    with duckdb.connect(str(home / "published" / "costcurve.duckdb"), read_only=True) as con:
        (latest,) = con.execute("select run_id from meta.runs order by started_at desc limit 1").fetchone()
    return manifest["run"]["run_id"], latest


def test_publish_alone_publishes_a_consistent_generation(home):
    before, generation = history(), (home / "published").resolve()
    result = materialize(["publish"])
    assert result.success
    assert (home / "published").resolve() != generation
    assert published_run(home) == (result.run_id, result.run_id)
    assert run_of(result.run_id) == ("success", "all sources landed")
    assert history() == before
    # The Data Docs of the last validation are carried on, not dropped.
    assert (home / "published" / "data_docs" / "index.html").exists()


def test_history_without_checks_refuses_a_blocked_batch_and_a_rerun_recovers(home, monkeypatch):
    before, published = history(), published_run(home)
    with monkeypatch.context() as patch:
        patch.setattr(validation, "MAX_REJECTED_SHARE", -1.0)  # every batch is judged unusable
        staged = materialize(EVALS, checks=False)
        assert staged.success  # staging stores the batch and its verdict; it never merges
        assert working(
            "select success from meta.validations where run_id = ? and dataset = 'eval_results'",
            [staged.run_id],
        ) == [(False,)]
        merged = materialize(["history", "eval_results"], checks=False)
        assert not merged.success
        status, summary = run_of(merged.run_id)
        assert status == "failed"
        assert summary.startswith(
            "failed merge eval_results: BlockedBatch: eval_results: validation blocked the batch"
        )
        assert history() == before and published_run(home) == published
    # The next run, with a usable batch, staged and merged: history as it was, nothing lost.
    rerun = materialize(EVALS, ["history", "eval_results"])
    assert rerun.success
    assert history() == before
    assert run_of(rerun.run_id)[0] == "success"


def test_the_blocking_check_reads_the_verdict_and_stops_the_merge(home, monkeypatch):
    before = history()
    monkeypatch.setattr(validation, "MAX_REJECTED_SHARE", -1.0)
    result = materialize(EVALS, ["history", "eval_results"])
    assert not result.success
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "gx_suite"]
    assert not evaluation.passed and "exceeds" in evaluation.description
    rows = working("select rows from meta.validations where run_id = ?", [result.run_id])[0][0]
    assert evaluation.metadata["rows"].value == rows > 0
    assert evaluation.metadata["rejected_share"].value == 0.0
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"staging/eval_results"}
    assert history() == before
    status, summary = run_of(result.run_id)
    assert status == "failed" and summary.startswith("validation blocked eval_results: ")
