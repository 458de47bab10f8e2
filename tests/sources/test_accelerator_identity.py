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
        # The generation part of GCP's TPU slice names (tpu-v5p-8), as sources.skypilot looks it up.
        ("tpu-v4", "google-tpu-v4-32gb"),
        ("tpu-v5p", "google-tpu-v5p-95gb"),
        ("tpu-v5litepod", "google-tpu-v5e-16gb"),
        ("tpu-v6e", "google-tpu-v6e-32gb"),
        ("Google TPU v6e Trillium", "google-tpu-v6e-32gb"),
    ],
)
def test_alias_table_maps_each_listed_variant(name, expected):
    assert canonical_accelerator(name) == expected


@pytest.mark.parametrize("name", ["RTX9090", "Mystery Accelerator 9000", "", "   ", "A100X", "unknown"])
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
    assert canonical_accelerator("H100-SXM", hint="gpu_1x_h100_pcie") is None
    assert canonical_accelerator("A100 SXM4 80GB", hint="a100-pci_1x2v4gb") is None


# Each ambiguous family as its real spellings arrive: (name, memory GB per GPU, hint) -> part.
# Sources: anycloud/SkyPilot catalogs (Azure, GCP, Lambda, Vast, Cudo, OCI), RunPod ids, Epoch names.
A100_SPELLINGS = [
    ("A100", 40, "Standard_ND96asr_v4", "nvidia-a100-sxm-40gb"),
    ("A100", 40, "a2-highgpu-1g", "nvidia-a100-sxm-40gb"),
    ("A100", 40, "BM.GPU4.8", "nvidia-a100-sxm-40gb"),
    ("A100", 80, "1x-A100_SXM4-32-65536", "nvidia-a100-sxm-80gb"),
    ("A100", 40, "2x-A100_PCIE-32-65536", "nvidia-a100-pcie-40gb"),
    ("A100", 80, "epyc-genoa-a100-pcie_1x2v4gb", "nvidia-a100-pcie-80gb"),
    ("A100", 80, "intel-ice-lake-a100-pci_1x2v4gb", "nvidia-a100-pcie-80gb"),  # Cudo 'pci'
    ("A100-80GB", 80, "1x_A100-80GB_SECURE A100 PCIe", "nvidia-a100-pcie-80gb"),
    ("A100-80GB", 80, "a2-ultragpu-1g", "nvidia-a100-sxm-80gb"),
    ("NVIDIA A100 80GB PCIe", None, "A100 PCIe", "nvidia-a100-pcie-80gb"),
    ("NVIDIA A100-SXM4-80GB", None, "A100 SXM", "nvidia-a100-sxm-80gb"),
    ("NVIDIA A100 PCIe", None, None, "nvidia-a100-pcie-40gb"),
    ("NVIDIA A100 SXM4 40 GB", None, None, "nvidia-a100-sxm-40gb"),
]
H100_H200_SPELLINGS = [
    ("H100", 80, "Standard_ND96isr_H100_v5", "nvidia-h100-sxm-80gb"),
    ("H100", 94, "Standard_NC40ads_H100_v5", "nvidia-h100-nvl-94gb"),
    ("H100", 80, "gpu_1x_h100_pcie", "nvidia-h100-pcie-80gb"),
    ("H100", 80, "gpu_1x_h100_sxm5", "nvidia-h100-sxm-80gb"),
    ("H100", 94, "1x-H100_NVL-32-65536", "nvidia-h100-nvl-94gb"),
    ("H100", 80, "1x-H100_SXM-32-65536", "nvidia-h100-sxm-80gb"),
    ("H100-SXM", 80, "sapphire-rapids-h100_1x2v4gb", "nvidia-h100-sxm-80gb"),
    ("NVIDIA H100 PCIe", None, "H100 PCIe", "nvidia-h100-pcie-80gb"),
    ("NVIDIA H100 NVL", None, "H100 NVL", "nvidia-h100-nvl-94gb"),
    ("NVIDIA H100 80GB HBM3", None, "H100 SXM", "nvidia-h100-sxm-80gb"),
    ("H200", 141, "BM.GPU.H200.8", "nvidia-h200-sxm-141gb"),
    ("H200", 141, "1x-H200-32-65536", "nvidia-h200-sxm-141gb"),
    ("NVIDIA H200", None, "H200 SXM", "nvidia-h200-sxm-141gb"),
    ("H200 NVL", None, None, "nvidia-h200-nvl-141gb"),
]
ADA_AND_WORKSTATION_SPELLINGS = [
    ("L40", 48, None, "nvidia-l40-48gb"),
    ("NVIDIA L40", None, "L40", "nvidia-l40-48gb"),
    ("L40S", 48, "BM.GPU.L40S.4", "nvidia-l40s-48gb"),
    ("NVIDIA L40S", None, "L40S", "nvidia-l40s-48gb"),
    ("RTX6000", 24, "gpu_1x_rtx6000", "nvidia-quadro-rtx6000-24gb"),  # Lambda: Turing Quadro
    ("NVIDIA Quadro RTX 6000", None, None, "nvidia-quadro-rtx6000-24gb"),
    ("RTX6000-Ada", 48, "2x-RTX_6000Ada-32-65536", "nvidia-rtx6000-ada-48gb"),
    ("NVIDIA RTX 6000 Ada Generation", None, "RTX 6000 Ada", "nvidia-rtx6000-ada-48gb"),
    ("RTXA6000", 48, "ice-lake-rtx-a6000_1x2v4gb", "nvidia-rtx-a6000-48gb"),
    ("RTXPRO6000", 96, "BM.GPU.RTXPRO.8", "nvidia-rtx-pro6000-server-96gb"),
    ("RTXPRO6000S", None, None, "nvidia-rtx-pro6000-server-96gb"),
    ("RTXPRO6000WS", Decimal("95.59"), "1x-RTX_PRO_6000_WS-32-65536", "nvidia-rtx-pro6000-ws-96gb"),
]
CONSUMER_SPELLINGS = [
    ("RTX5090", Decimal("31.84"), "1x-RTX_5090-32-65536", "nvidia-rtx5090-32gb"),
    ("NVIDIA GeForce RTX 5090", None, "RTX 5090", "nvidia-rtx5090-32gb"),
    ("RTX3090", 24, "1x-RTX_3090-32-65536", "nvidia-rtx3090-24gb"),
    ("NVIDIA GeForce RTX 3090 Ti", None, "RTX 3090 Ti", "nvidia-rtx3090ti-24gb"),
    # SkyPilot's Vast catalog drops Ti/Super from the name; the memory tells the part.
    ("RTX3060", 12, "4x-RTX_3060-32-65536", "nvidia-rtx3060-12gb"),
    ("RTX3060", 8, "1x-RTX_3060_Ti-32-65536", "nvidia-rtx3060ti-8gb"),
    ("RTX4060", Decimal("15.99"), "4x-RTX_4060_Ti-32-65536", "nvidia-rtx4060ti-16gb"),
    ("RTX4070", Decimal("15.99"), "4x-RTX_4070S_Ti-32-65536", "nvidia-rtx4070ti-super-16gb"),
    ("NVIDIA GeForce RTX 4070 Ti", None, "RTX 4070 Ti", "nvidia-rtx4070ti-12gb"),
    ("NVIDIA GeForce RTX 4080 SUPER", None, "RTX 4080 SUPER", "nvidia-rtx4080super-16gb"),
    ("RTX5070", Decimal("11.94"), "4x-RTX_5070-32-65536", "nvidia-rtx5070-12gb"),
    ("RTXA5000", 24, "ice-lake-rtx-a5000_1x2v4gb", "nvidia-rtx-a5000-24gb"),
    ("NVIDIA RTX A5000", None, "RTX A5000", "nvidia-rtx-a5000-24gb"),
    ("RTX5880-Ada", Decimal("47.99"), "1x-RTX_5880Ada-32-65536", "nvidia-rtx5880-ada-48gb"),
    ("NVIDIA RTX 4000 SFF Ada Generation", None, "RTX 4000 Ada SFF", "nvidia-rtx4000-sff-ada-20gb"),
    ("NVIDIA RTX 4000 Ada Generation", None, "RTX 4000 Ada", "nvidia-rtx4000-ada-20gb"),
]
OTHER_SPELLINGS = [
    ("GB200", 192, "BM.GPU.GB200.4", "nvidia-gb200-186gb"),
    ("GB300", 278, "BM.GPU.GB300.4", "nvidia-gb300-288gb"),
    ("B300", Decimal("262.5"), "BM.GPU.B300.8", "nvidia-b300-288gb"),
    ("MI355X", 288, "BM.GPU.MI355X.8", "amd-mi355x-288gb"),
    ("AMD Instinct MI325X", None, None, "amd-mi325x-256gb"),
    ("A800", 80, "intel-ice-lake-a800-pci_1x2v4gb", "nvidia-a800-pcie-80gb"),
    ("NVIDIA A800 SXM", None, None, "nvidia-a800-sxm-80gb"),
    ("NVIDIA A800 PCIe 40 GB", None, None, "nvidia-a800-pcie-40gb"),
    ("NVIDIA H800 SXM5", None, None, "nvidia-h800-sxm-80gb"),
    ("NVIDIA HGX H20", None, None, "nvidia-h20-96gb"),
    ("NVIDIA L20 PCle", None, None, "nvidia-l20-48gb"),
    ("NVIDIA A30", None, "A30", "nvidia-a30-24gb"),
    ("MI25", 16, "Standard_NV16as_v4", "amd-mi25-16gb"),
    ("M60", 8, "Standard_NV12s_v3", "nvidia-m60-8gb"),
    ("P100", 16, "BM.GPU2.2", "nvidia-p100-pcie-16gb"),
    ("V100", 16, "BM.GPU3.8", "nvidia-v100-sxm2-16gb"),
    ("Tesla V100-PCIE-16GB", None, "Tesla V100", "nvidia-v100-pcie-16gb"),
    ("Tesla V100-FHHL-16GB", None, "V100 FHHL", "nvidia-v100-fhhl-16gb"),
    ("Tesla V100-SXM2-16GB", None, "V100 SXM2", "nvidia-v100-sxm2-16gb"),
]


@pytest.mark.parametrize(
    ("name", "memory_gb", "hint", "expected"),
    A100_SPELLINGS
    + H100_H200_SPELLINGS
    + ADA_AND_WORKSTATION_SPELLINGS
    + CONSUMER_SPELLINGS
    + OTHER_SPELLINGS,
)
def test_each_real_spelling_maps_to_its_part(name, memory_gb, hint, expected):
    assert canonical_accelerator(name, memory_gb=memory_gb, hint=hint) == expected


def test_normalize_and_form_factor():
    assert normalize(" RTX_6000-Ada ") == normalize("rtx 6000 ada") == "rtx6000ada"
    assert form_factor("lambdalabs_H100-sxm5x8") == "sxm"
    assert form_factor("n3-A100x8-NVLink") is None
    assert form_factor("sxm and pcie") is None
    assert form_factor("intel-ice-lake-a800-pci_1x2v4gb") == "pcie"
    assert form_factor("BM.GPU.RTXPRO.8") is None
    assert form_factor("a-specific-shape") is None  # 'pci' inside a word is not PCIe


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


def test_tpu_spec_rows_carry_googles_published_figures_and_leave_unpublished_ones_empty():
    embedded = accelerator_specs.embedded()[0]
    specs = accelerator_specs.parse(embedded.body, observed_at=datetime(2026, 1, 1), origin=embedded.url)
    columns = ("memory_gb", "memory_bandwidth_tbps", "bf16_dense_tflops", "int8_dense_tops", "tdp_w")
    tpus = {
        row["accelerator"]: tuple(row[c] for c in columns)
        for row in specs.rows.filter(specs.rows["vendor"] == "google").iter_rows(named=True)
    }
    # Cloud TPU pages (v2, v3, v4, v6e), Epoch (v5e, v5p) and the Ironwood announcement (v7, FP8
    # only); Google publishes no TDP for v2, v3, v4, v5p, v6e or v7.
    assert tpus == {
        "google-tpu-v2-16gb": (16, Decimal("0.6"), 45, None, None),
        "google-tpu-v3-32gb": (32, Decimal("0.9"), 123, None, None),
        "google-tpu-v7-192gb": (192, Decimal("7.2"), None, None, None),
        "google-tpu-v4-32gb": (32, Decimal("1.2"), 275, 275, None),
        "google-tpu-v5e-16gb": (16, Decimal("0.819"), 197, 393, 140),
        "google-tpu-v5p-95gb": (95, Decimal("2.765"), 459, 918, None),
        "google-tpu-v6e-32gb": (32, Decimal("1.638"), 918, 1836, None),
        # Google-internal inference chips, from Epoch's rows (v1's memory is 8 GiB).
        "google-tpu-v1-8gb": (Decimal("8.589934592"), Decimal("0.034"), None, 92, 75),
        "google-tpu-v4i-8gb": (8, Decimal("0.614"), 138, None, 175),
    }
