from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import polars as pl
import pytest

from sources import epoch
from sources.base import SourceError
from sources.http import Http

FIXTURE = Path(__file__).parents[1] / "fixtures" / "hardware" / "epoch_ml_hardware.csv"
NOW = datetime(2026, 5, 20, tzinfo=UTC)


def parse(body: bytes | None = None):
    return epoch.parse(FIXTURE.read_bytes() if body is None else body, observed_at=NOW, origin=epoch.LIVE_URL)


def spec(accelerator: str) -> dict:
    return parse().rows.filter(pl.col("accelerator") == accelerator).row(0, named=True)


def test_units_are_converted_exactly():
    b200 = spec("nvidia-b200-180gb")
    assert b200["source"] == "epoch"
    assert b200["vendor"] == "nvidia"
    assert b200["memory_gb"] == Decimal("180")
    assert b200["memory_bandwidth_tbps"] == Decimal("7.7")
    assert b200["bf16_dense_tflops"] == Decimal("2250")
    assert b200["fp8_dense_tflops"] == Decimal("4500")
    assert b200["int8_dense_tops"] == Decimal("4500")
    assert b200["fp4_dense_tflops"] == Decimal("9000")
    assert b200["tdp_w"] == Decimal("1000")
    assert b200["release_date"] == date(2024, 11, 15)
    assert b200["source_url"] == "https://example.org/b200.pdf"


def test_shader_fp16_is_never_taken_for_tensor_throughput():
    nvl = spec("nvidia-h100-nvl-94gb")
    assert nvl["bf16_dense_tflops"] is None  # Epoch fills only the plain FP16 column for it
    assert nvl["memory_gb"] == Decimal("94")
    h100 = spec("nvidia-h100-sxm-80gb")
    assert h100["bf16_dense_tflops"] == Decimal("989.4")  # not the 133.8 shader figure
    assert h100["launch_price_usd"] == Decimal("33600")


def test_figures_noted_as_sparse_are_not_taken_as_dense():
    result = parse()
    l40 = result.rows.filter(pl.col("accelerator") == "nvidia-l40-48gb").row(0, named=True)
    assert (l40["bf16_dense_tflops"], l40["int8_dense_tops"]) == (None, None)
    assert l40["memory_gb"] == Decimal("48")
    assert any(w.startswith("NVIDIA L40: ") and "sparsity" in w for w in result.warnings)


def test_duplicates_and_bad_rows_are_rejected():
    result = parse()
    assert set(result.rows["accelerator"]) == {
        "nvidia-b200-180gb",
        "nvidia-h100-nvl-94gb",
        "nvidia-h100-sxm-80gb",
        "nvidia-l40-48gb",
        "nvidia-a100-sxm-40gb",
        "huawei-ascend-920",
    }
    assert not any("no canonical accelerator id" in w for w in result.warnings)
    rejects = {(r.rule, r.field, r.record["Hardware name"]) for r in result.rejects}
    assert rejects == {
        ("duplicate_key", "Hardware name", "NVIDIA A100"),
        ("not_a_number", "Tensor-FP16/BF16 performance (FLOP/s)", "NVIDIA L4"),
        ("negative", "TDP (W)", "AMD Instinct MI300X"),
    }


def test_china_market_consumer_and_workstation_rows_map_to_their_parts():
    header = FIXTURE.read_text(encoding="utf-8").splitlines()[0]
    width = header.count(",") + 1

    def row(name: str, memory: str, tdp: str) -> str:
        cells = [""] * width
        columns = header.split(",")
        cells[columns.index("Hardware name")] = name
        cells[columns.index("Release date")] = "2023-01-01"
        cells[columns.index("Memory size per board (Byte)")] = memory
        cells[columns.index("TDP (W)")] = tdp
        return ",".join(cells)

    names = {
        "NVIDIA GB300": "nvidia-gb300-288gb",
        "AMD Instinct MI355X": "amd-mi355x-288gb",
        "NVIDIA HGX H20": "nvidia-h20-96gb",
        "NVIDIA L20 PCle": "nvidia-l20-48gb",
        "NVIDIA H800 SXM5": "nvidia-h800-sxm-80gb",
        "NVIDIA A800 PCIe 40 GB": "nvidia-a800-pcie-40gb",
        "NVIDIA A800 PCIe 80 GB": "nvidia-a800-pcie-80gb",
        "NVIDIA A800 SXM": "nvidia-a800-sxm-80gb",
        "NVIDIA GeForce RTX 3090": "nvidia-rtx3090-24gb",
        "NVIDIA RTX A5000": "nvidia-rtx-a5000-24gb",
        "NVIDIA Quadro RTX 6000": "nvidia-quadro-rtx6000-24gb",
        "NVIDIA Tesla V100 PCIe 16 GB": "nvidia-v100-pcie-16gb",
        "NVIDIA Tesla P100 PCIe 16GB": "nvidia-p100-pcie-16gb",
    }
    body = "\n".join(
        [header, *(row(n, "24000000000.0", "350") for n in names), row("Sunway SW26010-Pro", "", "")]
    )
    result = parse(body.encode())
    assert dict(zip(result.rows["accelerator"], result.rows["memory_gb"], strict=True)) == dict.fromkeys(
        names.values(), Decimal("24")
    )
    assert result.rejects == []
    assert (
        "1 hardware rows have no canonical accelerator id and were left out: Sunway SW26010-Pro"
        in result.warnings
    )


def test_a_renamed_column_is_a_source_error_naming_it():
    body = FIXTURE.read_bytes().replace(b"Tensor-FP16/BF16 performance", b"Tensor FP16 performance", 1)
    with pytest.raises(SourceError, match="Tensor-FP16/BF16 performance"):
        parse(body)


def test_empty_payload_is_a_source_error():
    with pytest.raises(SourceError, match="epoch: empty payload"):
        parse(b"\n")


def test_fetch_live_returns_the_csv():
    body = FIXTURE.read_bytes()
    http = Http(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))))
    [fetched] = epoch.fetch_live(http)
    assert (fetched.url, fetched.body) == (epoch.LIVE_URL, body)
