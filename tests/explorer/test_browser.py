"""The explorer in headless Chromium, over a warehouse refreshed offline: every page loads and draws
with no console error and no request leaving the local server, a model search shows that model's
price history, a slider changes a number, and a table downloads as CSV. Screenshots of every page
are written to the test's temporary directory (its path is printed)."""

import base64
import csv
import io
import sys
import threading
import time
from pathlib import Path

import pytest

# The project's DevTools-protocol client lives beside the report test.
sys.path.insert(0, str(Path(__file__).parents[1] / "report"))
from cdp import CHROMIUM, Browser  # noqa: E402

from pipelines.explorer.server import start  # noqa: E402
from pipelines.explorer.snapshot import Snapshot  # noqa: E402

PAGES = ("models", "compare", "gpus", "mci", "what-if")


@pytest.fixture(scope="module")
def server(published_db):
    with Snapshot(published_db) as snap:
        served = start(port=0, snap=snap)
        thread = threading.Thread(target=served.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{served.port}"
        served.shutdown()
        served.server_close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    path = tmp_path_factory.mktemp("explorer-screenshots")
    print(f"explorer screenshots: {path}")
    return path


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make browser` (installs Debian's chromium as root)")
    with Browser(window=(1400, 1000)) as b:
        for domain in ("Runtime", "Log", "Network", "Page"):
            b.page(f"{domain}.enable")
        yield b


def problems(browser, origin: str) -> list[str]:
    """Console errors, uncaught exceptions, and any request that went anywhere but the server."""
    found = []
    for event in browser.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            found.append(f"console.{params['type']}: {[a.get('value') for a in params['args']]}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params['exceptionDetails']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found.append(f"log: {params['entry']['text']}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith((origin + "/", "data:", "blob:")):
                found.append(f"request outside the server: {url}")
    return found


def open_explorer(browser, server):
    browser.events.clear()
    browser.page("Page.navigate", url=server + "/")
    browser.wait_for("document.readyState === 'complete'")
    # The first page is drawn: its chart has its lines.
    browser.wait_for("document.querySelector('#model-chart .scatterlayer .trace') !== null", timeout=90)
    wait_idle(browser)


def wait_idle(browser, timeout=90):
    """Until Dash has no callback in flight (its loading markers are gone) and every graph drew."""
    browser.wait_for(
        "document.querySelector('#tabs') !== null && "
        "document.querySelectorAll('[data-dash-is-loading=true]').length === 0",
        timeout=timeout,
    )


def show(browser, page: str):
    browser.evaluate(
        f"[...document.querySelectorAll('#tabs .tab')].find(t => t.textContent === {TAB_LABELS[page]!r}).click()"
    )
    time.sleep(0.3)
    wait_idle(browser)


TAB_LABELS = {
    "models": "Model prices",
    "compare": "Compare models",
    "gpus": "GPU offers",
    "mci": "Margin Compression Index",
    "what-if": "What if",
}


def traces(browser, graph_id: str) -> int:
    return browser.evaluate(f"document.querySelectorAll('#{graph_id} .scatterlayer .trace').length")


def rows(browser, table_id: str) -> list[list[str]]:
    return browser.evaluate(
        f"[...document.querySelectorAll('#{table_id} tbody tr')].map(r => "
        "[...r.querySelectorAll('td')].map(c => c.textContent)).filter(r => r.length)"
    )


def screenshot(browser, path: Path):
    data = browser.page("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
    path.write_bytes(base64.b64decode(data))


def test_every_page_loads_offline(browser, server, screenshots):
    open_explorer(browser, server)
    drawn = {}
    for page in PAGES:
        show(browser, page)
        browser.wait_for(
            "[...document.querySelectorAll('.tab-content .js-plotly-plot')].every(g => "
            "g.querySelector('.scatterlayer .trace') !== null)",
            timeout=60,
        )
        drawn[page] = browser.evaluate("document.querySelectorAll('.tab-content .js-plotly-plot').length")
        screenshot(browser, screenshots / f"{page}.png")
    assert problems(browser, server) == []
    assert drawn == {"models": 1, "compare": 1, "gpus": 1, "mci": 1, "what-if": 3}


def test_a_model_search_shows_its_history(browser, server, screenshots):
    open_explorer(browser, server)
    # Under load Dash may still be rendering the page's controls when the chart has drawn.
    browser.wait_for("document.querySelector('#model') !== null", timeout=90)
    browser.evaluate("document.querySelector('#model').click()")
    browser.wait_for("document.querySelector('input.dash-dropdown-search') !== null")
    browser.evaluate("document.querySelector('input.dash-dropdown-search').focus()")
    browser.page("Input.insertText", text="claude-3-opus")
    browser.wait_for(
        "[...document.querySelectorAll('.dash-dropdown-option input')].map(i => i.value)"
        ".join() === 'anthropic/claude-3-opus'"
    )
    browser.evaluate("document.querySelector('.dash-dropdown-option').click()")
    browser.wait_for(
        "document.querySelector('#model-chart .gtitle').textContent.startsWith('anthropic/claude-3-opus')"
    )
    wait_idle(browser)
    models = browser.evaluate(
        "[...document.querySelectorAll('#model-table td[data-dash-column=model]')].map(c => c.textContent)"
    )
    assert models and all("claude-3-opus" in m for m in models)
    assert traces(browser, "model-chart") >= 1
    screenshot(browser, screenshots / "model-search.png")
    assert problems(browser, server) == []


def headline(browser) -> str:
    return browser.evaluate("document.querySelector('#what-if-headline').innerText")


def test_a_slider_changes_the_numbers(browser, server, screenshots):
    open_explorer(browser, server)
    show(browser, "what-if")
    browser.wait_for("document.querySelector('#what-if-cost') !== null", timeout=90)
    before = {i: browser.evaluate(f"document.querySelector('#{i}').textContent") for i in ("what-if-cost",)}
    text_before = headline(browser)
    assert "at 50% utilization" in text_before
    # Keyboard on the utilization slider's thumb, as a person tabbing to it would: 50% -> 70%.
    browser.wait_for("document.querySelector('#utilization [role=slider]') !== null")
    browser.evaluate("document.querySelector('#utilization [role=slider]').focus()")
    for _ in range(4):
        for kind in ("keyDown", "keyUp"):
            browser.page(
                "Input.dispatchKeyEvent",
                type=kind,
                key="ArrowRight",
                code="ArrowRight",
                windowsVirtualKeyCode=39,
            )
    browser.wait_for(
        "document.querySelector('#what-if-headline').innerText.includes('at 70% utilization')", timeout=90
    )
    wait_idle(browser)
    after = browser.evaluate("document.querySelector('#what-if-cost').textContent")
    # The cheapest self-hosted cost per token falls as the same GPUs serve more of their hours.
    assert float(after.strip("$").replace(",", "")) < float(
        before["what-if-cost"].strip("$").replace(",", "")
    )
    screenshot(browser, screenshots / "what-if-70.png")
    assert problems(browser, server) == []


def test_a_table_downloads_as_csv(browser, server, tmp_path):
    open_explorer(browser, server)
    show(browser, "gpus")
    browser.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(tmp_path))
    shown = browser.evaluate("document.querySelectorAll('#gpu-table tbody tr td').length")
    assert shown
    browser.evaluate("document.querySelector('#gpu-table-download').click()")
    deadline = time.monotonic() + 30
    while not (tmp_path / "gpu_offers.csv").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "gpu_offers.csv").read_text())))
    assert rows and list(rows[0])[:3] == ["accelerator", "provider", "pricing_type"]
    prices = [float(r["usd_per_gpu_hour"]) for r in rows]
    assert prices == sorted(prices) and prices[0] > 0
