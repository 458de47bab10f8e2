"""What the explorer reads: the published snapshot, reopened after a publish, and what-if marts
rebuilt from their own SQL, which reproduce the published marts exactly under the published
assumptions and move by the formulas when an assumption changes."""

import dataclasses
import io
from datetime import UTC, date, datetime

import duckdb
import polars as pl
import pytest

from pipelines.cli import main
from pipelines.explorer import views
from pipelines.explorer.app import csv_file
from pipelines.explorer.snapshot import WHAT_IF_MODELS, NothingPublished, Snapshot
from warehouse import publish


@pytest.fixture(scope="module")
def snap(published_db):
    with Snapshot(published_db) as opened:
        yield opened


@pytest.fixture(scope="module")
def published(published_db):
    with duckdb.connect(str(published_db), read_only=True) as con:
        yield {table: con.execute(f"from {table}").pl() for table in WHAT_IF_MODELS}


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def test_the_published_assumptions_reproduce_the_published_marts(snap, published):
    # 0.5 is on the published utilization grid, so the assumption set is the published one.
    assert 0.5 in snap.assumptions().utilization_grid
    built = snap.what_if(0.5)
    for table in WHAT_IF_MODELS:
        assert built[table].height > 0, table
        assert _sorted(built[table]).equals(_sorted(published[table])), table


def test_a_power_price_lengthens_the_payback_of_owning(snap, published):
    built = snap.what_if(0.5, usd_per_kwh=0.30)
    base, varied = published["marts.breakeven_buy_vs_rent"], built["marts.breakeven_buy_vs_rent"]
    keys = ["accelerator", "pricing_type", "rent_basis", "utilization"]
    joined = base.join(varied, on=keys, suffix="_new")
    assert joined.height == base.height > 0
    assert set(varied["usd_per_kwh"]) == {0.30} and set(base["usd_per_kwh"]) == {0.10}
    # Power is a cost of owning only: dearer power never shortens the payback, and lengthens some.
    both = joined.drop_nulls(["breakeven_months", "breakeven_months_new"])
    longer = both["breakeven_months_new"] - both["breakeven_months"]
    assert longer.min() >= 0 and longer.max() > 0
    # The what-if carries the id of the set it was computed with, not the published one.
    assumed = dataclasses.replace(snap.assumptions(), usd_per_kwh=0.30)
    assert set(varied["assumption_set_id"]) == {assumed.assumption_set_id()} != set(base["assumption_set_id"])


def test_a_batch_size_scales_the_kv_cache_and_a_new_utilization_joins_the_grid(snap, published):
    built = snap.what_if(0.55, batch_size=64)
    cost = built["marts.self_host_cost"]
    assert set(cost["batch_size"]) == {64}
    assert 0.55 in set(cost["utilization"])
    keys = ["accelerator", "source", "provider", "pricing_type", "size_class", "dtype", "utilization"]
    both = (
        published["marts.self_host_cost"].filter(pl.col("batch_size") == 32).join(cost, on=keys, suffix="_64")
    )
    assert both.height > 0
    # The KV cache holds every sequence of the batch: twice the batch, twice the cache.
    assert (both["kv_cache_gb_64"] / both["kv_cache_gb"] - 2).abs().max() < 1e-9
    # Cost per token is inversely proportional to utilization for one deployment.
    offer = (
        cost.filter(pl.col("offer_rank") == 1)
        .group_by(keys[:-1])
        .agg(
            pl.col("usd_per_mtok").filter(pl.col("utilization") == 0.5).first().alias("at_50"),
            pl.col("usd_per_mtok").filter(pl.col("utilization") == 0.55).first().alias("at_55"),
        )
    )
    assert ((offer["at_55"] * 0.55 / (offer["at_50"] * 0.5)) - 1).abs().max() < 1e-9


def test_an_assumption_out_of_range_or_not_offered_is_refused(snap):
    with pytest.raises(ValueError, match="pue"):
        snap.what_if(0.5, pue=0.9)
    with pytest.raises(ValueError, match="cannot vary"):
        snap.what_if(0.5, blend_input_share=0.5)


def _generation(run_id: str, value: int):
    directory = publish.new_generation(run_id)
    with duckdb.connect(str(directory / "costcurve.duckdb")) as con:
        con.execute(f"create schema marts; create table marts.x as select {value} as v")
    publish.swap(directory)


def test_a_new_snapshot_is_picked_up_after_a_publish(costcurve_home):
    _generation("first", 1)
    snap = Snapshot()
    assert snap.frame("select v from marts.x").item() == 1
    held = snap.cursor()
    _generation("second", 2)
    assert snap.frame("select v from marts.x").item() == 2
    # A reader that held the old snapshot finishes on it.
    assert held.execute("select v from marts.x").fetchone() == (1,)


def test_serve_with_nothing_published_says_what_to_do(costcurve_home, capsys):
    with pytest.raises(NothingPublished):
        Snapshot().identity()
    assert main(["serve", "--no-browser", "--port", "0"]) == 2
    assert "costcurve refresh --offline" in capsys.readouterr().err


def test_steps_draw_each_version_until_the_next():
    frame = pl.DataFrame(
        {
            "valid_from": [date(2025, 1, 1), date(2025, 3, 1), None],
            "valid_to": [date(2025, 3, 1), None, None],
            # A version without a declared start begins when it was first seen.
            "first_seen_at": [None, None, datetime(2025, 2, 1, 8, tzinfo=UTC)],
            "price": [2.0, 1.5, 9.0],
            "who": ["a", "a", "b"],
        }
    )
    points = views.steps(frame, pl.col("who"), "price", today=date(2025, 6, 1))
    assert points.rows() == [
        ("a", date(2025, 1, 1), 2.0),
        ("a", date(2025, 3, 1), 2.0),
        ("a", date(2025, 3, 1), 1.5),
        ("a", date(2025, 6, 1), 1.5),
        ("b", date(2025, 2, 1), 9.0),
        ("b", date(2025, 6, 1), 9.0),
    ]


def test_the_mci_chart_reads_whatever_columns_the_mart_has():
    frame = pl.DataFrame(
        {
            "period": [date(2025, 1, 1), date(2025, 2, 1)] * 2,
            "segment": ["all", "all", "small", "small"],
            "n_items": [3, 4, 1, 2],
            "price_component": [100.0, 90.0, 100.0, 80.0],
            "compression_index": [100.0, 95.0, 100.0, 85.0],
        }
    )
    assert views.mci_chart_columns(frame) == (
        "period",
        ["compression_index", "price_component", "n_items"],
        "segment",
    )


def test_downloads_go_through_the_safe_csv_writer():
    payload = csv_file(pl.DataFrame({"model": ["=HYPERLINK(1)", "gpt"], "usd": [-1.5, 2.0]}), "prices")
    assert payload["filename"] == "prices.csv" and payload["type"] == "text/csv"
    assert payload["content"] == "model,usd\n'=HYPERLINK(1),-1.5\ngpt,2.0\n"
    assert io.StringIO(payload["content"]).readline() == "model,usd\n"
