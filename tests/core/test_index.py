"""Chain-linked Jevons index on tiny frames whose every number is computed by hand."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from core import jevons_chain_index, margin_compression_index, scalar

SQRT_HALF = math.sqrt(0.5)

# Period 1: A 10, B 20.  Period 2: A 5, B 20, C 8 (C enters).  Period 3: A 5, C 4 (B leaves).
# Link 1->2 over {A, B}: sqrt(5/10 x 20/20) = sqrt(0.5). Link 2->3 over {A, C}: sqrt(5/5 x 4/8) = sqrt(0.5).
# C's entry price (8) and B's exit do not move the index: only matched pairs do.
PRICES = pl.DataFrame(
    {
        "period": [1, 1, 2, 2, 2, 3, 3],
        "item": ["A", "B", "A", "B", "C", "A", "C"],
        "price": [10.0, 20.0, 5.0, 20.0, 8.0, 5.0, 4.0],
    }
)


def rows(frame: pl.DataFrame) -> list[tuple]:
    return [tuple(row) for row in frame.iter_rows()]


def test_items_enter_and_leave():
    out = jevons_chain_index(PRICES, base_period=1)
    assert out.columns == ["period", "index", "n_matched", "n_items"]
    assert out["period"].to_list() == [1, 2, 3]
    assert out["index"].to_list() == pytest.approx([100.0, 100 * SQRT_HALF, 50.0])
    assert out["n_matched"].to_list() == [None, 2, 2]
    assert out["n_items"].to_list() == [2, 3, 2]


def test_base_in_the_middle_divides_backwards():
    out = jevons_chain_index(PRICES, base_period=2)
    assert out["index"].to_list() == pytest.approx([100 / SQRT_HALF, 100.0, 100 * SQRT_HALF])


def test_lazy_in_lazy_out_and_row_order_does_not_matter():
    shuffled = PRICES.sample(fraction=1.0, shuffle=True, seed=7).lazy()
    out = jevons_chain_index(shuffled, base_period=1)
    assert isinstance(out, pl.LazyFrame)
    assert out.collect()["index"].to_list() == pytest.approx([100.0, 100 * SQRT_HALF, 50.0])


def test_free_and_missing_prices_do_not_enter():
    # A free placeholder for B in period 2 and a null for C: B's relative cannot be formed, so link
    # 1->2 uses A alone: 5 / 10.
    prices = pl.DataFrame(
        {
            "period": [1, 1, 1, 2, 2, 2],
            "item": ["A", "B", "C", "A", "B", "C"],
            "price": [10.0, 20.0, 3.0, 5.0, 0.0, None],
        }
    )
    out = jevons_chain_index(prices, base_period=1)
    assert out["index"].to_list() == pytest.approx([100.0, 50.0])
    assert out["n_matched"].to_list() == [None, 1]
    assert out["n_items"].to_list() == [3, 1]


def test_several_prices_for_one_item_enter_as_their_geometric_mean():
    # A has two providers in period 2 (4 and 16, geometric mean 8): link = 8 / 10.
    prices = pl.DataFrame({"period": [1, 2, 2], "item": ["A", "A", "A"], "price": [10.0, 4.0, 16.0]})
    assert jevons_chain_index(prices, base_period=1)["index"].to_list() == pytest.approx([100.0, 80.0])


def test_a_period_with_no_matched_item_breaks_the_chain():
    # Period 3 prices only D, which no earlier period has: nothing links 2 -> 3, so 3 and later are
    # unknown relative to base 1. Period 4 links to 3 (D 4 -> 2) but stays on the far side of the break.
    prices = pl.DataFrame(
        {
            "period": [1, 2, 3, 4],
            "item": ["A", "A", "D", "D"],
            "price": [10.0, 5.0, 4.0, 2.0],
        }
    )
    out = jevons_chain_index(prices, base_period=1)
    assert out["index"].to_list()[:2] == pytest.approx([100.0, 50.0])
    assert out["index"].to_list()[2:] == [None, None]
    assert out["n_matched"].to_list() == [None, 1, 0, 1]
    # Based in period 3 instead, the right-hand side is known and the left-hand side is not.
    rebased = jevons_chain_index(prices, base_period=3)
    assert rebased["index"].to_list()[:2] == [None, None]
    assert rebased["index"].to_list()[2:] == pytest.approx([100.0, 50.0])


def test_per_group_indices_with_dates_and_compound_items():
    # Tier "small": one offer (provider p, region r) halves. Tier "large": two offers, one doubles
    # and one stays: sqrt(2 x 1). Tier "new" has no price at the base date: all null.
    d1, d2 = dt.date(2025, 1, 1), dt.date(2025, 2, 1)
    prices = pl.DataFrame(
        {
            "tier": ["small", "small", "large", "large", "large", "large", "new"],
            "date": [d1, d2, d1, d1, d2, d2, d2],
            "provider": ["p", "p", "p", "q", "p", "q", "p"],
            "region": ["r", "r", "r", "r", "r", "r", "r"],
            "usd": [2.0, 1.0, 3.0, 5.0, 6.0, 5.0, 9.0],
        }
    )
    out = jevons_chain_index(
        prices, base_period=d1, period="date", item=["provider", "region"], price="usd", by="tier"
    )
    assert out.columns == ["tier", "date", "index", "n_matched", "n_items"]
    by_tier = {(tier, date): (index, n) for tier, date, index, n, _ in rows(out)}
    assert by_tier[("small", d2)][0] == pytest.approx(50.0)
    assert by_tier[("large", d1)] == (pytest.approx(100.0), None)
    assert by_tier[("large", d2)] == (pytest.approx(100 * math.sqrt(2)), 2)
    assert by_tier[("new", d2)] == (None, None)


def test_margin_compression_index(formula):
    # Prices at 50 and compute at 80 (both based 100): 100 x 50 / 80.
    assert formula("margin_compression_index", 50.0, 80.0) == pytest.approx(62.5)
    assert formula("margin_compression_index", 50.0, 0.0) is None
    assert scalar.margin_compression_index(100.0, 100.0) == pytest.approx(100.0)
    frame = pl.DataFrame({"p": [50.0], "c": [80.0]})
    assert frame.select(mci=margin_compression_index("p", "c"))["mci"].item() == pytest.approx(62.5)
