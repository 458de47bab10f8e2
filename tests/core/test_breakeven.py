"""Buy vs rent and API vs self-hosting: opex, amortization, breakeven hours, months and volumes."""

from __future__ import annotations

import pytest

from core import scalar

# One H100 SXM in a DGX H100: 10.2 kW / 8 GPUs = 1.275 kW at the wall; capex 269k / 8 = 33,600 USD.
KW_PER_GPU, CAPEX_PER_GPU = 1.275, 33_600


class TestOwnOpexPerHour:
    def test_hand_computed(self, formula):
        # 1.275 kW x 1.3 PUE x $0.10/kWh + $0.96 ops = 0.16575 + 0.96
        assert formula("own_opex_per_hour", KW_PER_GPU, 1.3, 0.10, 0.96) == pytest.approx(1.12575)

    def test_pue_below_one_is_impossible(self, sql):
        with pytest.raises(ValueError, match="pue.*0.9"):
            scalar.own_opex_per_hour(KW_PER_GPU, 0.9, 0.10, 0.96)
        assert sql("own_opex_per_hour", KW_PER_GPU, 0.9, 0.10, 0.96) is None


class TestAmortizedUsdPerHour:
    def test_seed_003_node_tco(self, formula):
        # Seed 003: an 8 x H100 node at $675K over 3 years is $3.21062 per GPU-hour at 100% use.
        assert formula("amortized_usd_per_hour", 675_000 / 8, 3) == pytest.approx(3.210616, rel=1e-6)

    def test_seed_003_straight_line(self, formula):
        # Seed 003: $900K over 3 years is $300K a year.
        assert formula("amortized_usd_per_hour", 900_000, 3) * 8760 == pytest.approx(300_000)
        assert formula("amortized_usd_per_hour", 900_000, 6) * 8760 == pytest.approx(150_000)

    def test_salvage_value_is_not_depreciated(self, formula):
        # (33,600 - 10,080) / (3 x 8,760) = 23,520 / 26,280
        assert formula("amortized_usd_per_hour", CAPEX_PER_GPU, 3, 10_080) == pytest.approx(
            0.894977, rel=1e-6
        )

    def test_no_life_no_rate(self, formula):
        assert formula("amortized_usd_per_hour", CAPEX_PER_GPU, 0) is None


class TestBreakeven:
    OPEX = 1.12575

    def test_hours_against_hyperscaler_on_demand(self, formula):
        # $6.88/GPU-h (seed 003: AWS H100 on demand): 33,600 / (6.88 - 1.12575) = 33,600 / 5.75425
        assert formula("breakeven_hours", CAPEX_PER_GPU, 6.88, self.OPEX) == pytest.approx(5839.16, rel=1e-6)

    def test_months_at_90_percent(self, formula):
        # 5,839.16 h / (0.9 x 730 h a month)
        assert formula("breakeven_months", CAPEX_PER_GPU, 6.88, self.OPEX, 0.9) == pytest.approx(
            8.887614, rel=1e-6
        )

    def test_months_hand_computed(self, formula):
        # 10,000 / (3 - 1) = 5,000 h; 5,000 / (0.5 x 730)
        assert formula("breakeven_months", 10_000, 3, 1, 0.5) == pytest.approx(13.698630, rel=1e-6)
        assert formula("breakeven_months", 10_000, 3, 1, 0.5, 720) == pytest.approx(5000 / 360)

    @pytest.mark.parametrize("rent", [1.0, 1.12575])
    def test_rent_at_or_below_opex_never_breaks_even(self, formula, rent):
        assert formula("breakeven_hours", CAPEX_PER_GPU, rent, self.OPEX) is None
        assert formula("breakeven_months", CAPEX_PER_GPU, rent, self.OPEX, 0.9) is None

    def test_unused_hardware_never_breaks_even(self, formula):
        assert formula("breakeven_months", CAPEX_PER_GPU, 6.88, self.OPEX, 0) is None

    def test_utilization_above_one(self):
        with pytest.raises(ValueError, match="utilization.*1.1"):
            scalar.breakeven_months(CAPEX_PER_GPU, 6.88, self.OPEX, 1.1)


class TestApiVsSelfHost:
    def test_api_monthly(self, formula):
        # 50M tokens x $6/MTok
        assert formula("api_monthly_usd", 50_000_000, 6.0) == pytest.approx(300.0)

    @pytest.mark.parametrize(
        ("tokens", "expected"),
        [
            (0, 1460.0),  # one replica is always on
            (131_400_000, 1460.0),  # exactly one replica's capacity
            (131_400_001, 2920.0),  # one token more needs a second replica
            (1_000_000_000, 11680.0),  # 1e9 / 131.4e6 = 7.6 -> 8 replicas
        ],
    )
    def test_self_host_monthly_steps_by_replica(self, formula, tokens, expected):
        # A replica: $2/h x 730 h = $1,460; capacity 100 tok/s x 3,600 x 0.5 x 730 = 131.4M tokens.
        assert formula("self_host_monthly_usd", tokens, 2.0, 100, 0.5) == pytest.approx(expected)

    def test_self_host_monthly_without_capacity(self, formula):
        assert formula("self_host_monthly_usd", 1_000_000, 2.0, 100, 0) is None
        assert formula("self_host_monthly_usd", 1_000_000, 2.0, 0, 0.5) is None

    def test_breakeven_volume(self, formula):
        # $1,460 fixed / $6 per MTok = 243.3M tokens; with $1/MTok marginal: 1,460 / 5 x 1e6 = 292M.
        assert formula("breakeven_monthly_tokens", 1460, 6.0) == pytest.approx(243_333_333.33)
        assert formula("breakeven_monthly_tokens", 1460, 6.0, 1.0) == pytest.approx(292_000_000)

    @pytest.mark.parametrize("api_price", [1.0, 0.5])
    def test_api_never_dearer(self, formula, api_price):
        assert formula("breakeven_monthly_tokens", 1460, api_price, 1.0) is None

    def test_curves_cross_at_the_breakeven_volume(self):
        volume = scalar.breakeven_monthly_tokens(1460, 6.0)
        assert scalar.api_monthly_usd(volume, 6.0) == pytest.approx(
            scalar.self_host_monthly_usd(volume, 2.0, 100, 1)
        )
