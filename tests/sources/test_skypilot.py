from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import polars as pl
import pytest

from sources import skypilot
from sources.base import SourceError
from sources.http import FetchError, Http

FIXTURES = Path(__file__).parents[1] / "fixtures" / "gpu_rates"
NOW = datetime(2026, 5, 20, tzinfo=UTC)


def parse(name: str, origin: str | None = None):
    path = FIXTURES / name
    return skypilot.parse(path.read_bytes(), observed_at=NOW, origin=origin or str(path))


def one(rows: pl.DataFrame, **where) -> dict:
    found = rows.filter(pl.all_horizontal(pl.col(k) == v for k, v in where.items()))
    assert found.height == 1, found
    return found.row(0, named=True)


def test_aws_p5_48xlarge_yields_instance_and_per_gpu_prices():
    result = parse("skypilot_v8_aws_vms.csv")
    row = one(
        result.rows,
        instance_type="p5.48xlarge",
        region="us-east-1",
        zone="use1-az2",
        pricing_type="on_demand",
    )
    assert row["source"] == "skypilot"
    assert row["provider"] == "aws"
    assert row["accelerator"] == "nvidia-h100-sxm-80gb"
    assert row["accelerator_name"] == "H100"
    assert row["gpu_count"] == Decimal("8")
    assert row["usd_per_instance_hour"] == Decimal("55.04")
    assert row["usd_per_gpu_hour"] == Decimal("6.88")
    assert row["currency"] == "USD"
    assert row["valid_from"] is None
    spot = one(
        result.rows, instance_type="p5.48xlarge", region="us-east-1", zone="use1-az2", pricing_type="spot"
    )
    assert spot["usd_per_gpu_hour"] == Decimal("2.4066375")


def test_spot_equal_to_above_or_missing_from_on_demand_gives_no_spot_row():
    result = parse("skypilot_v8_aws_vms.csv")
    p5_spot = result.rows.filter(
        (pl.col("instance_type") == "p5.48xlarge") & (pl.col("pricing_type") == "spot")
    )
    assert p5_spot["zone"].to_list() == ["use1-az2"]  # equal, empty and above give nothing
    p4d = result.rows.filter(pl.col("instance_type") == "p4d.24xlarge")
    assert p4d["pricing_type"].to_list() == ["on_demand"]  # a zero spot price is not a price
    warning = next(w for w in result.warnings if w.startswith("no spot row"))
    assert "1 above on-demand" in warning and "2 equal to on-demand" in warning and "1 zero" in warning


def test_spot_without_on_demand_is_kept():
    result = parse("skypilot_v8_aws_vms.csv")
    row = one(result.rows, instance_type="p5e.48xlarge")
    assert (row["pricing_type"], row["usd_per_instance_hour"]) == ("spot", Decimal("62.9957"))
    assert row["accelerator"] == "nvidia-h200-sxm-141gb"
    assert any("without an on-demand price" in w for w in result.warnings)


def test_bad_rows_become_rejects_and_the_rest_parse():
    result = parse("skypilot_v8_aws_vms.csv")
    rejects = {(r.rule, r.field, r.record.get("InstanceType")) for r in result.rejects}
    assert ("not_a_number", "Price", "g6.xlarge") in rejects
    assert ("negative", "Price", "g6.2xlarge") in rejects
    assert ("gpu_count", "AcceleratorCount", "inf2.xlarge") in rejects
    assert ("price_band", "Price", "g4dn.xlarge") in rejects
    assert ("not_a_number", "SpotPrice", "p3.2xlarge") in rejects
    assert ("duplicate_key", None, "p5.48xlarge") in rejects
    assert "ignored unknown column(s): Ebs" in result.warnings
    assert any("without an accelerator" in w for w in result.warnings)
    assert (
        one(result.rows, instance_type="g5.xlarge", pricing_type="on_demand")["accelerator"]
        == "nvidia-a10g-24gb"
    )


def test_gcp_host_and_gpu_rows_are_added_per_zone():
    result = parse("skypilot_v8_gcp_vms.csv")
    h100 = one(result.rows, instance_type="a3-highgpu-8g", pricing_type="on_demand")
    assert (h100["region"], h100["zone"]) == ("us-central1", "us-central1-a")
    assert h100["usd_per_instance_hour"] == Decimal("43.06615")  # 9.46006 + 33.60609
    assert h100["usd_per_gpu_hour"] == Decimal("5.38326875")
    assert h100["accelerator"] == "nvidia-h100-sxm-80gb"
    spot = one(result.rows, instance_type="a3-highgpu-8g", pricing_type="spot")
    assert spot["usd_per_instance_hour"] == Decimal("35.87358")  # 3.86318 + 32.0104
    a100 = one(result.rows, instance_type="a2-highgpu-1g", pricing_type="on_demand")
    assert (a100["usd_per_instance_hour"], a100["accelerator"]) == (
        Decimal("3.67339"),
        "nvidia-a100-sxm-40gb",
    )
    # The GPU component's spot is above its on-demand, but the instance total is still a discount.
    ultra = one(result.rows, instance_type="a2-ultragpu-8g", pricing_type="spot")
    assert ultra["usd_per_instance_hour"] == Decimal("20.11024")
    l4 = one(result.rows, instance_type="g2-standard-4", pricing_type="on_demand")
    assert (l4["usd_per_instance_hour"], l4["accelerator"]) == (Decimal("0.7"), "nvidia-l4-24gb")


def test_gcp_host_without_gpus_or_with_a_zero_component_is_rejected():
    result = parse("skypilot_v8_gcp_vms.csv")
    rules = {(r.rule, r.record["InstanceType"]) for r in result.rejects}
    assert ("gcp_unpaired", "a3-highgpu-8g") in rules  # us-central1-b has no H100 row
    assert ("zero_component", "a4-highgpu-8g") in rules
    assert result.rows.filter(pl.col("instance_type").is_in(["a4-highgpu-8g", "n2-standard-8"])).is_empty()


def anycloud_gcp():
    return parse("anycloud_catalog_gcp_vms.csv")


def test_gcp_n1_attached_gpus_are_priced_as_the_gpus_alone():
    result = anycloud_gcp()
    t4 = one(result.rows, instance_type="T4:2", pricing_type="on_demand")
    assert (t4["provider"], t4["region"], t4["zone"]) == ("gcp", "us-central1", "us-central1-a")
    assert (t4["accelerator"], t4["accelerator_name"], t4["gpu_count"]) == ("nvidia-t4-16gb", "T4", 2)
    assert (t4["usd_per_instance_hour"], t4["usd_per_gpu_hour"]) == (Decimal("0.7"), Decimal("0.35"))
    spot = one(result.rows, instance_type="T4:2", pricing_type="spot")
    assert spot["usd_per_gpu_hour"] == Decimal("0.1654")
    v100 = one(result.rows, instance_type="V100:1", pricing_type="on_demand")
    assert (v100["accelerator"], v100["usd_per_gpu_hour"]) == ("nvidia-v100-sxm2-16gb", Decimal("2.48"))
    # The n1-standard-4 host is a CPU row: it is not added to the GPUs.
    assert result.rows.filter(pl.col("instance_type") == "n1-standard-4").is_empty()
    assert (
        "priced 2 GCP N1-attached GPU rows (T4, V100, P100, P4) as the GPUs alone: "
        "the N1 host VM they need, of the user's choosing, is not included"
    ) in result.warnings
    # An A100 x16 row without its a2-megagpu-16g host is no N1 GPU: still not priced.
    assert result.rows.filter(pl.col("accelerator_name") == "A100").is_empty()
    assert "skipped 1 GCP GPU-only rows whose host VM is not in their zone" in result.warnings


@pytest.mark.parametrize(
    ("slice_", "zone", "chips", "accelerator", "per_chip", "spot_per_chip"),
    [
        # v4 and v5p names count TensorCores (2 per chip), v5e and v6e names count chips.
        ("tpu-v4-8", "us-central2-b", 4, "google-tpu-v4-32gb", "3.22", "0.9215"),
        ("tpu-v5p-8", "us-central1-a", 4, "google-tpu-v5p-95gb", "4.2", "0.8275675"),
        ("tpu-v5litepod-8", "us-central1-a", 8, "google-tpu-v5e-16gb", "1.2", "0.2571725"),
        ("tpu-v6e-8", "us-east5-c", 8, "google-tpu-v6e-32gb", "2.7", "1.27575"),
    ],
)
def test_gcp_tpu_slices_are_priced_per_chip_hour(slice_, zone, chips, accelerator, per_chip, spot_per_chip):
    rows = anycloud_gcp().rows
    on_demand = one(rows, instance_type=slice_, zone=zone, pricing_type="on_demand")
    assert (on_demand["accelerator"], on_demand["accelerator_name"]) == (accelerator, slice_)
    assert on_demand["gpu_count"] == chips
    assert on_demand["usd_per_gpu_hour"] == Decimal(per_chip)
    assert on_demand["usd_per_instance_hour"] == Decimal(per_chip) * chips
    spot = one(rows, instance_type=slice_, zone=zone, pricing_type="spot")
    assert spot["usd_per_gpu_hour"] == Decimal(spot_per_chip)


def test_gcp_placeholders_are_rejected_and_verbatim_repeats_skipped():
    result = anycloud_gcp()
    rejects = sorted((r.rule, r.key["instance_type"], r.key["zone"]) for r in result.rejects)
    assert rejects == [
        ("tpu_flat_price", "tpu-v6e-1", "asia-east1-c"),
        ("tpu_flat_price", "tpu-v6e-8", "asia-east1-c"),
        ("zero_component", "a4-highgpu-8g", "us-central1-b"),
    ]
    assert result.rows.filter(pl.col("zone") == "asia-east1-c").is_empty()
    assert result.rows.filter(pl.col("accelerator_name") == "B200").is_empty()
    # tpu-v4-8 appears twice verbatim: one row per pricing type, no duplicate-key reject.
    assert result.rows.filter(pl.col("instance_type") == "tpu-v4-8").height == 2
    assert "skipped 1 GCP TPU rows repeated verbatim" in result.warnings
    assert result.rows.height == 12


def test_a_tpu_slice_of_unknown_naming_is_rejected_not_guessed():
    body = b"InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice\n"
    body += b",,,tpu-v9x-16,1,tpu-v9x-16,us-central1,us-central1-a,40.0,10.0\n"
    body += b",,,tpu-v5p-9,1,tpu-v5p-9,us-central1,us-central1-a,40.0,10.0\n"
    result = skypilot.parse(body, observed_at=NOW, origin="anycloud/gcp_vms.csv")
    assert result.rows.is_empty()
    assert [(r.rule, r.key["instance_type"]) for r in result.rejects] == [
        ("tpu_slice", "tpu-v9x-16"),
        ("tpu_slice", "tpu-v5p-9"),
    ]


def test_host_excerpt_without_gpu_rows_emits_no_host_only_prices():
    body = b"InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice\n"
    body += b"a3-highgpu-8g,208.0,1872.0,,,,us-central1,us-central1-a,9.46006,2.88933\n"
    result = skypilot.parse(body, observed_at=NOW, origin="catalogs/v8/gcp/vms.csv")
    assert result.rows.is_empty()
    assert [r.rule for r in result.rejects] == ["gcp_unpaired"]


def test_crlf_lambda_catalog_and_form_factor_from_the_instance_name():
    assert b"\r\n" in (FIXTURES / "skypilot_v8_lambda_vms.csv").read_bytes()
    result = parse("skypilot_v8_lambda_vms.csv")
    assert result.rows.height == 5
    assert one(result.rows, instance_type="gpu_1x_h100_pcie")["accelerator"] == "nvidia-h100-pcie-80gb"
    assert one(result.rows, instance_type="gpu_8x_h100_sxm5")["usd_per_gpu_hour"] == Decimal("3.99")
    assert one(result.rows, instance_type="gpu_1x_a100_sxm4")["accelerator"] == "nvidia-a100-sxm-40gb"
    assert one(result.rows, instance_type="gpu_8x_a100_80gb_sxm4")["accelerator"] == "nvidia-a100-sxm-80gb"
    quadro = one(result.rows, instance_type="gpu_1x_rtx6000")  # Lambda's RTX6000 is the Turing Quadro
    assert (quadro["accelerator"], quadro["accelerator_name"]) == ("nvidia-quadro-rtx6000-24gb", "RTX6000")


def test_anycloud_vast_catalog_uses_instance_memory_and_names():
    result = parse("anycloud_catalog_vast_vms.csv")
    rows = result.rows
    assert set(rows["source"]) == {"anycloud"}
    assert set(rows["provider"]) == {"vastai"}
    assert one(rows, instance_type="1x-H100_NVL-32-65536")["accelerator"] == "nvidia-h100-nvl-94gb"
    assert one(rows, instance_type="8x-H100_SXM-32-65536")["accelerator"] == "nvidia-h100-sxm-80gb"
    assert one(rows, region="Montana, US, NA")["accelerator"] == "nvidia-a100-sxm-80gb"
    assert one(rows, region="Germany, DE, EU")["accelerator"] == "nvidia-a100-sxm-40gb"
    assert one(rows, instance_type="2x-A100_PCIE-32-65536")["accelerator"] == "nvidia-a100-pcie-80gb"
    assert one(rows, instance_type="2x-RTX_6000Ada-32-65536")["accelerator"] == "nvidia-rtx6000-ada-48gb"
    assert one(rows, instance_type="1x-RTX_5090-32-65536")["accelerator"] == "nvidia-rtx5090-32gb"
    assert set(rows["pricing_type"]) == {"on_demand"}  # SpotPrice 0.00 everywhere


def test_anycloud_azure_catalog_uses_the_azure_sku_table_and_fractional_gpus():
    rows = parse("anycloud_catalog_azure_vms.csv").rows
    nc40 = one(rows, instance_type="Standard_NC40ads_H100_v5", region="eastus", pricing_type="on_demand")
    assert (nc40["accelerator"], nc40["accelerator_name"]) == ("nvidia-h100-nvl-94gb", "H100")
    # westus spot above on-demand and H200 spot equal to on-demand are no spot prices.
    assert rows.filter(pl.col("pricing_type") == "spot")["region"].to_list() == ["eastus", "eastus", "eastus"]
    a10 = one(rows, instance_type="Standard_NV6ads_A10_v5", pricing_type="on_demand")
    assert a10["gpu_count"] == Decimal("0.167")
    assert a10["usd_per_gpu_hour"] == Decimal("2.718562874")
    assert one(rows, instance_type="Standard_ND96asr_v4", pricing_type="on_demand")["accelerator"] == (
        "nvidia-a100-sxm-40gb"
    )


def test_region_and_zone_are_apart_and_each_zone_is_a_row():
    rows = parse("skypilot_v8_aws_vms.csv").rows
    p5 = rows.filter((pl.col("instance_type") == "p5.48xlarge") & (pl.col("pricing_type") == "on_demand"))
    # Two zones of us-east-1 at one price stay two rows: zones are priced apart.
    assert sorted(p5.select("region", "zone", "usd_per_instance_hour").rows()) == [
        ("eu-north-1", "eun1-az2", Decimal("58.8928")),
        ("us-east-1", "use1-az1", Decimal("55.04")),
        ("us-east-1", "use1-az2", Decimal("55.04")),
        ("us-west-1", "usw1-az1", Decimal("68.8")),
    ]
    assert one(p5, region="eu-north-1")["zone"] == "eun1-az2"
    # A catalog that prices per region has no zone.
    azure = parse("anycloud_catalog_azure_vms.csv").rows
    assert azure["zone"].null_count() == azure.height == 8


def test_azure_generation_written_unquoted_is_rejoined_and_other_long_rows_rejected():
    result = parse("anycloud_catalog_azure_vms_unquoted.csv")
    rows = result.rows.filter(pl.col("pricing_type") == "on_demand")
    assert sorted(rows.select("instance_type", "region", "accelerator", "usd_per_gpu_hour").rows()) == [
        ("Standard_NC24s_v3", "eastus", "nvidia-v100-sxm2-16gb", Decimal("3.06")),
        ("Standard_NC40ads_H100_v5", "eastus", "nvidia-h100-nvl-94gb", Decimal("6.98")),
        ("Standard_NC4as_T4_v3", "eastus", "nvidia-t4-16gb", Decimal("0.526")),
        ("Standard_NV36ads_A10_v5", "westeurope", "nvidia-a10-24gb", Decimal("3.2")),
    ]
    assert result.rows.filter(pl.col("pricing_type") == "spot").height == 4
    # The CPU row D2s_v3 is recovered too, then skipped as a CPU instance.
    assert "recovered 4 rows whose Generation was written unquoted as V1,V2" in result.warnings
    assert "skipped 1 rows without an accelerator (CPU instances)" in result.warnings
    # A price written with a comma also makes 11 fields, but not at Generation: no guess is made.
    [reject] = result.rejects
    assert (reject.rule, reject.reason) == ("malformed_row", "line 7 has 11 fields, the header has 10")
    assert reject.record["fields"][:1] == ["Standard_NC12s_v3"]
    assert result.complete


def test_skypilot_runpod_catalog_reads_gb_memory_and_gpuinfo_names():
    rows = parse("skypilot_v8_runpod_vms.csv").rows
    assert one(rows, instance_type="1x_A100-80GB_SECURE")["accelerator"] == "nvidia-a100-pcie-80gb"
    assert one(rows, instance_type="1x_H100_SECURE", pricing_type="on_demand")["accelerator"] == (
        "nvidia-h100-pcie-80gb"
    )
    sxm = one(rows, instance_type="8x_H100-SXM_SECURE", pricing_type="spot")
    assert (sxm["region"], sxm["zone"], sxm["usd_per_gpu_hour"]) == ("US", "US-TX-3", Decimal("1.99"))


@pytest.mark.parametrize(
    ("origin", "cloud"),
    [
        (
            "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v8/aws/vms.csv",
            "aws",
        ),
        ("/data/skypilot_catalog_v8_gcp_vms_excerpt.csv", "gcp"),
        ("anycloud_catalog_lambda_vms_us-east-1_gpu_rows.csv", "lambda"),
        ("C:\\catalogs\\nebius\\vms.csv", "nebius"),
    ],
)
def test_cloud_is_read_from_the_origin(origin, cloud):
    assert skypilot.cloud_of(origin) == cloud


def test_origin_without_a_cloud_is_a_source_error():
    with pytest.raises(SourceError, match="cannot tell which cloud"):
        parse("skypilot_v8_aws_vms.csv", origin="/tmp/vms.csv")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty payload"),
        (b'{"Items": []}', "missing required column"),
        (b"InstanceType,Accelerator,AcceleratorCount,Price,Region\nx,H100,1,2,r\n", "AcceleratorName"),
        (b"InstanceType,AcceleratorName,AcceleratorCount,Price,Region\n", "no data rows"),
    ],
)
def test_unusable_payloads_raise_source_errors_naming_the_problem(body, message):
    with pytest.raises(SourceError, match=message) as e:
        skypilot.parse(body, observed_at=NOW, origin="catalogs/v8/aws/vms.csv")
    assert str(e.value).startswith("skypilot: ")


def test_fetch_live_returns_one_payload_per_cloud_and_falls_back_to_the_mirror():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "raw.githubusercontent.com" and "/lambda/" in request.url.path:
            return httpx.Response(404)
        return httpx.Response(200, content=f"catalog of {request.url.path}".encode())

    http = Http(httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda _: None)
    fetched = skypilot.fetch_live(http)
    assert len(fetched) == len(skypilot.CLOUDS)
    for cloud, payload in zip(skypilot.CLOUDS, fetched, strict=True):
        assert payload.url.endswith(f"/{cloud}/vms.csv")
        assert skypilot.cloud_of(payload.url) == cloud
    lambda_payload = fetched[skypilot.CLOUDS.index("lambda")]
    assert lambda_payload.url.startswith(skypilot.MIRROR_URL)
    assert lambda_payload.body == b"catalog of /catalogs/v8/lambda/vms.csv"


def test_fetch_live_fails_loudly_when_both_hosts_fail():
    http = Http(
        httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(404))), sleep=lambda _: None
    )
    with pytest.raises(FetchError, match="skypilot catalog for aws"):
        skypilot.fetch_live(http)


def test_json_gpuinfo_and_instance_total_memory_of_other_clouds():
    # Verda writes GpuInfo as JSON; Prime Intellect puts the whole instance's memory in SizeInMiB.
    header = "InstanceType,UpstreamCloudId,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,Price,SpotPrice\n"
    info = '"{""Gpus"": [{""Name"": ""H100"", ""Count"": 2, ""Fake"": true, ""MemoryInfo"": {""SizeInMiB"": %d}}]}"'
    body = f"2H100.80S,2H100.80S,60,370,H100,2.0,{info % 95830},FIN-01,4.58,1.6\n"
    verda = skypilot.parse((header + body).encode(), observed_at=NOW, origin="catalogs/v8/verda/vms.csv")
    assert verda.rows["accelerator"].to_list() == ["nvidia-h100-nvl-94gb"] * 2
    body = f"x__2xH100,n3-H100x2,60,360,H100,2.0,{info % 191660},CA,4.58,\n"
    prime = skypilot.parse(
        (header + body).encode(), observed_at=NOW, origin="catalogs/v8/primeintellect/vms.csv"
    )
    assert prime.rows["accelerator"].to_list() == ["nvidia-h100-nvl-94gb"]
