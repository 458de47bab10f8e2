"""The economics marts after an offline refresh of the embedded data, read from the published snapshot."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

import core
from warehouse.models import MODELS_DIR

pytestmark = pytest.mark.filterwarnings("ignore")

MARTS = (
    "cost_per_correct_output",
    "self_host_cost",
    "breakeven_api_vs_self_host",
    "breakeven_buy_vs_rent",
    "margin_compression_index",
    "implied_gross_margin",
)


@pytest.fixture(scope="module")
def snapshot(published_db):
    """The shared offline refresh's published snapshot (tests/conftest.py), read-only."""
    con = duckdb.connect(str(published_db), read_only=True)
    yield con
    con.close()


def scalar(con, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


@pytest.mark.parametrize("mart", MARTS)
def test_every_economics_mart_has_rows(snapshot, mart):
    assert scalar(snapshot, f"select count(*) from marts.{mart}") > 0


@pytest.mark.parametrize("mart", MARTS[1:])
def test_marts_record_the_runs_assumption_set(snapshot, mart):
    ids = snapshot.execute(f"select distinct assumption_set_id from marts.{mart}").fetchall()
    assert ids == [(scalar(snapshot, "select assumption_set_id from meta.assumptions"),)]


def test_acceptance_query_on_the_published_snapshot(snapshot):
    assert scalar(snapshot, "select round(cost_per_useful_mtok(2.5, 220, 0.32, 0.58), 4)") == 17.0074


def test_self_host_cost_has_a_finite_cost_on_every_row(snapshot):
    low, missing = snapshot.execute(
        "select min(utilization), count(*) filter (where usd_per_mtok is null or tokens_per_second is null"
        " or usd_per_blended_mtok is null) from marts.self_host_cost"
    ).fetchone()
    assert low > 0 and missing == 0
    # The headline: a 70B model in FP8 on the cheapest H100 SXM on demand, at 50%.
    h100, h100_blended = snapshot.execute(
        "select usd_per_mtok, usd_per_blended_mtok from marts.self_host_cost"
        " where accelerator = 'nvidia-h100-sxm-80gb' and pricing_type = 'on_demand' and offer_rank = 1"
        " and size_class = '70b' and dtype = 'fp8' and utilization = 0.5"
    ).fetchone()
    assert 0.5 < h100 < 20
    assert h100 * 0.25 < h100_blended < h100 / 2


def test_blended_cost_lies_between_prefill_free_and_decode_only(snapshot):
    # Prefill is never slower than decode (both run at most at the compute ceiling), so a blended token
    # costs at most an output token, and at least the output tokens of the mix alone.
    outside = scalar(
        snapshot,
        "select count(*) from marts.self_host_cost, meta.assumptions a"
        " where prefill_tokens_per_second < tokens_per_second * (1 - 1e-12)"
        " or usd_per_blended_mtok > usd_per_mtok * (1 + 1e-12)"
        " or usd_per_blended_mtok < usd_per_mtok * (1 - a.blend_input_share) * (1 - 1e-12)",
    )
    assert outside == 0


def test_every_reference_api_model_is_priced(snapshot):
    priced = {
        r[0]
        for r in snapshot.execute(
            "select distinct api_model from marts.breakeven_api_vs_self_host"
        ).fetchall()
    }
    listed = {
        r[0]
        for r in snapshot.execute("select unnest(reference_api_models) from meta.size_classes").fetchall()
    }
    assert priced == listed


def test_buy_vs_rent_covers_the_h100(snapshot):
    months = scalar(
        snapshot,
        "select breakeven_months from marts.breakeven_buy_vs_rent"
        " where accelerator = 'nvidia-h100-sxm-80gb' and pricing_type = 'on_demand' and rent_basis = 'list'"
        " and utilization = 0.9",
    )
    assert 0 < months < 36


def test_mci_sql_equals_core_on_the_embedded_data(snapshot):
    sql = (MODELS_DIR / "marts" / "margin_compression_index.sql").read_text()
    tree = sqlglot.parse_one(sql, read="duckdb")

    def select(cte: str, *columns: str) -> str:
        query = exp.select(*columns).from_(cte)
        query.set("with_", tree.args["with_"].copy())
        return query.sql("duckdb")

    observations = snapshot.execute(select("observations", "*")).pl()
    base = snapshot.execute(select("base", "base_date")).fetchone()[0]
    expected = core.jevons_chain_index(
        observations, base_period=base, period="date", item="item", price="price", by=["series", "tier"]
    )
    got = {
        (s, t, d): (i, n)
        for s, t, d, i, n in snapshot.execute(
            select("indexed", "series", "tier", "date", "index", "n_matched")
        ).fetchall()
    }
    assert len(got) == expected.height > 100
    for r in expected.iter_rows(named=True):
        index, matched = got[(r["series"], r["tier"], r["date"])]
        assert matched == r["n_matched"]
        assert index == (None if r["index"] is None else pytest.approx(r["index"], rel=1e-9))
