"""Sources honest in Dagster: a live refresh with the network down (every request fails, as from the UI
on a machine offline) shows each failed source as a failed ERROR check on its own row, each source that
fell back to its embedded default as a WARN, and the run is not a clean success anywhere: not in
Dagster, not in meta.runs, not in the CLI's exit codes."""

import json

import dagster as dg
import duckdb
import pytest
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from pipelines.cli import main
from sources.http import FetchError, Http

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def network_down(monkeypatch):
    def unreachable(self, method, url, **kwargs):
        raise FetchError(f"{method} {url}: network unreachable")

    monkeypatch.setattr(Http, "_request", unreachable)


def evaluation(instance, asset: str, check: str):
    (record,) = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey(["staging", asset] if asset != "publish" else ["publish"]), check),
        limit=1,
    )
    return record.status, record.event.asset_check_evaluation


def test_a_failing_source_fails_its_check_and_the_run_is_not_clean(costcurve_home, network_down, capsys):
    assert main(["refresh"]) == 1
    err = capsys.readouterr().err
    assert "refresh partial" in err and "failed sources: epoch (accelerators), azure (gpu_rates)" in err

    with dg.DagsterInstance.from_config(str(costcurve_home / "dagster")) as instance:
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.FAILURE

        # Vast.ai has no embedded default: its failure is an error on its own row.
        status, vast = evaluation(instance, "gpu_rates", "source_vastai")
        assert status == AssetCheckExecutionRecordStatus.FAILED
        assert vast.severity == dg.AssetCheckSeverity.ERROR
        assert vast.description.startswith("vastai failed: vastai: POST https://console.vast.ai/")
        assert vast.description.endswith("network unreachable (last success never, STALE)")
        # LiteLLM fell back to the market snapshot: a warning, like genai-prices below.
        status, litellm = evaluation(instance, "token_prices", "source_litellm")
        assert status == AssetCheckExecutionRecordStatus.FAILED
        assert litellm.severity == dg.AssetCheckSeverity.WARN
        assert litellm.description.startswith("litellm fell back to its embedded default: live fetch failed")

        # genai-prices stood in with its embedded default: data, but not today's, so a warning.
        status, genai = evaluation(instance, "token_prices", "source_genai_prices")
        assert status == AssetCheckExecutionRecordStatus.FAILED
        assert genai.severity == dg.AssetCheckSeverity.WARN
        assert genai.description.startswith(
            "genai_prices fell back to its embedded default: live fetch failed"
        )
        assert genai.metadata["mode"].value == "embedded"

        # A catalog with no live feed is what it always is: passed.
        status, curated = evaluation(instance, "token_prices", "source_curated")
        assert status == AssetCheckExecutionRecordStatus.SUCCEEDED and curated.passed

        # What landed was published, and the run failed at the end with the summary.
        assert instance.get_latest_materialization_event(dg.AssetKey(["publish"])).run_id == run.run_id
        status, run_status = evaluation(instance, "publish", "run_status")
        assert status == AssetCheckExecutionRecordStatus.FAILED
        assert run_status.description.startswith("partial: failed sources: epoch (accelerators), ")

    with duckdb.connect(str(costcurve_home / "costcurve.duckdb"), read_only=True) as con:
        assert con.execute("select status from meta.runs").fetchall() == [("partial",)]
        failed = con.execute(
            "select source from meta.source_runs where status = 'failed' order by source"
        ).fetchall()
    # The sources with an embedded default (LiteLLM, OpenRouter, SkyPilot, genai-prices) fell back.
    assert failed == [(s,) for s in ("azure", "epoch", "runpod", "vastai")]

    assert main(["status", "--format", "json"]) == 1
    listed = json.loads(capsys.readouterr().out)
    assert listed["exit_code"] == 1 and listed["last_run"]["status"] == "partial"
    stale = {s["source"] for s in listed["sources"] if s["stale"]}
    assert stale == {"azure", "epoch", "runpod", "vastai"}  # a fallback is data, shown by its mode
