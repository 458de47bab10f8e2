"""Keyed writes and DDL that run on both storage kinds (warehouse.db), the retry of a conflicting
DuckLake commit, and the writer locks per storage kind (warehouse.lock)."""

from __future__ import annotations

import gzip
import hashlib
import logging
from datetime import UTC, datetime

import duckdb
import pytest

from warehouse import db, lake, meta, raw
from warehouse.lock import AlreadyRunning, holds_warehouse, writer_lock

AT = datetime(2026, 12, 1, tzinfo=UTC)


def test_bookkeeping_tables_keep_their_keys_on_a_file_and_merge_on_every_kind(storage):
    with db.working() as con:
        raw.ensure(con)
        meta.ensure(con)
        keys = con.execute(
            "select count(*) from duckdb_constraints() where database_name = current_database() "
            "and constraint_type = 'PRIMARY KEY' and table_name in ('payloads', 'runs', 'source_runs')"
        ).fetchone()[0]
        first = raw.archive(
            con, run_id="r1", source="s", dataset="d", mode="file", url="u", body=b"abc", observed_at=AT
        )
        again = raw.archive(
            con, run_id="r1", source="s", dataset="d", mode="file", url="u", body=b"abc", observed_at=AT
        )
        for status in ("failed", "success"):
            meta.record_source_run(
                con,
                run_id="r1",
                source="s",
                dataset="d",
                mode="file",
                status=status,
                observed_at=AT,
                warnings=[],
            )
        stored = (
            con.execute("select count(*) from raw.payloads").fetchone()[0],
            con.execute("select count(*) from raw.fetches").fetchone()[0],
            con.execute("select status, warnings from meta.source_runs").fetchall(),
        )
        columns = [
            c
            for (c,) in con.execute(
                "select column_name from duckdb_columns() where table_name = 'runs'"
            ).fetchall()
        ]
    assert keys == (3 if storage == "file" else 0)
    assert (first.new, again.new, first.fetch_id == again.fetch_id) == (True, False, True)
    assert stored == (1, 1, [("success", [])])
    assert "snapshot_id" in columns


def test_bodies_are_stored_gzipped_where_smaller_and_read_back_verbatim(storage):
    json_body = b'{"model": {"input_cost_per_token": 1e-06}}' * 2_000
    packed_already = gzip.compress(b"instance,price\n" * 500)  # a catalog that arrives as .csv.gz
    with db.working() as con:
        raw.ensure(con)
        shas = [
            raw.archive(
                con, run_id="r1", source="s", dataset="d", mode="file", url=f"u{i}", body=b, observed_at=AT
            ).sha256
            for i, b in enumerate((json_body, packed_already, b""))
        ]
        stored = con.execute(
            "select sha256, size, octet_length(body), encoding from raw.payloads order by size desc"
        ).fetchall()
        read_back = [raw.body(con, sha) for sha in shas]
    assert read_back == [json_body, packed_already, b""]
    assert shas[0] == hashlib.sha256(json_body).hexdigest()  # the hash and size of the verbatim bytes
    (big, big_size, big_stored, big_encoding), (gz, gz_size, gz_stored, gz_encoding), empty = stored
    assert (big, big_size, big_encoding) == (shas[0], 84_000, "gzip") and big_stored < big_size / 100
    assert (gz, gz_size, gz_stored, gz_encoding) == (
        shas[1],
        len(packed_already),
        len(packed_already),
        "identity",
    )
    assert empty == (shas[2], 0, 0, "identity")


def test_a_warehouse_archived_before_compression_reads_its_verbatim_bodies(storage):
    with db.working() as con:
        con.execute(
            "create table raw.payloads (sha256 varchar, source varchar, dataset varchar, url varchar, "
            "fetched_at timestamptz, size bigint, body blob)"
        )
        con.execute("insert into raw.payloads values ('old', 's', 'd', 'u', ?, 3, 'abc'::blob)", [AT])
        raw.ensure(con)
        new = raw.archive(
            con,
            run_id="r1",
            source="s",
            dataset="d",
            mode="file",
            url="u2",
            body=b"x" * 1_000,
            observed_at=AT,
        )
        encodings = con.execute("select sha256, encoding from raw.payloads order by size").fetchall()
        bodies = raw.body(con, "old"), raw.body(con, new.sha256)
    assert encodings == [("old", "identity"), (new.sha256, "gzip")]
    assert bodies == (b"abc", b"x" * 1_000)


def test_upsert_inserts_missing_rows_only_unless_it_updates(storage):
    with db.working() as con:
        con.execute("create table meta.t (k varchar, v integer, note varchar)")
        written = [
            db.upsert(con, "meta.t", ["k"], {"k": "a", "v": 1, "note": None}),
            db.upsert(con, "meta.t", ["k"], {"k": "a", "v": 2, "note": "x"}),
            db.upsert(con, "meta.t", ["k"], {"k": "a", "v": 3, "note": "y"}, update=False),
            db.merge(con, "meta.t", ["k"], "select 'b' as k, 7 as v", update=False),
        ]
        rows = con.execute("select k, v, note from meta.t order by k").fetchall()
    assert written == [1, 1, 0, 1]
    assert rows == [("a", 2, "x"), ("b", 7, None)]


def test_a_conflicting_commit_is_retried_with_backoff_and_logged(monkeypatch, caplog):
    monkeypatch.setattr(lake, "BACKOFF_S", 0)
    calls = []

    def conflicts_twice():
        calls.append(1)
        if len(calls) < 3:
            raise duckdb.TransactionException(
                "Failed to commit DuckLake transaction.\nTransaction conflict - x"
            )
        return "done"

    with caplog.at_level(logging.WARNING, logger="warehouse.lake"):
        assert db.retrying("create tables", conflicts_twice) == "done"
    assert len(calls) == 3
    assert [r.getMessage() for r in caplog.records] == [
        "create tables: commit conflicted with another writer, retry 1 in 0.0 s",
        "create tables: commit conflicted with another writer, retry 2 in 0.0 s",
    ]

    def always():
        calls.append(1)
        raise duckdb.TransactionException("Transaction conflict - y")

    calls.clear()
    with pytest.raises(duckdb.TransactionException):
        db.retrying("x", always)
    assert len(calls) == lake.ATTEMPTS

    def other():
        calls.append(1)
        raise duckdb.TransactionException("disk full")

    calls.clear()
    with pytest.raises(duckdb.TransactionException, match="disk full"):
        db.retrying("x", other)
    assert len(calls) == 1


def test_writers_of_different_datasets_share_a_postgres_lake_but_not_a_file(monkeypatch):
    monkeypatch.delenv("COSTCURVE_WAREHOUSE", raising=False)
    with writer_lock("ingest", "token_prices"):
        assert holds_warehouse()
    # A PostgreSQL catalog: nothing is opened here, the setting alone chooses the locks.
    monkeypatch.setenv("COSTCURVE_WAREHOUSE", "ducklake:postgres:dbname=lake host=/tmp")
    monkeypatch.setenv("COSTCURVE_LAKE_DATA", "/tmp/lake-data")
    with writer_lock("ingest", "token_prices"):
        assert not holds_warehouse()
        _in_another_process("gpu_rates", expect_refused=False)
        _in_another_process("token_prices", expect_refused=True)
        _in_another_process(None, expect_refused=True)


def _in_another_process(dataset: str | None, *, expect_refused: bool) -> None:
    """flock is per open file, so a child process is another writer."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    result = context.Queue()
    child = context.Process(target=_try_lock, args=(dataset, result))
    child.start()
    child.join(30)
    assert result.get(timeout=5) == expect_refused


def _try_lock(dataset, result) -> None:
    from warehouse import lock

    lock._HELD.clear()  # the fork copied the parent's bookkeeping, not its locks
    lock._EXCLUSIVE.clear()
    try:
        with writer_lock("test", dataset):
            result.put(False)
    except AlreadyRunning:
        result.put(True)
