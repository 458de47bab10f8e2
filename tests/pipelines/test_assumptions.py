import tomllib

import pytest

from core.assumptions import Assumptions
from pipelines import assumptions
from warehouse import assumptions as stored
from warehouse import db


def test_the_config_file_states_exactly_the_documented_defaults():
    values = tomllib.loads(assumptions.DEFAULT_FILE.read_text())
    assert Assumptions.from_mapping(values) == Assumptions()


def test_an_override_file_changes_the_set_and_its_id(tmp_path, monkeypatch):
    custom = tmp_path / "mine.toml"
    custom.write_text("pue = 1.5\nusd_per_kwh = 0.2\n")
    monkeypatch.setenv("COSTCURVE_ASSUMPTIONS", str(custom))
    loaded = assumptions.load()
    assert (loaded.pue, loaded.usd_per_kwh, loaded.batch_size) == (1.5, 0.2, 32)
    assert loaded.assumption_set_id() != Assumptions().assumption_set_id()


@pytest.mark.parametrize(
    "text, message",
    [("pue = 0.5", "pue"), ("nope = 1", "unknown assumption key"), ("pue = ", "not valid TOML")],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path, text, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        assumptions.load(bad)
    assert str(bad) in str(info.value)


def test_written_to_meta_tables():
    with db.working() as con:
        set_id = stored.write(con, Assumptions())
        row = con.execute("select assumption_set_id, pue, utilization_grid from meta.assumptions").fetchone()
        assert row == (set_id, 1.3, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
        classes = dict(con.execute("select size_class, params_b from meta.size_classes").fetchall())
        assert classes == {
            "8b": 8.0,
            "70b": 70.0,
            "405b": 405.0,
            "deepseek-v3-671b": 671.0,
            "qwen3-235b-a22b": 235.0,
            "gpt-oss-120b": 116.8,
        }
        assert dict(con.execute("select * from meta.dtypes").fetchall()) == {
            "bf16": 2.0,
            "fp8": 1.0,
            "int4": 0.5,
        }
