"""A rebuild parses its coming batches in a child process (pipelines.readahead): same results as
parsing here, read ahead of the batch being merged, and never the only way a payload gets parsed."""

import pickle
import subprocess
import sys
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import flow, readahead
from pipelines.cli import main
from sources import skypilot, vastai
from sources.base import ParseResult, SourceError
from sources.http import Fetched
from warehouse import db

OBSERVED = datetime(2026, 11, 3, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
LAMBDA = f"{skypilot.LIVE_URL}/lambda/vms.csv"


def batches(fixtures, count: int) -> list[readahead.Batch]:
    catalog = (fixtures / "gpu_rates" / "skypilot_v8_lambda_vms.csv").read_bytes()
    offers = (fixtures / "gpu_rates" / "vastai_bundles.json").read_bytes()
    return [
        readahead.Batch(
            f"run-{n}",
            "gpu_rates",
            [
                flow.Feed(skypilot, [Fetched(LAMBDA, catalog)], "live", OBSERVED),
                flow.Feed(
                    vastai,
                    [Fetched(vastai.LIVE_URL, offers), Fetched(vastai.LIVE_URL, b"<html>")],
                    "live",
                    OBSERVED,
                ),
            ],
        )
        for n in range(count)
    ]


def test_a_child_parses_each_payload_as_it_would_be_parsed_here_ahead_of_the_replay(fixtures):
    given = batches(fixtures, 4)
    pulled = []

    def coming():
        for batch in given:
            pulled.append(batch.run_id)
            yield batch

    taken = []
    for batch in readahead.parsed_ahead(coming()):
        # The batches after this one were handed to the child before this one was taken.
        assert len(pulled) == min(len(given), len(taken) + 1 + readahead.AHEAD)
        taken.append(batch)
    assert [b.run_id for b in taken] == ["run-0", "run-1", "run-2", "run-3"]
    for batch in taken:
        (catalog,), (offers, page) = (feed.parsed for feed in batch.feeds)
        here = skypilot.parse(batch.feeds[0].payloads[0].body, observed_at=OBSERVED, origin=LAMBDA)
        assert catalog.rows.height == here.rows.height > 0 and catalog.rows.equals(here.rows)
        assert (catalog.rejects, catalog.warnings, catalog.complete) == (here.rejects, here.warnings, True)
        here = vastai.parse(batch.feeds[1].payloads[0].body, observed_at=OBSERVED, origin=vastai.LIVE_URL)
        assert offers.rows.height == here.rows.height > 0 and offers.rows.equals(here.rows)
        # By repr: a reject of a NaN price holds NaN, which equals nothing, itself included.
        assert offers.rejects and repr(offers.rejects) == repr(here.rejects)
        # A payload that cannot be read comes back as the error flow records for it.
        assert isinstance(page, SourceError) and str(page).startswith("vastai: payload is not JSON")


def test_a_source_error_survives_the_trip_back_whole():
    error = pickle.loads(pickle.dumps(SourceError("vastai", "no offers")))
    assert (type(error), str(error), error.source, error.message) == (
        SourceError,
        "vastai: no offers",
        "vastai",
        "no offers",
    )


class Unsendable(Exception):
    def __init__(self):
        super().__init__("a parser bug")
        self.state = lambda: None  # a lambda does not pickle


class Unrebuilt(Exception):
    def __init__(self, source, message):  # args holds one string: unpickling would call it with one
        super().__init__(f"{source}: {message}")


@pytest.mark.parametrize("error", [Unsendable(), Unrebuilt("vastai", "a parser bug")])
def test_an_error_that_cannot_come_back_leaves_the_payload_to_be_parsed_here(monkeypatch, error):
    def broken(body, *, observed_at, origin):
        raise error

    monkeypatch.setattr(vastai, "parse", broken)
    assert readahead.parse("gpu_rates", "vastai", b"{}", OBSERVED, vastai.LIVE_URL) is None
    # What does come back is the error itself.
    monkeypatch.setattr(vastai, "parse", lambda body, **_: vastai._offers(b"[]"))
    sent = readahead.parse("gpu_rates", "vastai", b"[]", OBSERVED, vastai.LIVE_URL)
    assert isinstance(sent, SourceError) and str(sent) == "vastai: no offers"
    failed = Future()
    failed.set_exception(RuntimeError("the child died"))
    assert readahead._result(failed) is None


def test_flow_takes_the_parse_made_ahead_and_parses_what_was_not(tmp_path, fixtures):
    con = db.connect(tmp_path / "w.duckdb")
    flow.ensure(con)
    body = (fixtures / "gpu_rates" / "vastai_bundles.json").read_bytes()
    here = vastai.parse(body, observed_at=OBSERVED, origin=vastai.LIVE_URL)
    # Rows no parse of the body gives, so the staged rows show which parse was taken.
    renamed = here.rows.head(2).with_columns(pl.format("ahead {}", "instance_type").alias("instance_type"))
    ahead = ParseResult(renamed, [], ["parsed ahead"])
    payloads = [Fetched(f"{vastai.LIVE_URL}{n}", body) for n in range(3)]
    parsed = [ahead, SourceError("vastai", "no offers"), None]
    feed = flow.Feed(vastai, payloads, "live", OBSERVED, parsed=parsed)
    try:
        (outcome,) = flow.stage(con, "gpu_rates", [feed], run_id="ahead").outcomes
        staged = con.execute("select instance_type from staging.gpu_rates order by all").fetchall()
        errors = con.execute("select error from raw.fetches where run_id = 'ahead' order by error").fetchall()
    finally:
        con.close()
    # The rows given for the first payload and the rows parsed here for the third.
    expected = sorted([*renamed["instance_type"], *here.rows["instance_type"]])
    assert here.rows.height > 2 and [t for (t,) in staged] == expected
    assert "parsed ahead" in outcome.warnings
    assert outcome.status == "partial" and outcome.error == "vastai: no offers"
    assert errors == [("vastai: no offers",), (None,), (None,)]


def test_a_script_calling_rebuild_unguarded_still_rebuilds_while_the_child_refuses(
    costcurve_home, fixtures, tmp_path
):
    """spawn imports the parent's script in the child; a script calling rebuild() at its top level would
    rebuild a second time there. The child refuses, and the parent parses everything itself."""
    body = fixtures / "gpu_rates" / "skypilot_v8_lambda_vms.csv"
    argv = ["ingest", "gpu_rates", str(body), "--source", "skypilot", "--observed-at", "2026-11-03"]
    assert main(argv) == 0
    before = history(costcurve_home)
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from pipelines.rebuild import rebuild\n\nrebuild(lambda message: None)\nprint('rebuilt')\n"
    )
    run = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["rebuilt"]
    assert "call it under `if __name__ == '__main__':`" in run.stderr
    assert len(before) > 0 and history(costcurve_home) == before


def history(home) -> list[tuple]:
    with duckdb.connect(str(home / "costcurve.duckdb"), read_only=True) as con:
        return con.execute(
            "select * exclude (payload_sha256, first_seen_at, last_seen_at, recorded_at) from history.gpu_rates order by all"
        ).fetchall()
