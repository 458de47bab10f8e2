"""published/manifest.json describes the refresh a BI tool would poll: tables, row counts, typed
columns, Parquet files, refresh time and the mode each source ran in."""

import json

import duckdb
import pytest

from warehouse import manifest


@pytest.fixture(scope="module")
def written(published_db):
    with duckdb.connect(str(published_db), read_only=True) as con:
        run_id = con.execute("select run_id from meta.runs order by started_at desc limit 1").fetchone()[0]
        path = manifest.write(con, published_db.parent, run_id)
        yield con, run_id, json.loads(path.read_text())


def test_run_and_refresh_time(written, published_db):
    con, run_id, doc = written
    finished = con.execute("select finished_at from meta.runs where run_id = ?", [run_id]).fetchone()[0]
    assert doc["format_version"] == 2 and doc["snapshot"] == "costcurve.duckdb"
    assert doc["report"] == ("report.html" if (published_db.parent / "report.html").exists() else None)
    assert doc["run"]["run_id"] == run_id and doc["run"]["status"] == "success"
    assert doc["refreshed_at"] == doc["run"]["finished_at"] == finished.isoformat()


def test_source_modes_of_the_run(written):
    _, _, doc = written
    modes = {(s["dataset"], s["source"]): (s["mode"], s["status"]) for s in doc["sources"]}
    assert modes[("token_prices", "genai_prices")] == ("embedded", "success")
    assert modes[("token_prices", "litellm")] == ("embedded", "success")  # the market snapshot
    assert modes[("gpu_rates", "vastai")] == ("skipped", "skipped")  # no embedded default of its own
    genai = next(s for s in doc["sources"] if s["source"] == "genai_prices")
    assert genai["rows_accepted"] > 2000 and genai["observed_at"].endswith("+00:00")


def test_tables_with_row_counts_and_typed_columns(written):
    con, _, doc = written
    tables = {t["name"]: t for t in doc["tables"]}
    assert {
        "history.token_prices",
        "marts.price_change_events",
        "meta.source_runs",
        "quarantine.rejected_rows",
    } <= set(tables)
    for name, table in tables.items():
        assert table["row_count"] == con.execute(f"select count(*) from {name}").fetchone()[0]
    events = tables["marts.price_change_events"]
    assert events["row_count"] > 100 and events["description"].startswith("The change feed")
    columns = {c["name"]: c for c in events["columns"]}
    assert columns["pct_change"]["type"] == "DOUBLE" and columns["change_date"]["type"] == "DATE"
    assert all(c["description"] for t in doc["tables"] for c in t["columns"])


def test_every_mart_points_at_its_parquet_file(written, published_db):
    _, _, doc = written
    marts = [t for t in doc["tables"] if t["name"].startswith("marts.")]
    assert marts and all(t["parquet"] == f"parquet/{t['name'][6:]}.parquet" for t in marts)
    exported = [t for t in doc["tables"] if t["name"].startswith("history.")]
    assert all(t["parquet"] == f"parquet/history/{t['name'][8:]}.parquet" for t in exported)
    assert {p["table"] for p in doc["parquet"]} == {t["name"] for t in marts + exported}
    for entry in doc["parquet"]:
        path = published_db.parent / entry["path"]
        assert path.stat().st_size == entry["bytes"] > 0
    assert all(
        t["parquet"] is None for t in doc["tables"] if not t["name"].startswith(("marts.", "history."))
    )


def test_written_atomically(published_db):
    assert [p.name for p in published_db.parent.iterdir() if p.name.startswith(".")] == []


def test_unknown_run_is_an_error(written, tmp_path):
    con, _, _ = written
    with pytest.raises(LookupError, match="not in meta.runs"):
        manifest.write(con, tmp_path, "no-such-run")
