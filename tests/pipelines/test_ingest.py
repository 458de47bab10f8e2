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
    from warehouse import db, raw

    with db.working() as con:
        (sha,) = con.execute("select sha256 from raw.payloads").fetchone()
        assert raw.body(con, sha) == b'[{"id": "openai", "models": ['
        status, error = con.execute("select status, error from meta.source_runs").fetchone()
        assert status == "failed" and "not JSON" in error


def test_ingest_names_unknown_sources(capsys, fixtures):
    path = fixtures / "token_prices" / "genai_prices_v2.json"
    assert main(["ingest", "token_prices", str(path), "--source", "nope"]) == 2
    assert "unknown source 'nope'" in capsys.readouterr().err


def test_ingest_reads_a_gzipped_catalog_as_its_content(costcurve_home, fixtures, tmp_path, capsys):
    import gzip

    packed = tmp_path / "aws_vms.csv.gz"
    packed.write_bytes(gzip.compress((fixtures / "gpu_rates" / "skypilot_v8_aws_vms.csv").read_bytes()))
    code = main(["ingest", "gpu_rates", str(packed), "--source", "skypilot", "--observed-at", "2026-03-01"])
    assert code == 0, capsys.readouterr().err
    con = published(costcurve_home)
    rows = con.execute(
        "select region, zone, usd_per_instance_hour::double from history.gpu_rates "
        "where pricing_type = 'on_demand' and instance_type = 'p5.48xlarge' order by region, zone"
    ).fetchall()
    assert rows == [
        ("eu-north-1", "eun1-az2", 58.8928),
        ("us-east-1", "use1-az1", 55.04),
        ("us-east-1", "use1-az2", 55.04),
        ("us-west-1", "usw1-az1", 68.8),
    ]


def test_ingest_refuses_an_observed_at_that_is_no_plausible_day(costcurve_home, fixtures, capsys):
    path = fixtures / "token_prices" / "genai_prices_v2.json"
    for day, words in (
        ("2026-13-45", "is not an ISO date"),
        ("9999-12-31", "is outside 1990-01-01..2100-01-01"),
    ):
        capsys.readouterr()
        assert (
            main(["ingest", "token_prices", str(path), "--source", "genai_prices", "--observed-at", day]) == 2
        )
        err = " ".join(capsys.readouterr().err.split())
        assert err.startswith(f"error: --observed-at '{day}' {words}")
        assert "Traceback" not in err
    assert not (costcurve_home / "costcurve.duckdb").exists()  # refused before the warehouse was opened


def test_a_home_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path, monkeypatch, fixtures, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COSTCURVE_HOME", str(blocker / "home"))
    path = fixtures / "gpu_rates" / "skypilot_v8_aws_vms.csv"
    for argv in (["ingest", "gpu_rates", str(path), "--source", "skypilot"], ["refresh", "--offline"]):
        capsys.readouterr()
        assert main(argv) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert err == (
            f"error: Not a directory ({blocker / 'home'}). costcurve writes under "
            f"COSTCURVE_HOME={blocker / 'home'}: point it at a writable folder with free space"
        )


def test_a_mart_test_failing_after_an_ingest_is_one_line_and_the_run_is_closed(
    costcurve_home, fixtures, monkeypatch, capsys
):
    from warehouse import models

    def failing(con, model):
        if model.table == "marts.token_prices_current":
            grain = models.ModelTest("grain", ("source", "model"))
            raise models.ModelTestsFailed([models.ModelTestResult(model.table, grain, 2, [{"model": "o3"}])])

    monkeypatch.setattr(models, "check", failing)
    path = fixtures / "token_prices" / "genai_prices_v2.json"
    assert main(["ingest", "token_prices", str(path), "--source", "genai_prices"]) == 2
    message = capsys.readouterr().err
    assert "ingest failed: ModelTestsFailed: marts.token_prices_current" in message
    assert "Traceback" not in message and "published warehouse was left as it was" in message
    with duckdb.connect(str(costcurve_home / "costcurve.duckdb"), read_only=True) as con:
        assert con.execute("select status from meta.runs").fetchall() == [("failed",)]
