"""History is a function of the set of observations, not of the order they arrive in.

Hypothesis draws dated snapshot series (keys appearing, changing, vanishing, rejected; dated
timelines; two payloads on one day; payloads too broken to close anything), merges them in date
order and in random permutations, and compares every result with a plain-Python reading of the
rule in warehouse/history.py's docstring: on each day the payload observed last among those that
speak for that day decides.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import duckdb
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources.base import PRICE_DTYPE, Column, Dataset
from warehouse import history

PRICES = Dataset(
    name="prices",
    doc="Test prices.",
    key=("source", "provider", "model"),
    columns=(
        Column("source", pl.Utf8, "source"),
        Column("provider", pl.Utf8, "provider"),
        Column("model", pl.Utf8, "model"),
        Column("price", PRICE_DTYPE, "price"),
        Column("valid_from", pl.Date, "declared start"),
        Column("valid_to", pl.Date, "declared end"),
    ),
)
MODELS = ("a", "b", "c")
PROVIDERS = ("p", "q")
KEYS = [(p, m) for p in PROVIDERS for m in MODELS]
DAY0 = date(2026, 1, 1)
BEFORE_ALL = date(1990, 1, 1)  # stands for "before the source's first dated change"

# One key's state in one payload: listed at a price, listed with a dated timeline, rejected, or absent.
key_state = st.one_of(
    st.tuples(st.just("price"), st.sampled_from([1, 2, 3])),
    st.tuples(
        st.just("timeline"),
        st.tuples(st.sampled_from([1, 2]), st.integers(0, 12), st.sampled_from([2, 3])),
    ),
    st.tuples(st.just("held"), st.none()),
    st.tuples(st.just("absent"), st.none()),
)
payload = st.fixed_dictionaries(
    {
        "day": st.integers(0, 10),
        "hour": st.integers(0, 23),
        "complete": st.booleans(),
        "keys": st.fixed_dictionaries({k: key_state for k in KEYS}),
    }
)


def rows_of(p: dict) -> list[dict]:
    rows = []
    for (provider, model), (kind, arg) in p["keys"].items():
        base = {"source": "s", "provider": provider, "model": model, "valid_to": None}
        if kind == "price":
            rows.append({**base, "price": Decimal(arg), "valid_from": None})
        elif kind == "timeline":
            first, change_day, then = arg
            rows.append({**base, "price": Decimal(first), "valid_from": None})
            rows.append({**base, "price": Decimal(then), "valid_from": DAY0 + timedelta(days=change_day)})
    return rows


def observed_at(p: dict, i: int) -> datetime:
    # Distinct instants: the index breaks ties the way a payload's sha256 would.
    return datetime.combine(DAY0 + timedelta(days=p["day"]), datetime.min.time(), UTC) + timedelta(
        hours=p["hour"], microseconds=i
    )


def merge_all(payloads: list[dict], order: list[int], scope=("source",)) -> list[tuple]:
    con = duckdb.connect()
    for i in order:
        p = payloads[i]
        held = [
            {"source": "s", "provider": pr, "model": m}
            for (pr, m), (k, _) in p["keys"].items()
            if k == "held"
        ]
        history.merge(
            con,
            PRICES,
            PRICES.frame(rows_of(p)),
            observed_at=observed_at(p, i),
            payload_sha256=f"sha-{i}",
            scope=scope,
            held=held,
            complete=p["complete"],
        )
    versions = con.execute(
        "select provider, model, price, valid_from, valid_to from history.prices "
        "order by provider, model, valid_from nulls first"
    ).fetchall()
    con.close()
    return versions


def says(p: dict, key, day: date, i: int, scope):
    """What payload p says about key on day: ('value', price), ('absent',) or None (nothing)."""
    obs_day = observed_at(p, i).date()
    kind, arg = p["keys"][key]
    if kind == "price":
        return ("value", Decimal(arg)) if day >= obs_day else None
    if kind == "timeline":
        first, change_day, then = arg
        change = DAY0 + timedelta(days=change_day)
        return ("value", Decimal(first) if day < change else Decimal(then))
    same_scope = [
        s for (provider, _), s in p["keys"].items() if "provider" not in scope or provider == key[0]
    ]
    lists_scope = any(k in ("price", "timeline") for k, _ in same_scope)
    if kind == "absent" and p["complete"] and lists_scope and day >= obs_day:
        # A whole snapshot of the scope its listed rows name (source "s", or one provider of it)
        # speaks for every key of that scope it does not list.
        return ("absent",)
    return None


def expected(payloads: list[dict], scope) -> list[tuple]:
    days = sorted(
        {BEFORE_ALL}
        | {observed_at(p, i).date() for i, p in enumerate(payloads)}
        | {DAY0 + timedelta(days=d) for d in range(13)}
    )
    by_time = sorted(range(len(payloads)), key=lambda i: observed_at(payloads[i], i))
    out = []
    for provider, model in KEYS:
        states = []
        for day in days:
            state = ("absent",)
            for i in reversed(by_time):
                said = says(payloads[i], (provider, model), day, i, scope)
                if said is not None:
                    state = said
                    break
            states.append(state)
        start = None
        for n, (day, state) in enumerate(zip(days, states, strict=True)):
            previous = states[n - 1] if n else ("absent",)
            if state != previous:
                if previous[0] == "value":
                    out[-1] = (*out[-1][:4], day)
                if state[0] == "value":
                    start = None if day == BEFORE_ALL else day
                    out.append((provider, model, state[1], start, None))
    return out


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payloads=st.lists(payload, min_size=1, max_size=5),
    seed=st.randoms(use_true_random=False),
    scope=st.sampled_from([("source",), ("source", "provider")]),
)
def test_any_arrival_order_gives_the_history_the_rule_defines(payloads, seed, scope):
    by_time = sorted(range(len(payloads)), key=lambda i: observed_at(payloads[i], i))
    in_order = merge_all(payloads, by_time, scope)
    assert in_order == expected(payloads, scope)
    shuffled = list(range(len(payloads)))
    seed.shuffle(shuffled)
    assert merge_all(payloads, shuffled, scope) == in_order
    assert merge_all(payloads, list(reversed(shuffled)), scope) == in_order


def test_merging_every_payload_twice_changes_nothing():
    payloads = [
        {"day": 0, "hour": 1, "complete": True, "keys": {k: ("price", 1) for k in KEYS}},
        {
            "day": 3,
            "hour": 1,
            "complete": True,
            "keys": {k: ("absent", None) for k in KEYS} | {KEYS[0]: ("price", 2)},
        },
    ]
    once = merge_all(payloads, [1, 0])
    assert (
        merge_all(payloads, [1, 0, 1, 0])
        == once
        == [
            ("p", "a", Decimal(1), date(2026, 1, 1), date(2026, 1, 4)),
            ("p", "a", Decimal(2), date(2026, 1, 4), None),
            *[(pr, m, Decimal(1), date(2026, 1, 1), date(2026, 1, 4)) for pr, m in KEYS[1:]],
        ]
    )
