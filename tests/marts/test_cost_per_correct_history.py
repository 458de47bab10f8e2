"""Eval runs re-priced over time (intermediate.int_eval_runs, marts.cost_per_correct_output_history), on
the tiny warehouse of conftest.py with derived_tokens_input_share = 0.5. Every number is worked by hand.

acme/acme-1 lists at $10 in / $40 out from 2025-04-16 and at $1 / $8 from 2025-06-10 (genai_prices; the curated
source states the same $1 / $8 from 2025-09-01).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

CUT = date(2025, 6, 10)


def run(wh, **values) -> None:
    row = {
        "source": "aider-polyglot-leaderboard",
        "model": "acme-1 (high)",
        "canonical_model": "acme/acme-1",
        "task": "aider-polyglot",
        "n": 200,
        "source_url": "https://example.test/leaderboard",
    }
    wh.insert("eval_results", **(row | values))


@pytest.fixture
def wh(tiny, tmp_path, monkeypatch):
    path = tmp_path / "share.toml"
    path.write_text(
        "derived_tokens_input_share = 0.5\n" + Path(os.environ["COSTCURVE_ASSUMPTIONS"]).read_text()
    )
    monkeypatch.setenv("COSTCURVE_ASSUMPTIONS", str(path))
    tiny.price("acme", "acme/acme-1", 10.0, 40.0, date(2025, 4, 16), valid_to=CUT)
    tiny.price("acme", "acme/acme-1", 1.0, 8.0, CUT)
    # Another source states the same price later: the price of record changes hands, the prices do not.
    tiny.price("acme", "acme/acme-1", 1.0, 8.0, date(2025, 9, 1), source="curated")
    # Published only its cost, $0.50 an attempt, on 2025-04-20; replaced by a measured re-run on 2025-06-25.
    run(
        tiny,
        pass_rate=0.8,
        tokens_basis="derived_from_cost",
        cost_per_attempt_usd=0.5,
        valid_from=date(2025, 4, 20),
        valid_to=date(2025, 6, 25),
    )
    run(
        tiny,
        pass_rate=0.5,
        tokens_basis="measured",
        mean_input_tokens=1000,
        mean_output_tokens=500,
        cost_per_attempt_usd=0.005,
        valid_from=date(2025, 6, 25),
    )
    # A pair of models that maps to no canonical id.
    run(
        tiny,
        model="acme-1 + acme-2",
        canonical_model=None,
        pass_rate=0.9,
        tokens_basis="derived_from_cost",
        cost_per_attempt_usd=1.0,
        valid_from=date(2025, 5, 1),
    )
    tiny.build("cost_per_correct_output_history", "cost_per_correct_output", "unmapped_models")
    return tiny


def test_tokens_are_derived_from_the_published_cost_at_the_prices_of_the_run_date(wh):
    (april,) = wh.rows("select * from intermediate.int_eval_runs where run_date = date '2025-04-20'")
    # $0.50 / (0.5 x 10 + 0.5 x 40 = $25/MTok) = 20,000 tokens: 10,000 in, 10,000 out.
    assert april["mean_input_tokens"] == pytest.approx(10_000)
    assert april["mean_output_tokens"] == pytest.approx(10_000)
    assert (april["derived_at_input_usd_per_mtok"], april["derived_at_output_usd_per_mtok"]) == (10.0, 40.0)
    assert april["current"] is False


def test_a_run_is_repriced_at_every_price_change_since_it_ran(wh):
    rows = wh.rows(
        "select * from marts.cost_per_correct_output_history where run_date = date '2025-04-20' order by valid_from"
    )
    assert [(r["valid_from"], r["valid_to"]) for r in rows] == [(date(2025, 4, 20), CUT), (CUT, None)]
    before, after = rows
    assert (before["price_source"], after["price_source"]) == ("genai_prices", "curated")
    # Before the cut the derived tokens cost what was published: $0.50 / 0.8 = $0.625 per correct answer.
    assert before["cost_per_attempt_usd"] == pytest.approx(0.5)
    assert before["cost_per_correct_usd"] == pytest.approx(0.625)
    assert before["published_cost_per_correct_usd"] == pytest.approx(0.625)
    # After: 10,000 x $1 / 1e6 + 10,000 x $8 / 1e6 = $0.09 an attempt, $0.1125 per correct answer, 82% less.
    assert after["cost_per_attempt_usd"] == pytest.approx(0.09)
    assert after["cost_per_correct_usd"] == pytest.approx(0.1125)
    assert after["cost_per_correct_at_run_usd"] == pytest.approx(0.625)
    assert after["change_since_run"] == pytest.approx(-0.82)


def test_a_measured_run_after_the_cut_has_one_period(wh):
    (june,) = wh.rows(
        "select * from marts.cost_per_correct_output_history where run_date = date '2025-06-25'"
    )
    # 1,000 x $1 / 1e6 + 500 x $8 / 1e6 = $0.005 an attempt; / 0.5 = $0.01 per correct answer.
    assert june["valid_from"] == date(2025, 6, 25) and june["valid_to"] is None
    assert june["cost_per_correct_usd"] == pytest.approx(0.01)
    assert june["change_since_run"] == pytest.approx(0.0)
    assert june["run_current"] is True


def test_the_current_mart_prices_the_current_run_today(wh):
    (row,) = wh.rows("select * from marts.cost_per_correct_output where price_mode = 'list'")
    assert row["tokens_basis"] == "measured"
    assert row["cost_per_correct_usd"] == pytest.approx(0.01)


def test_an_unmapped_leaderboard_name_is_listed_with_its_eval_source(wh):
    rows = wh.rows("select * from marts.unmapped_models where dataset = 'eval_results'")
    assert [(r["source"], r["model"]) for r in rows] == [("aider-polyglot-leaderboard", "acme-1 + acme-2")]
    assert (
        wh.rows("select * from marts.cost_per_correct_output_history where model = 'acme-1 + acme-2'") == []
    )
