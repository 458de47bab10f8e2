"""The warehouse on each storage kind (local file, DuckLake on a .ducklake file, DuckLake on PostgreSQL):
history merges, publish and read, time travel."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest

from sources.base import PRICE_DTYPE, Column, Dataset
from warehouse import db, history, meta, publish, readers
from warehouse.lake import StorageError

PRICES = Dataset(
    name="prices",
    doc="Test prices.",
    key=("source", "provider", "model"),
    columns=(
        Column("source", pl.Utf8, "source"),
        Column("provider", pl.Utf8, "provider"),
        Column("model", pl.Utf8, "model"),
        Column("price", PRICE_DTYPE, "price"),
    ),
)


def merge(con, prices: dict[str, str], day: int):
    rows = [dict(source="s", provider="p", model=m, price=Decimal(v)) for m, v in prices.items()]
    return history.merge(
        con,
        PRICES,
        PRICES.frame(rows),
        observed_at=datetime(2026, 11, day, 6, tzinfo=UTC),
        payload_sha256=f"sha-{day}",
    )


def run(con, run_id: str, prices: dict[str, str], day: int) -> None:
    """What a refresh does to storage, in small: record the run, merge, build a mart, publish."""
    meta.ensure(con)
    con.execute(
        "insert into meta.runs by name select ? as run_id, 'refresh' as kind, now() as started_at, 'success' as status",
        [run_id],
    )
    merge(con, prices, day)
    con.execute(
        "create or replace table marts.current_prices as "
        "select model, price from history.prices where valid_to is null order by model"
    )
    publish.publish(
        con,
        ["create or replace macro twice(x) as 2 * x"],
        publish.new_generation(run_id) / "costcurve.duckdb",
        run_id,
    )
    if db.storage() is None:
        publish.swap(publish.generation_dir(run_id))


def prices(con) -> list[tuple]:
    return con.execute("select model, price from marts.current_prices order by model").fetchall()


def test_history_merge_gives_the_same_versions_on_every_storage(storage):
    with db.working() as con:
        history.ensure(con, PRICES)
        first = merge(con, {"a": "1.5", "b": "2"}, 1)
        second = merge(con, {"a": "1.25", "b": "2"}, 2)
        again = merge(con, {"a": "1.25", "b": "2"}, 2)
        versions = con.execute(
            "select model, price, valid_from, valid_to from history.prices order by model, valid_from"
        ).fetchall()
        on_lake = con.execute("select current_database()").fetchone()[0] == "lake"
    assert (first.inserted, second.inserted, second.closed, again.inserted) == (
        2,
        2,
        0,
        0,
    )  # a changed price: the closed old version and the new one
    assert versions == [
        ("a", Decimal("1.5"), datetime(2026, 11, 1).date(), datetime(2026, 11, 2).date()),
        ("a", Decimal("1.25"), datetime(2026, 11, 2).date(), None),
        ("b", Decimal("2"), datetime(2026, 11, 1).date(), None),
    ]
    assert on_lake == (storage != "file")


def test_readers_see_the_published_run_with_its_macros_and_cannot_write(storage):
    with db.working() as con:
        history.ensure(con, PRICES)
        run(con, "run-1", {"a": "1.5"}, 1)
    reader = readers.published()
    try:
        assert prices(reader) == [("a", Decimal("1.5"))]
        assert reader.execute("select twice(21)").fetchone() == (42,)
        with pytest.raises(Exception, match="read-only|read only"):
            reader.execute("insert into marts.current_prices values ('z', 1)")
    finally:
        reader.close()


def test_a_run_in_progress_is_invisible_to_readers_of_a_lake(lake_storage):
    with db.working() as con:
        history.ensure(con, PRICES)
        run(con, "run-1", {"a": "1.5"}, 1)
        # A second run has merged and rebuilt its mart but not published yet.
        merge(con, {"a": "3"}, 2)
        con.execute("create or replace table marts.current_prices as select 'a' as model, 3.0 as price")
    reader = readers.published()
    try:
        assert prices(reader) == [("a", Decimal("1.5"))]
    finally:
        reader.close()
    working = readers.working()
    try:
        assert working.execute("select price from marts.current_prices").fetchall() == [(Decimal("3.0"),)]
    finally:
        working.close()


def test_time_travel_reads_an_earlier_run_after_a_later_run_changed_its_prices(lake_storage):
    with db.working() as con:
        history.ensure(con, PRICES)
        run(con, "run-1", {"a": "1.5", "b": "2"}, 1)
        between = con.execute("select now()").fetchone()[0]
        run(con, "run-2", {"a": "1.25", "b": "2"}, 2)
        snapshots = dict(
            con.execute("select run_id, snapshot_id from meta.runs where snapshot_id is not null").fetchall()
        )
    assert set(snapshots) == {"run-1", "run-2"} and snapshots["run-1"] < snapshots["run-2"]
    for kwargs in ({"run_id": "run-1"}, {"as_of": between}):
        reader = readers.published(**kwargs)
        try:
            assert prices(reader) == [("a", Decimal("1.5")), ("b", Decimal("2"))], kwargs
        finally:
            reader.close()
    reader = readers.published()
    try:
        assert prices(reader) == [("a", Decimal("1.25")), ("b", Decimal("2"))]
    finally:
        reader.close()
    with pytest.raises(StorageError, match="run run-9 published nothing"):
        readers.published(run_id="run-9")


def test_a_local_file_says_what_time_travel_it_has(monkeypatch):
    monkeypatch.delenv("COSTCURVE_WAREHOUSE", raising=False)
    with db.working() as con:
        history.ensure(con, PRICES)
        run(con, "run-1", {"a": "1.5"}, 1)
        run(con, "run-2", {"a": "1.25"}, 2)
        run(con, "run-3", {"a": "1"}, 3)
    # The generation before the current one is kept, so the previous run can still be read.
    reader = readers.published(run_id="run-2")
    try:
        assert prices(reader) == [("a", Decimal("1.25"))]
    finally:
        reader.close()
    with pytest.raises(StorageError, match="no longer kept: .*token_prices_as_known.*DuckLake"):
        readers.published(run_id="run-1")
    with pytest.raises(StorageError, match="--as-of needs a DuckLake warehouse"):
        readers.published(as_of=datetime.now(UTC))


def test_costcurve_sql_reads_as_of_a_run_or_a_time_in_the_sandbox(lake_storage, capsys):
    from pipelines.cli import main

    with db.working() as con:
        history.ensure(con, PRICES)
        run(con, "run-1", {"a": "1.5"}, 1)
        between = con.execute("select now()").fetchone()[0]
        run(con, "run-2", {"a": "1.25"}, 2)
    query = "select price, twice(price) as doubled from marts.current_prices"
    assert main(["sql", query, "--format", "csv", "--as-of-run", "run-1"]) == 0
    assert capsys.readouterr().out.split() == ["price,doubled", "1.500000000,3.000000000"]
    assert main(["sql", query, "--format", "csv", "--as-of", between.isoformat()]) == 0
    assert capsys.readouterr().out.split() == ["price,doubled", "1.500000000,3.000000000"]
    assert main(["sql", query, "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ["price,doubled", "1.250000000,2.500000000"]
    # The sandbox holds on a lake too: no file access without --allow-files.
    assert main(["sql", "select * from read_csv('/etc/hostname')"]) == 2
    assert "--allow-files" in capsys.readouterr().err
