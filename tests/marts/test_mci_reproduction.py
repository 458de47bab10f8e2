"""marts.margin_compression_index reproduced in plain Python from a hand-made history (no SQL shared
with the mart), and built on two days to show the published months do not depend on the build day.

The history (blended = 0.75 x input + 0.25 x output), month-ends Dec 2024 to Mar 2025:

    acme/acme-pro   flagship  10/30 from 2024-12-01, cut to 5/15 on 2025-01-15
    acme/acme-mini  small     1/3 from 2024-12-01, cut to 0.5/1.5 on 2025-02-10
    acme/acme-chat  mid       enters 2025-01-20 at 2/6, 4/12 on 2025-02-05, exits 2025-03-10
    acme/acme-old   mid       undated 8/8 until 2025-02-20, then 6/6: the undated price counts only at
                              the January month-end, as the "before" of February's change
    openai/gpt-4o   mid       2/8 from 2024-12-01, and its successor (seeds.model_lineage)
    openai/gpt-4.1  mid       enters 2025-02-14 at 1/4
    acme/acme-new   mid       first seen on the build day, undated: never priced
    offers (2 TB/s) a: $2 -> $1 on 2025-01-10; b: $4 flat; c: $3 from 2025-02-01; d (spot): $1 -> $0.5
                    on 2025-03-03
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

MONTHS = [date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
BASE = date(2025, 1, 1)


@dataclass
class V:
    item: str
    inp: float
    out: float
    start: date | None
    end: date | None = None


PRICES = [
    V("acme/acme-pro", 10, 30, date(2024, 12, 1), date(2025, 1, 15)),
    V("acme/acme-pro", 5, 15, date(2025, 1, 15)),
    V("acme/acme-mini", 1, 3, date(2024, 12, 1), date(2025, 2, 10)),
    V("acme/acme-mini", 0.5, 1.5, date(2025, 2, 10)),
    V("acme/acme-chat", 2, 6, date(2025, 1, 20), date(2025, 2, 5)),
    V("acme/acme-chat", 4, 12, date(2025, 2, 5), date(2025, 3, 10)),
    V("acme/acme-old", 8, 8, None, date(2025, 2, 20)),
    V("acme/acme-old", 6, 6, date(2025, 2, 20)),
    V("openai/gpt-4o", 2, 8, date(2024, 12, 1)),
    V("openai/gpt-4.1", 1, 4, date(2025, 2, 14)),
]
TIERS = {"acme/acme-pro": "flagship", "acme/acme-mini": "small"}  # the others are mid
OFFERS = [
    V("a", 2.0, 0, date(2024, 12, 1), date(2025, 1, 10)),
    V("a", 1.0, 0, date(2025, 1, 10)),
    V("b", 4.0, 0, date(2024, 12, 1)),
    V("c", 3.0, 0, date(2025, 2, 1)),
    V("d", 1.0, 0, date(2024, 12, 1), date(2025, 3, 3)),
    V("d", 0.5, 0, date(2025, 3, 3)),
]


def month_end(m: date) -> date:
    nxt = date(m.year + m.month // 12, m.month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def next_month(m: date) -> date:
    return date(m.year + m.month // 12, m.month % 12 + 1, 1)


def panel(versions: list[V], price) -> dict[date, dict[str, float]]:
    """Item prices at each month-end; an undated version only in the month before the one it ends in."""
    out = {}
    for m in MONTHS:
        day, row = month_end(m), {}
        for v in versions:
            applies = (v.start or date.min) <= day < (v.end or date.max)
            known = v.start is not None or (v.end is not None and v.end.replace(day=1) == next_month(m))
            if applies and known:
                row[v.item] = price(v)
        out[m] = row
    return out


def chain(prices: dict[date, dict[str, float]]) -> tuple[dict, dict, dict]:
    """Index (100 at BASE), link relative and matched count per month: geometric means of relatives of
    the items priced in both a month and the one before."""
    level, index, link, matched = 0.0, {}, {}, {}
    previous = None
    for m in MONTHS:
        if previous is not None:
            both = sorted(set(prices[m]) & set(prices[previous]))
            logs = [math.log(prices[m][i] / prices[previous][i]) for i in both]
            link[m], matched[m] = math.exp(sum(logs) / len(logs)), len(both)
            level += sum(logs) / len(logs)
        index[m] = level
        previous = m
    return {m: 100 * math.exp(v - index[BASE]) for m, v in index.items()}, link, matched


def blended(v: V) -> float:
    return 0.75 * v.inp + 0.25 * v.out


def expected():
    prices = panel(PRICES, blended)
    by_tier = {
        tier: {m: {i: p for i, p in row.items() if TIERS.get(i, "mid") == tier} for m, row in prices.items()}
        for tier in ("flagship", "mid", "small")
    }
    # The successor series: GPT-4o and GPT-4.1 are one item priced at the newest member priced.
    successor = {}
    for m, row in prices.items():
        successor[m] = {i: p for i, p in row.items() if i != "openai/gpt-4.1"}
        if "openai/gpt-4.1" in row:
            successor[m]["openai/gpt-4o"] = row["openai/gpt-4.1"]
    compute = panel(OFFERS, lambda v: v.inp / 2)
    return prices, by_tier, successor, compute


@pytest.fixture
def wh(tiny):
    tiny.card("test-gpu", memory_gb=80, memory_bandwidth_tbps=2, bf16_dense_tflops=500)
    for v in PRICES:
        provider = v.item.split("/")[0]
        tiny.price(provider, v.item, v.inp, v.out, v.start, valid_to=v.end)
    for v in OFFERS:
        extra = {"pricing_type": "spot"} if v.item == "d" else {}
        tiny.rate("p", v.item, "test-gpu", v.inp, 1, v.start, valid_to=v.end, **extra)
    return tiny


def build_on(wh, day: date) -> dict:
    """Build the mart as of `day`, with acme-new first seen (and so dated) that day."""
    wh.con.execute("delete from history.token_prices where model = 'acme-new'")
    seen = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    wh.price("acme", "acme/acme-new", 0.1, 0.1, day, first_seen_at=seen, last_seen_at=seen)
    wh.con.execute(f"set variable costcurve_build_date = date '{day}'")
    wh.build("margin_compression_index")
    return {(r["date"], r["tier"]): r for r in wh.rows("select * from marts.margin_compression_index")}


def test_the_mart_matches_a_plain_python_reproduction(wh):
    rows = build_on(wh, date(2025, 3, 31))
    prices, by_tier, successor, compute = expected()
    index, link, matched = chain(prices)
    c_index, c_link, c_matched = chain(compute)
    s_index, _, _ = chain(successor)
    for m in MONTHS:
        row = rows[(m, "all")]
        assert row["price_index"] == pytest.approx(index[m], abs=1e-9)
        assert row["compute_cost_index"] == pytest.approx(c_index[m], abs=1e-9)
        assert row["successor_price_index"] == pytest.approx(s_index[m], abs=1e-9)
        assert row["mci"] == pytest.approx(100 * index[m] / c_index[m], abs=1e-9)
        assert (row["n_models"], row["n_offers"]) == (matched.get(m), c_matched.get(m))
        assert row["n_models_priced"] == len(prices[m])
        assert row["provisional"] is False and row["low_coverage"] is True  # under 5 matched items
    for tier, tier_prices in by_tier.items():
        t_index, _, _ = chain(tier_prices)
        for m in MONTHS:
            assert rows[(m, tier)]["price_index"] == pytest.approx(t_index[m], abs=1e-9), (tier, m)
    # The numbers themselves, by hand: January's link over {pro, mini, gpt-4o} (chat enters, old's undated
    # price first counts at January's end) is (7.5/15 x 1/1 x 1)^(1/3).
    assert link[date(2025, 1, 1)] == pytest.approx(0.5 ** (1 / 3))
    # February over {pro, mini, chat, old, gpt-4o}: (1 x 0.5 x 2 x 6/8 x 1)^(1/5); GPT-4.1 enters unmoving.
    assert link[date(2025, 2, 1)] == pytest.approx(0.75**0.2)
    # March: chat exits; no price changes, so the link is exactly 1.
    assert rows[(date(2025, 3, 1), "all")]["price_link"] == pytest.approx(1.0, abs=1e-12)
    # Successor series: in February the GPT-4o item is priced at GPT-4.1's 1.75 against 3.5: a halving.
    assert s_index[date(2025, 2, 1)] / s_index[date(2025, 1, 1)] == pytest.approx(
        (0.5 * 0.5 * 2 * 0.75) ** 0.2
    )
    # Compute: January over {a, b, d}: (0.5 x 1 x 1)^(1/3); March: d's spot cut over {a, b, c, d}.
    assert c_link[date(2025, 3, 1)] == pytest.approx(0.5**0.25)
    # Each tier's share of February's all-tier move: the log relatives of its models over the whole log.
    feb = {t: rows[(date(2025, 2, 1), t)]["share_of_move"] for t in ("flagship", "mid", "small")}
    total = math.log(0.5 * 2 * 0.75)
    assert feb == {
        "flagship": pytest.approx(0.0, abs=1e-12),
        "mid": pytest.approx(math.log(2 * 0.75) / total),
        "small": pytest.approx(math.log(0.5) / total),
    }


def test_the_published_months_do_not_depend_on_the_build_day(wh):
    early = build_on(wh, date(2025, 3, 5))
    late = build_on(wh, date(2025, 6, 20))
    complete = [k for k, row in early.items() if not row["provisional"]]
    assert sorted({d for d, _ in complete}) == MONTHS[:3]
    assert all(late[k] == early[k] for k in complete)
    # The current month is marked provisional; the later build has it complete and acme-new never enters.
    assert early[(date(2025, 3, 1), "all")]["provisional"] is True
    assert late[(date(2025, 3, 1), "all")]["provisional"] is False
    assert late[(date(2025, 6, 1), "all")]["n_models_priced"] == 5  # pro, mini, old, gpt-4o, gpt-4.1
