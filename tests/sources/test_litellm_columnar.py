"""Conformance of LiteLLM's columnar path: every payload gives the same rows (in the same order), the
same rejects and the same warnings as reading every entry through the per-record rules."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from polars.testing import assert_frame_equal

from sources import litellm

OBSERVED = datetime(2026, 11, 22, 6, tzinfo=UTC)
FIXTURES = (
    "litellm_conformance.json",
    "litellm_prices.json",
    "litellm_aliases_and_tiers.json",
    "litellm_bad_records.json",
    "litellm_many_warnings.json",
)


def parse(body: bytes):
    return litellm.parse(body, observed_at=OBSERVED, origin="fixture")


def outcome(result):
    rejects = [(r.rule, r.reason, r.field, r.value, r.record, r.key) for r in result.rejects]
    return result.rows, rejects, result.warnings


@pytest.mark.parametrize("name", FIXTURES)
def test_columnar_path_equals_the_per_record_rules(fixtures, monkeypatch, name):
    body = (fixtures / "token_prices" / name).read_bytes()
    columnar = outcome(parse(body))
    # No id counts as plain: every entry takes the per-record path.
    monkeypatch.setattr(litellm, "_plain", lambda text: False)
    per_record = outcome(parse(body))
    assert_frame_equal(columnar[0], per_record[0])
    assert columnar[1:] == per_record[1:]


def test_the_conformance_payload_exercises_both_paths(fixtures):
    body = (fixtures / "token_prices" / "litellm_conformance.json").read_bytes()
    entries = litellm._load(body, "fixture")
    items = [(k, e, False) for k, e in entries.items() if k != "sample_spec"]
    items += [(k, e, True) for k, e in entries.repeated]
    flat = litellm._Flat(items)
    fast = flat.rows()
    slow = {items[pos][0] for pos in flat.slow}
    assert slow == {
        "mistral/mistral-large",  # a count too large for its column
        "ｇｐｔ-4o-mini",  # not plain ASCII
        "gpt-4o-mini",  # the plain id the one above normalizes to
        "bad/negative",
        "bad/band",
        "bad/text",
        "bad/bool",
        "bad/list",
        "null/input",  # an empty price overrides what a tier inherits: per record
        "no-provider",
        "empty-provider",
        "not-an-object",
        "alias/gpt",
        "alias/missing",
        "dashscope/qwen-plus",  # tiered_pricing
        "deepseek/deepseek-reasoner",  # off_peak_pricing
        "gpt-4o",  # its repeat (the first one is columnar)
    }
    assert sorted(set(fast["model"])) == [
        "claude-sonnet-4-5",
        "deepseek/deepseek-chat",
        "gemini/gemini-2.5-pro",
        "gpt-4o",
        "gpt-4o-audio",
        "only-output",
        "text-embedding-3-small",
        "tiny/rounding",
    ]
    rows = {(r["model"], r["tier"], r["service_tier"]): r for r in fast.to_dicts()}
    gemini = rows[("gemini/gemini-2.5-pro", ">200k", "standard")]
    # The tier restates input and output, inherits the cache price, keeps its own batch price only.
    assert [
        str(gemini[c]) for c in ("input_usd_per_mtok", "output_usd_per_mtok", "cache_read_usd_per_mtok")
    ] == [
        "2.500000000",
        "15.000000000",
        "0.310000000",
    ]
    assert (str(gemini["batch_input_usd_per_mtok"]), gemini["batch_output_usd_per_mtok"]) == (
        "1.250000000",
        None,
    )
    assert gemini["context_window"] == 1048576 and gemini["max_output_tokens"] is None
    embedding = rows[("text-embedding-3-small", "base", "standard")]
    assert (embedding["output_usd_per_mtok"], embedding["batch_output_usd_per_mtok"]) == (None, None)
    assert (
        str(rows[("deepseek/deepseek-chat", "base", "standard")]["cache_read_usd_per_mtok"]) == "0.070000000"
    )
    # 2.5e-15 USD per token is 0.0000000025 per million: rounded half to even at nine places.
    assert rows[("tiny/rounding", "base", "standard")]["input_usd_per_mtok"] == Decimal("0.000000002")
    assert ("claude-sonnet-4-5", ">200k", "standard") in rows
    assert str(rows[("claude-sonnet-4-5", "base", "standard")]["cache_write_usd_per_mtok"]) == "3.750000000"
