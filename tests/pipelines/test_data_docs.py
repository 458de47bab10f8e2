"""The validation pages published as data_docs/: one page per run and an index, built from the
warehouse's meta and quarantine tables, that render their content offline (no request leaves the
files) with every upstream value escaped."""

import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipelines import validation_docs
from warehouse import db, meta, quarantine

sys.path.insert(0, str(Path(__file__).parents[1] / "report"))
from cdp import CHROMIUM, Browser  # noqa: E402

FIRST, SECOND = "refresh-20260101T060000", "refresh-20260102T060000"


def _reject(rule, field, value):
    return SimpleNamespace(
        source="litellm", rule=rule, reason=f"{field} out of range", record={field: value}, field=field,
        value=value, key={"model": "m"},
    )  # fmt: skip


@pytest.fixture
def warehouse(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    meta.ensure(con)
    for run_id, day, status, summary in (
        (FIRST, 1, "success", "all sources landed"),
        (SECOND, 2, "partial", "1 of 2 sources failed"),
    ):
        at = datetime(2026, 1, day, 6, tzinfo=UTC)
        con.execute(
            "insert into meta.runs (run_id, kind, started_at, finished_at, status, summary) "
            "values (?, 'refresh', ?, ?, ?, ?)",
            [run_id, at, at, status, summary],
        )
    con.execute(
        """insert into meta.validations
               (run_id, dataset, validated_at, success, rows, rejected, rules_broken, summary, merged_at)
           values
           (?, 'token_prices', '2026-01-01 06:00:01+00', true, 120, 0, [], 'token_prices: 120 rows', now()),
           (?, 'token_prices', '2026-01-02 06:00:01+00', true, 100, 3, ['gx:range'], 'token_prices: 100 rows', now()),
           (?, 'gpu_rates', '2026-01-02 06:00:02+00', false, 4, 4, ['gx:not_null'], 'gpu_rates: 100% rejected', null)""",
        [FIRST, SECOND, SECOND],
    )
    quarantine.write(
        con,
        run_id=SECOND,
        dataset="token_prices",
        rejects=[
            _reject("gx:range", "input_usd_per_mtok", "-1"),
            _reject("gx:range", "input_usd_per_mtok", "20000"),
            _reject("gx:allowed", "model", "<script>alert(1)</script>"),
        ],
        payload_sha256="ab" * 32,
    )
    meta.record_source_run(
        con, run_id=SECOND, source="azure", dataset="gpu_rates", mode="embedded", status="failed", rows_in=0,
        rows_accepted=0, rows_rejected=0, versions_inserted=0, versions_superseded=0, keys_closed=0,
        keys_held_open=0, duration_s=0.1, observed_at=datetime(2026, 1, 2, 6, tzinfo=UTC),
        error="ConnectError: offline", warnings=[], origin=None, licence=None,
    )  # fmt: skip
    yield con
    con.close()


def test_one_page_per_run_and_an_index_newest_first(warehouse, tmp_path):
    index = validation_docs.write(warehouse, tmp_path / "data_docs")
    assert index == tmp_path / "data_docs" / "index.html"
    assert sorted(p.name for p in (tmp_path / "data_docs" / "runs").iterdir()) == [
        f"{FIRST}.html",
        f"{SECOND}.html",
    ]
    text = index.read_text()
    assert text.index(SECOND) < text.index(FIRST)
    assert f'href="runs/{SECOND}.html"' in text
    # Second run: 2 datasets validated, 1 verdict failed, 104 rows, 7 rejected.
    assert '<td class="n">2</td><td class="n">1</td><td class="n">104</td><td class="n">7</td>' in text
    page = (tmp_path / "data_docs" / "runs" / f"{SECOND}.html").read_text()
    assert "gpu_rates: 100% rejected" in page and "ConnectError: offline" in page
    assert '<td>gpu_rates</td><td><span class="bad">failed</span></td><td class="n">4</td>' in page
    # Two refusals of one rule and field are one line with both values; a value is text, never markup.
    assert '<td>gx:range</td><td>input_usd_per_mtok</td><td class="n">2</td><td>-1<br>20000</td>' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert f'href="{FIRST}.html">older run' in page and 'href="../index.html"' in page


def test_rewriting_replaces_the_pages_whole(warehouse, tmp_path):
    docs = tmp_path / "data_docs"
    validation_docs.write(warehouse, docs)
    warehouse.execute("delete from meta.runs where run_id = ?", [FIRST])
    validation_docs.write(warehouse, docs)
    assert [p.name for p in (docs / "runs").iterdir()] == [f"{SECOND}.html"]
    # Built aside and swapped in: nothing half-written is left beside it.
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("data_docs.")]


def test_pages_render_offline_in_chromium(warehouse, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make browser` (installs Debian's chromium as root)")
    index = validation_docs.write(warehouse, tmp_path / "data_docs")
    with Browser() as browser:
        for domain in ("Runtime", "Network", "Page"):
            browser.page(f"{domain}.enable")
        seen = {}
        for page in (index, tmp_path / "data_docs" / "runs" / f"{SECOND}.html"):
            browser.page("Page.navigate", url=page.as_uri())
            browser.wait_for("document.readyState === 'complete'")
            seen[page.name] = browser.evaluate(
                "({text: document.body.innerText, tables: document.querySelectorAll('table tr').length,"
                " header: getComputedStyle(document.querySelector('th')).backgroundColor})"
            )
        requests = [
            e["params"]["request"]["url"]
            for e in browser.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
    assert all(url.startswith("file:") for url in requests), requests
    assert seen["index.html"]["tables"] == 3  # header and two runs
    assert "1 of 2 sources failed" in seen["index.html"]["text"]
    run = seen[f"{SECOND}.html"]
    assert "<script>alert(1)</script>" in run["text"]  # shown as text
    # The inline style applied: nothing styled it from outside.
    assert run["header"] == "rgb(240, 242, 245)"
