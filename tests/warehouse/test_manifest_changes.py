"""What a dashboard learns from manifest.json between two publishes: each table's content hash, whether
it changed and since when, the price changes the run detected, each dataset's data-as-of date; and the
Parquet beside it, typed (prices as float64) with history exported."""

import json
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from warehouse import db, manifest, meta, publish

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def con(costcurve_home):
    con = db.connect()
    meta.ensure(con)
    con.execute(
        """create table history.eval_results (source varchar, model varchar,
               input_usd_per_mtok decimal(18, 9), valid_from date, first_seen_at timestamptz,
               last_seen_at timestamptz)"""
    )
    # A dated price (declared 2026-01-15, read on T0) and one the source gave no date for.
    con.execute(
        "insert into history.eval_results values "
        "('genai_prices', 'm1', 2.5, date '2026-01-15', ?, ?), ('genai_prices', 'm2', 0.123456789, ?, ?, ?)",
        [T0, T0, T0.date(), T0, T0],
    )
    con.execute("create table marts.prices as select model, input_usd_per_mtok from history.eval_results")
    con.execute(
        """create table marts.price_change_events (dataset varchar, change_kind varchar,
               detected_at timestamptz, detected_by_refresh boolean)"""
    )
    yield con
    con.close()


def run(con, run_id: str, at: datetime, sources=(("genai_prices", "embedded"),)) -> dict:
    """Record a finished run at `at`, publish a generation for it and return its manifest."""
    con.execute(
        "insert into meta.runs (run_id, kind, started_at, finished_at, status, summary) values (?, 'refresh', ?, ?, 'success', 'all sources landed')",
        [run_id, at, at],
    )
    for source, mode in sources:
        meta.record_source_run(
            con,
            run_id=run_id,
            source=source,
            dataset="eval_results",
            mode=mode,
            status="success",
            observed_at=at,
        )
    generation = publish.new_generation(run_id)
    publish.export_parquet(con, generation / "parquet")
    path = manifest.write(con, generation, run_id)
    publish.swap(generation)
    return json.loads(path.read_text())


def tables(doc: dict) -> dict:
    return {t["name"]: t for t in doc["tables"]}


def test_unchanged_tables_keep_their_hash_and_last_change(con):
    first = run(con, "r1", T0)
    assert first["format_version"] == 2 and first["previous_run_id"] is None
    assert tables(first)["marts.prices"]["changed"] is True
    assert tables(first)["marts.prices"]["last_changed_at"] == T0.isoformat()
    # A refresh that sees the same prices again only moves last_seen_at: not a change.
    con.execute("update history.eval_results set last_seen_at = ?", [T1])
    second = run(con, "r2", T1)
    assert second["previous_run_id"] == "r1"
    for name in ("history.eval_results", "marts.prices"):
        assert tables(second)[name]["content_hash"] == tables(first)[name]["content_hash"]
        assert tables(second)[name]["changed"] is False
        assert tables(second)[name]["last_changed_at"] == T0.isoformat()
    # meta.runs gained a row.
    assert tables(second)["meta.runs"]["changed"] is True
    assert tables(second)["meta.runs"]["last_changed_at"] == T1.isoformat()


def test_a_changed_value_flips_the_flag(con):
    first = run(con, "r1", T0)
    con.execute("update marts.prices set input_usd_per_mtok = 2.4 where model = 'm1'")
    second = run(con, "r2", T1)
    assert tables(second)["marts.prices"]["changed"] is True
    assert tables(second)["marts.prices"]["content_hash"] != tables(first)["marts.prices"]["content_hash"]
    assert tables(second)["marts.prices"]["last_changed_at"] == T1.isoformat()
    assert tables(second)["history.eval_results"]["changed"] is False


def test_the_hash_ignores_row_order(con):
    columns = [("model", "VARCHAR"), ("input_usd_per_mtok", "DECIMAL(18,9)")]
    before = manifest.content_hash(con, "marts.prices", columns)
    con.execute("create or replace table marts.prices as from marts.prices order by model desc")
    assert manifest.content_hash(con, "marts.prices", columns) == before


def test_price_changes_the_run_detected(con):
    con.execute(
        "insert into marts.price_change_events values "
        "('token_prices', 'price_change', ?, true), ('token_prices', 'price_change', ?, false), "
        "('gpu_rates', 'price_change', ?, true), ('token_prices', 'successor_launch', ?, true), "
        "('token_prices', 'price_change', ?, true)",
        [T1, T1, T1, T1, T0],  # the last one a run before
    )
    doc = run(con, "r2", T1)
    assert doc["price_changes"] == {
        "detected": 2,
        "loaded_with_history": 1,
        "by_dataset": {
            "gpu_rates": {"detected": 1, "loaded_with_history": 0},
            "token_prices": {"detected": 1, "loaded_with_history": 1},
        },
    }


def test_data_as_of_is_the_newest_declared_date_or_live_observation(con):
    # Embedded only: the newest date the source declared, not the day it was read.
    assert run(con, "r1", T0)["datasets"] == {"eval_results": {"data_as_of": "2026-01-15"}}
    # A price declared for the future has not taken effect.
    assert manifest.data_as_of(con, today=date(2026, 1, 14)) == {}
    # A live snapshot describes the day it was taken.
    doc = run(con, "r2", T1, sources=(("litellm", "live"),))
    assert doc["datasets"]["eval_results"]["data_as_of"] == "2026-03-02"


def test_parquet_is_typed_for_dashboards_and_listed(con, costcurve_home):
    doc = run(con, "r1", T0)
    published = costcurve_home / "published"
    frame = pd.read_parquet(published / "parquet" / "prices.parquet")
    assert str(frame["input_usd_per_mtok"].dtype) == "float64"
    assert frame.set_index("model")["input_usd_per_mtok"].to_dict() == {"m1": 2.5, "m2": 0.123456789}
    history = pd.read_parquet(published / "parquet" / "history" / "eval_results.parquet")
    assert str(history["input_usd_per_mtok"].dtype) == "float64" and len(history) == 2
    assert {p["table"]: p["path"] for p in doc["parquet"]} == {
        "history.eval_results": "parquet/history/eval_results.parquet",
        "marts.price_change_events": "parquet/price_change_events.parquet",
        "marts.prices": "parquet/prices.parquet",
    }
    assert tables(doc)["meta.runs"]["parquet"] is None
