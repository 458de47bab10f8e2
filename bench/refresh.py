"""1. `costcurve refresh --offline` into a fresh COSTCURVE_HOME vs importing the stack."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench.common import BIN, Result, Sizes, check, run_child, say

FLOOR = "import dagster, duckdb, polars, great_expectations"
# GX would otherwise phone home on import in both runs alike; the refresh sets the same default.
ENV = {"GX_ANALYTICS_ENABLED": "false"}


def run(sizes: Sizes, work: Path, profile: bool = False) -> tuple[Result, dict[str, float]]:
    floors, refreshes, peaks = [], [], []
    for i in range(sizes.repeats):
        floor = check(run_child([sys.executable, "-c", FLOOR], env=ENV), "import floor", None)
        home = work / f"refresh-{i}"
        log = work / f"refresh-{i}.log"
        refresh = check(
            run_child(
                [str(BIN / "costcurve"), "refresh", "--offline"],
                env={**ENV, "COSTCURVE_HOME": str(home)},
                log=log,
            ),
            "costcurve refresh --offline",
            log,
        )
        floors.append(floor.wall_s)
        refreshes.append(refresh.wall_s)
        peaks.append(refresh.peak_rss_mb)
        say(f"  run {i + 1}: import floor {floor.wall_s:.2f} s, refresh {refresh.wall_s:.2f} s")
    figure, reference = min(refreshes), min(floors)
    result = Result(
        "1 refresh --offline (all assets)",
        figure,
        reference,
        "<= 2x",
        figure <= 2 * reference,
        "refresh wall (min of runs)",
        "import dagster+duckdb+polars+GX",
        [f"peak RSS {max(peaks):.0f} MB", f"runs: {', '.join(f'{r:.1f}' for r in refreshes)} s"],
    )
    if profile:
        _profile(work)
    return result, {"refresh_peak_rss_mb": max(peaks)}


# The refresh as `costcurve refresh --offline` runs it, reporting the imports, each Dagster step's own
# duration (from its STEP_SUCCESS event) and the job's total, so the rest is Dagster's own overhead.
STEPS = """
import json, time
start = time.perf_counter()
import dagster as dg
from pipelines.definitions import defs
from pipelines.resources import RefreshSettings, Warehouse
imported = time.perf_counter()
result = defs.resolve_job_def("daily_refresh").execute_in_process(
    instance=dg.DagsterInstance.ephemeral(),
    resources={"warehouse": Warehouse(), "settings": RefreshSettings(offline=True)},
    run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
)
done = time.perf_counter()
steps = [
    (e.step_key, e.event_specific_data.duration_ms / 1000)
    for e in result.all_events
    if e.event_type_value == "STEP_SUCCESS"
]
print(json.dumps({"imports": imported - start, "job": done - imported, "steps": steps}))
"""


def _profile(work: Path) -> None:
    """Where one refresh goes: imports, each step, and Dagster's share between the steps."""
    import json

    home = Path(tempfile.mkdtemp(dir=work))
    log = work / "refresh-steps.log"
    check(
        run_child([sys.executable, "-c", STEPS], env={**ENV, "COSTCURVE_HOME": str(home)}, log=log),
        "steps",
        log,
    )
    found = json.loads(log.read_text().strip().splitlines()[-1])
    steps = sorted(found["steps"], key=lambda s: -s[1])
    in_steps = sum(d for _, d in steps)
    groups: dict[str, float] = {}
    for key, duration in steps:
        group = key.split("__")[0] if "__" in key else key
        groups[group] = groups.get(group, 0.0) + duration
    say(
        f"  one refresh in process: imports {found['imports']:.1f} s, job {found['job']:.1f} s "
        f"({len(steps)} steps {in_steps:.1f} s, Dagster between steps {found['job'] - in_steps:.1f} s)"
    )
    say(
        "  by step group: "
        + "; ".join(f"{g} {d:.1f} s" for g, d in sorted(groups.items(), key=lambda x: -x[1]))
    )
    say("  slowest steps: " + "; ".join(f"{k} {d:.2f} s" for k, d in steps[:8]))
