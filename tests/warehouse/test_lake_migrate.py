"""`costcurve migrate`: a local warehouse into a DuckLake and back, history included, proved per table."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pytest

from pipelines import flow, migrate
from pipelines.cli import main
from tests.warehouse.test_lake import PRICES
from warehouse import db, history, meta, readers


def local_warehouse(path) -> None:
    """A small local warehouse: the real bookkeeping tables, two days of history (one superseded
    version), a mart and a finished run."""
    with db.working(path) as con:
        flow.ensure(con)
        history.ensure(con, PRICES)
        for day, price in ((1, "1.5"), (2, "1.25")):
            rows = [dict(source="s", provider="p", model="a", price=Decimal(price))]
            history.merge(
                con,
                PRICES,
                PRICES.frame(rows),
                observed_at=datetime(2026, 11, day, tzinfo=UTC),
                payload_sha256=f"sha-{day}",
            )
        con.execute("insert into meta.runs values ('run-1', 'refresh', now(), now(), 'success', 'ok', null)")
        con.execute(
            "create table marts.current_prices as select model, price from history.prices where valid_to is null"
        )
        con.execute("comment on table marts.current_prices is 'Current prices.'")


def contents(path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables() order by 1, 2").fetchall()
        return {f"{s}.{t}": sorted(map(repr, con.execute(f"from {s}.{t}").fetchall())) for s, t in tables}


def test_a_local_warehouse_moves_into_a_lake_and_back_unchanged(lake_storage, tmp_path, monkeypatch):
    setting = (db.storage().url, db.storage().data_path)
    # The source is the local file: the lake setting is given to migrate, not to the environment.
    monkeypatch.delenv("COSTCURVE_WAREHOUSE")
    monkeypatch.delenv("COSTCURVE_LAKE_DATA")
    local_warehouse(db.working_path())
    before = contents(db.working_path())
    assert main(["migrate", "--to", "ducklake", "--catalog", setting[0], "--data", setting[1]]) == 0

    monkeypatch.setenv("COSTCURVE_WAREHOUSE", setting[0])
    monkeypatch.setenv("COSTCURVE_LAKE_DATA", setting[1])
    reader = readers.published()
    try:
        assert reader.execute("select model, price from marts.current_prices").fetchall() == [
            ("a", Decimal("1.25"))
        ]
        assert reader.execute("select count(*) from superseded.prices").fetchone() == (1,)
        assert reader.execute("select run_id from meta.runs").fetchall() == [("run-1",)]
        assert reader.execute(
            "select comment from duckdb_tables() where table_name = 'current_prices'"
        ).fetchone() == ("Current prices.",)
    finally:
        reader.close()
    # Into a lake that is no longer empty: refused, nothing written.
    with pytest.raises(migrate.MigrationError, match="already holds tables"):
        migrate.run("ducklake")

    back = tmp_path / "back" / "costcurve.duckdb"
    report = migrate.run("file", file=back)
    assert {c.table for c in report.tables} >= {"history.prices", "superseded.prices", "meta.runs"}
    after = contents(back)
    # The lake added meta.runs.snapshot_id (the publish of the migration); all else is the same rows.
    assert set(after) == set(before)
    for table, rows in before.items():
        if table != "meta.runs":
            assert after[table] == rows, table
    with duckdb.connect(str(back), read_only=True) as con:
        # The bookkeeping tables got their primary keys back, so the pipeline's upserts work again.
        assert con.execute(
            "select count(*) from duckdb_constraints() where table_name = 'runs' and constraint_type = 'PRIMARY KEY'"
        ).fetchone() == (1,)
    with db.working(back) as con:
        meta.record_source_run(
            con,
            run_id="run-1",
            source="s",
            dataset="prices",
            mode="file",
            status="success",
            observed_at=datetime.now(UTC),
        )


def test_a_copy_that_differs_is_refused_naming_the_table(lake_storage, monkeypatch):
    setting = db.storage()
    monkeypatch.delenv("COSTCURVE_WAREHOUSE")
    local_warehouse(db.working_path())
    con = duckdb.connect()
    con.execute(f"attach '{db.working_path()}' as {migrate.SOURCE} (read_only)")
    con.execute(f"attach ':memory:' as {migrate.TARGET}")
    migrate._copy(con, [("history", "prices")], create=set())
    con.execute(f"delete from {migrate.TARGET}.history.prices where valid_to is null")
    with pytest.raises(
        migrate.MigrationError, match=r"history.prices differs after the copy: source 2 rows .* copy 1 rows"
    ):
        migrate._verify(con, [("history", "prices")])
    assert setting is not None
