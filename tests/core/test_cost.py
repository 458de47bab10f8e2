"""Hosted-model cost formulas: seed golden values and hand-computed cases, edges included."""

from __future__ import annotations

import polars as pl
import pytest

from core import cost_per_correct, scalar


class TestCostPerUsefulMtok:
    # Seed 000's worked example ("The Real Cost Equation"): 3125/183744 and 625/37224 USD per 1k useful
    # tokens, i.e. x1000 per million.
    @pytest.mark.parametrize(
        ("usd_per_hour", "tps", "utilization", "pass_rate", "exact", "rounded"),
        [
            (2.50, 220, 0.32, 0.58, 3125 / 183744 * 1000, 17.0074),
            (7.00, 140, 0.88, 0.94, 625 / 37224 * 1000, 16.7902),
        ],
    )
    def test_seed_000_golden(self, formula, usd_per_hour, tps, utilization, pass_rate, exact, rounded):
        value = formula("cost_per_useful_mtok", usd_per_hour, tps, utilization, pass_rate)
        assert value == pytest.approx(exact, rel=1e-12)
        assert round(value, 4) == rounded

    def test_acceptance_query_rounds_to_17_0074(self, duck):
        value = duck.execute("select cost_per_useful_mtok(2.5, 220, 0.32, 0.58)").fetchone()[0]
        assert round(value, 4) == 17.0074

    def test_seed_sensitivities(self, formula):
        # Raw sticker cost (no idle time, every token useful), then utilization only: 1k figures x 1000.
        assert formula("cost_per_useful_mtok", 2.50, 220, 1, 1) == pytest.approx(3.156566, rel=1e-6)
        assert formula("cost_per_useful_mtok", 7.00, 140, 1, 1) == pytest.approx(13.888889, rel=1e-6)
        assert formula("cost_per_useful_mtok", 2.50, 220, 0.32, 1) == pytest.approx(9.864268, rel=1e-6)
        assert formula("cost_per_useful_mtok", 7.00, 140, 0.88, 1) == pytest.approx(15.782828, rel=1e-6)

    @pytest.mark.parametrize(
        ("tps", "utilization", "pass_rate"), [(220, 0, 0.5), (220, 0.5, 0), (0, 0.5, 0.5)]
    )
    def test_no_useful_tokens_gives_null(self, formula, tps, utilization, pass_rate):
        assert formula("cost_per_useful_mtok", 2.5, tps, utilization, pass_rate) is None

    def test_shares_outside_unit_interval(self, sql):
        with pytest.raises(ValueError, match="utilization.*1.5"):
            scalar.cost_per_useful_mtok(2.5, 220, 1.5, 0.5)
        with pytest.raises(ValueError, match="pass_rate.*-0.1"):
            scalar.cost_per_useful_mtok(2.5, 220, 0.5, -0.1)
        assert sql("cost_per_useful_mtok", 2.5, 220, 1.5, 0.5) is None


class TestBlendedPrice:
    def test_three_to_one_default(self, formula):
        # 0.75 x 3 + 0.25 x 15 = 2.25 + 3.75
        assert formula("blended_price", 3.0, 15.0) == pytest.approx(6.0)

    def test_explicit_share(self, formula):
        assert formula("blended_price", 3.0, 15.0, 0.5) == pytest.approx(9.0)
        assert formula("blended_price", 3.0, 15.0, 1.0) == pytest.approx(3.0)

    def test_share_out_of_range(self, sql):
        with pytest.raises(ValueError, match="input_share.*1.2"):
            scalar.blended_price(3.0, 15.0, 1.2)
        assert sql("blended_price", 3.0, 15.0, 1.2) is None

    def test_sql_default_matches_python(self, duck):
        assert duck.execute("select blended_price(3, 15)").fetchone()[0] == pytest.approx(6.0)
        assert duck.execute("select blended_price(3, 15, input_share := 0.5)").fetchone()[0] == pytest.approx(
            9.0
        )


class TestCostPerRequest:
    def test_seed_003_gpt4_turbo(self, formula):
        # Seed 003: 30K input + 2K output at $10/$30 per MTok costs $0.36.
        assert formula("cost_per_request", 30_000, 2_000, 10.0, 30.0) == pytest.approx(0.36)

    def test_cached_tokens_at_cache_price(self, formula):
        # 10,000 input of which 8,000 cached at $0.30, 2,000 fresh at $3, 500 output at $15:
        # (2,000 x 3 + 8,000 x 0.3 + 500 x 15) / 1e6 = (6,000 + 2,400 + 7,500) / 1e6
        assert formula("cost_per_request", 10_000, 500, 3.0, 15.0, 8_000, 0.30) == pytest.approx(0.0159)

    def test_cached_tokens_without_cache_price_bill_at_input_price(self, formula):
        # (10,000 x 3 + 500 x 15) / 1e6
        assert formula("cost_per_request", 10_000, 500, 3.0, 15.0, 8_000, None) == pytest.approx(0.0375)

    def test_seed_003_cache_plus_batch_discount(self, formula):
        # Seed 003: Claude 3.5 Sonnet $3.00 input -> $0.30 cached -> $0.15 cached on the batch API (95% off).
        assert formula("cost_per_request", 1_000_000, 0, 1.50, 7.50, 1_000_000, 0.15) == pytest.approx(0.15)

    def test_cached_more_than_input(self, sql):
        with pytest.raises(ValueError, match="cached_tokens.*12000"):
            scalar.cost_per_request(10_000, 500, 3.0, 15.0, 12_000, 0.3)
        assert sql("cost_per_request", 10_000, 500, 3.0, 15.0, 12_000, 0.3) is None


class TestCostPerCorrect:
    def test_seed_003_deepseek_vs_opus(self, formula):
        # Seed 003: $0.28/MTok at 79% success vs $25/MTok at 100%.
        assert round(formula("cost_per_correct", 0.28, 0.79), 6) == 0.354430
        assert formula("cost_per_correct", 25.0, 1.0) == pytest.approx(25.0)

    def test_pass_rate_zero_has_no_finite_cost(self, formula):
        assert formula("cost_per_correct", 0.02, 0.0) is None

    def test_pass_rate_outside_unit_interval(self, sql):
        with pytest.raises(ValueError, match="pass_rate.*1.2"):
            scalar.cost_per_correct(0.02, 1.2)
        assert sql("cost_per_correct", 0.02, 1.2) is None
        assert sql("cost_per_correct", 0.02, -0.5) is None

    def test_expression_gives_null_not_infinity_per_row(self):
        frame = pl.DataFrame({"cost": [0.02, 0.02, 0.02], "rate": [0.5, 0.0, 1.5]})
        out = frame.select(cost_per_correct("cost", "rate").alias("v"))["v"].to_list()
        assert out == [pytest.approx(0.04), None, None]


class TestCascade:
    def test_hand_computed(self, formula):
        # expected cost 0.001 + 0.4 x 0.02 = 0.009; success 0.6 + 0.4 x 0.9 = 0.96; 0.009 / 0.96
        assert formula("cascade_cost_per_correct", 0.001, 0.6, 0.02, 0.9) == pytest.approx(0.009375)

    def test_small_model_always_right_costs_only_the_small_model(self, formula):
        assert formula("cascade_cost_per_correct", 0.001, 1.0, 0.02, 0.9) == pytest.approx(0.001)

    def test_free_useless_small_model_reduces_to_large_model_alone(self, formula):
        assert formula("cascade_cost_per_correct", 0.0, 0.0, 0.02, 0.8) == pytest.approx(
            scalar.cost_per_correct(0.02, 0.8)
        )

    def test_nobody_ever_right(self, formula):
        assert formula("cascade_cost_per_correct", 0.001, 0.0, 0.02, 0.0) is None

    def test_pass_rate_outside_unit_interval(self):
        with pytest.raises(ValueError, match="large_pass.*2"):
            scalar.cascade_cost_per_correct(0.001, 0.5, 0.02, 2)


class TestImpliedGrossMargin:
    def test_seed_003_example(self, formula):
        # Seed 003: price 99, token cost 20 -> (99 - 20) / 99, quoted as 80%.
        assert formula("implied_gross_margin", 99.0, 20.0) == pytest.approx(0.797980, rel=1e-6)

    def test_selling_below_cost_is_negative(self, formula):
        assert formula("implied_gross_margin", 1.0, 1.5) == pytest.approx(-0.5)

    def test_free_price_has_no_margin(self, formula):
        assert formula("implied_gross_margin", 0.0, 1.0) is None
