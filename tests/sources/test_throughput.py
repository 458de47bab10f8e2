from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipelines import registry
from sources import throughput

FIXTURE = Path(__file__).parents[1] / "fixtures" / "throughput" / "measurements.csv"
NOW = datetime(2026, 12, 7, tzinfo=UTC)


def parse(body: bytes):
    return throughput.parse(body, observed_at=NOW, origin=str(FIXTURE))


def test_fixture_rows_normalized_and_derived():
    result = parse(FIXTURE.read_bytes())
    rows = {(r["model"], r["phase"]): r for r in result.rows.to_dicts()}
    assert set(rows) == {
        ("llama3-8b", "decode"),
        ("llama-3.3-70b-instruct", "serving"),
        ("llama3-8b", "prefill"),
        ("tiny-moe", "decode"),
    }
    decode = rows[("llama3-8b", "decode")]
    # Names map through the alias table; engine and dtype are lower-cased; a dense row's active = total.
    assert (decode["accelerator"], decode["engine"], decode["dtype"]) == (
        "nvidia-h200-sxm-141gb",
        "pytorch",
        "bf16",
    )
    assert (decode["params_b"], decode["active_params_b"]) == (Decimal("8.03"), Decimal("8.03"))
    assert (decode["batch"], decode["context_tokens"], decode["prompt_tokens"]) == (32, 4096, 0)
    assert decode["tokens_per_second"] == Decimal("3150.3")
    assert decode["measured_on"] == decode["valid_from"] == date(2026, 12, 4)
    # Serving: context = prompt + output; prefill: context = prompt.
    serving = rows[("llama-3.3-70b-instruct", "serving")]
    assert (serving["accelerator"], serving["gpus"], serving["context_tokens"]) == (
        "nvidia-h100-sxm-80gb",
        2,
        5500,
    )
    assert serving["source_url"] == "https://docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance"
    assert rows[("llama3-8b", "prefill")]["context_tokens"] == 2048
    moe = rows[("tiny-moe", "decode")]
    assert (moe["accelerator"], moe["params_b"], moe["active_params_b"], moe["layers"]) == (
        None,
        Decimal("16"),
        Decimal("4"),
        None,
    )
    assert result.warnings == [
        "accelerator name(s) that map to no canonical id (no mart uses these rows): Mystery GPU 9000"
    ]


def test_fixture_rejects_name_rule_and_field():
    result = parse(FIXTURE.read_bytes())
    assert sorted((r.rule, r.field) for r in result.rejects) == [
        ("active_above_total", "active_params_b"),
        ("missing_field", "context_tokens"),  # a decode row without its KV length
        ("not_a_count", "batch"),  # batch 0
        ("not_positive", "tokens_per_second"),
        ("unknown_phase", "phase"),  # 'warmup'
    ]
    assert all(r.source == "throughput" for r in result.rejects)


def test_embedded_default_has_the_h200_measurements_and_dated_published_figures():
    [embedded] = throughput.embedded()
    result = parse(embedded.body)
    assert result.rejects == [] and result.warnings == []
    rows = result.rows
    h200 = rows.filter(pl.col("source") == "costcurve-h200")
    assert h200.height == 50
    assert set(h200["accelerator"]) == {"nvidia-h200-sxm-141gb"}
    assert set(h200["model"]) == {"llama3-8b", "llama3-8b-fp8", "qwen2.5-32b", "llama3-70b-fp8"}
    batch1 = h200.filter(
        (pl.col("model") == "llama3-8b")
        & (pl.col("phase") == "decode")
        & (pl.col("batch") == 1)
        & (pl.col("context_tokens") == 1024)
    )
    assert batch1["tokens_per_second"].item() == Decimal("178.5")
    published = rows.filter(pl.col("source") != "costcurve-h200")
    assert set(published["source"]) == {"nvidia-nim", "nvidia-tensorrt-llm"}
    assert published["source_url"].null_count() == 0 and published["measured_on"].null_count() == 0
    nim = published.filter((pl.col("source") == "nvidia-nim") & (pl.col("batch") == 25))
    assert (nim["gpus"].item(), nim["dtype"].item(), nim["tokens_per_second"].item()) == (
        2,
        "fp8",
        Decimal("623.4"),
    )


def test_ingest_dispatches_the_throughput_dataset_and_its_alias():
    assert registry.module_for("throughput", "throughput") is throughput
    assert registry.module_for("throughput_measurements", "throughput") is throughput
    assert registry.SOURCES["throughput_measurements"] == ("throughput",)
