"""tools/measure_throughput.py on the CPU with a tiny shape, read back by the throughput parser.

Runs only where PyTorch is installed: it is not a project dependency."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from sources import throughput

TOOL = Path(__file__).parents[2] / "tools" / "measure_throughput.py"


def load_tool():
    spec = importlib.util.spec_from_file_location("measure_throughput", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_params_of_the_tiny_shape_by_hand():
    # head_dim 16; per layer 2 x 64^2 (q, o) + 2 x 64 x 2 x 16 (k, v) + 3 x 64 x 128 (MLP) = 36,864;
    # two layers, plus 2 x 256 x 64 for the embedding and lm_head: 73,728 + 32,768 = 106,496.
    assert load_tool().params_count(2, 64, 4, 2, 128, 256) == 106_496
    # Llama-3-8B's published shape gives its 8.03B.
    assert load_tool().params_count(32, 4096, 32, 8, 14336, 128256) == pytest.approx(8.03e9, rel=1e-3)


def test_tiny_cpu_measurement_is_a_file_the_source_reads(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "cpu.csv"
    rows = load_tool().measure(
        [
            "--accelerator",
            "H100",
            "--model",
            "tiny",
            "--layers",
            "2",
            "--hidden",
            "64",
            "--heads",
            "4",
            "--kv-heads",
            "2",
            "--intermediate",
            "128",
            "--vocab",
            "256",
            "--batch",
            "1",
            "2",
            "--context",
            "16",
            "--dtype",
            "fp32",
            "--device",
            "cpu",
            "--steps",
            "2",
            "--out",
            str(out),
        ]
    )
    assert len(rows) == 2
    parsed = throughput.parse(out.read_bytes(), observed_at=datetime.now(UTC), origin=str(out))
    assert parsed.rejects == []
    got = parsed.rows.to_dicts()
    assert [(r["batch"], r["context_tokens"], r["phase"], r["dtype"]) for r in got] == [
        (1, 16, "decode", "fp32"),
        (2, 16, "decode", "fp32"),
    ]
    assert all(r["params_b"] == Decimal("0.000106496") and r["tokens_per_second"] > 0 for r in got)
    assert {r["accelerator"] for r in got} == {"nvidia-h100-sxm-80gb"}
