"""One offline refresh shared by the reliability tests; each test that writes works on its own copy.

The refresh runs as a subprocess started with the package's first test, and the tests that do not
need it run first: on two cores the fault matrix runs while the refresh computes.
"""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
COSTCURVE = Path(sys.executable).with_name("costcurve")
NEEDS_BASELINE = {"baseline", "home"}


def _needs_baseline(item) -> bool:
    return bool(NEEDS_BASELINE & set(item.fixturenames))


def pytest_collection_modifyitems(items):
    mine = [i for i, item in enumerate(items) if Path(item.path).parent == HERE]
    if mine:
        block = items[mine[0] : mine[-1] + 1]
        block.sort(key=_needs_baseline)  # stable: the order within each group stays
        items[mine[0] : mine[-1] + 1] = block


@pytest.fixture(scope="package", autouse=True)
def _refresh_in_background(request, tmp_path_factory):
    if not any(_needs_baseline(item) for item in request.session.items):
        yield None
        return
    home = tmp_path_factory.mktemp("baseline")
    log = home.with_suffix(".log")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(COSTCURVE), "refresh", "--offline"],
            env={**os.environ, "COSTCURVE_HOME": str(home)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    yield home, process, log
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="package")
def baseline(_refresh_in_background):
    """A COSTCURVE_HOME after one offline refresh: the warehouse state the crash, concurrency and
    security tests start from. Read-only: a test that writes takes its own copy, ``home``."""
    home, process, log = _refresh_in_background
    assert process.wait(timeout=600) == 0, log.read_text()[-3000:]
    return home


@pytest.fixture
def home(baseline, costcurve_home, monkeypatch):
    """This test's own copy of the baseline warehouse, as its COSTCURVE_HOME."""
    # symlinks=True: `published` is a link to the current generation, and stays one in the copy.
    shutil.copytree(baseline, costcurve_home, symlinks=True)
    monkeypatch.setenv("COSTCURVE_HOME", str(costcurve_home))
    return costcurve_home


@pytest.fixture
def spawn():
    """Start subprocesses that are killed (by their own pid) if the test ends first."""
    started = []

    def start(*args, **kwargs):
        process = subprocess.Popen(*args, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
