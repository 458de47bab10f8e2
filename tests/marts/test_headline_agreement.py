"""One current price per canonical model, wherever it is shown: after an offline refresh the marts
(marts.headline_prices, marts.token_prices_current, marts.breakeven_api_vs_self_host,
marts.cost_per_correct_output), the report's flagship chart and the CLI's refresh summary all carry the
price of record of intermediate.int_token_price_of_record, for every canonical model."""

from __future__ import annotations

import json
import re
import shutil

import duckdb
import pytest

from pipelines import cli, sandbox

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def snapshot(published_db, tmp_path_factory):
    # The configuration `costcurve` reads with. DuckDB opens a file once per process with one
    # configuration, and other modules hold the shared snapshot open plainly: read a copy.
    copy = tmp_path_factory.mktemp("headline") / "costcurve.duckdb"
    shutil.copy(published_db, copy)
    con = duckdb.connect(str(copy), read_only=True, config=sandbox.config(False))
    yield con
    con.close()


@pytest.fixture(scope="module")
def headline(snapshot) -> dict[str, dict]:
    cursor = snapshot.execute("select * from marts.headline_prices")
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return {r["canonical_model"]: r for r in rows}


def test_headline_is_the_price_of_record_in_effect_for_every_model(snapshot, headline):
    of_record = {
        m: (s, p, i, o)
        for m, s, p, i, o in snapshot.execute(
            """select canonical_model, source, model, input_usd_per_mtok, output_usd_per_mtok
               from intermediate.int_token_price_of_record
               where in_effect(valid_from, valid_to, (select max(as_of) from marts.headline_prices))"""
        ).fetchall()
    }
    assert len(of_record) > 300
    assert {
        m: (h["source"], h["model"], h["input_usd_per_mtok"], h["output_usd_per_mtok"])
        for m, h in headline.items()
    } == of_record


def test_token_prices_current_holds_each_headline_price(snapshot, headline):
    current: dict[str, list[tuple]] = {}
    for m, s, p, mo, i, o, b in snapshot.execute(
        """select canonical_model, source, provider, model, input_usd_per_mtok::double,
                  output_usd_per_mtok::double, blended_usd_per_mtok::double
           from marts.token_prices_current
           where tier = 'base' and service_tier = 'standard' and not off_peak"""
    ).fetchall():
        current.setdefault(m, []).append((s, p, mo, i, o, b))
    for model, h in headline.items():
        (row,) = [r for r in current[model] if r[:3] == (h["source"], h["provider"], h["model"])]
        assert row[3:5] == (h["input_usd_per_mtok"], h["output_usd_per_mtok"]), model
        assert row[5] == pytest.approx(h["blended_usd_per_mtok"], rel=1e-12), model


def test_the_marts_price_each_model_at_its_headline(snapshot, headline):
    api = snapshot.execute(
        """select distinct api_model, api_price_source, api_price_model, api_input_usd_per_mtok,
                  api_output_usd_per_mtok, api_usd_per_mtok
           from marts.breakeven_api_vs_self_host"""
    ).fetchall()
    assert len(api) >= 5
    for model, source, sku, inp, out, blended in api:
        h = headline[model]
        assert (source, sku, inp, out, blended) == (
            h["source"],
            h["model"],
            h["input_usd_per_mtok"],
            h["output_usd_per_mtok"],
            h["blended_usd_per_mtok"],
        )
    evals = snapshot.execute(
        """select distinct canonical_model, price_source, input_usd_per_mtok, output_usd_per_mtok
           from marts.cost_per_correct_output where price_mode = 'list'"""
    ).fetchall()
    current = [e for e in evals if e[0] in headline]
    assert len(current) >= 5
    for model, source, inp, out in current:
        h = headline[model]
        assert (source, inp, out) == (h["source"], h["input_usd_per_mtok"], h["output_usd_per_mtok"]), model


def test_the_reports_flagship_chart_ends_at_the_headline(published_db, snapshot, headline):
    page = (published_db.parent / "report.html").read_text()
    specs = json.loads(re.search(r"const specs = (\{.*?\});\n", page, re.S).group(1).replace("<\\/", "</"))
    (points,) = specs["price-history"]["datasets"].values()
    last: dict[str, tuple[str, float]] = {}
    for p in points:
        if p["model"] not in last or p["day"] >= last[p["model"]][0]:
            last[p["model"]] = (p["day"], p["blended_usd_per_mtok"])
    current = {
        m
        for (m,) in snapshot.execute(
            "select canonical_model from marts.flagship_price_history where valid_to is null"
        ).fetchall()
    }
    assert len(current) >= 5 and current <= set(last)
    for model in current:
        assert last[model][1] == pytest.approx(headline[model]["blended_usd_per_mtok"], rel=1e-12), model


def test_the_cli_summary_prints_the_headline(published_home, headline, capsys):
    cli._summary()
    printed = {}
    for line in capsys.readouterr().out.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 5 and cells[0] in {h["creator"] for h in headline.values()}:
            printed[cells[0]] = tuple(cells[1:])
    text = [h for h in headline.values() if h["text_generation"]]
    expected = {}
    for creator in {h["creator"] for h in text}:
        ranked = sorted((h for h in text if h["creator"] == creator), key=lambda h: h["rank_in_creator"])
        if len(ranked) >= 3:
            cheap, dear = ranked[0], ranked[-1]
            expected[creator] = (
                cheap["canonical_model"],
                f"{cheap['blended_usd_per_mtok']:.3f}",
                dear["canonical_model"],
                f"{dear['blended_usd_per_mtok']:.3f}",
            )
    assert len(expected) >= 5
    assert printed == expected
