"""Every test gets its own warehouse: COSTCURVE_HOME points at a fresh temporary directory."""

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def costcurve_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "costcurve_home"
    monkeypatch.setenv("COSTCURVE_HOME", str(home))
    return home


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def published_db(tmp_path_factory):
    """One offline refresh shared by the tests that only read its snapshot (it costs seconds).
    Returns the published snapshot's path."""
    from pipelines.cli import main

    home = tmp_path_factory.mktemp("refreshed")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COSTCURVE_HOME", str(home))
        assert main(["refresh", "--offline"]) == 0
    return home / "published" / "costcurve.duckdb"


@pytest.fixture
def published_home(published_db, costcurve_home) -> Path:
    """This test's home with a copy of the shared refresh's published snapshot, for the CLI: it opens
    the file with its sandboxed configuration, and DuckDB opens a file once per process with one
    configuration while other tests hold the shared file open plainly. Returns the copy's path."""
    copy = costcurve_home / "published" / "costcurve.duckdb"
    copy.parent.mkdir(parents=True)
    shutil.copy(published_db, copy)
    return copy
