"""Every ```sql block of docs/sql_cookbook.md runs against a freshly refreshed warehouse, the way an
analyst runs it (read-only, no file access), and returns rows unless marked "may be empty"."""

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

COOKBOOK = Path(__file__).resolve().parents[2] / "docs" / "sql_cookbook.md"
MAY_BE_EMPTY = "<!-- cookbook: may be empty -->"


@dataclass(frozen=True)
class Recipe:
    title: str
    sql: str
    may_be_empty: bool


def recipes() -> list[Recipe]:
    found, title, since_title = [], None, ""
    for part in re.split(r"(^#{2,3} [^\n]*$|^```sql\n.*?^```$)", COOKBOOK.read_text(), flags=re.M | re.S):
        if part.startswith("#"):
            title, since_title = part.lstrip("# ").strip(), ""
        elif part.startswith("```sql"):
            found.append(
                Recipe(title, part.removeprefix("```sql\n").removesuffix("```"), MAY_BE_EMPTY in since_title)
            )
        else:
            since_title += part
    return found


RECIPES = {r.title: r for r in recipes()}


def test_every_recipe_has_its_own_heading():
    assert len(RECIPES) == len(recipes()) >= 15


@pytest.fixture(scope="module")
def con(published_db):
    # The configuration `costcurve sql` uses: read-only, no reading or writing of other files.
    with duckdb.connect(
        str(published_db),
        read_only=True,
        config={"enable_external_access": False, "lock_configuration": True},
    ) as con:
        yield con


@pytest.fixture(scope="module")
def run(con):
    marts = {
        t
        for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'"
        ).fetchall()
    }

    def execute(title: str) -> list[dict]:
        recipe = RECIPES[title]
        absent = sorted(set(re.findall(r"marts\.(\w+)", recipe.sql)) - marts)
        if absent:
            pytest.skip(f"{title!r} reads marts not built yet: {', '.join(absent)}")
        cursor = con.execute(recipe.sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    return execute


@pytest.mark.parametrize("title", list(RECIPES))
def test_recipe_runs_and_returns_rows(run, title):
    rows = run(title)
    assert rows or RECIPES[title].may_be_empty, f"{title!r} returned no rows"


def test_o3_before_its_june_2025_cut(run):
    rows = run("What did a model cost on a given day?")
    assert {(r["source"], float(r["input_usd_per_mtok"]), float(r["output_usd_per_mtok"])) for r in rows} == {
        ("curated", 10.0, 40.0),
        ("genai_prices", 10.0, 40.0),
    }


def test_gpt_4o_history_holds_its_launch_price_and_the_cut(run):
    rows = run("Price history of a model")
    curated = [
        (r["valid_from"], float(r["input_usd_per_mtok"]))
        for r in rows
        if r["model"] == "gpt-4o" and r["source"] == "curated"
    ]
    assert curated == [(date(2024, 5, 13), 5.0), (date(2024, 10, 2), 2.5)]


def test_o3_changes_include_the_80_percent_cut(run):
    rows = run("Every price change of a model")
    cut = [r for r in rows if r["change_date"] == date(2025, 6, 10) and r["source"] == "curated"]
    assert {(r["field"], float(r["old_value"]), float(r["new_value"]), r["pct_change"]) for r in cut} == {
        ("input_usd_per_mtok", 10.0, 2.0, -80.0),
        ("output_usd_per_mtok", 40.0, 8.0, -80.0),
    }


def test_successor_launches_name_gpt_4_turbo_and_gpt_4o(run):
    rows = run("Launch prices against the model they replaced")
    by_what = {(r["what"], r["field"]): r["pct_change"] for r in rows}
    assert by_what[("openai/gpt-4-turbo at openai, launch vs openai/gpt-4", "output_usd_per_mtok")] == -50.0
    assert by_what[("openai/gpt-4o at openai, launch vs openai/gpt-4-turbo", "input_usd_per_mtok")] == -50.0


def test_cheapest_h100_is_the_minimum_of_the_current_offers(run, con):
    rows = run("Cheapest H100 offer today")
    expected = {
        (a, p): float(v)
        for a, p, v in con.execute(
            """select accelerator, pricing_type, min(usd_per_gpu_hour) from marts.gpu_rates_current
               where accelerator like 'nvidia-h100%' group by all"""
        ).fetchall()
    }
    assert len(expected) >= 3
    assert {(r["accelerator"], r["pricing_type"]): float(r["usd_per_gpu_hour"]) for r in rows} == expected


def test_seed_000_worked_example(run):
    assert run("Effective cost per million useful tokens of a rented GPU") == [
        {"usd_per_million_useful_tokens": 17.0074}
    ]


def test_latest_mci_is_each_tiers_last_month(run, con):
    rows = run("The latest Margin Compression Index")
    last = con.execute("select max(date) from marts.margin_compression_index").fetchone()[0]
    assert [(r["tier"], r["date"]) for r in rows] == [(t, last) for t in ("all", "flagship", "mid", "small")]
    assert all(r["mci"] == pytest.approx(100 * r["price_index"] / r["compute_cost_index"]) for r in rows)


def test_o1_mini_price_of_record_steps_down_with_the_o3_mini_launch(run):
    rows = run("A model's price of record over time")
    assert [
        (r["valid_from"], r["valid_to"], r["source"], r["input_usd_per_mtok"], r["output_usd_per_mtok"])
        for r in rows
    ] == [
        (date(2024, 9, 12), date(2025, 1, 31), "curated", 3.0, 12.0),
        (date(2025, 1, 31), None, "curated", 1.1, 4.4),
    ]


def test_cheapest_model_of_each_creator_is_its_lowest_headline_price(run, con):
    rows = run("Cheapest current model of each creator")
    lowest = dict(
        con.execute(
            """select creator, min(blended_usd_per_mtok) from marts.headline_prices
               where text_generation and creator in ('openai', 'anthropic', 'google', 'mistralai', 'deepseek')
               group by creator"""
        ).fetchall()
    )
    assert {r["creator"]: r["blended_usd_per_mtok"] for r in rows} == lowest
    assert len(lowest) == 5


def test_yearly_changes_count_each_change_of_record_once(run):
    by_year = {r["year"]: r for r in run("Price cuts and rises per year")}
    # 2025, per price field: cuts are o1-mini's (2025-01-31) and o3's (2025-06-10), input and output, DeepSeek
    # reasoner's output on 2025-09-05 (V3.1) and both DeepSeek models' V3.2 cut of 2025-09-29 (4); rises are
    # the end of DeepSeek chat's promotion (2025-02-08, 2), its V3.1 price (2), reasoner's V3.1 input (1) and
    # Ministral 8B's (2025-12-02, 2).
    assert (by_year[2025]["cuts"], by_year[2025]["rises"]) == (9, 7)
