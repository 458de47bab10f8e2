"""History through the real commands: dated catalog files ingested in any order, and a rebuild of
the archive, give one history; a payload mostly rejected lands what it can and closes nothing."""

import pytest

from pipelines.cli import main
from warehouse import db

HEADER = (
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
    "Region,AvailabilityZone,Arch,Ebs"
)
OFFERS = {
    "p5.48xlarge": ("H100", 8),
    "p4d.24xlarge": ("A100", 8),
    "g5.xlarge": ("A10G", 1),
    "p3.2xlarge": ("V100", 1),
}
# One SkyPilot AWS catalog on three days: p5 gets cheaper on day 2, g5 leaves on day 2 and comes
# back on day 3, p4d leaves on day 3, and p3's day-2 record is unreadable (rejected, so held).
DAYS = {
    "2026-03-01": {
        "p5.48xlarge": "55.04",
        "p4d.24xlarge": "21.96",
        "g5.xlarge": "1.006",
        "p3.2xlarge": "3.06",
    },
    "2026-03-05": {"p5.48xlarge": "50.00", "p4d.24xlarge": "21.96", "p3.2xlarge": "abc"},
    "2026-03-09": {"p5.48xlarge": "50.00", "g5.xlarge": "1.006", "p3.2xlarge": "3.06"},
}
BUSINESS = "instance_type, usd_per_instance_hour::varchar, valid_from::varchar, valid_to::varchar"


def catalog(tmp_path, day: str, prices: dict[str, str]):
    path = tmp_path / day / "aws" / "vms.csv"  # the parser reads the cloud from the path
    path.parent.mkdir(parents=True)
    lines = [
        f"{instance},{OFFERS[instance][0]},{OFFERS[instance][1]}.0,8.0,64.0,,{price},,us-east-1,use1-az1,x86_64,yes"
        for instance, price in prices.items()
    ]
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def ingest(path, day: str) -> int:
    return main(["ingest", "gpu_rates", str(path), "--source", "skypilot", "--observed-at", day])


def versions() -> list[tuple]:
    with db.working() as con:
        return con.execute(
            f"select {BUSINESS} from history.gpu_rates where source = 'skypilot' order by all"
        ).fetchall()


def history(exclude="first_seen_at, last_seen_at, payload_sha256, recorded_at") -> list[tuple]:
    with db.working() as con:
        return con.execute(f"select * exclude ({exclude}) from history.gpu_rates order by all").fetchall()


@pytest.fixture
def files(tmp_path):
    return {day: catalog(tmp_path, day, prices) for day, prices in DAYS.items()}


def test_dated_catalogs_in_any_order_and_a_rebuild_give_one_history(tmp_path, monkeypatch, files, capsys):
    monkeypatch.setenv("COSTCURVE_HOME", str(tmp_path / "in_order"))
    for day in ("2026-03-01", "2026-03-05", "2026-03-09"):
        assert ingest(files[day], day) == 0
    in_order = history()
    assert versions() == [
        ("g5.xlarge", "1.006000000", "2026-03-01", "2026-03-05"),
        ("g5.xlarge", "1.006000000", "2026-03-09", None),
        ("p3.2xlarge", "3.060000000", "2026-03-01", None),  # held on day 2, listed again on day 3
        ("p4d.24xlarge", "21.960000000", "2026-03-01", "2026-03-09"),
        ("p5.48xlarge", "50.000000000", "2026-03-05", None),
        ("p5.48xlarge", "55.040000000", "2026-03-01", "2026-03-05"),
    ]
    monkeypatch.setenv("COSTCURVE_HOME", str(tmp_path / "shuffled"))
    for day in ("2026-03-09", "2026-03-01", "2026-03-05"):
        assert ingest(files[day], day) == 0
    assert history() == in_order
    with_system_time = history(exclude="first_seen_at, last_seen_at, payload_sha256")
    with db.working() as con:
        superseded = con.execute("select * from superseded.gpu_rates order by all").fetchall()
    capsys.readouterr()
    assert main(["rebuild"]) == 0
    assert history() == in_order
    # The rebuild reproduced every version, so it kept when each was recorded and what was superseded.
    assert history(exclude="first_seen_at, last_seen_at, payload_sha256") == with_system_time
    with db.working() as con:
        assert con.execute("select * from superseded.gpu_rates order by all").fetchall() == superseded
    assert len(superseded) >= 2  # the late files replaced versions the first one opened


def test_a_mostly_rejected_payload_lands_its_good_rows_closes_nothing_and_is_partial(
    costcurve_home, tmp_path, files, capsys
):
    assert ingest(files["2026-03-01"], "2026-03-01") == 0
    broken = catalog(tmp_path, "2026-03-20", {"p5.48xlarge": "50.00", "p4d.24xlarge": "x", "p3.2xlarge": "y"})
    capsys.readouterr()
    assert ingest(broken, "2026-03-20") == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "had 2 of its 3 records rejected: it closes no key in history" in err
    assert versions() == [
        ("g5.xlarge", "1.006000000", "2026-03-01", None),  # not listed, but this payload closes nothing
        ("p3.2xlarge", "3.060000000", "2026-03-01", None),
        ("p4d.24xlarge", "21.960000000", "2026-03-01", None),
        ("p5.48xlarge", "50.000000000", "2026-03-20", None),
        ("p5.48xlarge", "55.040000000", "2026-03-01", "2026-03-20"),
    ]
    with db.working() as con:
        status = con.execute(
            "select status from meta.source_runs where observed_at::date = date '2026-03-20'"
        ).fetchone()[0]
    assert status == "partial"
