from datetime import datetime
from decimal import Decimal

import pytest

from sources import accelerator_specs
from sources.accelerator_identity import aliases, canonical_accelerator, form_factor, normalize
from sources.base import RowRejected, SourceError
from sources.gpu_rows import RateRows, read_csv


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("H100", "nvidia-h100-sxm-80gb"),
        ("H100-SXM", "nvidia-h100-sxm-80gb"),
        ("NVIDIA H100 80GB HBM3", "nvidia-h100-sxm-80gb"),
        ("H100 SXM", "nvidia-h100-sxm-80gb"),
        ("H100-MEGA", "nvidia-h100-sxm-80gb"),
        ("H100_80GB", "nvidia-h100-sxm-80gb"),
        ("NVIDIA H100", "nvidia-h100-sxm-80gb"),
        ("H100 NVL", "nvidia-h100-nvl-94gb"),
        ("NVIDIA H100 NVL", "nvidia-h100-nvl-94gb"),
        ("NVIDIA H100 PCIe", "nvidia-h100-pcie-80gb"),
        ("A100", "nvidia-a100-sxm-40gb"),
        ("A100-80GB", "nvidia-a100-sxm-80gb"),
        ("A100-80GB-SXM", "nvidia-a100-sxm-80gb"),
        ("NVIDIA A100-SXM4-80GB", "nvidia-a100-sxm-80gb"),
        ("NVIDIA A100 80GB PCIe", "nvidia-a100-pcie-80gb"),
        ("RTX6000-Ada", "nvidia-rtx6000-ada-48gb"),
        ("RTX6000Ada", "nvidia-rtx6000-ada-48gb"),
        ("RTX 6000 Ada", "nvidia-rtx6000-ada-48gb"),
        ("NVIDIA RTX 6000 Ada Generation", "nvidia-rtx6000-ada-48gb"),
        ("H200", "nvidia-h200-sxm-141gb"),
        ("H200-SXM", "nvidia-h200-sxm-141gb"),
        ("NVIDIA H200", "nvidia-h200-sxm-141gb"),
        ("B200", "nvidia-b200-180gb"),
        ("L40S", "nvidia-l40s-48gb"),
        ("A10G", "nvidia-a10g-24gb"),
        ("L4", "nvidia-l4-24gb"),
        ("MI300X", "amd-mi300x-192gb"),
        ("AMD Instinct MI300X OAM", "amd-mi300x-192gb"),
        ("Tesla V100", "nvidia-v100-sxm2-16gb"),
        ("NVIDIA GeForce RTX 4090", "nvidia-rtx4090-24gb"),
        ("Intel Habana Gaudi2", "intel-gaudi2-96gb"),
        ("Google TPU v5e", "google-tpu-v5e-16gb"),
    ],
)
def test_alias_table_maps_each_listed_variant(name, expected):
    assert canonical_accelerator(name) == expected


@pytest.mark.parametrize("name", ["RTX5090", "Mystery Accelerator 9000", "", "   ", "A100X"])
def test_a_name_that_maps_to_nothing_gives_none(name):
    assert canonical_accelerator(name) is None


def test_memory_tells_apart_variants_that_share_a_name():
    # SkyPilot's Vast catalog writes H100 for the NVL part and A100 for both memory sizes.
    assert canonical_accelerator("H100", memory_gb=Decimal("93.58")) == "nvidia-h100-nvl-94gb"
    assert canonical_accelerator("H100", memory_gb=80) == "nvidia-h100-sxm-80gb"
    assert canonical_accelerator("A100", memory_gb=80) == "nvidia-a100-sxm-80gb"
    assert canonical_accelerator("A100", memory_gb=40) == "nvidia-a100-sxm-40gb"
    # A memory no qualified row knows falls back to the plain alias.
    assert canonical_accelerator("A100", memory_gb=640) == "nvidia-a100-sxm-40gb"


def test_hint_gives_the_form_factor():
    assert canonical_accelerator("H100", hint="gpu_1x_h100_pcie") == "nvidia-h100-pcie-80gb"
    assert canonical_accelerator("H100", hint="1x-H100_NVL-32-65536") == "nvidia-h100-nvl-94gb"
    assert canonical_accelerator("H100_80GB", hint="PCIe") == "nvidia-h100-pcie-80gb"
    assert canonical_accelerator("H100_80GB", hint="SXM5") == "nvidia-h100-sxm-80gb"
    assert (
        canonical_accelerator("A100", memory_gb=80, hint="2x-A100_PCIE-32-65536") == "nvidia-a100-pcie-80gb"
    )
    # NVLink is a bridge, not the NVL product.
    assert canonical_accelerator("H100-NVLINK") == "nvidia-h100-sxm-80gb"


def test_a_hint_that_contradicts_the_part_gives_none_rather_than_a_guess():
    assert canonical_accelerator("V100", hint="Tesla V100-PCIE-16GB") is None


def test_normalize_and_form_factor():
    assert normalize(" RTX_6000-Ada ") == normalize("rtx 6000 ada") == "rtx6000ada"
    assert form_factor("lambdalabs_H100-sxm5x8") == "sxm"
    assert form_factor("n3-A100x8-NVLink") is None
    assert form_factor("sxm and pcie") is None


def test_every_alias_resolves_to_an_accelerator_of_the_curated_catalog():
    embedded = accelerator_specs.embedded()[0]
    specs = accelerator_specs.parse(embedded.body, observed_at=datetime(2026, 1, 1), origin=embedded.url)
    described = set(specs.rows["accelerator"].to_list())
    used = {a.canonical for rows in aliases().values() for a in rows}
    assert used - described == set()


def test_rate_rows_divide_in_decimal_and_reject_bands_and_duplicates():
    rates = RateRows("test")
    common = dict(provider="p", region="r", accelerator_name="H100", gpu_count=Decimal("8"))
    rates.add(
        {}, instance_type="a", pricing_type="on_demand", usd_per_instance_hour=Decimal("55.04"), **common
    )
    with pytest.raises(RowRejected):
        rates.add(
            {}, instance_type="a", pricing_type="on_demand", usd_per_instance_hour=Decimal("1"), **common
        )
    with pytest.raises(RowRejected):
        rates.add(
            {}, instance_type="b", pricing_type="on_demand", usd_per_instance_hour=Decimal("0.04"), **common
        )
    with pytest.raises(RowRejected):
        rates.add(
            {}, instance_type="c", pricing_type="on_demand", usd_per_instance_hour=Decimal("801"), **common
        )
    result = rates.result()
    assert result.rows["usd_per_gpu_hour"].to_list() == [Decimal("6.88")]
    assert result.rows["accelerator"].to_list() == ["nvidia-h100-sxm-80gb"]
    assert [r.rule for r in result.rejects] == ["duplicate_key", "price_band", "price_band"]


def test_read_csv_handles_bom_crlf_and_reports_shape_problems():
    body = "\ufeffa,b,c\r\n1,2,3\r\n4,5\r\n6,7,8\r\n".encode()
    rows, rejects, warnings = read_csv("t", body, required=["a", "b"])
    assert rows == [{"a": "1", "b": "2", "c": "3"}, {"a": "6", "b": "7", "c": "8"}]
    assert rejects[0].rule == "malformed_row"  # a short row inside the file: the file was not cut
    assert warnings == ["ignored unknown column(s): c"]
    with pytest.raises(SourceError, match="missing required column"):
        read_csv("t", b"a,x\n1,2\n", required=["a", "b"])
    with pytest.raises(SourceError, match="empty payload"):
        read_csv("t", b"  \n", required=["a"])
    with pytest.raises(SourceError, match="no data rows"):
        read_csv("t", b"a,b\n", required=["a"])
    with pytest.raises(SourceError, match="not UTF-8"):
        read_csv("t", b"\xff\xfe\x00a", required=["a"])
