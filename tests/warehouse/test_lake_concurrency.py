"""Writers of different datasets at once on one DuckLake with a PostgreSQL catalog (a `.ducklake` file
catalog is a DuckDB file: one writing process, so there the writer lock stays whole): two `costcurve
ingest` processes and a reader process reading the published warehouse throughout; no error, and the
same history as running the two one after the other."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from warehouse import readers

pytestmark = pytest.mark.filterwarnings("ignore")

INGESTS = [
    ["token_prices", "genai_prices_v2.json", "genai_prices", "2026-11-01"],
    ["gpu_rates", "runpod_graphql_gputypes.json", "runpod", "2026-12-01"],
]
HISTORY = {
    "token_prices": "select source, provider, model, tier, valid_from, valid_to, input_usd_per_mtok, "
    "output_usd_per_mtok from history.token_prices order by all",
    "gpu_rates": "select source, provider, instance_type, region, zone, pricing_type, valid_from, valid_to, "
    "usd_per_instance_hour from history.gpu_rates order by all",
    "runs": "select kind, status from meta.runs order by all",
}
# Reads the published warehouse until the stop file appears; prints how many reads succeeded.
READER = """
import pathlib, sys, time
from warehouse import readers
from warehouse.lake import StorageError
stop, reads = pathlib.Path(sys.argv[1]), 0
while not stop.exists():
    try:
        con = readers.published()
    except StorageError:  # nothing published yet
        time.sleep(0.2)
        continue
    con.execute("select count(*) from meta.runs").fetchall()
    con.close()
    reads += 1
print(reads)
"""


# A shared lake is created once (its first refresh, or `costcurve migrate`) before a team writes to it;
# racing the creation of the catalog's tables is not what this test is about.
CREATE = "from pipelines import flow; from warehouse import db; flow.ensure(db.connect())"


def env_for(home, postgres) -> dict[str, str]:
    env = os.environ | {
        "COSTCURVE_HOME": str(home),
        "COSTCURVE_WAREHOUSE": f"ducklake:postgres:{postgres.dsn(postgres.create_database())}",
        "COSTCURVE_LAKE_DATA": str(home / "lake-data"),
    }
    subprocess.run([sys.executable, "-c", CREATE], env=env, check=True, capture_output=True)
    return env


def ingest(env, fixtures, dataset, name, source, day) -> subprocess.Popen:
    command = [sys.executable, "-m", "pipelines.cli", "ingest", dataset, str(fixtures / dataset / name)]
    command += ["--source", source, "--observed-at", day]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def histories(monkeypatch, env) -> dict[str, list[tuple]]:
    for name in ("COSTCURVE_HOME", "COSTCURVE_WAREHOUSE", "COSTCURVE_LAKE_DATA"):
        monkeypatch.setenv(name, env[name])
    con = readers.published()
    try:
        return {dataset: con.execute(sql).fetchall() for dataset, sql in HISTORY.items()}
    finally:
        con.close()


def test_two_ingests_of_different_datasets_at_once_with_a_reader_throughout(
    postgres, tmp_path, fixtures, monkeypatch
):
    together = env_for(tmp_path / "home", postgres)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(stop)],
        env=together,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    writers = [ingest(together, fixtures, *args) for args in INGESTS]
    results = [(w.wait(timeout=900), *w.communicate()) for w in writers]
    time.sleep(1)  # a read or two after both published
    stop.touch()
    reads, reader_err = reader.communicate(timeout=120)
    for code, _, err in results:
        assert code == 0, err
    assert reader.returncode == 0, reader_err
    assert int(reads) > 0

    one_by_one = env_for(tmp_path / "home2", postgres)
    for args in INGESTS:
        process = ingest(one_by_one, fixtures, *args)
        assert process.wait(timeout=900) == 0, process.communicate()[1]

    concurrent, sequential = histories(monkeypatch, together), histories(monkeypatch, one_by_one)
    assert len(concurrent["token_prices"]) == 12 and len(concurrent["gpu_rates"]) == 11
    assert concurrent == sequential
    assert concurrent["runs"] == [("ingest", "success"), ("ingest", "success")]
