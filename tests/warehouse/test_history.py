from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl

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


def row(model, price, valid_from=None, valid_to=None, provider="p", source="s"):
    return dict(
        source=source,
        provider=provider,
        model=model,
        price=Decimal(str(price)),
        valid_from=valid_from,
        valid_to=valid_to,
    )


# Every test runs on the local file and a .ducklake lake (conftest.py); these on PostgreSQL too.
ON_POSTGRES = {
    "test_changed_price_closes_the_old_version_on_the_day_it_was_seen",
    "test_a_later_payload_of_the_same_day_supersedes_the_version_it_replaces",
    "test_removed_key_is_closed_not_deleted_and_can_come_back",
    "test_as_known_answers_what_the_warehouse_said_on_a_past_day",
}


def merge(con, rows, day, sha=None, **options):
    return history.merge(
        con,
        PRICES,
        PRICES.frame(rows),
        observed_at=datetime(2026, 11, day, 6, tzinfo=UTC),
        payload_sha256=sha or f"sha-{day}",
        **options,
    )


def versions(con, model=None):
    where = f"where model = '{model}'" if model else ""
    return con.execute(
        f"select model, price, valid_from, valid_to from history.prices {where} "
        "order by model, valid_from nulls first"
    ).fetchall()


def assert_no_overlaps(con):
    overlaps = con.execute(
        """select count(*) from history.prices a join history.prices b
           on a.source = b.source and a.provider = b.provider and a.model = b.model and a.rowid < b.rowid
           where coalesce(a.valid_from, date '0001-01-01') < coalesce(b.valid_to, date '9999-12-31')
             and coalesce(b.valid_from, date '0001-01-01') < coalesce(a.valid_to, date '9999-12-31')"""
    ).fetchone()[0]
    assert overlaps == 0
    inverted = con.execute("select count(*) from history.prices where valid_to <= valid_from").fetchone()[0]
    assert inverted == 0


def test_first_observation_starts_undeclared_rows_and_declared_dates_are_kept(con):
    stats = merge(con, [row("x", 1), row("o3", 10), row("o3", 2, date(2025, 6, 10))], 1)
    assert stats.inserted == 3
    assert versions(con) == [
        ("o3", Decimal("10"), None, date(2025, 6, 10)),
        ("o3", Decimal("2"), date(2025, 6, 10), None),
        ("x", Decimal("1"), date(2026, 11, 1), None),
    ]
    assert_no_overlaps(con)


def test_reingesting_the_same_payload_adds_nothing(con):
    payload = [row("x", 1), row("o3", 10), row("o3", 2, date(2025, 6, 10))]
    merge(con, payload, 1)
    before = versions(con)
    stats = merge(con, payload, 2)
    assert (stats.inserted, stats.superseded, stats.unchanged, stats.closed) == (0, 0, 3, 0)
    assert versions(con) == before
    seen = con.execute(
        "select min(last_seen_at)::date, max(first_seen_at)::date from history.prices"
    ).fetchone()
    assert seen == (date(2026, 11, 2), date(2026, 11, 1))


def test_changed_price_closes_the_old_version_on_the_day_it_was_seen(con):
    merge(con, [row("x", 1)], 1)
    merge(con, [row("x", 3)], 3)
    assert versions(con, "x") == [
        ("x", Decimal("1"), date(2026, 11, 1), date(2026, 11, 3)),
        ("x", Decimal("3"), date(2026, 11, 3), None),
    ]
    assert_no_overlaps(con)


def test_a_later_payload_of_the_same_day_supersedes_the_version_it_replaces(con):
    merge(con, [row("x", 1)], 1)
    merge(con, [row("x", 3)], 3)
    stats = history.merge(
        con,
        PRICES,
        PRICES.frame([row("x", 4)]),
        observed_at=datetime(2026, 11, 3, 9, tzinfo=UTC),
        payload_sha256="corrected",
        recorded_at=datetime(2026, 11, 3, 9, 5, tzinfo=UTC),
    )
    assert (stats.inserted, stats.superseded) == (1, 1)
    assert versions(con, "x")[-1] == ("x", Decimal("4"), date(2026, 11, 3), None)
    sha = con.execute("select payload_sha256 from history.prices where valid_to is null").fetchone()[0]
    assert sha == "corrected"
    # Nothing is overwritten: each replaced version is kept with when it stopped being believed
    # (day 3 closed the open x = 1 version; the correction replaced x = 3).
    assert con.execute(
        "select price, valid_from, valid_to from superseded.prices order by valid_from"
    ).fetchall() == [
        (Decimal("1"), date(2026, 11, 1), None),
        (Decimal("3"), date(2026, 11, 3), None),
    ]
    assert con.execute("select superseded_at from superseded.prices where price = 3").fetchone()[
        0
    ] == datetime(2026, 11, 3, 9, 5, tzinfo=UTC)


def test_removed_key_is_closed_not_deleted_and_can_come_back(con):
    merge(con, [row("x", 1), row("y", 5)], 1)
    stats = merge(con, [row("y", 5)], 4)
    assert stats.closed == 1
    assert versions(con, "x") == [("x", Decimal("1"), date(2026, 11, 1), date(2026, 11, 4))]
    merge(con, [row("x", 1), row("y", 5)], 6)
    assert versions(con, "x") == [
        ("x", Decimal("1"), date(2026, 11, 1), date(2026, 11, 4)),
        ("x", Decimal("1"), date(2026, 11, 6), None),
    ]
    assert_no_overlaps(con)


def test_a_per_cloud_scope_closes_only_the_providers_a_payload_carries(con):
    scope = ("source", "provider")
    merge(con, [row("x", 1, provider="a"), row("y", 2, provider="b")], 1, scope=scope)
    merge(con, [row("x", 1, provider="a")], 2, scope=scope)
    assert con.execute("select count(*) from history.prices where valid_to is null").fetchone()[0] == 2


def test_a_provider_vanishing_from_a_whole_feed_source_is_closed(con):
    merge(con, [row("x", 1, provider="a"), row("y", 2, provider="b")], 1)
    stats = merge(con, [row("x", 1, provider="a")], 2)
    assert stats.closed == 1
    assert versions(con, "y") == [("y", Decimal("2"), date(2026, 11, 1), date(2026, 11, 2))]


def test_a_vanished_key_is_closed_although_the_payload_had_rejects_whose_keys_stay_open(con):
    merge(con, [row("x", 1), row("y", 5), row("z", 7)], 1)
    # Day 2: x vanished; y's record was rejected (its key is held); z is listed.
    stats = merge(con, [row("z", 7)], 2, held=[{"source": "s", "model": "y"}])
    assert (stats.closed, stats.held_open) == (1, 1)
    assert versions(con, "x") == [("x", Decimal("1"), date(2026, 11, 1), date(2026, 11, 2))]
    assert versions(con, "y") == [("y", Decimal("5"), date(2026, 11, 1), None)]
    # A later clean day that lists y again keeps one version: the held day said nothing about it.
    merge(con, [row("y", 5), row("z", 7)], 3)
    assert versions(con, "y") == [("y", Decimal("5"), date(2026, 11, 1), None)]


def test_a_late_payload_slots_in_and_never_closes_what_a_newer_one_shows_open(con):
    merge(con, [row("x", 1), row("y", 5)], 1)
    merge(con, [row("x", 1), row("y", 5)], 9)
    # A file observed on day 5, arriving last: x at another price, y absent that day.
    merge(con, [row("x", 2)], 5)
    assert versions(con, "x") == [
        ("x", Decimal("1"), date(2026, 11, 1), date(2026, 11, 5)),
        ("x", Decimal("2"), date(2026, 11, 5), date(2026, 11, 9)),
        ("x", Decimal("1"), date(2026, 11, 9), None),
    ]
    assert versions(con, "y") == [
        ("y", Decimal("5"), date(2026, 11, 1), date(2026, 11, 5)),
        ("y", Decimal("5"), date(2026, 11, 9), None),
    ]
    assert_no_overlaps(con)


def test_future_declared_start_is_kept_as_a_future_version(con):
    merge(con, [row("f", 5), row("f", 4, date(2031, 1, 1))], 1)
    assert versions(con, "f") == [
        ("f", Decimal("5"), None, date(2031, 1, 1)),
        ("f", Decimal("4"), date(2031, 1, 1), None),
    ]
    asof_today = history.asof(con, PRICES, date(2026, 11, 1))
    assert asof_today["price"].to_list() == [Decimal("5")]
    assert history.asof(con, PRICES, date(2031, 6, 1))["price"].to_list() == [Decimal("4")]


def test_declared_end_closes_a_version(con):
    merge(con, [row("t", 7, valid_to=date(2026, 3, 13)), row("t2", 1)], 1)
    assert versions(con, "t") == [("t", Decimal("7"), None, date(2026, 3, 13))]
    merge(con, [row("t2", 1)], 2)  # absent again: already closed, nothing to close
    assert versions(con, "t") == [("t", Decimal("7"), None, date(2026, 3, 13))]


def test_as_of_answers_o3_before_and_after_its_cut(con):
    merge(con, [row("o3", 10), row("o3", 2, date(2025, 6, 10))], 1)
    assert history.asof(con, PRICES, date(2025, 6, 1))["price"].to_list() == [Decimal("10")]
    assert history.asof(con, PRICES, date(2025, 6, 11))["price"].to_list() == [Decimal("2")]


def test_history_columns_carry_comments(con):
    merge(con, [row("x", 1)], 1)
    comments = dict(
        con.execute(
            "select column_name, comment from duckdb_columns() where table_name = 'prices'"
        ).fetchall()
    )
    assert comments["price"] == "price"
    assert comments["valid_to"].startswith("Day the values stop applying")


def test_an_incomplete_payload_closes_nothing(con):
    merge(con, [row("x", 1), row("y", 5)], 1)
    stats = history.merge(
        con,
        PRICES,
        PRICES.frame([row("y", 5)]),
        observed_at=datetime(2026, 11, 4, tzinfo=UTC),
        payload_sha256="partial",
        complete=False,
    )
    assert stats.closed == 0
    assert versions(con, "x") == [("x", Decimal("1"), date(2026, 11, 1), None)]


def test_as_known_answers_what_the_warehouse_said_on_a_past_day(con):
    at = lambda day, hour=6: datetime(2026, 11, day, hour, tzinfo=UTC)  # noqa: E731
    options = dict(payload_sha256="d1")
    history.merge(
        con, PRICES, PRICES.frame([row("x", 1)]), observed_at=at(1), recorded_at=at(1, 7), **options
    )
    history.merge(
        con, PRICES, PRICES.frame([row("x", 1)]), observed_at=at(9), payload_sha256="d9", recorded_at=at(9, 7)
    )
    # On day 12 a file observed on day 5 arrives late: x was 2 from day 5 until day 9.
    history.merge(
        con,
        PRICES,
        PRICES.frame([row("x", 2)]),
        observed_at=at(5),
        payload_sha256="d5",
        recorded_at=at(12, 7),
    )
    con.execute(history.as_known_macro(PRICES))

    def said(on_day, known_day):
        return con.execute(
            "select price from prices_as_known(?, ?)", [date(2026, 11, on_day), at(known_day, 8)]
        ).fetchall()

    assert said(6, 10) == [(Decimal("1"),)]  # before the late file, day 6 was priced 1
    assert said(6, 12) == [(Decimal("2"),)]  # after it, 2
    assert said(10, 12) == [(Decimal("1"),)]
    assert said(6, 1) == [(Decimal("1"),)]  # recorded on day 1 at 07:00, known by 08:00
    assert con.execute("select count(*) from prices_as_known(date '2026-11-06', now())").fetchone()[0] == 1


def test_a_column_added_to_the_schema_is_added_to_history_and_changes_no_version(con):
    merge(con, [row("x", 1)], 1)
    wider = Dataset(
        name="prices",
        doc="Test prices.",
        key=PRICES.key,
        columns=(*PRICES.columns, Column("region_note", pl.Utf8, "a new column")),
    )
    stats = history.merge(
        con,
        wider,
        wider.frame([row("x", 1)]),
        observed_at=datetime(2026, 11, 2, 6, tzinfo=UTC),
        payload_sha256="wider",
    )
    assert (stats.inserted, stats.superseded, stats.unchanged) == (0, 0, 1)
    assert con.execute("select model, region_note, valid_from from history.prices").fetchall() == [
        ("x", None, date(2026, 11, 1))
    ]
    stats = history.merge(
        con,
        wider,
        wider.frame([row("x", 1) | {"region_note": "eu"}]),
        observed_at=datetime(2026, 11, 3, 6, tzinfo=UTC),
        payload_sha256="filled",
    )
    assert (stats.inserted, stats.superseded) == (2, 1)  # the open version closed, the new one opened
    assert con.execute(
        "select region_note, valid_from, valid_to from history.prices order by valid_from"
    ).fetchall() == [(None, date(2026, 11, 1), date(2026, 11, 3)), ("eu", date(2026, 11, 3), None)]


def test_input_dates_at_the_ends_of_the_calendar_are_data(con):
    merge(con, [row("e", 1, date(9999, 12, 31)), row("e", 2, date(1, 1, 1))], 1)
    merge(con, [row("e", 1, date(9999, 12, 31)), row("e", 2, date(1, 1, 1))], 2)
    assert versions(con, "e") == [
        ("e", Decimal("2"), date(1, 1, 1), date(9999, 12, 31)),
        ("e", Decimal("1"), date(9999, 12, 31), None),
    ]


def test_a_late_snapshot_counts_as_closed_only_the_keys_it_really_cut(con):
    merge(con, [row("x", 1)], 1)
    merge(con, [row("x", 1), row("y", 2)], 9)
    # Day 5, arriving last: lists neither. x is cut on [5, 9); y starts on day 9 and is not touched.
    stats = merge(con, [row("z", 3)], 5)
    assert (stats.closed, stats.inserted) == (1, 3)
    assert versions(con, "y") == [("y", Decimal("2"), date(2026, 11, 9), None)]


def test_an_undated_payload_takes_a_shorter_statement_to_the_same_segments(con):
    """The daily case (no row declares a date) skips the general statement's window functions; both
    give the same rows and types, a repeated key deduplicated the same way."""
    rows = [row("a", 1), row("b", 2), row("b", 3), row("c", 4, provider="q")]
    con.register("_incoming", PRICES.frame(rows))
    key, values = list(PRICES.key), list(PRICES.value_columns)
    made = {}
    for undated in (True, False):
        con.execute(history._segments_sql(key, values, undated=undated), {"day": date(2026, 11, 3)})
        made[undated] = (
            con.execute("select * from _seg order by all").fetchall(),
            con.execute("describe _seg").fetchall(),
        )
    assert made[True] == made[False]
    segments = [(r[2], r[3], r[-2], r[-1]) for r in made[True][0]]
    # From the payload's day to the open end (DuckDB's date 'infinity' reads back as date.max); of
    # b's two rows the one with the smaller row hash, here the first.
    day, open_end = date(2026, 11, 3), date.max
    assert segments == [("a", 1, day, open_end), ("b", 2, day, open_end), ("c", 4, day, open_end)]
