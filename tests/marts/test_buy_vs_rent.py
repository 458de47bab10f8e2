"""marts.breakeven_buy_vs_rent on a tiny warehouse, with the arithmetic written out.

Assumptions (conftest.py): $0.10/kWh, PUE 1.5, wall power 2 x TDP, $0.50 operations per owned hour,
2-year life, 730-hour months, utilization grid 0.25 / 0.5 / 1.0.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

SINCE = date(2026, 1, 1)


@pytest.fixture
def wh(tiny):
    tiny.card("test-gpu40", memory_gb=40, memory_bandwidth_tbps=2, bf16_dense_tflops=500, tdp_w=500,
              launch_price_usd=20_000)  # fmt: skip
    tiny.card("test-old16", memory_gb=16, memory_bandwidth_tbps=1, bf16_dense_tflops=2, tdp_w=300)
    tiny.card("test-idle80", memory_gb=80, memory_bandwidth_tbps=3, bf16_dense_tflops=900, tdp_w=700,
              launch_price_usd=30_000)  # fmt: skip
    tiny.rate("cloudx", "x1", "test-gpu40", 2.00, 1, SINCE)
    tiny.rate("gcp", "bb8", "test-gpu40", 2.50, 8, SINCE)
    tiny.rate("cloudx", "x1-spot", "test-gpu40", 0.80, 1, SINCE, pricing_type="spot")
    # An offer that ended yesterday is not a rent today.
    tiny.rate("gone", "g1", "test-gpu40", 1.00, 1, SINCE, valid_to=date.today() - timedelta(days=1))
    tiny.rate("oldco", "o1", "test-old16", 0.50, 1, SINCE)
    assert tiny.build("breakeven_buy_vs_rent")["breakeven_buy_vs_rent"] > 0
    return tiny


def row(wh, basis: str, utilization: float) -> dict:
    (found,) = wh.rows(
        "select * from marts.breakeven_buy_vs_rent where accelerator = 'test-gpu40' and rent_basis = ?"
        " and utilization = ?",
        [basis, utilization],
    )
    return found


def test_breakeven_at_full_utilization(wh):
    full = row(wh, "cheapest", 1.0)
    # Power 0.5 kW x 2 = 1 kW; opex per hour of use 1 x 1.5 x 0.10 + 0.50 / 1.0 = $0.65.
    assert (full["capex_usd"], full["power_kw"]) == (20_000, pytest.approx(1.0))
    assert full["own_opex_per_hour"] == pytest.approx(0.65)
    # Cheapest on-demand rent today $2.00 (spot and ended offers left out):
    # 20,000 / (2.00 - 0.65) = 14,814.8 hours, / (1.0 x 730) = 20.29 months, inside the 24-month life.
    assert (full["rent_usd_per_gpu_hour"], full["rent_provider"], full["n_offers"]) == (2.0, "cloudx", 2)
    assert full["breakeven_hours"] == pytest.approx(20_000 / 1.35)
    assert full["breakeven_months"] == pytest.approx(20_000 / 1.35 / 730)
    assert full["pays_back_within_life"] is True
    # 20,000 / (2 years x 8,760 h) = $1.1416 of capex in every owned hour.
    assert full["amortized_usd_per_hour"] == pytest.approx(20_000 / 17_520)


def test_half_utilization_spreads_operations_over_fewer_hours(wh):
    half = row(wh, "cheapest", 0.5)
    # Opex per hour used: 0.15 + 0.50 / 0.5 = $1.15; 20,000 / 0.85 = 23,529 hours of use, which at
    # 0.5 x 730 = 365 hours a month is 64.5 months: beyond the 2-year life.
    assert half["own_opex_per_hour"] == pytest.approx(1.15)
    assert half["breakeven_hours"] == pytest.approx(20_000 / 0.85)
    assert half["breakeven_months"] == pytest.approx(20_000 / 0.85 / 365)
    assert half["pays_back_within_life"] is False


def test_rent_below_opex_never_pays_back(wh):
    quarter = row(wh, "cheapest", 0.25)
    # 0.15 + 0.50 / 0.25 = $2.15 an hour of use, above the $2.00 rent.
    assert quarter["own_opex_per_hour"] == pytest.approx(2.15)
    assert (quarter["breakeven_hours"], quarter["breakeven_months"]) == (None, None)
    assert quarter["pays_back_within_life"] is False


def test_median_and_list_rents(wh):
    # Median of $2.00 and $2.50; list = the hyperscalers' median, here gcp's $2.50 alone.
    median, listed = row(wh, "median", 1.0), row(wh, "list", 1.0)
    assert median["rent_usd_per_gpu_hour"] == pytest.approx(2.25)
    assert median["breakeven_hours"] == pytest.approx(20_000 / 1.6)
    assert median["rent_provider"] is None
    assert listed["rent_usd_per_gpu_hour"] == pytest.approx(2.50)
    assert listed["breakeven_months"] == pytest.approx(20_000 / 1.85 / 730)


def test_only_accelerators_with_a_launch_price_and_a_rent(wh):
    # test-old16 has a rent but no launch price; test-idle80 a launch price but no offer.
    cards = wh.rows("select distinct accelerator from marts.breakeven_buy_vs_rent")
    assert cards == [{"accelerator": "test-gpu40"}]
    # 3 rent bases x 3 utilizations.
    assert wh.rows("select count(*) as n from marts.breakeven_buy_vs_rent")[0]["n"] == 9
