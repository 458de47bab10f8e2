"""payback_months: buy vs rent from monthly cash flows, operations paid every owned hour."""

from __future__ import annotations

import pytest

from core import scalar


def test_pay_per_use_rent_at_full_and_half_utilization():
    # Rent $2.00 for every hour used; power $0.15 per busy hour; operations $0.50 per owned hour.
    # 100%: (2.00 - 0.15 - 0.50) x 730 = $985.50 a month saved, 20,000 / 985.50 = 20.29 months.
    assert scalar.payback_months(20_000, 2.0, 1.0, 0.15, 0.5, 1.0) == pytest.approx(20_000 / 985.5)
    # 50%: (2.00 x 0.5 - 0.15 x 0.5 - 0.50) x 730 = $310.25, 64.46 months.
    assert scalar.payback_months(20_000, 2.0, 0.5, 0.15, 0.5, 0.5) == pytest.approx(20_000 / 310.25)


def test_a_reservation_is_paid_every_hour_so_owning_can_win_at_low_utilization():
    # 10% use: a $1.20 reservation costs 1.20 x 730 = $876; owning (0.015 + 0.50) x 730 = $375.95.
    assert scalar.payback_months(20_000, 1.2, 1.0, 0.15, 0.5, 0.1) == pytest.approx(20_000 / (876 - 375.95))
    # The same rent paid per use saves nothing: 1.20 x 0.1 x 730 = $87.60 < $375.95.
    assert scalar.payback_months(20_000, 1.2, 0.1, 0.15, 0.5, 0.1) is None


def test_shares_outside_zero_to_one_are_mistakes():
    with pytest.raises(ValueError, match="rented_share"):
        scalar.payback_months(20_000, 2.0, 1.5, 0.15, 0.5, 1.0)
    assert scalar.payback_months(20_000, 2.0, 1.0, 0.15, 0.5, 1.0, hours_per_month=0) is None
