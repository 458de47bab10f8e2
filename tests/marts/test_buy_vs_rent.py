"""marts.breakeven_buy_vs_rent on a tiny warehouse, with the arithmetic written out.

Assumptions (conftest.py, plus the lines below): $0.10/kWh, PUE 1.5, wall power 2 x TDP, $0.50 operations
per owned hour for a 500 W GPU (ops_reference_tdp_w), a host share of 25% of the GPU's price, 2-year
life, 730-hour months, utilization grid 0.25 / 0.5 / 1.0.

test-gpu40: 500 W, $20,000 card -> capex 20,000 x 1.25 = $25,000 (gpu_plus_host_share); power
0.5 kW x 2 x 1.5 x $0.10 = $0.15 per busy hour; operations 0.50 x 500 / 500 = $0.50 per owned hour.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest

SINCE = date(2026, 1, 1)
CAPEX = """
ops_reference_tdp_w = 500.0
host_share_of_gpu_price = 0.25
server_share_priced = ["test-srv80"]
"""


@pytest.fixture
def wh(tiny, tmp_path, monkeypatch):
    path = tmp_path / "capex.toml"
    path.write_text(CAPEX + Path(os.environ["COSTCURVE_ASSUMPTIONS"]).read_text())
    monkeypatch.setenv("COSTCURVE_ASSUMPTIONS", str(path))
    tiny.card("test-gpu40", memory_gb=40, memory_bandwidth_tbps=2, bf16_dense_tflops=500, tdp_w=500,
              launch_price_usd=20_000, source_url="https://example.test/gpu40")  # fmt: skip
    tiny.card("test-old16", memory_gb=16, memory_bandwidth_tbps=1, bf16_dense_tflops=2, tdp_w=300)
    tiny.card("test-idle80", memory_gb=80, memory_bandwidth_tbps=3, bf16_dense_tflops=900, tdp_w=700,
              launch_price_usd=30_000)  # fmt: skip
    # A price that already is a server's price / 8.
    tiny.card("test-srv80", memory_gb=80, memory_bandwidth_tbps=3, bf16_dense_tflops=900, tdp_w=700,
              launch_price_usd=30_000)  # fmt: skip
    tiny.rate("cloudx", "x1", "test-gpu40", 2.00, 1, SINCE)
    tiny.rate("gcp", "bb8", "test-gpu40", 2.50, 8, SINCE)
    tiny.rate("cloudx", "x1-spot", "test-gpu40", 0.80, 1, SINCE, pricing_type="spot")
    tiny.rate("azure", "r1", "test-gpu40", 1.20, 1, SINCE, pricing_type="reserved_1y")
    # An offer that ended yesterday is not a rent today.
    tiny.rate("gone", "g1", "test-gpu40", 1.00, 1, SINCE, valid_to=date.today() - timedelta(days=1))
    tiny.rate("oldco", "o1", "test-old16", 0.50, 1, SINCE)
    tiny.rate("lambda", "l1", "test-srv80", 4.00, 1, SINCE)
    assert tiny.build("breakeven_buy_vs_rent")["breakeven_buy_vs_rent"] > 0
    return tiny


def row(
    wh, basis: str, utilization: float, pricing_type: str = "on_demand", card: str = "test-gpu40"
) -> dict:
    (found,) = wh.rows(
        "select * from marts.breakeven_buy_vs_rent where accelerator = ? and pricing_type = ? and rent_basis = ?"
        " and utilization = ?",
        [card, pricing_type, basis, utilization],
    )
    return found


def test_capex_is_a_server_share_and_operations_scale_with_power(wh):
    full = row(wh, "cheapest", 1.0)
    assert (full["card_price_usd"], full["capex_usd"], full["capex_basis"]) == (
        20_000,
        pytest.approx(25_000),
        "gpu_plus_host_share",
    )
    assert full["capex_source"] == "https://example.test/gpu40"
    assert full["power_usd_per_busy_hour"] == pytest.approx(0.15)
    assert full["ops_usd_per_owned_hour"] == pytest.approx(0.50)
    # 25,000 / (2 years x 8,760 h) = $1.4269 of capex in every owned hour.
    assert full["amortized_usd_per_hour"] == pytest.approx(25_000 / 17_520)
    # A price that already is a server share is not marked up; a 700 W GPU carries 700/500 of the operations.
    server = row(wh, "cheapest", 1.0, card="test-srv80")
    assert (server["capex_usd"], server["capex_basis"]) == (30_000, "server_share_published")
    assert server["ops_usd_per_owned_hour"] == pytest.approx(0.70)


def test_breakeven_at_full_utilization(wh):
    full = row(wh, "cheapest", 1.0)
    # Rent 2.00 x 730 = $1,460 a month; owning (0.15 + 0.50) x 730 = $474.50; 25,000 / 985.50 = 25.37 months,
    # beyond the 24-month life; 25.37 x 730 = 18,518.5 hours of use (= 25,000 / 1.35).
    assert (full["rent_usd_per_gpu_hour"], full["rent_provider"], full["n_offers"]) == (2.0, "cloudx", 2)
    assert (full["rent_monthly_usd"], full["own_opex_monthly_usd"]) == (
        pytest.approx(1460),
        pytest.approx(474.5),
    )
    assert full["breakeven_months"] == pytest.approx(25_000 / 985.5)
    assert full["breakeven_hours"] == pytest.approx(25_000 / 1.35)
    assert full["pays_back_within_life"] is False
    server = row(wh, "cheapest", 1.0, card="test-srv80")
    # 4.00 x 730 = $2,920 against (0.21 + 0.70) x 730 = $664.30: 30,000 / 2,255.70 = 13.30 months.
    assert server["breakeven_months"] == pytest.approx(30_000 / 2255.7)
    assert server["pays_back_within_life"] is True


def test_operations_are_paid_every_owned_hour_not_divided_by_utilization(wh):
    half = row(wh, "cheapest", 0.5)
    # Rent 2.00 x 0.5 x 730 = $730; owning (0.15 x 0.5 + 0.50) x 730 = $419.75; 25,000 / 310.25 = 80.58 months.
    assert half["rented_share"] == 0.5
    assert (half["rent_monthly_usd"], half["own_opex_monthly_usd"]) == (
        pytest.approx(730),
        pytest.approx(419.75),
    )
    assert half["breakeven_months"] == pytest.approx(25_000 / 310.25)
    assert half["breakeven_hours"] == pytest.approx(25_000 / 310.25 * 365)
    assert half["ops_usd_per_owned_hour"] == pytest.approx(0.50)


def test_rent_below_the_cost_of_running_never_pays_back(wh):
    quarter = row(wh, "cheapest", 0.25)
    # Rent 2.00 x 0.25 x 730 = $365 a month, below owning's (0.0375 + 0.50) x 730 = $392.38.
    assert quarter["own_opex_monthly_usd"] == pytest.approx(392.375)
    assert (quarter["breakeven_hours"], quarter["breakeven_months"]) == (None, None)
    assert quarter["pays_back_within_life"] is False


def test_a_reservation_is_paid_for_every_hour_of_its_term(wh):
    reserved = row(wh, "cheapest", 0.25, "reserved_1y")
    # 1.20 x 1 x 730 = $876 a month whatever the use; 25,000 / (876 - 392.375) = 51.69 months.
    assert (reserved["rented_share"], reserved["rent_monthly_usd"]) == (1.0, pytest.approx(876))
    assert reserved["breakeven_months"] == pytest.approx(25_000 / 483.625)
    spot = row(wh, "cheapest", 1.0, "spot")
    # 0.80 x 730 = $584 against $474.50: 25,000 / 109.50 = 228.3 months.
    assert spot["breakeven_months"] == pytest.approx(25_000 / 109.5)


def test_median_and_list_rents(wh):
    # Median of $2.00 and $2.50; list = the hyperscalers' median, here gcp's $2.50 alone.
    median, listed = row(wh, "median", 1.0), row(wh, "list", 1.0)
    assert median["rent_usd_per_gpu_hour"] == pytest.approx(2.25)
    assert median["breakeven_months"] == pytest.approx(25_000 / ((2.25 - 0.65) * 730))
    assert median["rent_provider"] is None
    assert listed["rent_usd_per_gpu_hour"] == pytest.approx(2.50)
    assert listed["breakeven_months"] == pytest.approx(25_000 / (1.85 * 730))


def test_every_pricing_type_is_a_row(wh):
    # test-old16 has a rent but no launch price; test-idle80 a launch price but no offer.
    cards = wh.rows("select distinct accelerator from marts.breakeven_buy_vs_rent order by 1")
    assert cards == [{"accelerator": "test-gpu40"}, {"accelerator": "test-srv80"}]
    bases = wh.rows(
        "select pricing_type, list(distinct rent_basis order by rent_basis) as bases"
        " from marts.breakeven_buy_vs_rent where accelerator = 'test-gpu40' group by 1 order by 1"
    )
    assert [(b["pricing_type"], b["bases"]) for b in bases] == [
        ("on_demand", ["cheapest", "list", "median"]),
        ("reserved_1y", ["cheapest", "list", "median"]),
        ("spot", ["cheapest", "median"]),
    ]
    # (8 bases for test-gpu40 + 2 for test-srv80, whose provider is no hyperscaler) x 3 utilizations.
    assert wh.rows("select count(*) as n from marts.breakeven_buy_vs_rent")[0]["n"] == 30
