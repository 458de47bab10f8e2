"""The catalogs read as frames: the CSV reader's frame, and SkyPilot's CPU rows counted on it, give the
same results as reading every row one at a time."""

from datetime import UTC, datetime

import pytest
from polars.testing import assert_frame_equal

from sources import skypilot
from sources.gpu_rows import read_csv, read_csv_frame

OBSERVED = datetime(2026, 11, 22, 6, tzinfo=UTC)
CATALOGS = (
    "skypilot_v8_aws_vms.csv",
    "skypilot_v8_gcp_vms.csv",
    "skypilot_v8_lambda_vms.csv",
    "skypilot_v8_runpod_vms.csv",
    "anycloud_catalog_azure_vms.csv",
    "anycloud_catalog_azure_vms_unquoted.csv",
    "anycloud_catalog_gcp_vms.csv",
    "anycloud_catalog_vast_vms.csv",
)


def outcome(name: str, body: bytes):
    result = skypilot.parse(body, observed_at=OBSERVED, origin=name)
    rejects = [(r.rule, r.reason, r.field, r.value, r.record, r.key) for r in result.rejects]
    return result.rows, rejects, result.warnings, result.complete


@pytest.mark.parametrize("name", CATALOGS)
def test_cpu_rows_counted_on_the_frame_equal_reading_every_row(fixtures, monkeypatch, name):
    body = (fixtures / "gpu_rates" / name).read_bytes()
    framed = outcome(name, body)
    # Every row through the per-row rules, which skip a CPU row one at a time.
    monkeypatch.setattr(skypilot._Catalog, "priced_rows", lambda self, frame: frame.drop("_line").to_dicts())
    per_row = outcome(name, body)
    assert_frame_equal(framed[0], per_row[0])
    assert framed[1:] == per_row[1:]


def test_cpu_rows_are_counted_and_gcp_hosts_kept(fixtures):
    body = (fixtures / "gpu_rates" / "skypilot_v8_gcp_vms.csv").read_bytes()
    catalog = skypilot._Catalog("skypilot", "gcp")
    frame, _, _ = read_csv_frame("skypilot", body, required=skypilot.REQUIRED, known=skypilot.KNOWN)
    kept = catalog.priced_rows(frame)
    # Per row, as the rules read them: no accelerator, an instance type, and no GPU host it names.
    cpu = [
        r
        for r in frame.to_dicts()
        if not r["AcceleratorName"] and r["InstanceType"] and not skypilot._gcp_host_gpus(r["InstanceType"])
    ]
    assert len(cpu) > 0 and catalog.skipped[skypilot._CPU_ROWS] == len(cpu)
    assert len(kept) == frame.height - len(cpu)
    # The host VMs (no AcceleratorName) stay for the pairing with their zone's GPU rows.
    assert {r["InstanceType"] for r in kept if not r["AcceleratorName"]} >= {"a3-highgpu-8g"}


def test_the_frame_holds_stripped_text_line_numbers_and_rejoined_values():
    body = (
        b"InstanceType,AcceleratorName,Generation,Price\r\n"
        b" a , H100 ,V1,V2, 1.5 \r\n"  # Generation written unquoted: rejoined
        b"\r\n"  # a blank line is no row
        b"b,\x1fA100\x1f,V2,2\r\n"  # str.strip() strips U+001F, which polars' default would keep
        b"c,L4,V1,V2,3,4\r\n"  # two fields too many: rejected
    )
    frame, rejects, warnings = read_csv_frame(
        "skypilot", body, required=["InstanceType", "Price"], known=["AcceleratorName", "Generation"],
        unquoted=skypilot.GENERATION,
    )  # fmt: skip
    assert frame.rows() == [("a", "H100", "V1,V2", "1.5", 2), ("b", "A100", "V2", "2", 4)]
    assert [(r.rule, r.reason) for r in rejects] == [
        ("malformed_row", "line 5 has 6 fields, the header has 4")
    ]
    assert warnings == ["recovered 1 rows whose Generation was written unquoted as V1,V2"]
    rows, _, _ = read_csv(
        "skypilot", body, required=["InstanceType"], numbered=True, unquoted=skypilot.GENERATION
    )
    assert rows[1] == {
        "InstanceType": "b",
        "AcceleratorName": "A100",
        "Generation": "V2",
        "Price": "2",
        "line": 4,
    }
