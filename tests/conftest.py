"""Every test gets its own warehouse: COSTCURVE_HOME points at a fresh temporary directory."""

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
