"""The row-level rules of pipelines/rules.py, one behaviour at a time, against a small history."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pipelines import flow, rules
from sources.schemas import ACCELERATORS, GPU_RATES, TOKEN_PRICES
from warehouse import db, history

SEEN = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "w.duckdb")
    flow.ensure(connection)
    yield connection
    connection.close()


def token(model="o3", input="2", output="8", valid_from=None, **extra):
    return {
        "source": "litellm", "provider": "openai", "model": model, "canonical_model": f"openai/{model}",
        "tier": "base", "service_tier": "standard", "off_peak": False, "mode": "chat", "currency": "USD",
        "input_usd_per_mtok": None if input is None else Decimal(input),
        "output_usd_per_mtok": None if output is None else Decimal(output),
        "valid_from": valid_from, **extra,
    }  # fmt: skip


def rate(instance="p5.4xlarge", accelerator="nvidia-h100-sxm-80gb", per_gpu="6.88", **extra):
    return {
        "source": "skypilot", "provider": "aws", "instance_type": instance, "region": "us-east-1",
        "pricing_type": "on_demand", "accelerator": accelerator, "accelerator_name": "H100",
        "gpu_count": Decimal(1), "usd_per_instance_hour": Decimal(per_gpu),
        "usd_per_gpu_hour": Decimal(per_gpu), "currency": "USD", **extra,
    }  # fmt: skip


def remember(con, dataset, records):
    history.merge(con, dataset, dataset.frame(records), observed_at=SEEN, payload_sha256="day1")


def check(con, dataset, records):
    passed, rejects = rules.apply(con, dataset.name, dataset.frame(records))
    return passed, {
        (r.record.get("model") or r.record.get("instance_type") or r.record.get("accelerator")): r
        for r in rejects
    }


@pytest.mark.parametrize(
    ("new_input", "held"),
    [("100", True), ("0.04", True), ("99.99", False), ("0.0401", False), ("2", False)],
    ids=["x50-up", "x50-down", "under-x50", "under-x50-down", "same"],
)
def test_a_token_price_that_moves_50x_against_history_is_held_back(con, new_input, held):
    remember(con, TOKEN_PRICES, [token()])
    passed, rejects = check(con, TOKEN_PRICES, [token(input=new_input)])
    assert (passed.height, len(rejects)) == ((0, 1) if held else (1, 0))
    if held:
        reject = rejects["o3"]
        assert reject.rule == "price_jump" and reject.field == "input_usd_per_mtok"
        assert f"input_usd_per_mtok 2 -> {Decimal(new_input).normalize():f} USD/MTok" in reject.reason


def test_zero_and_missing_prices_are_not_compared(con):
    remember(con, TOKEN_PRICES, [token("a", input="0"), token("b", output=None), token("c", input="3")])
    passed, rejects = check(
        con, TOKEN_PRICES, [token("a", input="5"), token("b", output="900"), token("c", input="0")]
    )
    assert passed.height == 3 and not rejects


def test_a_new_key_has_nothing_to_jump_from(con):
    remember(con, TOKEN_PRICES, [token("o3")])
    passed, rejects = check(con, TOKEN_PRICES, [token("o4", input="9000")])
    assert passed.height == 1 and not rejects


def test_a_dated_version_is_the_sources_statement_and_is_never_judged(con):
    timeline = [token(input="10"), token(input="2", valid_from=date(2025, 6, 10))]
    remember(con, TOKEN_PRICES, timeline)
    # A new dated version one hundred times cheaper than the one before it is the source saying the
    # price changed on that day (genai-prices' history holds a real 75x step): it passes.
    incoming = [*timeline, token(input="0.02", valid_from=date(2027, 1, 1))]
    passed, rejects = check(con, TOKEN_PRICES, incoming)
    assert passed.height == 3 and not rejects


def test_the_undated_open_start_of_a_timeline_is_compared_with_its_open_start_version(con):
    remember(con, TOKEN_PRICES, [token(input="10"), token(input="2", valid_from=date(2025, 6, 10))])
    # The open start now reads $0.10: 20x below the current $2, 100x below the $10 it replaces.
    # It is judged against the $10, and only it is held back.
    incoming = [token(input="0.1"), token(input="2", valid_from=date(2025, 6, 10))]
    passed, rejects = check(con, TOKEN_PRICES, incoming)
    assert passed["valid_from"].to_list() == [date(2025, 6, 10)] and list(rejects) == ["o3"]
    reason = rejects["o3"].reason
    assert "history version from its open start" in reason and "10 -> 0.1 USD/MTok (x1/100)" in reason


@pytest.mark.parametrize(
    ("per_gpu", "held"), [("68.8", True), ("0.688", True), ("20", False), ("1.5", False)]
)
def test_a_gpu_rate_that_moves_10x_against_history_is_held_back(con, per_gpu, held):
    remember(con, GPU_RATES, [rate(per_gpu="6.88")])
    passed, rejects = check(con, GPU_RATES, [rate(per_gpu=per_gpu)])
    assert bool(rejects) == held
    if held:
        assert rejects["p5.4xlarge"].rule in ("price_jump", "accelerator_price_band")


@pytest.mark.parametrize(
    ("accelerator", "per_gpu", "held"),
    [
        ("nvidia-t4-16gb", "0.10", False),  # a T4 on spot
        ("nvidia-h100-sxm-80gb", "0.10", True),  # an H100 at a T4's price: the wrong card, or a unit slip
        ("nvidia-h100-sxm-80gb", "23.33", False),  # Azure's dearest region
        ("nvidia-h100-sxm-80gb", "55.04", True),  # the 8-GPU instance price taken as per-GPU
        ("nvidia-t4-16gb", "4.35", True),  # a 4xT4 instance price as per-GPU
        ("nvidia-b200-180gb", "55", False),
        (None, "99", False),  # unmapped: no spec, no band (the global band still applies in the parsers)
    ],
)
def test_gpu_rates_outside_their_accelerators_band_are_held_back(con, accelerator, per_gpu, held):
    passed, rejects = check(con, GPU_RATES, [rate(accelerator=accelerator, per_gpu=per_gpu)])
    assert bool(rejects) == held
    if held:
        reject = rejects["p5.4xlarge"]
        assert reject.rule == "accelerator_price_band" and reject.field == "usd_per_gpu_hour"
        assert accelerator in reject.reason and "TB/s" in reject.reason


def test_the_band_follows_the_specs_in_history(con):
    spec = {"source": "curated", "accelerator": "nvidia-h100-sxm-80gb", "vendor": "nvidia",
            "memory_gb": Decimal(80), "memory_bandwidth_tbps": Decimal(10)}  # fmt: skip
    remember(con, ACCELERATORS, [spec])
    # 0.5 is inside the catalog's H100 band (3.35 TB/s: from 0.268) but not inside a 10 TB/s one (from 0.8).
    _, rejects = check(con, GPU_RATES, [rate(per_gpu="0.5")])
    assert "(10 TB/s" in rejects["p5.4xlarge"].reason


@pytest.mark.parametrize(
    ("price", "held"), [("33.6", True), ("2000000", True), ("33600", False), (None, False)]
)
def test_launch_prices_outside_a_plausible_range_are_held_back(con, price, held):
    spec = {"source": "epoch", "accelerator": "nvidia-h100-sxm-80gb", "vendor": "nvidia",
            "launch_price_usd": None if price is None else Decimal(price)}  # fmt: skip
    passed, rejects = check(con, ACCELERATORS, [spec])
    assert bool(rejects) == held
    if held:
        assert rejects["nvidia-h100-sxm-80gb"].rule == "price_band"


def test_a_repeated_key_keeps_the_first_row(con):
    passed, rejects = check(con, TOKEN_PRICES, [token(input="2"), token(input="3")])
    assert passed["input_usd_per_mtok"].to_list() == [Decimal(2)]
    assert rejects["o3"].rule == "duplicate_key"


def test_every_current_curated_rate_is_inside_its_band(con):
    """The band is calibrated on real quotes: the shipped catalog must pass it whole."""
    from sources import gpu_curated

    (payload,) = gpu_curated.embedded()
    rows = gpu_curated.parse(payload.body, observed_at=SEEN, origin=payload.url).rows
    _, rejects = rules.apply(con, "gpu_rates", rows)
    assert [r.reason for r in rejects] == []


# ---- across sources: a price against another source's current value, a spec against every value --


@pytest.mark.parametrize(
    ("new_input", "held"), [("200", True), ("0.02", True), ("99", False), ("0.041", False)]
)
def test_a_token_price_50x_away_from_another_sources_current_price_is_held_back(con, new_input, held):
    remember(con, TOKEN_PRICES, [token(source="genai_prices")])
    passed, rejects = check(con, TOKEN_PRICES, [token(input=new_input), token("o4-mini", input="1.1")])
    assert passed["model"].to_list() == (["o4-mini"] if held else ["o3", "o4-mini"])
    if held:
        reject = rejects["o3"]
        assert (reject.rule, reject.field, reject.value) == ("price_jump", "input_usd_per_mtok", new_input)
        ratio = "100" if new_input == "200" else "1/100"
        assert reject.reason == (
            f"litellm: token_prices row openai/o3/base/standard/False is 50x or more away from every "
            f"current value other sources give for the same provider/canonical_model/tier/service_tier/"
            f"off_peak: input_usd_per_mtok {new_input} against genai_prices's 2 USD/MTok (x{ratio}). "
            "A gap that large looks like a unit mistake; held back for review"
        )


def test_a_price_is_held_back_only_when_even_the_nearest_other_quote_is_that_far(con):
    # genai-prices lists o3 and its dated snapshot under one canonical id, at 2 and 10.
    snapshot = token("o3-2025-04-16", source="genai_prices", input="10", canonical_model="openai/o3")
    remember(con, TOKEN_PRICES, [token(source="genai_prices"), snapshot])
    # 150 is 75x the 2 but 15x the 10: the nearest quote decides, and it passes.
    passed, rejects = check(con, TOKEN_PRICES, [token(input="150")])
    assert passed.height == 1 and not rejects
    passed, rejects = check(con, TOKEN_PRICES, [token(input="600")])
    assert "input_usd_per_mtok 600 against genai_prices's 10 USD/MTok (x60)" in rejects["o3"].reason


def test_only_undated_keys_with_a_canonical_id_are_compared_across_sources(con):
    remember(con, TOKEN_PRICES, [token(source="genai_prices", model="x1")])
    history.merge(
        con, TOKEN_PRICES, TOKEN_PRICES.frame([token()]), observed_at=SEEN, payload_sha256="day1-litellm"
    )
    incoming = [
        # genai-prices' own dated timeline says when the price changed: not judged against litellm's 2.
        token("o3", source="genai_prices", input="200", valid_from=date(2027, 1, 1)),
        # No canonical id: nothing says it is genai-prices' x1.
        token("x1", input="200", canonical_model=None),
    ]
    passed, rejects = check(con, TOKEN_PRICES, incoming)
    assert passed.height == 2 and not rejects


@pytest.mark.parametrize(("per_gpu", "held"), [("0.688", True), ("1.5", False), ("6.88", False)])
def test_a_gpu_rate_10x_away_from_another_sources_rate_for_the_same_offer_is_held_back(con, per_gpu, held):
    remember(con, GPU_RATES, [rate(source="curated", valid_from=date(2026, 5, 1))])
    # 0.688 is inside the H100 band (0.268-40.2): only the curated quote of the same offer shows the slip.
    passed, rejects = check(con, GPU_RATES, [rate(per_gpu=per_gpu), rate("p5.48xlarge", per_gpu="0.6")])
    assert passed["instance_type"].to_list() == (["p5.48xlarge"] if held else ["p5.4xlarge", "p5.48xlarge"])
    if held:
        reject = rejects["p5.4xlarge"]
        assert reject.rule == "price_jump" and reject.value == "0.688"
        assert (
            "usd_per_gpu_hour 0.688 against curated's 6.88 USD per GPU-hour (x1/10). A gap that large "
            "looks like a unit mistake; held back for review"
        ) in reject.reason


def spec(source="epoch", accelerator="nvidia-h100-sxm-80gb", bandwidth="3.35", memory="80", bf16="989"):
    return {"source": source, "accelerator": accelerator, "vendor": "nvidia", "memory_gb": Decimal(memory),
            "memory_bandwidth_tbps": Decimal(bandwidth), "bf16_dense_tflops": Decimal(bf16)}  # fmt: skip


def test_a_spec_10x_away_from_another_sources_current_row_is_held_back(con):
    """Issue 18's case: Epoch's H100 bandwidth read 10x too high would replace the spec, and the next
    refresh would quarantine valid H100 rates against it. It is held back; the A100 row lands."""
    remember(con, ACCELERATORS, [spec(source="curated")])
    incoming = [
        spec(bandwidth="33.5"),
        spec(accelerator="nvidia-a100-sxm-80gb", bandwidth="2.039", bf16="312"),
    ]
    passed, rejects = check(con, ACCELERATORS, incoming)
    assert passed["accelerator"].to_list() == ["nvidia-a100-sxm-80gb"]
    reject = rejects["nvidia-h100-sxm-80gb"]
    assert (reject.rule, reject.field, reject.value) == ("spec_jump", "memory_bandwidth_tbps", "33.5")
    assert reject.reason == (
        "epoch: accelerators row nvidia-h100-sxm-80gb moves a spec by 10x or more: memory_bandwidth_tbps "
        "33.5 against 3.35 in curated's current row (x10). A datasheet figure does not change tenfold: a "
        "unit or typing mistake is held back for review, not applied"
    )
    # The valid rates of that H100 still pass the band of the spec that stayed.
    _, held = check(con, GPU_RATES, [rate(per_gpu="2.10"), rate("p5.48xlarge", per_gpu="6.88")])
    assert held == {}


@pytest.mark.parametrize(
    ("memory", "bf16", "held"),
    [("800", "989", ["memory_gb 800 against 80"]), ("80", "98.9", ["bf16_dense_tflops 98.9 against 989"]),
     ("8", "9890", ["memory_gb 8 against 80", "bf16_dense_tflops 9890 against 989"]), ("94", "989", [])],
)  # fmt: skip
def test_a_spec_that_moves_10x_against_its_history_version_is_held_back(con, memory, bf16, held):
    remember(con, ACCELERATORS, [spec(source="curated")])
    passed, rejects = check(con, ACCELERATORS, [spec(source="curated", memory=memory, bf16=bf16)])
    assert passed.height == (0 if held else 1)
    if held:
        reason = rejects["nvidia-h100-sxm-80gb"].reason
        assert all(f"{move} in its history version (x" in reason for move in held)


def test_the_first_refresh_checks_specs_against_the_catalog_the_package_ships(con):
    """With no curated row in history yet (a first refresh, a rebuild), the shipped catalog stands in."""
    passed, rejects = check(con, ACCELERATORS, [spec(bandwidth="0.335")])
    assert passed.height == 0
    assert "memory_bandwidth_tbps 0.335 against 3.35 in the catalog the package ships (x1/10)" in (
        rejects["nvidia-h100-sxm-80gb"].reason
    )
    # The curated source is that catalog: it is not compared with itself.
    passed, rejects = check(con, ACCELERATORS, [spec(source="curated", bandwidth="0.335")])
    assert passed.height == 1 and not rejects
