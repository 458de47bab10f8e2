"""tokens_from_cost: the tokens a published eval cost buys at the prices of the run's date."""

from __future__ import annotations

import pytest

from core import scalar


def test_tokens_from_cost_divides_the_cost_by_the_blended_price():
    # $0.50 at $10 in / $40 out with half the tokens input: blended $25/MTok, 0.5 x 1e6 / 25 = 20,000 tokens,
    # 10,000 in and 10,000 out, which cost 10,000 x 10 / 1e6 + 10,000 x 40 / 1e6 = $0.10 + $0.40 = $0.50.
    assert scalar.tokens_from_cost(0.5, 10, 40, 0.5) == pytest.approx(20_000)
    assert scalar.cost_per_request(10_000, 10_000, 10, 40) == pytest.approx(0.5)


def test_o3_high_polyglot_attempt_at_the_april_2025_price():
    # $111.0325 / 225 attempts = $0.493478 at o3's $10 / $40 with input share 0.69:
    # blended 0.69 x 10 + 0.31 x 40 = $19.30/MTok, 0.493478 x 1e6 / 19.3 = 25,568.8 tokens per attempt.
    tokens = scalar.tokens_from_cost(111.0325 / 225, 10, 40, 0.69)
    assert tokens == pytest.approx(25_568.8, abs=0.1)
    # Re-priced at the 2025-06-10 price ($2 / $8) the same tokens cost a fifth: 80% less.
    after = scalar.cost_per_request(0.69 * tokens, 0.31 * tokens, 2, 8)
    assert after == pytest.approx(111.0325 / 225 / 5)


def test_no_token_count_follows_from_a_zero_price_or_a_negative_cost():
    assert scalar.tokens_from_cost(1.0, 0, 0, 0.5) is None
    assert scalar.tokens_from_cost(-1.0, 10, 40, 0.5) is None
    assert scalar.tokens_from_cost(0.0, 10, 40, 0.5) == 0
    with pytest.raises(ValueError, match="input_share"):
        scalar.tokens_from_cost(1.0, 10, 40, 1.2)
