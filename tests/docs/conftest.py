import pytest

from pipelines.cli import main


@pytest.fixture(scope="package")
def published_db(tmp_path_factory):
    """One offline refresh shared by this directory's tests (it costs seconds); they only read it.
    Returns the published snapshot's path."""
    home = tmp_path_factory.mktemp("refreshed")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COSTCURVE_HOME", str(home))
        assert main(["refresh", "--offline"]) == 0
    return home / "published" / "costcurve.duckdb"
