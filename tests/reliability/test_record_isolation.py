"""One poisoned record never fails its payload (issue 18).

Each parser reads a small payload in its real format (tests/fixtures/poisoned/) holding good records
and poisoned ones: a price that is not a number, a record that is not an object, a provider without
an id, a value too large for its column, a 9999-12-31 date, a look-alike id. The good rows all land,
and each poisoned record is one reject naming its rule, field, value and natural key. A CSV cut
mid-row is not a whole snapshot (``complete=False``); a payload whose every record is refused returns
its rejects instead of raising.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from sources import (
    accelerator_specs,
    azure,
    epoch,
    eval_results,
    genai_prices,
    gpu_curated,
    litellm,
    openrouter,
    runpod,
    skypilot,
    token_curated,
    vastai,
)
from sources.base import TRUNCATED, BadRecord, read_date
from sources.schemas import DATASETS

POISONED = Path(__file__).parents[1] / "fixtures" / "poisoned"
OBSERVED = datetime(2026, 1, 1, tzinfo=UTC)
PLACEHOLDER = "is outside 1990-01-01..2100-01-01: a placeholder, not a date"


def parse(module, name: str, body: bytes | None = None):
    path = POISONED / name
    return module.parse(path.read_bytes() if body is None else body, observed_at=OBSERVED, origin=str(path))


def keys(module, result) -> list[tuple]:
    key = DATASETS[module.DATASET].key
    return sorted(result.rows.select(key).rows())


def rejects(result) -> list[tuple]:
    return sorted(((r.rule, r.field, r.value, r.key) for r in result.rejects), key=str)


TOKEN = ("base", "standard", False)
CASES = {
    "genai_prices": (
        genai_prices,
        "genai_prices_v2.json",
        [
            ("genai_prices", "anthropic", "claude-sonnet-4-5", *TOKEN),
            ("genai_prices", "openai", "gpt-4o", *TOKEN),
            ("genai_prices", "openai", "o3", *TOKEN),
        ],
        [
            # A price change dated 9999-12-31 is a placeholder: the model's whole timeline is refused.
            ("bad_date", "start_date", "9999-12-31", {"source": "genai_prices", "provider": "openai", "model": "gpt-4o-mini"}),
            # A provider without an id: which keys it held is unknown, so its reject names only the source.
            ("missing_field", "id", None, {"source": "genai_prices"}),
        ],
    ),
    "litellm": (
        litellm,
        "litellm_prices.json",
        [("litellm", "anthropic", "claude-sonnet-4-5", *TOKEN), ("litellm", "openai", "gpt-4o", *TOKEN)],
        [
            ("does_not_fit", "context_window", 10**30, {"source": "litellm", "provider": "openai", "model": "o3"}),
            ("malformed_record", None, "['litellm_provider', 'openai']", {"source": "litellm", "model": "broken"}),
            ("not_a_number", "input_cost_per_token", "0.00000015 USD", {"source": "litellm", "provider": "openai", "model": "gpt-4o-mini"}),
        ],
    ),
    "openrouter": (
        openrouter,
        "openrouter_models.json",
        [
            ("openrouter", "openrouter", "anthropic/claude-sonnet-4.5", *TOKEN),
            ("openrouter", "openrouter", "openai/gpt-4o", *TOKEN),
        ],
        [
            ("lookalike_id", "id", "openai/gpt-4\u043e-mini", {"source": "openrouter", "provider": "openrouter", "model": "openai/gpt-4\u043e-mini"}),
            ("missing_field", "id", None, {"source": "openrouter", "provider": "openrouter"}),
        ],
    ),
    "token_curated": (
        token_curated,
        "curated_prices.csv",
        [("curated", "anthropic", "claude-sonnet-4-5", *TOKEN), ("curated", "openai", "o3", *TOKEN)],
        [("bad_date", "valid_from", "0001-01-01", {"source": "curated", "provider": "openai", "model": "gpt-4o"})],
    ),
    "skypilot": (
        skypilot,
        "skypilot_v8_aws_vms.csv",
        [
            ("skypilot", "aws", "g6.xlarge", "us-east-1", "use1-az1", "on_demand"),
            ("skypilot", "aws", "p4d.24xlarge", "us-east-1", "use1-az1", "on_demand"),
            ("skypilot", "aws", "p5.48xlarge", "us-east-1", "use1-az1", "on_demand"),
        ],
        [("lookalike_id", "accelerator_name", "\u041d100", {"source": "skypilot", "provider": "aws", "instance_type": "p5e.48xlarge", "region": "us-east-1", "zone": "use1-az1", "pricing_type": "on_demand"})],
    ),
    "azure": (
        azure,
        "azure_retail_prices_page.json",
        [
            ("azure", "azure", "Standard_NC24ads_A100_v4", "eastus", None, "on_demand"),
            ("azure", "azure", "Standard_ND96isr_H100_v5", "eastus", None, "on_demand"),
        ],
        [
            # Not silently undated any more: a non-date start is a reject.
            ("bad_date", "effectiveStartDate", "9999-12-31T00:00:00Z", {"source": "azure", "provider": "azure", "instance_type": "Standard_NC24ads_A100_v4", "region": "westus"}),
            ("bad_date", "effectiveStartDate", "soon", {"source": "azure", "provider": "azure", "instance_type": "Standard_ND96isr_H100_v5", "region": "westus"}),
        ],
    ),
    "vastai": (
        vastai,
        "vastai_bundles.json",
        [
            ("vastai", "vastai", "m22990/1x RTX 4090", "Texas, US", None, "marketplace"),
            ("vastai", "vastai", "m31002/2x RTX 3090", "Oslo, NO", None, "marketplace"),
        ],
        [
            ("malformed_record", None, "offer 11684738", {"source": "vastai", "provider": "vastai", "pricing_type": "marketplace"}),
            ("not_a_number", "dph_total", "about 15", {"source": "vastai", "provider": "vastai", "instance_type": "m31001/8x H100 SXM", "region": "Quebec, CA", "pricing_type": "marketplace"}),
        ],
    ),
    "runpod": (
        runpod,
        "runpod_graphql_gputypes.json",
        [
            ("runpod", "runpod", "NVIDIA H100 80GB HBM3", "community", None, "on_demand"),
            ("runpod", "runpod", "NVIDIA H100 80GB HBM3", "secure", None, "on_demand"),
            ("runpod", "runpod", "NVIDIA L4", "secure", None, "on_demand"),
        ],
        [
            ("missing_field", "id", None, {"source": "runpod", "provider": "runpod"}),
            ("not_a_number", "securePrice", {"usd": 1.64}, {"source": "runpod", "provider": "runpod", "instance_type": "NVIDIA A100 80GB PCIe"}),
        ],
    ),
    "gpu_curated": (
        gpu_curated,
        "curated_gpu_rates.csv",
        [
            ("curated", "aws", "p5.48xlarge", "us-east-1", None, "on_demand"),
            ("curated", "lambda", "gpu_8x_a100_80gb_sxm4", "", None, "on_demand"),
        ],
        [("bad_date", "effective_date", "9999-12-31", {"source": "curated", "provider": "lambda", "instance_type": "gpu_1x_h100_sxm5", "region": "", "pricing_type": "on_demand"})],
    ),
    "accelerator_specs": (
        accelerator_specs,
        "accelerators_curated.csv",
        [("curated", "amd-mi300x-192gb"), ("curated", "nvidia-h100-sxm-80gb")],
        [("does_not_fit", "tdp_w", "1E+12", {"source": "curated", "accelerator": "nvidia-l4-24gb"})],
    ),
    "epoch": (
        epoch,
        "epoch_ml_hardware.csv",
        [("epoch", "amd-mi300x-192gb"), ("epoch", "nvidia-h100-sxm-80gb")],
        # A launch price of 3.36e10 does not fit DECIMAL(18, 9): once a polars error that failed the payload.
        [("does_not_fit", "launch_price_usd", "3.36E+10", {"source": "epoch", "accelerator": "nvidia-a100-sxm-40gb"})],
    ),
    "eval_results": (
        eval_results,
        "eval_results.csv",
        [("aider", "claude-sonnet-4-5", "code-editing"), ("aider", "o3", "code-editing")],
        [("does_not_fit", "mean_input_tokens", "1E+12", {"source": "aider", "model": "gpt-4o", "task": "code-editing"})],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_one_poisoned_record_is_one_reject_and_the_rest_lands(case):
    module, name, expected_rows, expected_rejects = CASES[case]
    result = parse(module, name)
    assert keys(module, result) == expected_rows
    assert rejects(result) == sorted(expected_rejects, key=str)
    assert result.complete
    # A reject says in words which record it was and what was wrong with it.
    for reject in result.rejects:
        assert reject.reason and reject.source == module.NAME


def test_the_good_rows_keep_their_values():
    genai = parse(genai_prices, "genai_prices_v2.json").rows
    assert genai.filter(model="o3")["input_usd_per_mtok"].item() == Decimal("2")
    assert genai.filter(model="o3")["context_window"].item() == 200000
    assert parse(litellm, "litellm_prices.json").rows.filter(model="gpt-4o")[
        "input_usd_per_mtok"
    ].item() == Decimal("2.5")
    rates = parse(azure, "azure_retail_prices_page.json").rows
    assert rates.filter(instance_type="Standard_ND96isr_H100_v5")["valid_from"].item() == date(2026, 3, 1)
    evals = parse(eval_results, "eval_results.csv").rows
    assert evals.filter(model="o3")["mean_input_tokens"].item() == Decimal("9000")


def test_a_lookalike_id_is_named_by_its_character_and_never_sorts_first():
    result = parse(openrouter, "openrouter_models.json")
    (lookalike,) = [r for r in result.rejects if r.rule == "lookalike_id"]
    assert "U+043E CYRILLIC SMALL LETTER O" in lookalike.reason
    # The 0.01 USD/MTok fake is not among the prices of gpt-4o-mini or anything else.
    assert result.rows["input_usd_per_mtok"].min() == Decimal("2.5")


def test_a_fullwidth_id_is_read_as_the_plain_id():
    body = b'{"data": [{"id": "openai/\xef\xbd\x87pt-4o", "pricing": {"prompt": "0.0000025", "completion": "0.00001"}}]}'
    (row,) = parse(openrouter, "openrouter_models.json", body).rows.to_dicts()
    assert (row["model"], row["canonical_model"]) == ("openai/gpt-4o", "openai/gpt-4o")


def test_an_exception_the_parser_did_not_foresee_is_a_reject_naming_where():
    # A conditional price whose constraint is a list: indexing it by name raises TypeError in the parser.
    body = (
        b'[{"id": "openai", "models": [{"id": "o3", "prices": {"input_mtok": 2, "output_mtok": 8}},'
        b' {"id": "o1", "prices": [{"constraint": ["start_date"], "prices": {"input_mtok": 15}}]}]}]'
    )
    result = parse(genai_prices, "genai_prices_v2.json", body)
    assert result.rows["model"].to_list() == ["o3"]
    (reject,) = result.rejects
    assert reject.rule == "unreadable_record"
    assert reject.reason.startswith("openai/o1: TypeError in _split_prices (genai_prices.py:")
    assert reject.key == {"source": "genai_prices", "provider": "openai", "model": "o1"}


@pytest.mark.parametrize(
    ("module", "body", "expected"),
    [
        (
            litellm,
            b'{"a": {"litellm_provider": "openai", "input_cost_per_token": -1}, "b": [1], "c": {"input_cost_per_token": 1e-6}}',
            [
                ("malformed_record", None, "[1]", {"source": "litellm", "model": "b"}),
                ("missing_field", "litellm_provider", None, {"source": "litellm", "model": "c"}),
                ("negative_price", "input_cost_per_token", -1, {"source": "litellm", "provider": "openai", "model": "a"}),
            ],
        ),
        (
            openrouter,
            b'{"data": [{"id": "openrouter/auto", "pricing": {"prompt": "-1", "completion": "-1"}}, 7]}',
            [
                ("malformed_record", None, "7", {"source": "openrouter", "provider": "openrouter"}),
                ("placeholder_price", "pricing.prompt", "-1", {"source": "openrouter", "provider": "openrouter", "model": "openrouter/auto"}),
            ],
        ),
    ],
    ids=["litellm", "openrouter"],
)  # fmt: skip
def test_a_payload_whose_every_record_is_refused_returns_the_rejects(module, body, expected):
    result = module.parse(body, observed_at=OBSERVED, origin="fixture")
    assert result.rows.is_empty() and result.complete
    assert rejects(result) == sorted(expected, key=str)


def cut_mid_row(body: bytes) -> bytes:
    """The file as a transfer that stopped inside its last row leaves it: its last field is gone."""
    return body.rstrip(b"\r\n").rsplit(b",", 1)[0]


CSV_CASES = [
    (token_curated, "curated_prices.csv", 1),
    (gpu_curated, "curated_gpu_rates.csv", 1),
    (skypilot, "skypilot_v8_aws_vms.csv", 2),
    (accelerator_specs, "accelerators_curated.csv", 1),
    (epoch, "epoch_ml_hardware.csv", 1),
    (eval_results, "eval_results.csv", 1),
]


@pytest.mark.parametrize(("module", "name", "left"), CSV_CASES, ids=[c[1] for c in CSV_CASES])
def test_a_csv_cut_mid_row_is_incomplete_and_rejects_the_cut_row(module, name, left):
    whole = parse(module, name)
    result = parse(module, name, cut_mid_row((POISONED / name).read_bytes()))
    assert not result.complete and whole.complete
    (cut,) = [r for r in result.rejects if r.rule == TRUNCATED]
    assert cut.reason.endswith("the file ends inside it")
    # The rows before the cut still land: only the last one is gone.
    assert result.rows.height == whole.rows.height - 1 == left


def test_a_quote_left_open_at_the_end_is_a_cut_row():
    body = (
        POISONED / "curated_prices.csv"
    ).read_bytes() + b'google,gemini-2.5-pro,2025-06-17,"https://example.org/gem'
    result = parse(token_curated, "curated_prices.csv", body)
    assert not result.complete
    (cut,) = [r for r in result.rejects if r.rule == TRUNCATED]
    assert cut.key == {"source": "curated", "provider": "google", "model": "gemini-2.5-pro"}
    assert result.rows.height == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-06-01", date(2025, 6, 1)),
        ("2025-06-01T00:00:00Z", date(2025, 6, 1)),
        (date(1990, 1, 1), date(1990, 1, 1)),
        ("", None),
        (None, None),
    ],
)
def test_read_date_reads_iso_dates(value, expected):
    assert read_date(value, field="f") == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("9999-12-31", PLACEHOLDER),
        ("0001-01-01", PLACEHOLDER),
        ("2100-01-01", PLACEHOLDER),
        ("soon", "is not an ISO date"),
        ("2025-13-01", "is not an ISO date"),
        ("2025-06-01junk", "is not an ISO date"),
    ],
)
def test_read_date_refuses_what_is_not_a_plausible_date(value, says):
    with pytest.raises(BadRecord) as error:
        read_date(value, field="valid_from", label="line 2")
    assert (error.value.rule, error.value.field, error.value.value) == ("bad_date", "valid_from", value)
    assert error.value.reason == f"line 2: valid_from {value!r} {says}" + (
        " (YYYY-MM-DD)" if says.startswith("is not") else ""
    )


# The distinguishing key column of each dataset: a copy of a good row under another value of it is a
# key the warehouse held before and this payload no longer lists.
_DISTINCT = {
    "token_prices": "model",
    "gpu_rates": "instance_type",
    "accelerators": "accelerator",
    "eval_results": "model",
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_poisoned_payload_through_the_flow_lands_quarantines_holds_and_closes(case, costcurve_home):
    """The same payloads through the one flow into history: exactly the good keys are current, every
    parser reject is quarantined with its field, value and natural key, and a key the warehouse held
    that the payload no longer lists is closed unless a reject's key names it (or the payload closes
    nothing: mostly rejected, or a source with no snapshot scope)."""
    import json
    from datetime import timedelta

    import polars as pl

    from pipelines import flow
    from sources.http import Fetched
    from warehouse import db, history

    module, name, expected_rows, expected_rejects = CASES[case]
    dataset = DATASETS[module.DATASET]
    good = parse(module, name).rows
    column = _DISTINCT[dataset.name]
    vanished = good.head(1).with_columns(pl.lit("vanished-offer").alias(column))
    vanished_key = vanished.select(dataset.key).row(0, named=True)
    body = (POISONED / name).read_bytes()
    with db.working() as con:
        flow.ensure(con)
        history.merge(
            con, dataset, vanished, observed_at=OBSERVED - timedelta(days=1), payload_sha256="before",
            scope=module.SNAPSHOT_SCOPE,
        )  # fmt: skip
        run_id = flow.new_run_id("ingest")
        flow.begin_run(con, run_id, "ingest")
        feed = flow.Feed(module, [Fetched(str(POISONED / name), body)], "file", OBSERVED)
        staged, stats = flow.run(con, dataset.name, [feed], run_id=run_id)
        current = sorted(
            con.execute(
                f"select {', '.join(dataset.key)} from history.{dataset.name} where valid_to is null"
            ).fetchall()
        )
        quarantined = con.execute(
            "select rule, field, value, natural_key from quarantine.rejected_rows where run_id = ?", [run_id]
        ).fetchall()
    (outcome,) = staged.outcomes
    held = any(
        all(vanished_key.get(k) == v for k, v in key.items())
        for *_, key in expected_rejects
        if key is not None
    )
    closes = module.SNAPSHOT_SCOPE is not None and outcome.rows_rejected * 2 <= outcome.rows_in
    stays_open = held or not closes
    assert current == sorted([*expected_rows, *([tuple(vanished_key.values())] if stays_open else [])])
    assert stats.closed == (0 if stays_open else 1)
    for rule, field, value, key in expected_rejects:
        assert (rule, field, None if value is None else str(value), json.dumps(key, sort_keys=True)) in [
            (r, f, v, json.dumps(json.loads(k), sort_keys=True) if k else None) for r, f, v, k in quarantined
        ]
