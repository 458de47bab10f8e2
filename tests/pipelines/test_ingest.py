from datetime import date

import duckdb

from pipelines.cli import main


def published(home):
    return duckdb.connect(str(home / "published" / "costcurve.duckdb"), read_only=True)


def test_ingest_a_saved_payload_lands_history_and_quarantine(costcurve_home, fixtures, capsys):
    path = fixtures / "token_prices" / "genai_prices_v2.json"
    code = main(
        ["ingest", "token_prices", str(path), "--source", "genai_prices", "--observed-at", "2026-11-01"]
    )
    assert code == 0, capsys.readouterr().err
    con = published(costcurve_home)
    o3 = con.execute(
        "select input_usd_per_mtok::double from token_prices_asof(date '2025-06-01') "
        "where model = 'o3' and tier = 'base' and service_tier = 'standard'"
    ).fetchall()
    assert o3 == [(10.0,)]
    mini = con.execute("select valid_from from history.token_prices where model = 'gpt-4o-mini'").fetchone()[
        0
    ]
    assert mini == date(2026, 11, 1)  # undeclared start: the observation date given
    rejected = dict(
        con.execute(
            "select json_extract_string(row_json, '$.model'), rule from quarantine.rejected_rows"
        ).fetchall()
    )
    assert rejected == {"gpt-broken": "negative_price", "gpt-typo": "not_a_number"}
    mode = con.execute("select mode from meta.source_runs").fetchone()[0]
    assert mode == "file"


def test_ingest_garbage_archives_it_and_says_what_failed(costcurve_home, tmp_path, capsys):
    bad = tmp_path / "broken.json"
    bad.write_bytes(b'[{"id": "openai", "models": [')
    assert main(["ingest", "token_prices", str(bad), "--source", "genai_prices"]) == 2
    message = capsys.readouterr().err.replace("\n", " ")
    assert "genai_prices" in message and "not JSON" in message
    from warehouse import db

    with db.working() as con:
        archived = con.execute("select body from raw.payloads").fetchall()
        assert archived == [(b'[{"id": "openai", "models": [',)]
        status, error = con.execute("select status, error from meta.source_runs").fetchone()
        assert status == "failed" and "not JSON" in error


def test_ingest_names_unknown_sources(capsys, fixtures):
    path = fixtures / "token_prices" / "genai_prices_v2.json"
    assert main(["ingest", "token_prices", str(path), "--source", "nope"]) == 2
    assert "unknown source 'nope'" in capsys.readouterr().err
