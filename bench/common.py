"""What every benchmark shares: sizes, the result row, timing, and child processes with their peak RSS."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Sizes:
    """The issue's sizes where they fit in ``make bench``'s ten minutes on two cores; scaled ones say so."""

    repeats: int = 2  # subprocess timings: the minimum of this many runs (other work on the box only adds)
    history_keys: int = 1_000_000  # keys ever seen; 10 versions each = 10M history rows
    history_versions: int = 10
    snapshot_providers: int = 100  # x snapshot_models = the daily snapshot's keys (100k)
    snapshot_models: int = 1_000
    merge_days: int = 2
    # The merge path replayed over one year is ~1 s a day at 100k keys: a month fits the budget.
    replay_days: int = 30
    year_days: int = 365
    # Parse + GX + merge of a 100k-key LiteLLM payload is ~7 s: three days of the real command.
    rebuild_days: int = 3
    # dbt snapshot pays a few seconds of project parsing per invocation: ten replayed days, not thirty.
    peer_replay_days: int = 10
    grid_offers: int = 4_444  # x 3 sizes x 3 dtypes x 10 utilizations x 10 volumes = 4.0M cells
    grid_scalar_sample: int = 1_000  # core.scalar costs 2-5 ms a cell: timed on a sample
    grid_python_sample: int = 400_000  # the plain-float loop: timed on a tenth
    quick: bool = False

    @property
    def snapshot_keys(self) -> int:
        return self.snapshot_providers * self.snapshot_models

    @property
    def history_rows(self) -> int:
        return self.history_keys * self.history_versions


QUICK = Sizes(
    repeats=1,
    history_keys=20_000,
    snapshot_providers=10,
    snapshot_models=200,
    merge_days=2,
    replay_days=5,
    year_days=365,
    rebuild_days=2,
    peer_replay_days=3,
    grid_offers=50,
    grid_scalar_sample=200,
    grid_python_sample=20_000,
    quick=True,
)


# `--small`: a tenth of the history and snapshots, for a two-core machine with other work on it.
SMALL = Sizes(history_keys=100_000, snapshot_providers=10, snapshot_models=1_000)


@dataclass
class Result:
    bench: str
    figure_s: float
    reference_s: float
    goal: str
    met: bool | None
    figure_label: str
    reference_label: str
    notes: list[str] = field(default_factory=list)
    faster: bool = False  # the goal is a speed-up: show reference / figure

    @property
    def ratio(self) -> float:
        return self.figure_s / self.reference_s if self.reference_s else float("inf")

    @property
    def ratio_text(self) -> str:
        if self.faster:
            return f"{self.reference_s / self.figure_s:.1f}x faster" if self.figure_s else "inf"
        return f"{self.ratio:.2f}x"


def median(values: list[float]) -> float:
    return statistics.median(values)


@dataclass(frozen=True)
class ChildRun:
    wall_s: float
    peak_rss_mb: float
    returncode: int


def run_child(argv: list[str], *, env: dict[str, str] | None = None, log: Path | None = None) -> ChildRun:
    """Run a command to completion: its wall time and its own peak RSS.

    The peak is the child's VmHWM, polled: ``ru_maxrss`` from wait4 would include the pages the child
    shared with this (large) process between fork and exec, since Linux carries that high-water mark
    across exec.
    """
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    peak_kb = 0
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT
        )
        while True:
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_kb = max(peak_kb, _hwm_kb(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log:
            out.close()
    return ChildRun(wall, peak_kb / 1024, proc.returncode)


def _hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:  # exited between wait4 and the read
        pass
    return 0


def check(run: ChildRun, what: str, log: Path | None) -> ChildRun:
    if run.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
        raise RuntimeError(f"{what} exited with {run.returncode}:\n{tail}")
    return run


def say(message: str) -> None:
    print(message, flush=True)
