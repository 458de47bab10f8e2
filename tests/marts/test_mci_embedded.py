"""The Margin Compression Index on the embedded data (offline refresh, published snapshot) moves where a
price moved and nowhere else: o3's 80% cut of 2025-06-10, o1-mini's cut with the o3-mini launch,
DeepSeek's end of its V3 promotion and its V3.2 cut, the H100 rental cuts in the GPU history; and the
worked link of docs/methodology.md ("Margin Compression Index") is the mart's June 2025 row."""

from __future__ import annotations

import math
from datetime import date

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from warehouse.models import MODELS_DIR

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def snapshot(published_db):
    con = duckdb.connect(str(published_db), read_only=True)
    yield con
    con.close()


def blend(inp: float, out: float) -> float:
    return 0.75 * inp + 0.25 * out


@pytest.fixture(scope="module")
def relatives(snapshot) -> dict[tuple[str, date, str], float]:
    """Every matched item's price relative that is not 1, per (series, month, item), tier all, read from
    the mart's own `relatives` step on the snapshot."""
    tree = sqlglot.parse_one(
        (MODELS_DIR / "marts" / "margin_compression_index.sql").read_text(), read="duckdb"
    )
    query = exp.select("series", "date", "item", "exp(log_relative)").from_("relatives")
    query = query.where("tier = 'all' and abs(log_relative) > 1e-12")
    query.set("with_", tree.args["with_"].copy())
    return {(s, d, i): r for s, d, i, r in snapshot.execute(query.sql("duckdb")).fetchall()}


def month(snapshot, tier: str, day: str) -> dict:
    cursor = snapshot.execute(
        "select * from marts.margin_compression_index where tier = ? and date = ?::date", [tier, day]
    )
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def test_the_known_price_cuts_are_the_relatives(relatives):
    price = {(d, i): r for (s, d, i), r in relatives.items() if s == "price"}
    # o3: $10/$40 -> $2/$8 on 2025-06-10.
    assert price[(date(2025, 6, 1), "openai/o3")] == pytest.approx(blend(2, 8) / blend(10, 40))
    assert price[(date(2025, 6, 1), "openai/o3")] == pytest.approx(0.2)
    # o1-mini: $3/$12 -> $1.10/$4.40 with the o3-mini launch, 2025-01-31 (sources/catalog/token_prices.csv).
    assert price[(date(2025, 1, 1), "openai/o1-mini")] == pytest.approx(blend(1.1, 4.4) / blend(3, 12))
    # DeepSeek chat: the V3 promotion ($0.14/$0.28) ended in February 2025 ($0.27/$1.10); V3.2 cut chat and
    # reasoner to $0.28/$0.42 on 2025-09-29 (reasoner was $0.55/$2.19).
    assert price[(date(2025, 2, 1), "deepseek/deepseek-chat")] == pytest.approx(
        blend(0.27, 1.1) / blend(0.14, 0.28)
    )
    assert price[(date(2025, 9, 1), "deepseek/deepseek-chat")] == pytest.approx(
        blend(0.28, 0.42) / blend(0.27, 1.1)
    )
    assert price[(date(2025, 9, 1), "deepseek/deepseek-reasoner")] == pytest.approx(
        blend(0.28, 0.42) / blend(0.55, 2.19)
    )


def test_the_h100_rental_cuts_move_the_compute_side(snapshot, relatives):
    compute = {(d, i): r for (s, d, i), r in relatives.items() if s == "compute"}
    # Per GPU-hour over one card's bandwidth: the bandwidth cancels, so the relative is the rate's.
    assert compute[(date(2025, 6, 1), "curated|aws|p5.48xlarge|us-east-1|on_demand")] == pytest.approx(
        6.88 / 12.29
    )
    assert compute[
        (date(2025, 10, 1), "curated|runpod|NVIDIA H100 80GB HBM3|secure|on_demand")
    ] == pytest.approx(2.69 / 2.99)
    assert compute[(date(2026, 5, 1), "curated|azure|Standard_NC40ads_H100_v5|eastus|spot")] == pytest.approx(
        2.192418 / 2.740348
    )
    latest = snapshot.execute(
        "select compute_cost_index from marts.margin_compression_index where tier = 'all' order by date desc limit 1"
    ).fetchone()[0]
    assert latest < 95


def test_every_move_is_a_price_change_at_its_effective_month(snapshot, relatives):
    # Independently of the mart: the periods of each model's price of record, and the GPU rate versions,
    # whose price differs from the period before. A relative other than 1 must be one of them, in the
    # month the new price started; a month with no such item must have a link of exactly 1.
    model_changes = {
        (d, m)
        for d, m in snapshot.execute(
            """select date_trunc('month', valid_from)::date, canonical_model from (
                   select *, lag(blended_usd_per_mtok) over (partition by canonical_model order by valid_from nulls first)
                             as before
                   from intermediate.int_token_price_of_record)
               where blended_usd_per_mtok <> before"""
        ).fetchall()
    }
    rate_changes = {
        (d, k)
        for d, k in snapshot.execute(
            """select date_trunc('month', valid_from)::date,
                      concat_ws('|', source, provider, instance_type, region, zone, pricing_type) from (
                   select *, lag(usd_per_gpu_hour) over (
                       partition by source, provider, instance_type, region, zone, pricing_type
                       order by valid_from nulls first) as before
                   from history.gpu_rates)
               where usd_per_gpu_hour <> before"""
        ).fetchall()
    }
    for series, day, item in relatives:
        if series != "successor":  # its items are lineage chains, priced at their newest member
            assert (day, item) in (rate_changes if series == "compute" else model_changes), (
                series,
                day,
                item,
            )
    moved = {day for (series, day, _) in relatives if series == "price"}
    links = snapshot.execute(
        "select date, price_link from marts.margin_compression_index where tier = 'all' and price_link is not null"
    ).fetchall()
    assert {d for d, link in links if link != 1} == moved
    assert len(moved) >= 10


def test_the_worked_link_of_the_methodology(snapshot):
    # docs/methodology.md, "Worked link: June 2025": 29 models matched, o3's relative 0.2 the only move.
    may, june = month(snapshot, "all", "2025-05-01"), month(snapshot, "all", "2025-06-01")
    assert june["n_models"] == 29
    assert june["price_link"] == pytest.approx(math.exp(math.log(0.2) / 29), rel=1e-12)
    assert round(june["price_link"], 5) == 0.94601
    assert (round(may["price_index"], 1), round(june["price_index"], 1)) == (105.1, 99.5)
    flagship = month(snapshot, "flagship", "2025-06-01")
    assert flagship["n_models"] == 7 and round(flagship["price_link"], 5) == 0.7946
    assert flagship["share_of_move"] == pytest.approx(1.0)
    # Compute side: 12 offers matched, AWS's p5.48xlarge cut from $12.29 to $6.88 per GPU-hour.
    assert june["n_offers"] == 12
    assert june["compute_link"] == pytest.approx(math.exp(math.log(6.88 / 12.29) / 12), rel=1e-12)
    assert round(june["compute_link"], 5) == 0.9528
    assert round(june["mci"], 2) == round(100 * june["price_index"] / june["compute_cost_index"], 2) == 104.4
    assert not june["low_coverage"] and may["low_coverage"]
