"""The static report renders in headless Chromium: every chart draws its marks, the page logs no
console error and fetches nothing (it must work offline), and a missing mart is a note, not a failure."""

import json
import re
import shutil
from datetime import date

import duckdb
import pytest
from cdp import CHROMIUM, Browser

from pipelines import report

CHARTS = ("price-history", "gpu-cheapest", "mci", "breakeven-api", "breakeven-buy", "cost-per-correct")
# One entry per section: its id, whether it drew, how many data marks it drew, its note if any.
SECTIONS_JS = """[...document.querySelectorAll('section > [id]')].map(el => ({
  id: el.id,
  rendered: el.dataset.rendered || null,
  lines: el.querySelectorAll('svg g.mark-line.role-mark > path').length,
  symbols: el.querySelectorAll('svg g.mark-symbol.role-mark > path').length,
  note: el.classList.contains('nodata') ? el.textContent : null,
}))"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make browser` (installs Debian's chromium as root)")
    with Browser() as b:
        for domain in ("Runtime", "Log", "Network", "Page"):
            b.page(f"{domain}.enable")
        yield b


def open_report(browser, path) -> dict[str, dict]:
    browser.events.clear()
    browser.page("Page.navigate", url=path.as_uri())
    browser.wait_for("document.readyState === 'complete'")
    browser.wait_for("document.querySelectorAll('[data-rendered=pending]').length === 0", timeout=60)
    return {s["id"]: s for s in browser.evaluate(SECTIONS_JS)}


def problems(browser) -> list[str]:
    """Console errors and warnings, uncaught exceptions, and any request that left the file."""
    found = []
    for event in browser.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
            found.append(
                f"console.{params['type']}: {[a.get('value', a.get('description')) for a in params['args']]}"
            )
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params['exceptionDetails']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found.append(f"log: {params['entry']['text']}")
        elif method == "Network.requestWillBeSent" and not params["request"]["url"].startswith(
            ("file:", "data:")
        ):
            found.append(f"network request: {params['request']['url']}")
    return found


@pytest.fixture(scope="module")
def published(published_db):
    with duckdb.connect(str(published_db), read_only=True) as con:
        yield con


@pytest.fixture(scope="module")
def rendered(published, tmp_path_factory):
    return report.write(published, tmp_path_factory.mktemp("report") / "report.html")


def test_every_chart_draws_without_console_errors(browser, rendered):
    sections = open_report(browser, rendered)
    assert problems(browser) == []
    assert list(sections) == [*CHARTS, "changes"]
    assert {s["id"]: s["rendered"] for s in sections.values() if s["id"] in CHARTS} == dict.fromkeys(
        CHARTS, "ok"
    )


def test_price_history_draws_one_step_line_per_flagship_model(browser, rendered, published):
    sections = open_report(browser, rendered)
    models = published.execute(
        "select count(distinct canonical_model) from marts.flagship_price_history"
    ).fetchone()
    # The lineage chain GPT-4 -> GPT-4 Turbo -> GPT-4o -> GPT-4.1 is drawn whole, launches included.
    launches = dict(
        published.execute(
            "select canonical_model, min(valid_from) from marts.flagship_price_history group by all"
        ).fetchall()
    )
    assert {m: str(launches[m]) for m in ("openai/gpt-4", "openai/gpt-4o", "openai/gpt-4.1")} == {
        "openai/gpt-4": "2023-03-14",
        "openai/gpt-4o": "2024-05-13",
        "openai/gpt-4.1": "2025-04-14",
    }
    assert sections["price-history"]["lines"] == models[0] > 10
    accelerators = published.execute(
        "select count(distinct accelerator) from marts.gpu_rates_daily where pricing_type = 'on_demand'"
    ).fetchone()[0]
    assert sections["gpu-cheapest"]["lines"] == min(accelerators, report.GPU_LINES) > 5
    answers = published.execute(
        "select count(*) from marts.cost_per_correct_output where price_mode = 'list' and cost_per_correct_usd is not null"
    ).fetchone()[0]
    assert sections["cost-per-correct"]["symbols"] == answers > 0


def test_page_is_self_contained(rendered):
    text = rendered.read_text()
    assert re.findall(r"<script[^>]*\bsrc=", text) == []
    assert "window.vegaEmbed" in text and "<link" not in text


def specs(path) -> dict:
    return json.loads(
        re.search(r"const specs = (\{.*?\});\n", path.read_text(), re.S).group(1).replace("<\\/", "</")
    )


def test_o3_price_history_steps_down_on_2025_06_10(rendered):
    (history,) = [d for d in specs(rendered)["price-history"]["datasets"].values()]
    o3 = [(r["day"][:10], r["blended_usd_per_mtok"]) for r in history if r["model"] == "openai/o3"]
    # 3:1 blend: 0.75 x 10 + 0.25 x 40 at launch, 0.75 x 2 + 0.25 x 8 after the cut
    assert o3[:2] == [("2025-04-16", 17.5), ("2025-06-10", 3.5)]
    assert o3[-1] == (date.today().isoformat(), 3.5)


def test_changes_section_lists_the_latest_changes(rendered, published):
    text = rendered.read_text()
    latest = published.execute(
        "select max(change_date) from marts.price_change_events where change_date <= current_date"
    ).fetchone()[0]
    assert "<h3>Most recent changes</h3>" in text
    assert f"<td>{latest}</td>" in text


def test_each_chart_draws_a_line_per_series(browser, rendered, published):
    sections = open_report(browser, rendered)

    def one(sql):
        return published.execute(sql).fetchone()[0]

    tiers = one("select count(distinct tier) from marts.margin_compression_index")
    assert sections["mci"]["lines"] == tiers + 3 == 7  # each tier's MCI, then tier all's three series
    series = one(
        """select count(distinct (size_class, api_model)) + count(distinct size_class)
           from marts.breakeven_api_vs_self_host"""
    )
    assert sections["breakeven-api"]["lines"] == series > 3  # each API model, and self-hosting, per size
    paying = one(
        """select count(distinct accelerator) from marts.breakeven_buy_vs_rent
           where rent_basis = 'median' and breakeven_months is not null"""
    )
    assert sections["breakeven-buy"]["lines"] == paying > 1


def test_a_missing_or_empty_mart_is_a_note_and_the_rest_still_draws(browser, published_db, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(published_db, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("drop table marts.margin_compression_index")
        con.execute("delete from marts.breakeven_buy_vs_rent")
        path = report.write(con, tmp_path / "report.html")
    sections = open_report(browser, path)
    assert problems(browser) == []
    assert (
        sections["mci"]["note"]
        == "No data yet: marts.margin_compression_index is not built in this warehouse."
    )
    assert sections["breakeven-buy"]["note"] == "No data yet: marts.breakeven_buy_vs_rent is empty."
    drawn = {s["id"] for s in sections.values() if s["rendered"] == "ok"}
    assert drawn == set(CHARTS) - {"mci", "breakeven-buy"}


def test_charts_speak_in_words_mark_the_mci_base_and_show_the_offers_behind_a_gpu_price(rendered, published):
    charts = specs(rendered)
    mci = json.dumps(charts["mci"])
    # Legends in words, not column names; the base month drawn as a rule where every series is 100.
    series = {row["series"] for d in charts["mci"]["datasets"].values() for row in d if "series" in row}
    assert series == {"Margin Compression Index", "list-price index", "compute-cost index"}
    tiers = {row["tier"] for d in charts["mci"]["datasets"].values() for row in d if "tier" in row}
    assert tiers == {"all models", "flagship models", "mid-tier models", "small models"}
    assert '"format": ".1f"' in mci
    base = published.execute("select mci_base_date from meta.assumptions").fetchone()[0]
    rules = [d for d in charts["mci"]["datasets"].values() if d and "label" in d[0]]
    assert [row["date"][:10] for row in rules[0]] == [base.isoformat()]
    assert f"{base:%B %Y}" in rendered.read_text()
    # Each GPU step carries its provider and the number of offers behind it, formatted as money.
    gpu = json.dumps(charts["gpu-cheapest"])
    assert '"offers in effect"' in gpu and '"offered by"' in gpu and '"$,.2f"' in gpu
    (steps,) = [d for d in charts["gpu-cheapest"]["datasets"].values()]
    single = [r for r in steps if r["n_offers"] == 1]
    assert single and all(r["cheapest_provider"] for r in steps)
