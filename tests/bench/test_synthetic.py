"""The benchmark generator: real schemas, and the day-to-day change rate it is asked for."""

from datetime import UTC, datetime

import duckdb
import polars as pl

from bench import synthetic
from sources.schemas import GPU_RATES, TOKEN_PRICES


def test_snapshots_have_the_token_prices_schema_and_the_asked_change_rate():
    rates = synthetic.ChangeRates(change=0.02, appear=0.001, disappear=0.001)
    days = list(synthetic.daily_snapshots(20, 500, 3, seed=4, rates=rates))
    key = list(TOKEN_PRICES.key)
    for frame in days:
        assert frame.schema == pl.Schema(TOKEN_PRICES.schema)
        assert frame.select(key).is_unique().all()
    before, after = days[0], days[1]
    both = before.join(after, on=key, suffix="_next")
    changed = (both["input_usd_per_mtok"] != both["input_usd_per_mtok_next"]).mean()
    assert 0.015 < changed < 0.025  # 10,000 keys at 2%: a binomial's spread is ~0.14 points
    vanished = before.height - both.height
    appeared = after.height - both.height
    assert 0 < vanished < 30 and 0 < appeared < 30


def test_history_table_merges_its_own_open_versions_as_unchanged():
    from warehouse import history

    con = duckdb.connect()
    con.execute("create schema history")
    next_day = synthetic.history_table(con, n_keys=300, versions=4, n_current=100, n_providers=10)
    assert con.execute(
        "select count(*), count(*) filter (valid_to is null) from history.token_prices"
    ).fetchone() == (
        1200,
        100,
    )
    snapshot = synthetic.current_snapshot(con)
    assert snapshot.schema == pl.Schema(TOKEN_PRICES.schema)
    stats = history.merge(
        con,
        TOKEN_PRICES,
        snapshot,
        observed_at=datetime.combine(next_day, datetime.min.time(), UTC),
        payload_sha256="bench",
    )
    assert (stats.inserted, stats.unchanged, stats.closed) == (0, 100, 0)


def test_litellm_body_parses_back_to_the_same_prices():
    from sources import litellm

    frame = synthetic.initial_snapshot(3, 5)
    parsed = litellm.parse(
        synthetic.litellm_body(frame), observed_at=datetime(2025, 1, 1, tzinfo=UTC), origin="bench"
    ).rows
    columns = ["model", "input_usd_per_mtok", "output_usd_per_mtok", "cache_read_usd_per_mtok"]
    assert parsed.select(columns).sort("model").equals(frame.select(columns).sort("model"))


def test_gpu_offers_have_the_gpu_rates_schema():
    offers = synthetic.gpu_offers(50)
    assert offers.schema == pl.Schema(GPU_RATES.schema)
    assert offers["accelerator"].null_count() == 0
