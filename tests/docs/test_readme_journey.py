"""The README's journey, step by step, in one warehouse: `make run` (an offline refresh), the report,
a query, the change feed, the explorer, `status`, the Dagster UI's instance and a dashboard reading
Parquet when the manifest changes. Each step must see the same run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from pipelines.cli import main

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore")


def readme_commands(section: str) -> list[list[str]]:
    """The `.venv/bin/costcurve ...` lines of one README section, as argument lists."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    commands = []
    for line in re.findall(r"^\.venv/bin/costcurve (.+)$", body, flags=re.MULTILINE):
        line = line.split("  #", 1)[0].strip()
        commands.append([part.strip('"') for part in re.findall(r'"[^"]*"|\S+', line)])
    return commands


def test_the_readme_journey_from_make_run_to_a_dashboard(costcurve_home, capsys):
    # 1. make run: the offline refresh.
    assert main(["refresh", "--offline"]) == 0
    # Progress as it happens: each source's line comes before its dataset's step is done.
    progress = capsys.readouterr().err
    assert progress.index("skypilot (embedded): success") < progress.index("✓ staging__gpu_rates")
    assert progress.index("✓ staging__gpu_rates") < progress.index("✓ publish")
    published = costcurve_home / "published"
    manifest = json.loads((published / "manifest.json").read_text())
    run_id = manifest["run"]["run_id"]
    # 2. The report opens offline and draws the charts the README lists.
    report = (published / "report.html").read_text(encoding="utf-8")
    assert "Margin Compression Index" in report and "<script src=" not in report  # inline, offline
    # 3. Every command of "From clone to a chart and a query" runs and prints something.
    commands = readme_commands("From clone to a chart and a query")
    assert [c[0] for c in commands] == ["sql", "sql", "changes"]
    capsys.readouterr()
    for command in commands:
        assert main(command) == 0, command
        assert capsys.readouterr().out.strip(), command
    # o3 on 2025-06-01, as the first README query asks: $10 in, before the 2025-06-10 cut to $2.
    assert main(["sql", commands[0][1], "--format", "json"]) == 0
    o3 = json.loads(capsys.readouterr().out)
    assert {r["input_usd_per_mtok"] for r in o3 if r["service_tier"] == "standard"} == {10.0}
    # 4. The explorer serves this snapshot.
    from pipelines.explorer.app import create
    from pipelines.explorer.snapshot import Snapshot

    snap = Snapshot()
    client = create(snap).server.test_client()
    assert client.get("/").status_code == 200
    assert snap.frame("select run_id from meta.runs").item() == run_id
    snap.close()  # the server's process ends; this test goes on in the same one
    # 5. status: a clean, fresh warehouse exits 0 and names the run.
    assert main(["status", "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["last_run"]["run_id"] == run_id and status["exit_code"] == 0
    # 6. The Dagster UI's instance holds the same run.
    with dg.DagsterInstance.from_config(str(costcurve_home / "dagster")) as instance:
        (run,) = instance.get_runs()
        assert run.run_id == run_id and run.status == dg.DagsterRunStatus.SUCCESS
    # 7. A dashboard reads Parquet with prices as numbers, and sees the manifest change after a run.
    prices = pd.read_parquet(published / "parquet" / "token_prices_current.parquet")
    assert str(prices["input_usd_per_mtok"].dtype) == "float64" and len(prices) > 5_000
    assert main(["refresh", "--offline"]) == 0
    again = json.loads((published / "manifest.json").read_text())
    assert again["run"]["run_id"] != run_id
    tables = {t["name"]: t for t in again["tables"]}
    assert tables["marts.token_prices_current"]["changed"] is False  # the same prices: nothing to reload
