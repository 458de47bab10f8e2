"""Pay for what you use: `ingest` and `status` never import Dagster, great-expectations makes one
context and one suite per dataset per process, and a second ingest rebuilds only the models
downstream of its dataset, saying so. One child process, so sys.modules is this run's alone."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
from pipelines import validation
from pipelines.cli import main

fixtures = sys.argv[1]
codes = [
    main(["ingest", "token_prices", fixtures + "/token_prices/litellm_prices.json", "--source", "litellm",
          "--observed-at", "2026-06-01"]),
    main(["ingest", "gpu_rates", fixtures + "/gpu_rates/skypilot_v8_lambda_vms.csv", "--source", "skypilot",
          "--observed-at", "2026-06-01"]),
    main(["ingest", "token_prices", fixtures + "/token_prices/litellm_prices.json", "--source", "litellm",
          "--observed-at", "2026-06-02"]),
    main(["status", "--format", "json"]),
]
print(json.dumps({
    "codes": codes,
    "dagster": sorted(m for m in sys.modules if m == "dagster" or m.startswith("dagster.")),
    "gx": "great_expectations" in sys.modules,
    "contexts": validation._context.cache_info().misses,
    "suites": validation._definition.cache_info().misses,
}))
"""


def test_ingest_and_status_skip_dagster_and_rebuild_only_what_changed(costcurve_home, fixtures):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(fixtures)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["codes"][:3] == [0, 0, 0]
    assert found["dagster"] == []
    # Validation ran three times on two datasets: one GX context, one suite per dataset.
    assert (found["gx"], found["contexts"], found["suites"]) == (True, 1, 2)
    said = [line.strip() for line in done.stderr.splitlines() if line.strip().startswith("models:")]
    assert len(said) == 3
    assert said[0].startswith("models: rebuilt all ")
    total = int(said[0].split()[3])
    # The GPU ingest changed gpu_rates only: the marts that read token prices alone are left as built.
    assert said[1].startswith("models: rebuilt ") and f" of {total} models whose inputs changed" in said[1]
    assert "marts.gpu_rates_current" in said[1] and "marts.token_prices_current" not in said[1]
    assert said[1].endswith("unchanged since their last build")
    assert "marts.token_prices_current" in said[2] and "marts.gpu_rates_current" not in said[2]
