"""marts.price_change_events and pipelines.changes: hand-made history with known answers, then the
real changes the embedded history must show."""

from datetime import UTC, date, datetime

import duckdb
import pytest

from pipelines import changes, flow
from warehouse import db, models

BACKFILL = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def _token(con, model, valid_from, valid_to, price_in, price_out, seen=BACKFILL, **extra):
    row = {
        "source": "genai_prices",
        "provider": "openai",
        "model": model,
        "canonical_model": f"openai/{model}",
        "tier": "base",
        "service_tier": "standard",
        "off_peak": False,
        "mode": "chat",
        "input_usd_per_mtok": price_in,
        "output_usd_per_mtok": price_out,
        "currency": "USD",
        "valid_from": valid_from,
        "valid_to": valid_to,
        "first_seen_at": seen,
        "last_seen_at": seen,
    } | extra
    names = ", ".join(row)
    con.execute(
        f"insert into history.token_prices ({names}) values ({', '.join('?' * len(row))})", list(row.values())
    )


def _gpu(
    con,
    instance,
    valid_from,
    valid_to,
    rate,
    seen=BACKFILL,
    accelerator="nvidia-h100-sxm-80gb",
    region="",
    zone=None,
):
    con.execute(
        """insert into history.gpu_rates (source, provider, instance_type, region, zone, pricing_type, accelerator,
               accelerator_name, gpu_count, usd_per_instance_hour, usd_per_gpu_hour, currency, valid_from,
               valid_to, first_seen_at, last_seen_at)
           values ('curated', 'lambda', ?, ?, ?, 'on_demand', ?, 'H100', 1, ?, ?, 'USD', ?, ?, ?, ?)""",
        [instance, region, zone, accelerator, rate, rate, valid_from, valid_to, seen, seen],
    )


@pytest.fixture
def tiny(tmp_path):
    con = db.connect(tmp_path / "tiny.duckdb")
    flow.ensure(con)
    for statement in flow.macro_sql():
        con.execute(statement)
    # a dated timeline read in one payload: open start, a cut, a version where only the cache price moved
    _token(con, "m1", None, date(2025, 6, 10), 10, 40)
    _token(con, "m1", date(2025, 6, 10), date(2025, 9, 1), 2, 8)
    _token(con, "m1", date(2025, 9, 1), None, 2, 8, cache_read_usd_per_mtok=0.5)
    # one version only: launched, never changed
    _token(con, "m2", date(2025, 1, 1), None, 1, 2)
    # a rise on the output only, caught by a later refresh
    _token(con, "m3", date(2025, 1, 1), date(2026, 3, 2), 1, 2)
    _token(con, "m3", date(2026, 3, 2), None, 1, 3, seen=LATER)
    _gpu(con, "gpu_1x_h100", date(2025, 5, 1), date(2025, 8, 1), 2.0)
    _gpu(con, "gpu_1x_h100", date(2025, 8, 1), None, 2.5)
    _gpu(con, "gpu_8x_h100", date(2025, 5, 1), None, 3.0)
    for model in models.discover():  # the mart and the seed of successor pairs it reads
        if model.name in ("model_lineage", "price_change_events"):
            models.build(con, model)
    yield con
    con.close()


def _events(con, where="true"):
    return con.execute(
        f"""select item, change_kind, change_date, field, old_value::double, new_value::double, pct_change,
                   direction, detected_by_refresh
            from marts.price_change_events where {where} order by item, change_date, field"""
    ).fetchall()


def test_token_changes_are_consecutive_versions_with_a_different_price(tiny):
    assert _events(tiny, "dataset = 'token_prices'") == [
        ("m1", "price_change", date(2025, 6, 10), "input_usd_per_mtok", 10.0, 2.0, -80.0, "cut", False),
        ("m1", "price_change", date(2025, 6, 10), "output_usd_per_mtok", 40.0, 8.0, -80.0, "cut", False),
        ("m3", "price_change", date(2026, 3, 2), "output_usd_per_mtok", 2.0, 3.0, 50.0, "rise", True),
    ]


def test_gpu_changes_are_per_offer(tiny):
    assert _events(tiny, "dataset = 'gpu_rates'") == [
        ("gpu_1x_h100", "price_change", date(2025, 8, 1), "usd_per_gpu_hour", 2.0, 2.5, 25.0, "rise", False)
    ]
    what, canonical = tiny.execute(
        "select what, canonical_id from marts.price_change_events where dataset = 'gpu_rates'"
    ).fetchone()
    assert (what, canonical) == (
        "nvidia-h100-sxm-80gb on_demand at lambda gpu_1x_h100",
        "nvidia-h100-sxm-80gb",
    )


def test_one_offer_changing_in_two_zones_of_a_region_is_two_events(tiny):
    # GCP prices each zone: the same host VM cut the same day in us-central1-a and -b (the real
    # anycloud catalog's g2-standard-24 in asia-south1 did, and the grain without the zone failed).
    for zone in ("us-central1-a", "us-central1-b"):
        _gpu(tiny, "a3-highgpu-8g", date(2025, 5, 1), date(2025, 8, 1), 11.0, region="us-central1", zone=zone)
        _gpu(tiny, "a3-highgpu-8g", date(2025, 8, 1), None, 9.9, region="us-central1", zone=zone)
    model = next(m for m in models.discover() if m.name == "price_change_events")
    models.build(tiny, model)
    models.check(tiny, model)
    assert tiny.execute(
        """select region, zone, change_date, old_value::double, new_value::double, what
           from marts.price_change_events where item = 'a3-highgpu-8g' order by zone"""
    ).fetchall() == [
        (
            "us-central1",
            zone,
            date(2025, 8, 1),
            11.0,
            9.9,
            f"nvidia-h100-sxm-80gb on_demand at lambda a3-highgpu-8g (us-central1 {zone})",
        )
        for zone in ("us-central1-a", "us-central1-b")
    ]


def test_changes_since_a_date_newest_first(tiny):
    frame = changes.changes(tiny, date(2025, 6, 10))
    assert frame["change_date"].to_list() == [
        date(2026, 3, 2),
        date(2025, 8, 1),
        date(2025, 6, 10),
        date(2025, 6, 10),
    ]
    assert changes.changes(tiny, date(2026, 3, 3)).is_empty()


def test_notable_today_is_what_took_effect_or_was_caught_that_day(tiny):
    assert changes.notable_today(tiny, date(2026, 3, 2))["what"].to_list() == ["openai/m3 at openai"]
    # the backfilled cut took effect on 2025-06-10: news that day, not on the day it was read
    on_the_day = changes.notable_today(tiny, date(2025, 6, 10), limit=1)
    assert on_the_day.height == 1 and on_the_day["pct_change"].to_list() == [-80.0]
    assert changes.notable_today(tiny, BACKFILL.date()).is_empty()


def test_latest_is_the_most_recent_up_to_a_day(tiny):
    assert changes.latest(tiny, date(2025, 12, 31), limit=2)["change_date"].to_list() == [
        date(2025, 8, 1),
        date(2025, 6, 10),
    ]


def test_a_warehouse_without_the_feed_says_what_to_do(tmp_path):
    con = db.connect(tmp_path / "empty.duckdb")
    with pytest.raises(changes.NoChangeFeed, match="costcurve refresh"):
        changes.changes(con, date(2025, 1, 1))
    con.close()


def test_as_table_signs_the_percentages(tiny):
    table = changes.as_table(changes.changes(tiny, date(2025, 1, 1)), "changes")
    assert list(table.columns[5].cells) == ["+50.0%", "+25.0%", "-80.0%", "-80.0%"]


# ---- the embedded history --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(published_db):
    with duckdb.connect(str(published_db), read_only=True) as con:
        yield con


def _real(con, where):
    return {
        (r[0], r[1], r[2], r[3], r[4], r[5])
        for r in con.execute(
            f"""select change_date, change_kind, field, old_value::double, new_value::double, pct_change
                from marts.price_change_events where {where}"""
        ).fetchall()
    }


def test_gpt_4_turbo_and_gpt_4o_launch_cuts(published):
    where = "source = 'curated' and change_kind = 'successor_launch' and canonical_id in ('openai/gpt-4-turbo', 'openai/gpt-4o')"
    assert _real(published, where) == {
        (date(2023, 11, 6), "successor_launch", "input_usd_per_mtok", 30.0, 10.0, -66.67),
        (date(2023, 11, 6), "successor_launch", "output_usd_per_mtok", 60.0, 30.0, -50.0),
        (date(2024, 5, 13), "successor_launch", "input_usd_per_mtok", 10.0, 5.0, -50.0),
        (date(2024, 5, 13), "successor_launch", "output_usd_per_mtok", 30.0, 15.0, -50.0),
    }


def test_gpt_4o_cut_of_october_2024(published):
    where = "source = 'curated' and change_kind = 'price_change' and item = 'gpt-4o'"
    assert _real(published, where) == {
        (date(2024, 10, 2), "price_change", "input_usd_per_mtok", 5.0, 2.5, -50.0),
        (date(2024, 10, 2), "price_change", "output_usd_per_mtok", 15.0, 10.0, -33.33),
    }


def test_o3_cut_of_june_2025_from_both_sources(published):
    rows = published.execute(
        """select source, field, pct_change from marts.price_change_events
           where canonical_id = 'openai/o3' and provider = 'openai' and change_date = date '2025-06-10'
             and service_tier = 'standard' order by source, field"""
    ).fetchall()
    assert rows == [
        ("curated", "input_usd_per_mtok", -80.0),
        ("curated", "output_usd_per_mtok", -80.0),
        ("genai_prices", "input_usd_per_mtok", -80.0),
        ("genai_prices", "output_usd_per_mtok", -80.0),
    ]


def test_a_first_version_is_never_a_change(published):
    # gpt-4o-mini's curated versions differ only in the cache price; gpt-5 has one version
    assert (
        _real(
            published,
            "source = 'curated' and item in ('gpt-4o-mini', 'gpt-5') and change_kind = 'price_change'",
        )
        == set()
    )
    assert published.execute(
        "select count(*) from marts.price_change_events where old_value is not distinct from new_value"
    ).fetchone() == (0,)


def test_every_token_change_matches_consecutive_history_versions(published):
    # an independent count: pairs of consecutive versions of one key whose input or output price differs
    expected = published.execute(
        """select sum((prev_in is distinct from input_usd_per_mtok)::int + (prev_out is distinct from output_usd_per_mtok)::int)
           from (select input_usd_per_mtok, output_usd_per_mtok,
                        lag(input_usd_per_mtok) over k as prev_in, lag(output_usd_per_mtok) over k as prev_out,
                        row_number() over k as n
                 from history.token_prices
                 window k as (partition by source, provider, model, tier, service_tier, off_peak
                              order by valid_from nulls first))
           where n > 1"""
    ).fetchone()[0]
    actual = published.execute(
        "select count(*) from marts.price_change_events where dataset = 'token_prices' and change_kind = 'price_change'"
    ).fetchone()[0]
    assert actual == expected > 100


def test_curated_gpu_rate_change(published):
    where = "dataset = 'gpu_rates' and provider = 'lambda' and item = 'gpu_1x_a100_sxm4'"
    assert _real(published, where) == {
        (date(2026, 4, 6), "price_change", "usd_per_gpu_hour", 1.48, 1.99, 34.46)
    }


def test_first_refresh_reports_no_backfill_as_news(published):
    assert published.execute(
        "select count(*) from marts.price_change_events where detected_by_refresh"
    ).fetchone() == (0,)


def test_a_change_two_sources_report_is_one_line_of_the_feed(published):
    frame = changes.notable_today(published, date(2025, 6, 10))
    o3 = frame.filter(frame["what"] == "openai/o3 at openai")
    assert o3.select("field", "pct_change", "source").rows() == [
        ("input_usd_per_mtok", -80.0, "curated, genai_prices"),
        ("output_usd_per_mtok", -80.0, "curated, genai_prices"),
    ]
