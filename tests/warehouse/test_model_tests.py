"""A model's header declares its grain and tests; they run right after the model is built, and a
failure names the model, the test and at most five offending rows. In the CLI's flow (build_models)
it fails the models step, so nothing is published; in Dagster each test is a blocking asset check,
so publish does not run."""

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines import flow
from warehouse import db, models

pytestmark = pytest.mark.filterwarnings("ignore")

SEEN = datetime(2026, 1, 1, tzinfo=UTC)

# A tiny model on a table the test fills: one test of each kind, every one true of the good rows.
TINY = """\
-- description: One row per offer.
-- materialized: table
-- grain: provider, offer
-- tests:
--   not_null(provider, offer)
--   accepted_values(region: us, eu, '')
--   range(share: 0..1)
--   relationships(provider -> marts.providers.provider)
-- columns:
--   provider: Who sells it.
--   offer: Its id.
--   region: Where; '' when not regional.
--   share: A share, 0 to 1.
select provider, offer, region, share from main.offers
"""
PROVIDERS = """\
-- description: One row per provider.
-- materialized: table
-- grain: provider
-- columns:
--   provider: Who sells.
select distinct provider from main.offers where provider <> 'ghost'
"""
GOOD = [("aws", "a", "us", 0.5), ("aws", "b", "", 0.0), ("gcp", "a", "eu", 1.0), ("gcp", "b", None, None)]


def tiny(tmp_path: Path, rows: list[tuple], header: str = TINY) -> tuple[duckdb.DuckDBPyConnection, dict]:
    """The tiny models built over ``rows``; returns the connection and the models by name."""
    (tmp_path / "marts").mkdir(exist_ok=True)
    (tmp_path / "marts" / "tiny.sql").write_text(header)
    (tmp_path / "marts" / "providers.sql").write_text(PROVIDERS)
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table main.offers (provider varchar, offer varchar, region varchar, share double)")
    con.executemany("insert into main.offers values (?, ?, ?, ?)", rows)
    found = {m.name: m for m in models.discover(tmp_path)}
    for m in found.values():  # discover's order: providers, which tiny's relationships test reads, first
        models.build(con, m)
    return con, found


def failures(con, model) -> dict[str, models.ModelTestResult]:
    return {r.test.name: r for r in models.run_tests(con, model) if not r.passed}


def test_the_header_declares_grain_and_tests_and_every_one_holds_on_good_rows(tmp_path):
    con, found = tiny(tmp_path, GOOD)
    assert [str(t) for t in found["tiny"].tests] == [
        "grain(provider, offer)",
        "not_null(provider, offer)",
        "accepted_values(region: us, eu, )",
        "range(share: 0..1)",
        "relationships(provider -> marts.providers.provider)",
    ]
    # The relationships target is built first, like a table the SQL reads.
    assert found["tiny"].depends_on == {"marts.providers"}
    assert [r.passed for r in models.run_tests(con, found["tiny"])] == [True] * 5
    models.check(con, found["tiny"])  # raises nothing


def test_grain_fails_on_a_repeated_key_with_the_key_and_its_count(tmp_path):
    con, found = tiny(tmp_path, [*GOOD, ("aws", "a", "eu", 0.1)])
    (grain,) = failures(con, found["tiny"]).values()
    assert grain.test.kind == "grain" and grain.failing == 1
    assert grain.sample == [{"provider": "aws", "offer": "a", "n_rows": 2}]
    with pytest.raises(models.ModelTestsFailed) as failed:
        models.check(con, found["tiny"])
    assert str(failed.value) == (
        "marts.tiny: test grain(provider, offer) failed on 1 repeated key, "
        "e.g. (provider='aws', offer='a', n_rows=2)"
    )


def test_not_null_fails_on_a_null_in_any_of_its_columns(tmp_path):
    con, found = tiny(tmp_path, [*GOOD, ("aws", None, "us", 0.1)])
    assert list(failures(con, found["tiny"])) == ["not_null"]
    result = failures(con, found["tiny"])["not_null"]
    # The sample shows the grain, then the columns the test reads.
    assert result.failing == 1 and result.sample == [{"provider": "aws", "offer": None}]


def test_accepted_values_fails_on_a_value_outside_the_list_and_ignores_nulls(tmp_path):
    con, found = tiny(tmp_path, [*GOOD, ("aws", "c", "apac", 0.1), ("aws", "d", "US", 0.1)])
    result = failures(con, found["tiny"])["accepted_values_region"]
    assert result.failing == 2
    assert result.sample == [
        {"provider": "aws", "offer": "c", "region": "apac"},
        {"provider": "aws", "offer": "d", "region": "US"},
    ]
    assert list(failures(con, found["tiny"])) == ["accepted_values_region"]


def test_range_fails_outside_either_end_and_an_open_end_is_unbounded(tmp_path):
    rows = [*GOOD, ("aws", "c", "us", -0.01), ("aws", "d", "us", 1.5)]
    con, found = tiny(tmp_path, rows)
    result = failures(con, found["tiny"])["range_share"]
    assert result.failing == 2 and [r["share"] for r in result.sample] == [-0.01, 1.5]
    con, found = tiny(tmp_path, rows, TINY.replace("range(share: 0..1)", "range(share: 0..)"))
    assert [r["share"] for r in failures(con, found["tiny"])["range_share"].sample] == [-0.01]
    assert str(found["tiny"].tests[3]) == "range(share: 0..)"


def test_relationships_fails_on_a_value_the_target_does_not_hold(tmp_path):
    con, found = tiny(tmp_path, [*GOOD, ("ghost", "a", "us", 0.1)])
    result = failures(con, found["tiny"])["relationships_provider"]
    assert result.failing == 1 and result.sample == [{"provider": "ghost", "offer": "a"}]


def test_a_failure_quotes_at_most_five_offending_rows_and_counts_them_all(tmp_path):
    con, found = tiny(tmp_path, [*GOOD, *((f"p{i}", "x", "mars", 0.5) for i in range(8))])
    result = failures(con, found["tiny"])["accepted_values_region"]
    assert result.failing == 8 and len(result.sample) == 5
    assert "failed on 8 rows, e.g. (provider='p" in str(result)


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("--   unique(provider)", "unknown test 'unique(provider)'"),
        ("--   range(share: 1)", "unknown test 'range(share: 1)'"),
        ("--   not_null(provider) and more", "a test reads kind(arguments)"),
        ("--   range(price: 0..1)", "tests name columns the header does not document: ['price']"),
        ("--   range(share: 0..1)", "two tests of one kind on one column (merge them): ['range_share']"),
    ],
)
def test_a_header_test_that_cannot_be_read_is_an_error_naming_the_file(tmp_path, line, error):
    header = TINY.replace("-- columns:", f"{line}\n-- columns:")
    with pytest.raises(ValueError, match="tiny.sql: ") as raised:
        tiny(tmp_path, GOOD, header)
    assert error in str(raised.value)


def test_every_mart_declares_its_grain(tmp_path):
    missing = {m.name for m in models.discover() if not any(t.kind == "grain" for t in m.tests)}
    assert missing == set()


def test_token_price_disagreements_has_one_row_per_pair_of_versions_and_field():
    rows = [
        ("curated", "gpt-4o", 2.5),
        ("curated", "gpt-4o-2024-08-06", 2.5),
        ("genai_prices", "gpt-4o", 6.0),
    ]
    (mart,) = [m for m in models.discover() if m.name == "token_price_disagreements"]
    with db.working() as con:
        flow.ensure(con)
        for source, model, price in rows:
            _price(con, source, model, price)
        models.build(con, mart)
        repeated = con.execute(
            "select *, count(*) from marts.token_price_disagreements group by all having count(*) > 1"
        ).fetchall()
    assert repeated == []


def _price(con, source: str, model: str, price: float, valid_from: date | None = None) -> None:
    """One open token-price version in history (openai/gpt-4o, base tier, standard service)."""
    row = {
        "source": source, "provider": "openai", "model": model, "canonical_model": "openai/gpt-4o",
        "tier": "base", "service_tier": "standard", "off_peak": False, "mode": "chat", "currency": "USD",
        "input_usd_per_mtok": price, "output_usd_per_mtok": price * 4, "valid_from": valid_from,
        "first_seen_at": SEEN, "last_seen_at": SEEN, "payload_sha256": "test", "row_hash": model,
    }  # fmt: skip
    con.execute(
        f"insert into history.token_prices ({', '.join(row)}) values ({', '.join('?' * len(row))})",
        list(row.values()),
    )


def _duplicate_current_price(con, run_id: str) -> None:
    """A mart's input with a duplicate: two open versions of one token-price key."""
    flow.ensure(con)
    flow.begin_run(con, run_id, "ingest")
    _price(con, "curated", "gpt-4o", 2.5, date(2025, 1, 1))
    _price(con, "curated", "gpt-4o", 3.0, date(2025, 6, 1))


DUPLICATE = (
    "marts.token_prices_current: test grain(source, provider, model, tier, service_tier, off_peak) failed on "
    "1 repeated key, e.g. (source='curated', provider='openai', model='gpt-4o', tier='base', "
    "service_tier='standard', off_peak=False, n_rows=2)"
)


def test_a_duplicate_in_a_marts_input_fails_the_models_step_before_publish():
    """The CLI's ingest and rebuild call build_models, then publish: a failing test raises first."""
    run_id = "ingest-duplicate"
    with db.working() as con:
        _duplicate_current_price(con, run_id)
        with pytest.raises(models.ModelTestsFailed) as failed:
            flow.build_models(con, run_id)
        assert str(failed.value) == DUPLICATE
        assert flow.finish_run(con, run_id) == "failed"
        summary = con.execute("select summary from meta.runs where run_id = ?", [run_id]).fetchone()[0]
    assert summary.startswith(f"failed models: ModelTestsFailed: {DUPLICATE}")
    assert summary.endswith(flow.NOT_PUBLISHED)
    assert not db.published_path().exists()


def test_a_duplicate_in_a_marts_input_fails_its_blocking_check_and_publish_does_not_run():
    import dagster as dg

    from pipelines.assets import ASSETS, CHECKS
    from pipelines.resources import RefreshSettings, Warehouse

    with db.working() as con:
        _duplicate_current_price(con, "setup")
        flow.finish_run(con, "setup")
    result = dg.materialize(
        [*ASSETS, *CHECKS],
        selection=dg.AssetSelection.assets(["marts", "token_prices_current"], ["publish"]),
        instance=dg.DagsterInstance.ephemeral(),
        resources={"warehouse": Warehouse(), "settings": RefreshSettings(offline=True)},
        raise_on_error=False,
    )
    assert not result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not evaluations["grain"].passed and evaluations["grain"].description == DUPLICATE
    assert all(e.passed for name, e in evaluations.items() if name != "grain")
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"marts/token_prices_current"}
    assert not db.published_path().exists()
    with db.working() as con:
        status, summary = con.execute(
            "select status, summary from meta.runs where run_id = ?", [result.run_id]
        ).fetchone()
    assert (
        status == "failed"
        and f"failed tests marts.token_prices_current: ModelTestsFailed: {DUPLICATE}" in summary
    )
