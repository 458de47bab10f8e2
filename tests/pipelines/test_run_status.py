"""A run's status is computed from what reached history and what was published, with the real cause
in words, and `costcurve status` shows it (exit 0 ok, 1 partial or stale, 2 failed)."""

import errno
import hashlib
import json
import os

import duckdb
import pytest

from pipelines import validation
from pipelines.cli import main
from warehouse import db, history, publish

ARGS = ["token_prices", "--source", "genai_prices", "--observed-at"]


def ingest(fixtures, day: str) -> int:
    path = fixtures / "token_prices" / "genai_prices_v2.json"
    return main(["ingest", ARGS[0], str(path), *ARGS[1:], day])


def status(capsys) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["status", "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def history_rows() -> list[tuple]:
    with db.working() as con:
        return con.execute(
            "select * exclude (last_seen_at) from history.token_prices order by all"
        ).fetchall()


def published_files(home) -> dict[str, str]:
    generation = (home / "published").resolve()
    return {
        str(p.relative_to(generation)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(generation.rglob("*"))
        if p.is_file()
    }


def test_an_ingest_that_lands_is_success_and_status_exits_0(costcurve_home, fixtures, capsys):
    assert ingest(fixtures, "2099-01-01") == 0  # observed "now or later": no source is stale
    code, report = status(capsys)
    assert (code, report["last_run"]["status"], report["exit_code"]) == (0, "success", 0)
    assert report["last_run"]["summary"] == "all sources landed"
    (genai,) = report["sources"]
    # What was stored, after every reject: the fixture's two bad records are not counted as accepted.
    with db.working() as con:
        stored = con.execute("select count(*) from staging.token_prices").fetchone()[0]
    assert genai["rows_accepted"] == stored and genai["rows_rejected"] == 2


def test_blocked_validation_fails_the_ingest_and_status_says_so(
    costcurve_home, fixtures, capsys, monkeypatch
):
    monkeypatch.setattr(validation, "MAX_REJECTED_SHARE", -1.0)  # every batch is judged unusable
    assert ingest(fixtures, "2099-01-01") == 2
    message = " ".join(capsys.readouterr().err.split())
    assert "validation blocked the merge" in message and "nothing reached history" in message
    assert history_rows() == []
    code, report = status(capsys)
    assert code == 2 and report["last_run"]["status"] == "failed"
    summary = report["last_run"]["summary"]
    assert summary.startswith("validation blocked token_prices: ") and "exceeds" in summary
    with db.working() as con:
        verdict = con.execute("select success, merged_at from meta.validations").fetchall()
    assert verdict == [(False, None)]


def test_a_failed_merge_fails_the_run_with_its_cause(costcurve_home, fixtures, capsys, monkeypatch):
    assert ingest(fixtures, "2099-01-01") == 0
    before = history_rows()

    def broken(*args, **kwargs):
        raise duckdb.IOException("IO Error: Could not write file: disk I/O error")

    monkeypatch.setattr(history, "merge", broken)
    assert ingest(fixtures, "2099-01-02") == 2
    assert "disk I/O error" in capsys.readouterr().err
    assert history_rows() == before
    code, report = status(capsys)
    assert code == 2 and report["last_run"]["status"] == "failed"
    assert report["last_run"]["summary"].startswith(
        "failed merge token_prices: IOException: IO Error: Could not write file: disk I/O error"
    )


def test_disk_full_while_publishing_leaves_the_published_files_and_fails_the_run(
    costcurve_home, fixtures, capsys, monkeypatch
):
    assert ingest(fixtures, "2099-01-01") == 0
    generation = (costcurve_home / "published").resolve()
    files = published_files(costcurve_home)

    def disk_full(con, directory):
        directory.mkdir(parents=True)
        (directory / "half.parquet").write_bytes(b"PAR1")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(publish, "export_parquet", disk_full)
    assert ingest(fixtures, "2099-01-02") == 2
    assert "No space left on device" in " ".join(capsys.readouterr().err.split())
    assert (costcurve_home / "published").resolve() == generation
    assert published_files(costcurve_home) == files
    assert [p.name for p in costcurve_home.glob("published-*")] == [generation.name]
    code, report = status(capsys)
    assert code == 2 and report["last_run"]["status"] == "failed"
    assert "failed publish: OSError: [Errno 28] No space left on device" in report["last_run"]["summary"]


def test_status_exits_1_when_a_source_is_stale(costcurve_home, fixtures, capsys):
    assert ingest(fixtures, "2020-01-01") == 0
    code, report = status(capsys)
    assert report["last_run"]["status"] == "success" and code == 1
    assert [s["stale"] for s in report["sources"]] == [True]


@pytest.mark.filterwarnings("ignore")
def test_status_table_names_held_open_keys(costcurve_home, fixtures, capsys):
    assert ingest(fixtures, "2099-01-01") == 0
    capsys.readouterr()
    assert main(["status"]) == 0
    assert "held open by rejects" in " ".join(capsys.readouterr().out.split())
