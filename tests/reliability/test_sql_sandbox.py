"""`costcurve sql`: what the sandbox lets a query do, what it refuses, and how every failure reads.

Each test publishes a snapshot of a few rows (``snapshot.write``) into its own COSTCURVE_HOME. A
refused query must leave the snapshot's bytes and its folder as they were and write nothing anywhere.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
import snapshot

from pipelines import sandbox
from pipelines.cli import main, parser

COSTCURVE = Path(sys.executable).with_name("costcurve")


@pytest.fixture
def published(costcurve_home):
    return snapshot.write(costcurve_home)


def sql(capsys, *args):
    """Run `costcurve sql ARGS`: exit code, stdout, stderr."""
    code = main(["sql", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(err: str) -> str:
    """The error text, asserting that it is one line, starts with 'error:' and carries no traceback."""
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err.removeprefix("error: ").rstrip("\n")


# ---- what runs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("select count(*) as n from history.token_prices", ["n", "2"]),
        ("with t as (from history.token_prices where pct < 0) select source, pct from t", ["source,pct", "litellm,-12.5"]),
        ("values (1, 'a')", ["col0,col1", "1,a"]),
        ("select 1 as a; select 2 as b", ["b", "2"]),
        ("pivot (select source, pct from history.token_prices) on source in ('litellm') using sum(pct)", ["litellm", "-12.5"]),
        ("describe history.token_prices", ["column_name,column_type,null,key,default,extra", "source,VARCHAR,YES,,,"]),
        ("select name from (show all tables) order by name", ["name", "price_change_events", "token_prices"]),
        ("select column_name, count from (summarize history.token_prices) limit 1", ["column_name,count", "source,2"]),
        ("select library_version = version() as same from pragma_version()", ["same", "true"]),
        ("pragma table_info('history.token_prices')", ["cid,name,type,notnull,dflt_value,pk", "0,source,VARCHAR,false,,false"]),
        ("select count(*) as n from range(3) t(x) where x in (select 1 from query_table('history.token_prices'))", ["n", "1"]),
    ],
)  # fmt: skip
def test_read_statements_run(published, capsys, query, expected):
    code, out, err = sql(capsys, query, "--format", "csv")
    assert (code, err) == (0, "")
    assert out.splitlines()[: len(expected)] == expected


def test_explain_and_explain_analyze_of_a_select_run(published, capsys):
    for query in ("explain select * from history.token_prices", "explain analyze select 1"):
        code, out, err = sql(capsys, query, "--format", "json")
        assert (code, err) == (0, "")
        (row,) = json.loads(out)
        assert row["explain_key"] in ("physical_plan", "analyzed_plan")


def test_a_sql_file_is_read_and_run(published, capsys, tmp_path):
    script = tmp_path / "my query.sql"
    script.write_text("-- the cheapest\nselect min(input_usd_per_mtok) as low from history.token_prices;\n")
    assert sql(capsys, str(script), "--format", "csv") == (0, "low\n2.000000000\n", "")


# ---- what is refused: every statement that is not a read, with or without --allow-files ----------

READ_ONLY = "is refused: the published warehouse is read-only, and costcurve sql runs reads only (SELECT"


@pytest.fixture
def scratch(tmp_path):
    """A folder a refused query names as its target: it must stay empty."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


@pytest.mark.parametrize(
    ("query", "refusal"),
    [
        ("insert into history.token_prices select * from history.token_prices", "INSERT (insert into"),
        ("update history.token_prices set model = 'x'", "UPDATE (update history.token_prices set model = 'x')"),
        ("delete from history.token_prices", "DELETE (delete from history.token_prices)"),
        ("create table marts.mine as select 1", "CREATE (create table marts.mine as select 1)"),
        ("create temp macro twice(x) as 2 * x", "CREATE (create temp macro twice(x) as 2 * x)"),
        ("drop table history.token_prices", "DROP (drop table history.token_prices)"),
        ("alter table history.token_prices add column x int", "ALTER (alter table"),
        ("comment on table history.token_prices is 'x'", "ALTER (comment on table"),
        ("copy history.token_prices to '{out}/out.csv'", "COPY (copy history.token_prices to"),
        ("copy (select 1) to '{out}/out.parquet' (format parquet)", "COPY (copy (select 1) to"),
        ("copy history.token_prices from '{out}/in.csv'", "COPY (copy history.token_prices from"),
        ("export database '{out}/exported'", "EXPORT (export database"),
        ("attach '{out}/other.duckdb' as other", "ATTACH (attach"),
        ("detach costcurve", "DETACH (detach costcurve)"),
        ("use memory", "SET (use memory)"),
        ("install httpfs", "LOAD (install httpfs)"),
        ("load httpfs", "LOAD (load httpfs)"),
        ("load '{out}/evil.duckdb_extension'", "LOAD (load"),
        ("update extensions", "UPDATE (update extensions)"),
        ("set enable_external_access = true", "SET (set enable_external_access = true)"),
        ("set lock_configuration = false", "SET (set lock_configuration = false)"),
        ("reset threads", "SET (reset threads)"),
        ("set variable x = 1", "SET (set variable x = 1)"),
        ("pragma threads = 1", "SET (pragma threads = 1)"),
        ("pragma enable_profiling", "PRAGMA (pragma enable_profiling)"),
        # This one aborted the whole process (SIGABRT) before the sandbox checked statements.
        ("call enable_logging(storage := 'file', storage_path := '{out}/logs')", "CALL (call enable_logging("),
        ("checkpoint", "CALL (checkpoint)"),
        ("vacuum", "VACUUM (vacuum)"),
        ("analyze", "VACUUM (analyze)"),
        ("begin transaction", "TRANSACTION (begin transaction)"),
        ("prepare p as select 1", "PREPARE (prepare p as select 1)"),
        ("select 1; drop table history.token_prices", "statement 2: DROP (drop table history.token_prices)"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("allow_files", [False, True], ids=["sandboxed", "allow-files"])
def test_every_statement_that_is_not_a_read_is_refused(
    published, capsys, scratch, query, refusal, allow_files
):
    before = snapshot.fingerprint(published)
    code, out, err = sql(capsys, query.format(out=scratch), *(["--allow-files"] if allow_files else []))
    assert (code, out) == (2, "")
    message = one_line_error(err)
    assert message.startswith(f"query failed: {refusal}") and READ_ONLY in message
    assert list(scratch.iterdir()) == []
    assert snapshot.fingerprint(published) == before


def test_a_pivot_without_an_in_list_is_told_to_list_its_values(published, capsys):
    code, _, err = sql(
        capsys, "pivot (select source, pct from history.token_prices) on source using sum(pct)"
    )
    assert code == 2 and one_line_error(err).startswith(
        "query failed: statement 1: CREATE generated by a PIVOT without an IN list is refused"
    )
    assert one_line_error(err).endswith("; list the pivot values: PIVOT ... ON column IN (value, ...)")


@pytest.mark.parametrize("allow_files", [False, True], ids=["sandboxed", "allow-files"])
def test_explain_analyze_runs_only_what_passes_on_its_own(published, capsys, scratch, allow_files):
    query = f"/* explain select 1 */ explain analyze copy (select 1) to '{scratch}/out.csv'"
    code, _, err = sql(capsys, query, *(["--allow-files"] if allow_files else []))
    assert code == 2
    assert one_line_error(err).startswith(
        "query failed: EXPLAIN (/* explain select 1 */ explain analyze copy"
    )
    assert one_line_error(err).endswith(") must explain one SELECT")
    assert list(scratch.iterdir()) == []


def test_a_refusal_says_what_to_do_instead(published, capsys, scratch):
    code, _, err = sql(capsys, f"copy (select 1) to '{scratch}/out.csv'", "--allow-files")
    assert one_line_error(err).endswith(
        "; to save a result, redirect it: costcurve sql '<query>' --format csv > result.csv"
    )


# ---- functions a SELECT can reach that write or configure ----------------------------------------

WAYS_IN = [
    "from {f}()",
    "select * from (from {f}())",
    "with x as (from {f}()) from x",
    "select (select count(*) from {f}())",
    "select 1 where exists (from {f}())",
    "select * from range(1) r, lateral (from {f}())",
    "select {f}()",
    "explain analyze from {f}()",
    "select 1 as a; from {f}()",
]


@pytest.mark.parametrize("way", WAYS_IN)
@pytest.mark.parametrize("function", sorted(sandbox.REFUSED_FUNCTIONS))
def test_functions_that_write_or_configure_are_refused_wherever_a_select_calls_them(
    published, capsys, function, way
):
    before = snapshot.fingerprint(published)
    code, out, err = sql(capsys, way.format(f=function.upper()), "--allow-files")
    assert (code, out) == (2, "")
    assert (
        f"{function} would change settings or write: the published warehouse is read-only"
        in one_line_error(err)
    )
    assert snapshot.fingerprint(published) == before


def test_logging_to_a_file_is_refused_and_writes_nothing(published, capsys, scratch):
    query = (
        f"select * from enable_logging(level := 'debug', storage := 'file', storage_path := '{scratch}/log')"
    )
    code, _, err = sql(capsys, query, "--allow-files")
    assert code == 2 and "enable_logging would change settings or write" in one_line_error(err)
    assert sql(capsys, "select count(*) as n from history.token_prices", "--allow-files")[:2] == (
        0,
        "┏━━━┓\n┃ n ┃\n┡━━━┩\n│ 2 │\n└───┘\n",
    )
    assert list(scratch.iterdir()) == []


# Every table function DuckDB ships, reviewed: these only read (the catalog, a file with --allow-files,
# generated rows). A DuckDB upgrade that adds one fails the next test until it is classified here or
# refused in pipelines/sandbox.py.
READ_TABLE_FUNCTIONS = {
    "duckdb_approx_database_count", "duckdb_columns", "duckdb_connection_count", "duckdb_constraints",
    "duckdb_coordinate_systems", "duckdb_databases", "duckdb_dependencies", "duckdb_extensions",
    "duckdb_external_file_cache", "duckdb_functions", "duckdb_indexes", "duckdb_keywords",
    "duckdb_log_contexts", "duckdb_logs", "duckdb_logs_parsed", "duckdb_memory", "duckdb_optimizers",
    "duckdb_prepared_statements", "duckdb_profiling_settings", "duckdb_schemas", "duckdb_secret_types",
    "duckdb_secrets", "duckdb_sequences", "duckdb_settings", "duckdb_table_sample", "duckdb_tables",
    "duckdb_temporary_files", "duckdb_types", "duckdb_variables", "duckdb_views",
    "generate_series", "range", "repeat", "repeat_row", "unnest", "test_all_types", "test_vector_types",
    "glob", "read_blob", "read_text", "read_csv", "read_csv_auto", "sniff_csv", "read_duckdb",
    "read_parquet", "read_json", "read_json_auto", "read_json_objects", "read_json_objects_auto", "read_ndjson",
    "read_ndjson_auto", "read_ndjson_objects", "json_each", "json_tree",
    "parquet_scan", "parquet_bloom_probe", "parquet_file_metadata", "parquet_full_metadata",
    "parquet_kv_metadata", "parquet_metadata", "parquet_schema",
    "histogram", "histogram_values", "summary", "seq_scan", "query_table", "which_secret",
    "icu_calendar_names", "pg_timezone_names",
    "pragma_collations", "pragma_database_size", "pragma_metadata_info", "pragma_platform", "pragma_show",
    "pragma_storage_info", "pragma_table_info", "pragma_user_agent", "pragma_version",
}  # fmt: skip


def test_every_table_function_duckdb_ships_is_classified():
    with duckdb.connect() as con:
        shipped = {
            name
            for (name,) in con.execute(
                "select distinct function_name from duckdb_functions() where function_type = 'table'"
            ).fetchall()
        }
    assert shipped - READ_TABLE_FUNCTIONS - sandbox.REFUSED_FUNCTIONS == set()
    assert READ_TABLE_FUNCTIONS & sandbox.REFUSED_FUNCTIONS == set()


# ---- files: read with --allow-files only, never written; no extension, no network ---------------


def _files(tmp_path):
    (tmp_path / "mine.csv").write_text("a\n41\n")
    pl.DataFrame({"a": [41]}).write_parquet(tmp_path / "mine.parquet")
    (tmp_path / "mine.json").write_text('[{"a": 41}]')
    return {
        "csv": f"select a + 1 as b from read_csv('{tmp_path}/mine.csv')",
        "replacement scan": f"select a + 1 as b from '{tmp_path}/mine.csv'",
        "parquet": f"select a + 1 as b from read_parquet('{tmp_path}/mine.parquet')",
        "json": f"select a + 1 as b from read_json('{tmp_path}/mine.json')",
        "text": f"select length(content) + 37 as b from read_text('{tmp_path}/mine.csv')",
        "glob": f"select count(*) + 39 as b from glob('{tmp_path}/mine.*')",
    }


@pytest.mark.parametrize("kind", ["csv", "replacement scan", "parquet", "json", "text", "glob"])
def test_local_files_are_read_only_with_allow_files(published, capsys, tmp_path, kind):
    query = _files(tmp_path)[kind]
    code, out, err = sql(capsys, query, "--format", "csv")
    assert (code, out) == (2, "")
    assert one_line_error(err).endswith("; add --allow-files to let the query read local files")
    assert sql(capsys, query, "--format", "csv", "--allow-files") == (0, "b\n42\n", "")


def test_allow_files_loads_no_extension_and_reaches_no_network(published, capsys):
    code, _, err = sql(
        capsys, "select * from read_csv('https://example.invalid/prices.csv')", "--allow-files"
    )
    assert code == 2
    assert "requires the extension httpfs to be loaded" in one_line_error(err)


@pytest.mark.parametrize("allow_files", [False, True])
def test_the_sandbox_settings_hold_and_are_locked(published, capsys, allow_files):
    query = (
        "select name, value from duckdb_settings() where name in ('enable_external_access', "
        "'lock_configuration', 'autoload_known_extensions', 'autoinstall_known_extensions', "
        "'python_enable_replacements', 'allow_community_extensions') order by name"
    )
    code, out, _ = sql(capsys, query, "--format", "csv", *(["--allow-files"] if allow_files else []))
    assert code == 0
    assert out.splitlines() == [
        "name,value",
        "allow_community_extensions,false",
        "autoinstall_known_extensions,false",
        "autoload_known_extensions,false",
        f"enable_external_access,{str(allow_files).lower()}",
        "lock_configuration,true",
        "python_enable_replacements,false",
    ]


# ---- runaway queries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["select sleep_ms(60000)", "select sum(x % 7) from range(10000000000000) t(x)"],
    ids=["sleep", "cpu"],
)
def test_a_query_past_its_timeout_is_stopped_with_a_clear_message(published, capsys, query):
    started = time.monotonic()
    code, out, err = sql(capsys, query, "--timeout", "0.5")
    assert time.monotonic() - started < 15
    assert (code, out) == (2, "")
    assert one_line_error(err) == (
        "query stopped after 0.5 s: narrow it (a where clause, a limit) or give it longer with "
        "--timeout SECONDS (0 = no limit)"
    )


def test_the_timeout_defaults_to_a_minute_and_zero_means_none(published, capsys):
    assert parser().parse_args(["sql", "select 1"]).timeout == 60
    assert sql(capsys, "select sleep_ms(300) is null as slept", "--timeout", "0", "--format", "csv") == (
        0,
        "slept\ntrue\n",
        "",
    )


# ---- every failure is one line that says what to do ---------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("slect 1", 'query failed: Parser Error: syntax error at or near "slect"; fix the SQL syntax'),
        ("select * from nope", 'query failed: Catalog Error: Table with name nope does not exist!; list the tables with: costcurve sql "show all tables"'),
        ("select nope from history.token_prices", 'query failed: Binder Error: Referenced column "nope" not found in FROM clause!; check the column names and types: costcurve sql "describe <table>"'),
        # The cast fails at row 5,000, mid-query, after the first rows were computed.
        ("select (case when x < 5000 then '1' else 'x' end)::int as n from range(10000) t(x)", "query failed: Conversion Error: Could not convert string 'x' to INT32; fix the query and run it again"),
        ("select '[/x] [bold]'::int", "query failed: Conversion Error: Could not convert string '[/x] [bold]' to INT32; fix the query and run it again"),
        ("   ", "query failed: the query is empty: give a SELECT (or a path to a .sql file)"),
        (";", "query failed: the query is empty: give a SELECT (or a path to a .sql file)"),
        ("missing.sql", "missing.sql: no such file: give the path of a .sql file, or the query itself"),
    ],
)  # fmt: skip
def test_a_failing_query_is_one_line_with_what_to_do(published, capsys, query, message):
    code, out, err = sql(capsys, query)
    assert (code, out) == (2, "")
    assert one_line_error(err) == message


def test_a_sql_path_that_is_a_folder_or_not_text_is_one_line(published, capsys, tmp_path):
    (tmp_path / "folder.sql").mkdir()
    (tmp_path / "latin1.sql").write_bytes("select 'café'".encode("latin-1"))
    for name, message in (
        ("folder.sql", "Is a directory"),
        ("latin1.sql", "not UTF-8 text: save the script as UTF-8"),
    ):
        code, _, err = sql(capsys, str(tmp_path / name))
        assert code == 2 and one_line_error(err) == f"{tmp_path / name}: {message}" + (
            ": give the path of a readable .sql file" if name == "folder.sql" else ""
        )


@pytest.mark.parametrize("output", ["table", "csv", "json"])
def test_a_result_polars_cannot_hold_is_one_line(published, capsys, output):
    code, out, err = sql(capsys, "select interval 1 day as i", "--format", output)
    assert (code, out) == (2, "")
    assert one_line_error(err).endswith("; cast the column holding that type to varchar in the query")


def test_a_column_csv_cannot_hold_is_one_line_and_writes_nothing(published, capsys):
    code, out, err = sql(capsys, "select 'ab'::blob as b", "--format", "csv")
    assert (code, out) == (2, "")
    assert one_line_error(err) == (
        "query failed: datatype binary cannot be written to CSV; cast the column holding that type to "
        "varchar in the query"
    )


def test_no_published_warehouse_is_one_line(capsys):
    code, _, err = sql(capsys, "select 1")
    assert code == 2 and one_line_error(err).startswith("no published warehouse at ")


@pytest.mark.parametrize("output", ["table", "csv", "json"])
def test_a_reader_that_stops_early_ends_the_output_quietly(published, output):
    """`costcurve sql ... | head -1`: the closed pipe ends the command with no traceback. Each output
    is several times the 64 KiB a pipe buffers (rich lays out a table slowly: it gets fewer rows, and
    --limit 0 to show them all)."""
    rows = 5_000 if output == "table" else 200_000
    process = subprocess.Popen(
        [str(COSTCURVE), "sql", f"select x, 'row' as label from range({rows}) t(x)", "--format", output]
        + (["--limit", "0"] if output == "table" else []),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ,
    )
    process.stdout.readline()
    process.stdout.close()
    assert process.wait(timeout=120) == 0
    assert process.stderr.read() == b""
