"""The key hash: every version carries a 64-bit hash of its natural key, the merge matches on it, an
old warehouse gets it on open, and two keys sharing a hash never mix."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from tests.warehouse.test_history import PRICES, merge, row, versions
from warehouse import history


def stored_hashes(con):
    return con.execute("select model, key_hash from history.prices order by model, valid_from").fetchall()


def expected_hash(con, source, provider, model):
    # The low half of md5 over the tagged key values, as documented on the column.
    return con.execute(
        "select md5_number_lower(concat_ws('\u241f', 'source=' || ?, 'provider=' || ?, 'model=' || ?))",
        [source, provider, model],
    ).fetchone()[0]


def test_every_version_carries_the_hash_of_its_natural_key(con):
    merge(con, [row("x", 1), row("o3", 10), row("o3", 2, date(2025, 6, 10))], 1)
    merge(con, [row("x", 3), row("o3", 10), row("o3", 2, date(2025, 6, 10))], 2)
    x, o3 = expected_hash(con, "s", "p", "x"), expected_hash(con, "s", "p", "o3")
    assert x != o3
    assert stored_hashes(con) == [("o3", o3), ("o3", o3), ("x", x), ("x", x)]
    # The replaced version keeps its hash in superseded too.
    assert con.execute("select model, key_hash from superseded.prices").fetchall() == [("x", x)]
    comment = con.execute(
        "select comment from duckdb_columns() where table_name = 'prices' and schema_name = 'history' "
        "and column_name = 'key_hash'"
    ).fetchone()[0]
    assert "(source, provider, model)" in comment


def test_a_warehouse_from_before_the_hash_gets_it_on_open_and_merges_as_before(con):
    merge(con, [row("x", 1), row("y", 2)], 1)
    # The layout before this column: no key_hash, and so no comment naming the key.
    con.execute("alter table history.prices drop column key_hash")
    con.execute("alter table superseded.prices drop column key_hash")
    history.ensure(con, PRICES)
    assert stored_hashes(con) == [
        ("x", expected_hash(con, "s", "p", "x")),
        ("y", expected_hash(con, "s", "p", "y")),
    ]
    stats = merge(con, [row("x", 1), row("y", 5)], 3)
    assert (stats.inserted, stats.superseded, stats.unchanged) == (2, 1, 1)  # y closed and reopened
    assert versions(con, "y") == [
        ("y", Decimal("2"), date(2026, 11, 1), date(2026, 11, 3)),
        ("y", Decimal("5"), date(2026, 11, 3), None),
    ]


def test_a_version_written_by_hand_without_the_hash_is_matched_by_the_next_merge(con):
    merge(con, [row("x", 1)], 1)
    con.execute(
        """insert into history.prices (source, provider, model, price, valid_from, first_seen_at,
               last_seen_at, payload_sha256, row_hash, recorded_at)
           select 's', 'p', 'y', price, valid_from, first_seen_at, last_seen_at, payload_sha256, row_hash,
                  recorded_at from history.prices"""
    )
    stats = merge(con, [row("x", 1), row("y", 1)], 2)
    assert (stats.inserted, stats.unchanged) == (0, 2)
    assert con.execute("select count(*) from history.prices where key_hash is null").fetchone()[0] == 0


def test_a_changed_natural_key_recomputes_every_hash(con):
    merge(con, [row("x", 1)], 1)
    narrower = dataclasses.replace(PRICES, key=("source", "model"))
    history.ensure(con, narrower)
    assert (
        con.execute("select key_hash from history.prices").fetchone()[0]
        == con.execute("select md5_number_lower(concat_ws('\u241f', 'source=s', 'model=x'))").fetchone()[0]
    )


def test_a_key_sharing_its_hash_with_another_history_key_is_not_touched(con, monkeypatch):
    merge(con, [row("y", 1)], 1, scope=None)
    # Every key the same hash: the merge must still tell them apart by their columns.
    monkeypatch.setattr(history, "_key_hash_expr", lambda key, alias="": "42::ubigint")
    stats = merge(con, [row("x", 2)], 2, scope=None)
    assert (stats.inserted, stats.superseded, stats.closed) == (1, 0, 0)
    assert versions(con) == [
        ("x", Decimal("2"), date(2026, 11, 2), None),
        ("y", Decimal("1"), date(2026, 11, 1), None),
    ]


def test_two_keys_of_one_merge_sharing_a_hash_stop_it_and_change_nothing(con, monkeypatch):
    merge(con, [row("x", 1)], 1)
    before = versions(con)
    monkeypatch.setattr(history, "_key_hash_expr", lambda key, alias="": "42::ubigint")
    with pytest.raises(history.KeyHashCollision, match="share the 64-bit key hash 42"):
        merge(con, [row("x", 1), row("y", 2)], 2)
    assert versions(con) == before


def test_an_undated_payload_reads_only_versions_in_effect_from_its_day(con):
    """The fast path: closed versions ending before the day are not read, and are left alone."""
    merge(con, [row("x", 1)], 1)
    merge(con, [row("x", 2)], 3)
    merge(con, [row("x", 3)], 5)
    stats = merge(con, [row("x", 3)], 7)
    assert (stats.inserted, stats.superseded, stats.unchanged) == (0, 0, 1)
    assert [v[1] for v in versions(con, "x")] == [Decimal("1"), Decimal("2"), Decimal("3")]
    # A late undated payload still reaches the versions it overlaps.
    stats = merge(con, [row("x", 9)], 4)
    assert versions(con, "x") == [
        ("x", Decimal("1"), date(2026, 11, 1), date(2026, 11, 3)),
        ("x", Decimal("2"), date(2026, 11, 3), date(2026, 11, 4)),
        ("x", Decimal("9"), date(2026, 11, 4), date(2026, 11, 5)),
        ("x", Decimal("3"), date(2026, 11, 5), None),
    ]
