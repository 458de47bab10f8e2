"""docs/data_dictionary.md is what a fresh offline refresh generates, and nothing in it is undocumented."""

from pathlib import Path

import duckdb
import pytest

from pipelines import dictionary

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "data_dictionary.md"


@pytest.fixture(scope="module")
def con(published_db):
    with duckdb.connect(str(published_db), read_only=True) as con:
        yield con


def test_committed_dictionary_matches_a_fresh_refresh(con):
    assert COMMITTED.read_text() == dictionary.render(con), (
        "docs/data_dictionary.md is stale: run `costcurve refresh --offline` then `costcurve docs` and commit it"
    )


def test_every_table_and_column_has_a_comment(con):
    tables = dictionary.tables(con)
    assert {s for s, _, _ in tables} == {
        "history",
        "seeds",
        "intermediate",
        "marts",
        "meta",
        "quarantine",
        "superseded",
    }
    assert [f"{s}.{t}" for s, t, comment in tables if not comment] == []
    assert [f"{s}.{t}.{c}" for s, t, c, _, comment in dictionary.columns(con) if not comment] == []


def test_dictionary_lists_each_column_with_type_and_comment(con):
    text = dictionary.render(con)
    assert "### marts.price_change_events" in text
    assert "| `pct_change` | DOUBLE | (new_value - old_value) / old_value x 100;" in text
    assert "| `valid_to` | DATE | Day the values stop applying (exclusive); null while current. |" in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(dictionary.columns(con))


def test_write_renders_the_published_warehouse(published_db, tmp_path):
    out = dictionary.write(tmp_path / "dd.md", database=published_db)
    with duckdb.connect(str(published_db), read_only=True) as con:
        assert out.read_text() == dictionary.render(con)


def test_write_without_a_warehouse_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="costcurve refresh --offline"):
        dictionary.write(tmp_path / "dd.md", database=tmp_path / "missing.duckdb")
