"""Each business rule is written once. The copies issue 13 found (first party as
`provider = split_part(canonical_model, '/', 1)` or an alias list, a source-precedence CASE, the curated-first
spec preference, the as-of predicate, a literal MCI base date) are searched for across the models, the
pipelines, the core and the SQL cookbook; each may appear only in the one file that defines it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEARCHED = [
    *sorted((ROOT / "dbt_like_models").rglob("*.sql")),
    *sorted((ROOT / "pipelines").rglob("*.py")),
    *sorted((ROOT / "core").rglob("*.py")),
    ROOT / "docs" / "sql_cookbook.md",
]
SOURCES = r"'(?:genai_prices|curated|litellm|openrouter)'"

# rule -> (the pattern of a definition, the only files allowed to hold one)
RULES = {
    # The creator is the first segment of canonical_model; comparing a seller with it is "first party".
    "first party": (
        r"split_part\(\s*(?:\w+\.)?canonical_(?:model|id)\s*,\s*'/'\s*,\s*1\s*\)",
        {"dbt_like_models/intermediate/int_token_price_of_record.sql"},
    ),
    # Provider ids that differ from creator ids live in seeds/provider_creators.csv, not in code.
    "first-party aliases": (r"\(\s*'(?:mistral|meta|zai)'\s*,\s*'(?:mistralai|meta-llama|z-ai)'\s*\)", set()),
    "source precedence": (
        rf"when\s+{SOURCES}\s+then\s+\d|source\s*=\s*'(?:genai_prices|litellm|openrouter)'\s*\)?\s+desc",
        set(),
    ),
    "spec preference": (
        r"source\s*=\s*'curated'\s*\)?\s+desc",
        {"dbt_like_models/intermediate/int_accelerator_spec_of_record.sql"},
    ),
    "as-of predicate": (
        r"valid_to\s+is\s+null\s+or\s+(?:\w+\.)?valid_to\s*>|"
        r"coalesce\(\s*(?:\w+\.)?valid_from\s*,\s*date\s*'0001-01-01'\s*\)\s*<=",
        {"dbt_like_models/macros/as_of.sql"},
    ),
    # The base month is the assumption set's mci_base_date (its default in core/assumptions.py); no model
    # or program names a month itself.
    "MCI base date": (
        r"mci_base_date\s*(?::\s*\w+\s*)?=|(?:date\s*)?'\d{4}-\d{2}-\d{2}'\s*(?:::\s*date\s*)?as\s+base_date",
        {"core/assumptions.py"},
    ),
}


def definitions(pattern: str) -> dict[str, list[int]]:
    """Files (relative to the repository) holding the pattern, with the lines it starts on."""
    found: dict[str, list[int]] = {}
    for path in SEARCHED:
        text = path.read_text()
        lines = {text.count("\n", 0, m.start()) + 1 for m in re.finditer(pattern, text, re.I)}
        if lines:
            found[str(path.relative_to(ROOT))] = sorted(lines)
    return found


@pytest.mark.parametrize("rule", list(RULES))
def test_rule_is_defined_in_one_place(rule):
    pattern, allowed = RULES[rule]
    found = definitions(pattern)
    assert set(found) <= allowed, f"{rule} written outside {sorted(allowed) or 'code'}: {found}"
    assert all(len(lines) == 1 for lines in found.values()), f"{rule} written twice: {found}"


def test_the_defining_files_still_hold_their_rule():
    # A rule moved elsewhere under another spelling would pass the test above vacuously.
    for rule in ("first party", "spec preference", "as-of predicate"):
        pattern, allowed = RULES[rule]
        assert set(definitions(pattern)) == allowed, rule
    assert (ROOT / "dbt_like_models" / "seeds" / "source_precedence.csv").exists()
    assert (
        "from meta.assumptions" in (ROOT / "dbt_like_models/marts/margin_compression_index.sql").read_text()
    )


@pytest.mark.parametrize(
    "copy",
    [
        "and provider = split_part(canonical_model, '/', 1)",
        "order by case p.source when 'genai_prices' then 1 when 'curated' then 2 else 3 end",
        "qualify row_number() over (partition by accelerator order by (source = 'curated') desc, source) = 1",
        "where coalesce(valid_from, date '0001-01-01') <= d and (valid_to is null or valid_to > d)",
        "left join (values ('mistral', 'mistralai')) alias(provider, creator)",
        "select date '2025-01-01' as base_date",
    ],
)
def test_the_patterns_catch_the_copies_issue_13_found(copy):
    assert any(re.search(pattern, copy, re.I) for pattern, _ in RULES.values())
