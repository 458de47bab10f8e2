"""Aider's polyglot leaderboard YAML (sources/aider.py) on seven verbatim entries of the real file
(tests/fixtures/evals/aider_polyglot.yml, Aider-AI/aider@f5a512ba) and on the embedded default."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from sources import aider
from sources.base import SourceError

FIXTURE = Path(__file__).parents[1] / "fixtures" / "evals" / "aider_polyglot.yml"
SEEN = datetime(2026, 1, 1, tzinfo=UTC)


def parsed(body: bytes):
    result = aider.parse(body, observed_at=SEEN, origin="test")
    return {r["model"]: r for r in result.rows.iter_rows(named=True)}, result.rejects


def test_a_run_with_only_its_cost_keeps_the_cost_per_attempt_and_leaves_tokens_to_derive():
    rows, _ = parsed(FIXTURE.read_bytes())
    o3 = rows["o3 (high)"]
    assert o3["canonical_model"] == "openai/o3"
    assert o3["task"] == "aider-polyglot" and o3["source"] == "aider-polyglot-leaderboard"
    # 179 of 225 exercises solved within two tries; the run cost $111.0325.
    assert o3["pass_rate"] == Decimal("0.795555556")
    assert o3["n"] == 225
    assert o3["cost_per_attempt_usd"] == Decimal("0.493477778")  # 111.0325 / 225
    assert o3["tokens_basis"] == "derived_from_cost"
    assert o3["mean_input_tokens"] is None and o3["mean_output_tokens"] is None
    assert o3["valid_from"] == date(2025, 4, 16)


def test_a_run_with_token_counts_is_measured_per_attempt():
    rows, _ = parsed(FIXTURE.read_bytes())
    sonnet = rows["claude-sonnet-4-20250514 (32k thinking)"]
    assert sonnet["canonical_model"] == "anthropic/claude-sonnet-4"
    assert sonnet["tokens_basis"] == "measured"
    assert sonnet["mean_input_tokens"] == Decimal("12724.746666667")  # 2,863,068 / 225
    assert sonnet["mean_output_tokens"] == Decimal("5649.217777778")  # 1,271,074 / 225
    assert sonnet["cost_per_attempt_usd"] == Decimal("0.118113333")  # 26.5755 / 225
    assert sonnet["pass_rate"] == Decimal("0.613333333")  # 138 / 225
    # Priced at 0 by Aider but with token counts: measured tokens, no published cost.
    qwen = rows["Qwen3 235B A22B diff, no think, Alibaba API"]
    assert qwen["canonical_model"] == "qwen/qwen3-235b-a22b"
    assert qwen["cost_per_attempt_usd"] is None and qwen["tokens_basis"] == "measured"


def test_an_architect_and_editor_pair_maps_to_no_model():
    rows, _ = parsed(FIXTURE.read_bytes())
    assert rows["o3 (high) + gpt-4.1"]["canonical_model"] is None


def test_runs_with_neither_cost_nor_tokens_are_rejected_not_priced_at_zero():
    rows, rejects = parsed(FIXTURE.read_bytes())
    assert len(rows) == 4
    assert sorted((r.rule, r.key["model"]) for r in rejects) == [
        ("no_cost", "Qwen2.5-Coder-32B-Instruct"),
        ("no_cost", "Qwen2.5-Coder-32B-Instruct"),
        ("no_cost", "qwen-max-2025-01-25"),
    ]


def test_of_two_runs_under_one_label_the_newest_is_kept():
    body = b"""
- model: acme-1 (high)
  test_cases: 100
  pass_num_2: 40
  total_cost: 5.0
  date: 2025-01-01
- model: acme-1 (high)
  test_cases: 100
  pass_num_2: 60
  total_cost: 8.0
  date: 2025-03-01
"""
    rows, rejects = parsed(body)
    assert rows["acme-1 (high)"]["pass_rate"] == Decimal("0.6")
    assert rows["acme-1 (high)"]["valid_from"] == date(2025, 3, 1)
    assert [r.rule for r in rejects] == ["duplicate_key"]


@pytest.mark.parametrize(
    ("label", "mapped"),
    [
        ("o3 (high)", "o3"),
        ("DeepSeek R1 (0528)", "deepseek-r1"),
        ("Qwen3 235B A22B diff, no think, Alibaba API", "qwen3-235b-a22b"),
        ("gemini-2.5-pro-preview-06-05 (32k think)", "gemini-2.5-pro-preview-06-05"),
        ("o3 (high) + gpt-4.1", None),
    ],
)
def test_labels_become_ids_for_the_identity_rules(label, mapped):
    assert aider.model_id(label) == mapped


def test_the_embedded_default_is_fourteen_real_runs_with_provenance():
    (payload,) = aider.embedded()
    assert payload.origin.startswith("https://github.com/Aider-AI/aider/blob/f5a512ba")
    assert payload.observed_at == datetime(2025, 6, 25, 21, 4, 48, tzinfo=UTC)
    rows, rejects = parsed(payload.body)
    assert len(rows) == 14 and rejects == []
    assert rows["o3 (high)"]["cost_per_attempt_usd"] == Decimal("0.493477778")
    assert sum(r["tokens_basis"] == "measured" for r in rows.values()) == 5
    assert sum(r["canonical_model"] is None for r in rows.values()) == 1


def test_a_file_that_is_not_a_list_of_runs_fails_the_payload():
    with pytest.raises(SourceError, match="list of runs"):
        aider.parse(b"model: o3\n", observed_at=SEEN, origin="test")
