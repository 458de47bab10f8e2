"""The peer benchmark's pieces at toy size: the breakeven grid query, dbt's seeded history and project."""

import math
from datetime import date

import duckdb
import polars as pl
import pytest

from bench import dbt_snapshot, marts, peers, synthetic
from bench.common import Sizes
from core import Assumptions
from core.macros import macro_statements
from sources.schemas import TOKEN_PRICES


def test_the_grid_as_one_query_gives_the_python_loops_numbers_cell_for_cell():
    a = Assumptions()
    dims = marts._dimensions(Sizes(grid_offers=4))
    cells = marts._cells(dims)
    con = duckdb.connect()
    for statement in macro_statements():
        con.execute(statement)
    for name, frame in dims.items():
        con.register(name, frame.with_row_index("i"))
    by_sql = pl.from_arrow(con.execute(marts._sql(a, dims)).to_arrow_table()).sort("cell")
    # 4 offers x the 3 dense size classes x dtypes x utilizations x volumes, numbered as `_cells` does.
    assert dims["classes"]["size_class"].to_list() == ["8b", "70b", "405b"]
    assert by_sql.height == cells.height == 4 * 3 * dims["dtypes"].height * 10 * 10
    assert by_sql["cell"].to_list() == list(range(cells.height))
    by_polars = marts._polars(cells, a).sort("cell")
    for column in marts.COLUMNS:
        assert by_sql[column].to_list() == pytest.approx(by_polars[column].to_list(), rel=1e-9)
    rows = dict(zip(by_sql["cell"].to_list(), by_sql.select(marts.COLUMNS).iter_rows(), strict=True))
    for cell in cells.to_dicts():
        expected = marts._python_cell(cell, a)
        got = rows[cell["cell"]]
        assert all(
            (x is None and y is None) or math.isclose(x, y, rel_tol=1e-9)
            for x, y in zip(got, expected, strict=True)
        )


def test_dbt_history_is_the_same_versions_in_dbt_columns(tmp_path):
    history_db = tmp_path / "naive.duckdb"
    with duckdb.connect(str(history_db)) as con:
        con.execute("create schema history")
        synthetic.history_table(con, n_keys=300, versions=4, n_current=100, n_providers=10)
    target = tmp_path / "dbt.duckdb"
    assert peers.seed_dbt_history(target, history_db) == 1200
    with duckdb.connect(str(target), read_only=True) as con:
        table = f"snapshots.{dbt_snapshot.SNAPSHOT}"
        columns = [r[0] for r in con.execute(f"describe {table}").fetchall()]
        assert columns == peers.PAYLOAD + list(dbt_snapshot.DBT_COLUMNS)
        assert con.execute(
            f"select count(*) filter (dbt_valid_to is null), count(distinct dbt_scd_id) from {table}"
        ).fetchone() == (100, 1200)
        # Each version keeps its dates and values: one key's rows compared with costcurve's.
        con.execute(f"attach '{history_db}' as h (read_only)")
        ours = con.execute(
            "select valid_from::timestamp, valid_to::timestamp, input_usd_per_mtok from h.history.token_prices "
            "where model = 'prov003/model-7' order by 1"
        ).fetchall()
        theirs = con.execute(
            f"select dbt_valid_from, dbt_valid_to, input_usd_per_mtok from {table} "
            "where model = 'prov003/model-7' order by 1"
        ).fetchall()
        assert len(ours) == 4 and ours == theirs


def test_days_are_written_as_dated_payloads(tmp_path):
    frames = list(synthetic.daily_snapshots(3, 4, 2))
    days = peers.write_days(frames, date(2025, 3, 30), tmp_path)
    assert days == [date(2025, 3, 30), date(2025, 3, 31)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-03-30.parquet", "2025-03-31.parquet"]
    back = pl.read_parquet(tmp_path / "2025-03-31.parquet")
    assert back.columns == peers.PAYLOAD and back.height == frames[1].height


def test_the_dbt_project_snapshots_on_the_natural_key_and_values_offline(tmp_path):
    dbt_snapshot.write_project(tmp_path, tmp_path / "x.duckdb", peers.KEY, peers.CHECK)
    snapshot = (tmp_path / "snapshots" / f"{dbt_snapshot.SNAPSHOT}.sql").read_text()
    assert 'unique_key=["source", "provider", "model", "tier", "service_tier", "off_peak"]' in snapshot
    assert f"check_cols={list(TOKEN_PRICES.value_columns)!r}".replace("'", '"') in snapshot
    assert "hard_deletes='invalidate'" in snapshot
    assert "send_anonymous_usage_stats: false" in (tmp_path / "dbt_project.yml").read_text()
    assert not (tmp_path / "packages.yml").exists()
    assert f'path: "{tmp_path / "x.duckdb"}"' in (tmp_path / "profiles.yml").read_text()
    assert "var('observed_at')" in (tmp_path / "macros" / "observed_at.sql").read_text()


@pytest.mark.skipif(peers.dbt_python() is None, reason="dbt-duckdb is not installed (the bench extra)")
def test_dbt_replay_keeps_the_same_versions_as_the_merge(tmp_path):
    from datetime import UTC, datetime

    from warehouse import history

    frames = list(
        synthetic.daily_snapshots(3, 20, 3, rates=synthetic.ChangeRates(change=0.2, disappear=0.05))
    )
    days_dir = tmp_path / "days"
    days = peers.write_days(frames, date(2025, 1, 1), days_dir)
    out = peers.run_dbt(peers.dbt_python(), tmp_path, "t", tmp_path / "dbt.duckdb", days_dir)
    assert out["days"] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    con = duckdb.connect()
    con.execute("create schema history")
    for day, frame in zip(days, frames, strict=True):
        at = datetime.combine(day, datetime.min.time(), UTC)
        history.merge(con, TOKEN_PRICES, frame, observed_at=at, payload_sha256=str(day))
    ours = con.execute(
        "select count(*), count(*) filter (valid_to is null) from history.token_prices"
    ).fetchone()
    with duckdb.connect(str(tmp_path / "dbt.duckdb"), read_only=True) as dbt:
        theirs = dbt.execute(
            f"select count(*), count(*) filter (dbt_valid_to is null) from snapshots.{dbt_snapshot.SNAPSHOT}"
        ).fetchone()
    assert out["rows"][0] == 60 and ours[0] > 60
    assert ours == theirs
