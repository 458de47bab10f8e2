import subprocess
import sys

import duckdb

from warehouse import db, publish


def build_working(rows: int):
    con = db.connect()
    con.execute("create or replace table marts.numbers as select range as n from range(?)", [rows])
    con.execute("comment on table marts.numbers is 'Numbers.'")
    con.execute("comment on column marts.numbers.n is 'A number.'")
    con.execute("create or replace table raw.secret as select 'not published' as s")
    return con


def test_snapshot_holds_published_schemas_comments_and_macros():
    con = build_working(3)
    path = publish.publish(con, ["create or replace macro twice(x) as 2 * x"])
    con.close()
    snap = duckdb.connect(str(path), read_only=True)
    assert snap.execute("select sum(n), twice(21) from marts.numbers").fetchone() == (3, 42)
    assert snap.execute(
        "select comment from duckdb_columns() where table_name = 'numbers' and column_name = 'n'"
    ).fetchone() == ("A number.",)
    schemas = {r[0] for r in snap.execute("select schema_name from duckdb_tables()").fetchall()}
    assert schemas == {"marts"}  # raw and staging stay in the working file


def test_reader_of_the_old_snapshot_keeps_working_while_a_new_one_is_published():
    con = build_working(3)
    path = publish.publish(con, [])
    reader = duckdb.connect(str(path), read_only=True)
    assert reader.execute("select count(*) from marts.numbers").fetchone() == (3,)
    con.execute("create or replace table marts.numbers as select range as n from range(10)")
    publish.publish(con, [])
    # The open reader still sees its own consistent snapshot; a new reader (another process, as
    # DuckDB shares one open database per path within a process) sees the new one.
    assert reader.execute("select count(*), sum(n) from marts.numbers").fetchone() == (3, 3)
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; print(duckdb.connect(sys.argv[1], read_only=True)"
            ".execute('select count(*) from marts.numbers').fetchone()[0])",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert fresh.stdout.strip() == "10"
    assert not list(path.parent.glob(".*.tmp"))


def test_parquet_per_mart():
    con = build_working(5)
    (path,) = publish.export_parquet(con)
    assert path.name == "numbers.parquet"
    assert duckdb.sql(f"select count(*) from '{path}'").fetchone() == (5,)
