"""Rebuild replays raw.payloads in observation order and reaches the history incremental runs built."""

import json

import duckdb
import pytest

from pipelines.cli import main
from warehouse import db, raw

HISTORY = ("token_prices", "gpu_rates", "accelerators", "eval_results")


def history_rows(path, exclude=("payload_sha256",)):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            t: con.execute(
                f"select * exclude ({', '.join(exclude)}) from history.{t} order by all"
            ).fetchall()
            for t in HISTORY
        }, con.execute("select count(*) from quarantine.rejected_rows").fetchone()[0]
    finally:
        con.close()


def three_ingests_and_a_refresh(fixtures, tmp_path):
    original = json.loads((fixtures / "token_prices" / "genai_prices_v2.json").read_text())
    changed = json.loads(json.dumps(original))
    changed[0]["models"][1]["prices"]["input_mtok"] = 0.1  # gpt-4o-mini cut
    del changed[1]["models"][1]  # claude-3-haiku disappears
    first, second = tmp_path / "day1.json", tmp_path / "day3.json"
    first.write_text(json.dumps(original))
    second.write_text(json.dumps(changed))
    for path, day in ((first, "2026-11-01"), (second, "2026-11-03"), (first, "2026-11-05")):
        assert (
            main(["ingest", "token_prices", str(path), "--source", "genai_prices", "--observed-at", day]) == 0
        )
    assert main(["refresh", "--offline"]) == 0


# first_seen_at is left out here: see the test below.
SEEN = ("payload_sha256", "first_seen_at")


def test_rebuild_reaches_the_same_history(costcurve_home, fixtures, tmp_path):
    three_ingests_and_a_refresh(fixtures, tmp_path)
    incremental, rejected = history_rows(db.published_path(), SEEN)
    assert rejected > 0
    mini = [r for r in incremental["token_prices"] if r[2] == "gpt-4o-mini" and r[0] == "genai_prices"]
    assert len(mini) >= 3  # the cut and its reversal are history

    assert main(["rebuild"]) == 0
    rebuilt, rejected_again = history_rows(db.published_path(), SEEN)
    assert rebuilt == incremental
    assert rejected_again == rejected
    assert (costcurve_home / "costcurve.duckdb.before-rebuild").exists()


@pytest.mark.xfail(
    strict=True,
    reason="known gap: when a later payload declares a change dated before an earlier observation "
    "(genai-prices' o3 change of 2026-10-14 after a file observed 2026-11-01), the versions it cuts get "
    "first_seen_at from whichever merge ran last, so a rebuild and the incremental runs disagree on it",
)
def test_rebuild_reaches_the_same_first_sightings(costcurve_home, fixtures, tmp_path):
    three_ingests_and_a_refresh(fixtures, tmp_path)
    incremental, _ = history_rows(db.published_path())
    assert main(["rebuild"]) == 0
    assert history_rows(db.published_path())[0] == incremental


def test_rebuild_compresses_a_warehouse_archived_before_compression(costcurve_home, fixtures):
    payload = fixtures / "token_prices" / "genai_prices_v2.json"
    assert (
        main(
            [
                "ingest",
                "token_prices",
                str(payload),
                "--source",
                "genai_prices",
                "--observed-at",
                "2026-11-01",
            ]
        )
        == 0
    )
    incremental, _ = history_rows(db.published_path(), SEEN)
    with db.working() as con:  # as an older costcurve left it: no encoding column, every body verbatim
        rows = [
            (*row, raw.body(con, row[0]))
            for row in con.execute("select * exclude (body, encoding) from raw.payloads").fetchall()
        ]
        con.execute("drop table raw.payloads")
        con.execute(
            "create table raw.payloads (sha256 varchar primary key, source varchar, dataset varchar, "
            "url varchar, fetched_at timestamptz, size bigint, body blob)"
        )
        con.executemany("insert into raw.payloads values (?, ?, ?, ?, ?, ?, ?)", rows)

    assert main(["rebuild"]) == 0
    with db.working() as con:
        stored = con.execute("select sha256, size, octet_length(body), encoding from raw.payloads").fetchall()
        verbatim = {sha: raw.body(con, sha) for sha, *_ in stored}
    assert verbatim == {row[0]: payload.read_bytes() for row in rows}
    ((sha, size, stored_size, encoding),) = stored
    assert (size, encoding) == (payload.stat().st_size, "gzip") and stored_size < size / 3
    assert history_rows(db.published_path(), SEEN)[0] == incremental


def test_rebuild_without_a_warehouse_says_what_to_do(capsys):
    assert main(["rebuild"]) == 2
    assert "costcurve refresh" in capsys.readouterr().err
