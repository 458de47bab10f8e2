"""marts.margin_compression_index: hand-computed indices on a tiny history, and the SQL chain-linked
Jevons held to core.jevons_chain_index (the same observations through both, then random ones).

The tiny history, as month-end snapshots (blended = 0.75 x input + 0.25 x output):

    model                 tier      Dec 2024   Jan 2025   Feb 2025
    acme/acme-pro         flagship  15         7.5        7.5        (10/30, cut to 5/15 on 15 Jan)
    acme/acme-mini        small     1.5        1.5        0.75       (1/3, cut to 0.5/1.5 on 10 Feb)
    acme/acme-chat        mid       -          3          6          (enters 20 Jan at 2/6, 4/12 on 5 Feb)

    offer (on demand, 2 TB/s)       Dec        Jan        Feb        ($/GPU-hour / 2)
    a                               1.0        0.5        0.5        ($2, cut to $1 on 10 Jan)
    b                               2.0        2.0        2.0
    c                               -          -          1.5        (enters 1 Feb)
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

import core
from core.macros import macro_statements
from warehouse.models import MODELS_DIR

DEC, JAN, FEB = date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)
BASE = JAN  # the mart's stated base date
MART_SQL = (MODELS_DIR / "marts" / "margin_compression_index.sql").read_text()


@pytest.fixture
def wh(tiny):
    tiny.card("test-gpu40", memory_gb=40, memory_bandwidth_tbps=2, bf16_dense_tflops=500)
    tiny.price("acme", "acme/acme-pro", 10, 30, date(2024, 12, 1), valid_to=date(2025, 1, 15))
    tiny.price("acme", "acme/acme-pro", 5, 15, date(2025, 1, 15))
    tiny.price("acme", "acme/acme-mini", 1, 3, date(2024, 12, 1), valid_to=date(2025, 2, 10))
    tiny.price("acme", "acme/acme-mini", 0.5, 1.5, date(2025, 2, 10), valid_to=date(2099, 1, 1))
    tiny.price("acme", "acme/acme-mini", 0.01, 0.01, date(2099, 1, 1))  # future-dated: not yet in effect
    tiny.price("acme", "acme/acme-chat", 2, 6, date(2025, 1, 20), valid_to=date(2025, 2, 5))
    tiny.price("acme", "acme/acme-chat", 4, 12, date(2025, 2, 5))
    # Not first-party (a reseller), start unknown, or not a text model: none of these enter.
    tiny.price("resell", "acme/acme-pro", 1, 1, date(2024, 12, 1), valid_to=date(2025, 1, 5))
    tiny.price("resell", "acme/acme-pro", 100, 100, date(2025, 1, 5))
    tiny.price("acme", "acme/acme-old", 9, 9, None, valid_to=date(2025, 1, 10))
    tiny.price("acme", "acme/acme-tts", 1, 1, date(2024, 12, 1), valid_to=date(2025, 1, 10))
    tiny.price("acme", "acme/acme-tts", 50, 50, date(2025, 1, 10))
    tiny.rate("p", "a", "test-gpu40", 2.0, 1, date(2024, 12, 1), valid_to=date(2025, 1, 10))
    tiny.rate("p", "a", "test-gpu40", 1.0, 1, date(2025, 1, 10))
    tiny.rate("p", "b", "test-gpu40", 4.0, 1, date(2024, 12, 1))
    tiny.rate("p", "c", "test-gpu40", 3.0, 1, date(2025, 2, 1))
    tiny.rate(
        "p", "a", "test-gpu40", 9.0, 1, date(2024, 12, 1), pricing_type="spot", valid_to=date(2025, 1, 3)
    )
    tiny.rate("p", "a", "test-gpu40", 0.1, 1, date(2025, 1, 3), pricing_type="spot")
    tiny.build("margin_compression_index")
    return tiny


def mci(wh, tier: str, month: date) -> dict:
    (row,) = wh.rows(
        "select * from marts.margin_compression_index where tier = ? and date = ?", [tier, month]
    )
    return row


def query_with(cte: str, *columns: str) -> str:
    """The mart's own WITH clause, selecting one of its CTEs."""
    tree = sqlglot.parse_one(MART_SQL, read="duckdb")
    select = exp.select(*(columns or ["*"])).from_(cte)
    select.set("with_", tree.args["with_"].copy())
    return select.sql("duckdb")


def polars_indices(observations: pl.DataFrame, base: date) -> pl.DataFrame:
    return core.jevons_chain_index(
        observations, base_period=base, period="date", item="item", price="price", by=["series", "tier"]
    )


def assert_same(sql_rows: list[tuple], expected: pl.DataFrame) -> None:
    got = {(s, t, d): (i, m, n) for s, t, d, i, m, n in sql_rows}
    want = {
        (r["series"], r["tier"], r["date"]): (r["index"], r["n_matched"], r["n_items"])
        for r in expected.iter_rows(named=True)
    }
    assert got.keys() == want.keys()
    for key, (index, matched, items) in want.items():
        sql_index, sql_matched, sql_items = got[key]
        assert (sql_matched, sql_items) == (matched, items), key
        if index is None:
            assert sql_index is None, key
        else:
            assert sql_index == pytest.approx(index, rel=1e-9), key


def test_sql_index_equals_core_on_the_marts_own_observations(wh):
    observations = wh.con.execute(query_with("observations")).pl()
    assert observations.height > 0
    indexed = wh.con.execute(
        query_with("indexed", "series", "tier", "date", "index", "n_matched", "n_items")
    ).fetchall()
    assert_same(indexed, polars_indices(observations, BASE))


# Random long frames: a few items over a few months, with gaps (items entering and leaving, empty months
# that break the chain), up to three prices per item and month (several ids of one model), zero and
# negative prices (which never enter).
PRICES = st.lists(
    st.floats(-1, 100, allow_nan=False, allow_subnormal=False) | st.sampled_from([0.0, 1.0, 2.0]),
    min_size=1,
    max_size=3,
)
OBSERVATIONS = st.dictionaries(
    st.tuples(
        st.sampled_from(["price", "compute"]),
        st.sampled_from(["all", "small"]),
        st.integers(0, 4),
        st.sampled_from(["i1", "i2", "i3"]),
    ),
    PRICES,
    min_size=1,
    max_size=30,
)


@pytest.fixture(scope="module")
def duck():
    con = duckdb.connect()
    for statement in macro_statements():
        con.execute(statement)
    yield con
    con.close()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(OBSERVATIONS, st.integers(0, 4))
def test_sql_index_equals_core_on_random_observations(duck, observations, base_month):
    months = [date(2025, 1 + m, 1) for m in range(5)]
    frame = pl.DataFrame(
        [(s, t, months[m], i, p) for (s, t, m, i), prices in observations.items() for p in prices],
        schema={"series": pl.Utf8, "tier": pl.Utf8, "date": pl.Date, "item": pl.Utf8, "price": pl.Float64},
        orient="row",
    )
    base = months[base_month]
    # The mart's Jevons CTEs read `observations` and `base`: substitute both.
    tree = sqlglot.parse_one(MART_SQL, read="duckdb")
    ctes = {c.alias: c for c in tree.args["with_"].expressions}
    ctes["observations"].set("this", sqlglot.parse_one("select * from frame", read="duckdb"))
    ctes["base"].set("this", sqlglot.parse_one(f"select date '{base}' as base_date", read="duckdb"))
    jevons = [
        "base",
        "observations",
        "log_prices",
        "periods",
        "relatives",
        "links",
        "chained",
        "cumulated",
        "indexed",
    ]
    select = exp.select("series", "tier", "date", "index", "n_matched", "n_items").from_("indexed")
    select.set("with_", exp.With(expressions=[ctes[name] for name in jevons]))
    duck.register("frame", frame.to_arrow())
    try:
        indexed = duck.execute(select.sql("duckdb")).fetchall()
    finally:
        duck.unregister("frame")
    assert_same(indexed, polars_indices(frame, base))
