"""`costcurve backfill` on a catalog repository built here: its history is what ingesting the same
dated files by hand gives, one version per period is taken, and running it again adds nothing."""

import os
import subprocess

import pytest

from pipelines.cli import main
from warehouse import db

HEADER = (
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
    "Region,AvailabilityZone,Arch,Ebs"
)
OFFERS = {"p5.48xlarge": ("H100", 8), "p4d.24xlarge": ("A100", 8), "g5.xlarge": ("A10G", 1)}
# SkyPilot's AWS catalog as three commits: p5 gets cheaper on the 5th, g5 leaves on the 9th.
COMMITS = {
    "2026-03-01": {"p5.48xlarge": "55.04", "p4d.24xlarge": "21.96", "g5.xlarge": "1.006"},
    "2026-03-05": {"p5.48xlarge": "50.00", "p4d.24xlarge": "21.96", "g5.xlarge": "1.006"},
    "2026-03-09": {"p5.48xlarge": "50.00", "p4d.24xlarge": "21.96"},
}
PATH = "catalogs/v8/aws/vms.csv"
BUSINESS = "instance_type, usd_per_instance_hour::varchar, valid_from::varchar, valid_to::varchar"


def vms_csv(prices: dict[str, str]) -> str:
    lines = [
        f"{instance},{OFFERS[instance][0]},{OFFERS[instance][1]}.0,8.0,64.0,,{price},,us-east-1,use1-az1,x86_64,yes"
        for instance, price in prices.items()
    ]
    return "\n".join([HEADER, *lines]) + "\n"


def git(repo, *args, day: str | None = None):
    env = os.environ | {
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "catalog bot",
        "GIT_AUTHOR_EMAIL": "bot@example.invalid",
        "GIT_COMMITTER_NAME": "catalog bot",
        "GIT_COMMITTER_EMAIL": "bot@example.invalid",
    }
    if day:
        env |= {"GIT_AUTHOR_DATE": f"{day}T12:00:00+00:00", "GIT_COMMITTER_DATE": f"{day}T12:00:00+00:00"}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def catalog_repo(path, commits: dict[str, dict[str, str]]):
    """A repository with one commit of the AWS catalog per day, and a commit of another file."""
    path.mkdir()
    git(path, "init", "-q")
    (path / PATH).parent.mkdir(parents=True)
    for day, prices in commits.items():
        (path / PATH).write_text(vms_csv(prices))
        git(path, "add", PATH)
        git(path, "commit", "-q", "-m", f"catalog of {day}", day=day)
    (path / "README.md").write_text("not a catalog\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "readme", day="2026-03-10")
    return path


def backfill(repo, *extra) -> int:
    return main(["backfill", "skypilot", "--repo", str(repo), "--since", "2026-01-01", *extra])


def versions() -> list[tuple]:
    with db.working() as con:
        return con.execute(f"select {BUSINESS} from history.gpu_rates order by all").fetchall()


def history() -> list[tuple]:
    with db.working() as con:
        return con.execute(
            "select * exclude (first_seen_at, last_seen_at, payload_sha256, recorded_at) "
            "from history.gpu_rates order by all"
        ).fetchall()


@pytest.fixture
def repo(tmp_path):
    return catalog_repo(tmp_path / "catalog", COMMITS)


def test_backfill_gives_the_history_of_ingesting_each_commit_by_hand(tmp_path, monkeypatch, repo, capsys):
    monkeypatch.setenv("COSTCURVE_HOME", str(tmp_path / "by_hand"))
    for day, prices in COMMITS.items():
        saved = tmp_path / day / "aws" / "vms.csv"
        saved.parent.mkdir(parents=True)
        saved.write_text(vms_csv(prices))
        assert main(["ingest", "gpu_rates", str(saved), "--source", "skypilot", "--observed-at", day]) == 0
    by_hand = history()

    monkeypatch.setenv("COSTCURVE_HOME", str(tmp_path / "backfilled"))
    capsys.readouterr()
    assert backfill(repo) == 0, capsys.readouterr().err
    assert history() == by_hand
    assert versions() == [
        ("g5.xlarge", "1.006000000", "2026-03-01", "2026-03-09"),  # gone from the third commit
        ("p4d.24xlarge", "21.960000000", "2026-03-01", None),
        ("p5.48xlarge", "50.000000000", "2026-03-05", None),
        ("p5.48xlarge", "55.040000000", "2026-03-01", "2026-03-05"),
    ]
    err = " ".join(capsys.readouterr().err.split())
    assert "3 catalog versions of 1 clouds" in err
    assert "aws 2026-03-01 12:00" in err and "aws 2026-03-09 12:00" in err
    assert "2026-03-10" not in err  # the commit that changed no catalog
    assert "from 3 of 3 catalog versions: 6 new history versions, 1 keys closed" in err
    with db.working() as con:
        fetched = con.execute(
            "select url, observed_at::varchar from raw.fetches order by observed_at"
        ).fetchall()
        run = con.execute("select kind, status from meta.runs").fetchall()
        source_run = con.execute(
            "select status, rows_accepted, versions_inserted, keys_closed from meta.source_runs"
        ).fetchall()
    assert [(url.split(":")[0], url.rsplit(":", 1)[1]) for url, _ in fetched] == [("git", PATH)] * 3
    assert [day[:16] for _, day in fetched] == [f"{d} 12:00" for d in COMMITS]
    assert run == [("backfill", "success")]
    assert source_run == [("success", 8, 6, 1)]  # the whole backfill, summed over its three versions
    assert (tmp_path / "backfilled" / "published" / "costcurve.duckdb").exists()


def test_a_second_backfill_adds_no_version(repo, capsys):
    assert backfill(repo) == 0
    before = history()
    with db.working() as con:
        superseded = con.execute("select count(*) from superseded.gpu_rates").fetchone()
    capsys.readouterr()
    assert backfill(repo) == 0
    assert "0 new history versions, 0 keys closed" in " ".join(capsys.readouterr().err.split())
    assert history() == before
    with db.working() as con:
        assert con.execute("select count(*) from superseded.gpu_rates").fetchone() == superseded
        inserted = con.execute(
            "select versions_inserted from meta.source_runs s join meta.runs r using (run_id) "
            "order by r.started_at"
        ).fetchall()
    assert inserted == [(6,), (0,)]


def test_every_week_takes_the_last_commit_of_the_week(tmp_path, capsys):
    # 2 to 6 March 2026 is one ISO week.
    week = {
        "2026-03-02": {"p5.48xlarge": "40.00", "g5.xlarge": "1.006"},
        "2026-03-04": {"p5.48xlarge": "45.00", "g5.xlarge": "1.006"},
        "2026-03-06": {"p5.48xlarge": "50.00"},
    }
    repo = catalog_repo(tmp_path / "weekly", week)
    assert backfill(repo, "--every", "1w") == 0, capsys.readouterr().err
    assert versions() == [("p5.48xlarge", "50.000000000", "2026-03-06", None)]
    with db.working() as con:
        assert con.execute("select count(*) from raw.fetches").fetchone() == (1,)


def test_since_and_until_bound_the_commit_days(repo, capsys):
    assert backfill(repo, "--until", "2026-03-05") == 0, capsys.readouterr().err
    assert versions() == [
        ("g5.xlarge", "1.006000000", "2026-03-01", None),
        ("p4d.24xlarge", "21.960000000", "2026-03-01", None),
        ("p5.48xlarge", "50.000000000", "2026-03-05", None),
        ("p5.48xlarge", "55.040000000", "2026-03-01", "2026-03-05"),
    ]
    capsys.readouterr()
    assert main(["backfill", "skypilot", "--repo", str(repo), "--since", "2026-04-01"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(f"error: no commit of {repo} changed catalogs/v8/*/vms.csv from 2026-04-01 to now")


def test_a_folder_that_is_no_repository_is_one_line(tmp_path, capsys):
    assert backfill(tmp_path) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(f"error: {tmp_path} is not a git repository") and "Traceback" not in err


def test_a_version_that_cannot_be_read_fails_alone_and_the_run_is_partial(tmp_path, capsys):
    unreadable = {"2026-03-05": {"p5.48xlarge": "abc", "p4d.24xlarge": "x", "g5.xlarge": "y"}}
    repo = catalog_repo(tmp_path / "catalog", {**COMMITS, **unreadable})
    # The 5th's catalog is unreadable: the 1st and the 9th land around it.
    assert backfill(repo) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "aws 2026-03-05 12:00" in err and "not ingested: skypilot: every record was rejected (3)" in err
    assert "from 2 of 3 catalog versions" in err and "1 did not land" in err
    assert versions() == [
        ("g5.xlarge", "1.006000000", "2026-03-01", "2026-03-09"),
        ("p4d.24xlarge", "21.960000000", "2026-03-01", None),
        ("p5.48xlarge", "50.000000000", "2026-03-09", None),
        ("p5.48xlarge", "55.040000000", "2026-03-01", "2026-03-09"),
    ]
    with db.working() as con:
        status, error = con.execute("select status, error from meta.source_runs").fetchone()
        run = con.execute("select status from meta.runs").fetchone()
    assert status == "partial" and error.startswith("aws 2026-03-05 12:00")
    assert run == ("partial",)
