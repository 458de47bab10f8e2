"""The embedded market snapshot: real feeds as of a stated date, with origin and licence, read by
the same parsers as the live feeds; derived offers equal the catalog they come from."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import polars as pl

from sources import litellm, market_snapshot, openrouter, skypilot
from tools.build_market_snapshot import offers, openrouter_facts

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def manifest() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((market_snapshot.FOLDER / market_snapshot.MANIFEST).read_text())))


def test_every_embedded_file_states_its_origin_date_and_licence_and_no_unlicensed_file_is_copied():
    entries = manifest()
    assert {e["source"] for e in entries} == {"litellm", "openrouter", "skypilot"}
    for entry in entries:
        assert entry["origin"] and entry["licence"] and datetime.fromisoformat(entry["observed_on"])
        assert (market_snapshot.FOLDER / entry["file"]).is_file()
        # anycloud's catalogs carry no licence: only derived offers may come from them.
        if "anycloud" in entry["origin"] or "no licence" in entry["licence"]:
            assert entry["kind"] == "derived" and entry["licence"].startswith("derived facts")
    assert [e["licence"] for e in entries if e["source"] == "litellm"] == ["MIT"]
    size = sum((market_snapshot.FOLDER / e["file"]).stat().st_size for e in entries)
    assert size < 1_000_000  # the package stays small


def test_embedded_payloads_carry_the_snapshot_date_and_parse_whole():
    [lite] = litellm.embedded()
    assert lite.observed_at == datetime(2026, 8, 21, tzinfo=UTC) and lite.licence == "MIT"
    assert "litellm==1.110.2" in lite.origin
    parsed = litellm.parse(lite.body, observed_at=lite.observed_at, origin=lite.url)
    assert parsed.rows.height > 5_000 and len(parsed.rejects) < 20
    [router] = openrouter.embedded()
    assert router.observed_at == datetime(2026, 8, 19, tzinfo=UTC)
    assert openrouter.parse(router.body, observed_at=NOW, origin=router.url).rows.height > 500
    clouds = {skypilot.cloud_of(p.url): p for p in skypilot.embedded()}
    assert set(clouds) == {"azure", "gcp", "lambda", "vast", "cudo", "oci"}
    gcp = skypilot.parse(clouds["gcp"].body, observed_at=NOW, origin=clouds["gcp"].url)
    assert gcp.rows["source"].unique().to_list() == ["skypilot"] and not gcp.rejects
    assert gcp.rows.filter(pl.col("accelerator").is_null()).height == 0
    tpu = gcp.rows.filter(pl.col("instance_type") == "tpu-v5p-8", pl.col("pricing_type") == "on_demand")
    assert tpu["usd_per_gpu_hour"].min() == Decimal("4.2")  # 16.8 per 4-chip slice, the cheapest region


def test_derived_offers_reproduce_the_catalog_rows_with_zones_folded_into_regions(fixtures):
    body = (fixtures / "gpu_rates" / "anycloud_catalog_gcp_vms.csv").read_bytes()
    direct = skypilot.parse(body, observed_at=NOW, origin="anycloud/gcp/vms.csv")
    derived = offers(body, "gcp")
    assert derived.columns == list(market_snapshot.OFFER_COLUMNS)
    text = io.StringIO()
    derived.write_csv(text)
    reread = skypilot.parse(text.getvalue().encode(), observed_at=NOW, origin="skypilot_gcp_offers.csv")
    columns = ["provider", "instance_type", "region", "pricing_type", "accelerator", "gpu_count",
               "usd_per_instance_hour", "usd_per_gpu_hour"]  # fmt: skip
    expected = direct.rows.select(columns).unique().sort(columns)
    assert reread.rows.select(columns).sort(columns).equals(expected)
    assert reread.rows["zone"].null_count() == reread.rows.height
    # N1 T4 x2 alone (0.35 per GPU-hour), TPU v4 per chip (12.88 / 4), the B200 host at 0.0 refused.
    per_gpu = dict(zip(reread.rows["instance_type"] + "/" + reread.rows["pricing_type"],
                       reread.rows["usd_per_gpu_hour"], strict=True))  # fmt: skip
    assert per_gpu["T4:2/on_demand"] == Decimal("0.35") and per_gpu["tpu-v4-8/on_demand"] == Decimal("3.22")
    assert "a4-highgpu-8g/on_demand" not in per_gpu


def test_a_bad_derived_row_is_rejected_alone_naming_field_and_value():
    header = ",".join(market_snapshot.OFFER_COLUMNS)
    body = (
        f"{header}\n"
        "gcp,g2-standard-4,us-central1,on_demand,L4,,1,0.85,2\n"
        "gcp,g2-standard-8,us-central1,on_demand,L4,,1,lots,2\n"
    ).encode()
    parsed = skypilot.parse(body, observed_at=NOW, origin="skypilot_gcp_offers.csv")
    assert parsed.rows["instance_type"].to_list() == ["g2-standard-4"]
    assert parsed.rows["accelerator"].to_list() == ["nvidia-l4-24gb"]  # looked up at read time
    [reject] = parsed.rejects
    assert reject.field == "usd_per_instance_hour" and reject.value == "lots"


def test_openrouter_facts_keep_prices_and_drop_descriptions():
    body = (
        b'{"data":[{"id":"openai/o3","name":"OpenAI: o3","description":"long text","created":1,'
        b'"context_length":200000,"architecture":{"output_modalities":["text"],"tokenizer":"x"},'
        b'"pricing":{"prompt":"0.000002","completion":"0.000008"},"top_provider":{"max_completion_tokens":100000}}]}'
    )
    facts = openrouter_facts(body)
    assert b"description" not in facts and b"tokenizer" not in facts
    before = openrouter.parse(body, observed_at=NOW, origin="x").rows
    assert openrouter.parse(facts, observed_at=NOW, origin="x").rows.equals(before)


def test_offline_refresh_shows_the_real_market_dated_with_its_origin(costcurve_home, capsys):
    from pipelines.cli import main

    assert main(["refresh", "--offline"]) == 0
    capsys.readouterr()
    main(["status", "--format", "json"])
    coverage = {c["source"]: c for c in json.loads(capsys.readouterr().out)["unmapped_accelerators"]}
    assert coverage["skypilot"]["offers"] > 4_000 and coverage["skypilot"]["share"] <= 0.02
    assert coverage["curated"]["unmapped"] == 0
    # raw.fetches is in the working warehouse, not the published snapshot.
    with duckdb.connect(str(costcurve_home / "costcurve.duckdb"), read_only=True) as con:
        runs = {
            source: (observed.date().isoformat(), origin, licence)
            for source, observed, origin, licence in con.execute(
                "select s.source, f.observed_at, s.origin, s.licence from meta.source_runs s "
                "join raw.fetches f using (run_id, source, dataset) "
                "where s.source in ('litellm', 'openrouter', 'skypilot')"
            ).fetchall()
        }
        assert runs["litellm"][0] == "2026-08-21" and runs["litellm"][2] == "MIT"
        assert runs["skypilot"][0] == "2026-05-20" and "anycloud-sh/catalog@62ff0a9" in runs["skypilot"][1]
    with duckdb.connect(str(costcurve_home / "published" / "costcurve.duckdb"), read_only=True) as con:
        [(prices, models)] = con.execute(
            "select count(*), count(distinct canonical_model) from marts.token_prices_current"
        ).fetchall()
        assert prices > 5_000 and models > 1_000
        coverage = con.execute(
            "select provider, n_offers, unmapped_share from marts.accelerator_coverage "
            "where source = 'skypilot' order by provider"
        ).fetchall()
        assert [p for p, _, _ in coverage] == ["azure", "cudo", "gcp", "lambda", "oci", "vastai"]
        assert sum(n for _, n, _ in coverage) > 4_000
        # Whole TPU pod slices (up to 6,144 chips, $25,800 an hour) are offers, not outliers: the one
        # row refused is an Azure A10 VM priced above the per-GPU-hour band.
        refused = con.execute(
            "select rule, field from quarantine.rejected_rows where source = 'skypilot'"
        ).fetchall()
        assert refused == [("accelerator_price_band", "usd_per_gpu_hour")]
        assert all(share <= 0.02 for _, _, share in coverage), coverage
        # The snapshot's valid_from is its own date, so "current" means "as of the snapshot".
        [(first,)] = con.execute(
            "select min(valid_from) from history.gpu_rates where source = 'skypilot'"
        ).fetchall()
        assert first.isoformat() == "2026-05-20"


def test_an_offline_run_after_a_newer_payload_adds_the_past_and_keeps_the_present(costcurve_home, tmp_path):
    from pipelines.cli import main

    [lambda_offers] = [p for p in skypilot.embedded() if skypilot.cloud_of(p.url) == "lambda"]
    lines = lambda_offers.body.decode().splitlines()
    header, first = lines[0], lines[1].split(",")
    first[7] = str(Decimal(first[7]) / 2)  # a price cut observed later
    later = tmp_path / "skypilot_lambda_offers.csv"
    later.write_text("\n".join([header, ",".join(first), *lines[2:]]) + "\n")
    assert (
        main(["ingest", "gpu_rates", str(later), "--source", "skypilot", "--observed-at", "2026-11-01"]) == 0
    )
    assert main(["refresh", "--offline"]) == 0
    with duckdb.connect(str(costcurve_home / "published" / "costcurve.duckdb"), read_only=True) as con:
        versions = con.execute(
            "select valid_from, valid_to, usd_per_instance_hour from history.gpu_rates "
            "where provider = 'lambda' and source = 'skypilot' and instance_type = ? and region = ? "
            "and pricing_type = ? order by valid_from",
            [first[1], first[2], first[3]],
        ).fetchall()
    cut = Decimal(first[7])
    assert [(str(f), str(t) if t else None, p) for f, t, p in versions] == [
        ("2026-05-20", "2026-11-01", cut * 2),
        ("2026-11-01", None, cut),
    ]


def test_snapshot_files_are_gzip_and_the_manifest_lists_every_file():
    listed = {e["file"] for e in manifest()}
    on_disk = {p.name for p in market_snapshot.FOLDER.iterdir() if p.name.endswith(".gz")}
    assert listed == on_disk
    for name in listed:
        assert gzip.decompress((market_snapshot.FOLDER / name).read_bytes())
