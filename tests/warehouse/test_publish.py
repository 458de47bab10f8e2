import os
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


def test_snapshot_holds_published_schemas_comments_and_macros(tmp_path):
    con = build_working(3)
    path = publish.publish(con, ["create or replace macro twice(x) as 2 * x"], tmp_path / "costcurve.duckdb")
    con.close()
    snap = duckdb.connect(str(path), read_only=True)
    assert snap.execute("select sum(n), twice(21) from marts.numbers").fetchone() == (3, 42)
    assert snap.execute(
        "select comment from duckdb_columns() where table_name = 'numbers' and column_name = 'n'"
    ).fetchone() == ("A number.",)
    schemas = {r[0] for r in snap.execute("select schema_name from duckdb_tables()").fetchall()}
    assert schemas == {"marts"}  # raw and staging stay in the working file


def test_reader_of_the_old_snapshot_keeps_working_while_a_new_one_is_published(tmp_path):
    con = build_working(3)
    path = publish.publish(con, [], tmp_path / "costcurve.duckdb")
    reader = duckdb.connect(str(path), read_only=True)
    assert reader.execute("select count(*) from marts.numbers").fetchone() == (3,)
    con.execute("create or replace table marts.numbers as select range as n from range(10)")
    publish.publish(con, [], path)
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


def test_parquet_per_mart(tmp_path):
    con = build_working(5)
    (path,) = publish.export_parquet(con, tmp_path / "parquet")
    assert path.name == "numbers.parquet"
    assert duckdb.sql(f"select count(*) from '{path}'").fetchone() == (5,)


def generation(run_id: str, text: str):
    path = publish.new_generation(run_id)
    (path / "costcurve.duckdb").write_text(text)
    return path


def test_a_swap_points_published_at_the_new_generation_keeping_the_previous_one(costcurve_home):
    first = generation("run-1", "one")
    publish.swap(first)
    held = open(costcurve_home / "published" / "costcurve.duckdb")  # a reader of the first snapshot
    publish.swap(generation("run-2", "two"))
    wreck = generation("run-killed", "half")  # a publish killed before its swap
    publish.swap(third := generation("run-3", "three"))
    assert (costcurve_home / "published").is_symlink()
    assert (costcurve_home / "published" / "costcurve.duckdb").read_text() == "three"
    assert (
        os.readlink(costcurve_home / "published") == third.name
    )  # relative: a copied home points into itself
    assert sorted(p.name for p in costcurve_home.glob("published-*")) == [
        "published-run-2",
        "published-run-3",
    ]
    assert not wreck.exists()
    assert held.read() == "one"  # removed, yet still readable through the open handle
    held.close()


def test_a_swap_migrates_a_published_directory_from_before_generations(costcurve_home):
    old = costcurve_home / "published"
    old.mkdir(parents=True)
    (old / "costcurve.duckdb").write_text("old")
    publish.swap(generation("run-1", "new"))
    assert old.is_symlink() and (old / "costcurve.duckdb").read_text() == "new"
    assert (costcurve_home / publish.LEGACY / "costcurve.duckdb").read_text() == "old"
