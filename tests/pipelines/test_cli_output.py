"""What the CLI prints reads well: results fit an 80-column terminal with every value whole, numbers
print as numbers, `changes` marks what has not happened yet, and the program says its version."""

import json
import re
import tomllib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines import cli
from pipelines.cli import main
from pipelines.terminal import number

ROOT = Path(__file__).parents[2]
TODAY = datetime.now(UTC).date()


@pytest.fixture
def columns(monkeypatch):
    """Set the width of the terminal the CLI's consoles print to."""

    def set_to(width: int) -> None:
        monkeypatch.setattr(cli.out, "width", width)
        monkeypatch.setattr(cli.err, "width", width)

    set_to(80)
    return set_to


@pytest.fixture
def refreshed(published_home):
    """A copy of the shared offline refresh as this test's warehouse."""
    return published_home


@pytest.fixture
def small(costcurve_home):
    """A published snapshot of three price changes (ten days ahead, three and thirty days ago) and
    nothing else."""
    path = costcurve_home / "published" / "costcurve.duckdb"
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            create schema marts;
            create table marts.price_change_events as
                select change_date, what, field, old_value, new_value, pct_change, direction,
                       'price' as change_kind, 'token_prices' as dataset, source,
                       true as detected_by_refresh, now() as detected_at
                from (values
                    (current_date + 10, 'anthropic/claude-opus-4-long-model-name at anthropic',
                     'output_usd_per_mtok', 75.0, 50.0, -33.3, 'cut', 'genai_prices'),
                    (current_date - 3, 'openai/gpt-4o-mini at openai', 'input_usd_per_mtok',
                     0.15, 0.0375, -75.0, 'cut', 'litellm'),
                    (current_date - 30, 'google/gemini-2.5-pro at google', 'input_usd_per_mtok',
                     1.25, 2.5, 100.0, 'rise', 'genai_prices'))
                t(change_date, what, field, old_value, new_value, pct_change, direction, source);
            """
        )
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def readme_queries() -> list[str]:
    """Every `costcurve sql "..."` of the README, and the query `make run` ends by suggesting."""
    found = re.findall(r'costcurve sql "([^"]+)"', (ROOT / "README.md").read_text(encoding="utf-8"))
    return [*found, "select * from marts.token_prices_current limit 5"]


# ---- results fit the terminal ----------------------------------------------------------------------


@pytest.mark.parametrize("query", readme_queries())
def test_the_readme_queries_read_whole_at_80_columns(refreshed, capsys, columns, query):
    code, out, err = run(capsys, "sql", query, "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert rows, query
    code, out, err = run(capsys, "sql", query)
    assert code == 0 and err == ""
    assert "…" not in out
    assert max(map(len, out.splitlines())) <= 80
    # A value longer than the line (a sha256) folds onto the next: it is whole once the lines are joined.
    joined = "".join(out.split())
    for row in rows:
        for name, value in row.items():
            assert name in out
            if isinstance(value, str):
                assert "".join(value.split()) in joined, (name, value)


def test_a_result_too_wide_for_the_terminal_is_shown_as_records(refreshed, capsys, columns):
    query = "select * from marts.token_prices_current where model = 'gpt-4.1-mini' and source = 'curated'"
    code, out, _ = run(capsys, "sql", query)
    assert code == 0
    lines = [line.rstrip() for line in out.splitlines()]
    assert re.fullmatch(r"model +gpt-4\.1-mini", lines[3]) and lines[0] == "─" * 80
    assert re.search(r"^input_usd_per_mtok +0\.4$", "\n".join(lines), re.M)
    # --wide keeps the grid, as wide as its cells: a header line holds every column.
    code, out, _ = run(capsys, "sql", query, "--wide")
    assert code == 0
    header = next(line for line in out.splitlines() if "input_usd_per_mtok" in line)
    assert "source" in header and "last_seen_at" in header and "…" not in out


def test_the_table_shows_200_rows_unless_told_and_says_how_many_more(costcurve_home, small, capsys, columns):
    code, out, err = run(capsys, "sql", "select x from range(205) t(x)")
    assert code == 0 and err.strip() == "5 more rows: use --limit or --format csv"
    assert "│ 199 │" in out and "│ 200 │" not in out
    code, out, err = run(capsys, "sql", "select x from range(205) t(x)", "--limit", "0")
    assert code == 0 and err == "" and "│ 204 │" in out
    code, out, err = run(capsys, "sql", "select x from range(205) t(x)", "--format", "csv")
    assert len(out.splitlines()) == 206 and err == ""


def test_status_keeps_every_dataset_and_source_whole(refreshed, capsys, columns):
    code, out, _ = run(capsys, "status", "--format", "json")
    sources = json.loads(out)["sources"]
    # 132, a wide terminal: the grid needs it since the 23-character dataset throughput_measurements.
    for width in (80, 132):
        columns(width)
        code, out, _ = run(capsys, "status")
        assert code in (0, 1) and "…" not in out
        assert max(map(len, out.splitlines())) <= width
        for s in sources:
            if width == 80:  # records: one line per field
                assert re.search(rf"^dataset +{s['dataset']} *\nsource +{s['source']} *$", out, re.M)
            else:  # the grid: dataset and source side by side on one line
                assert re.search(rf"│ {s['dataset']} +│ {s['source']} +│", out)


def test_changes_keep_the_model_whole_and_fold_nothing_key(costcurve_home, small, capsys, columns):
    code, out, _ = run(capsys, "changes")
    assert code == 0 and "…" not in out
    assert "anthropic/claude-opus-4-long-model-name at anthropic" in out
    assert "openai/gpt-4o-mini at openai" in out


# ---- numbers print as numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, text",
    [
        (Decimal("0E-9"), "0"),
        (Decimal("2.500000000"), "2.5"),
        (Decimal("0.037500000"), "0.0375"),
        (Decimal("1E-9"), "0.000000001"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.000000000"), "0"),
        (0.1 + 0.6, "0.7"),
        (1e-9, "0.000000001"),
        (12345678.5, "12345678.5"),
        (float("nan"), "nan"),
    ],
)
def test_a_number_prints_without_exponent_or_trailing_zeros(value, text):
    assert number(value) == text


DECIMALS = (
    "select 0::decimal(18, 9) as zero, 2.5::decimal(18, 9) as price, 0.000000001::decimal(18, 9) as tiny"
)


def test_decimals_in_the_table_json_and_csv(costcurve_home, small, capsys, columns):
    code, out, _ = run(capsys, "sql", DECIMALS)
    assert code == 0
    assert re.search(r"│ 0 +│ 2\.5 +│ 0\.000000001 │", out) and "E-9" not in out and "2.500" not in out
    code, out, _ = run(capsys, "sql", DECIMALS, "--format", "json")
    assert code == 0 and json.loads(out) == [{"zero": 0, "price": 2.5, "tiny": 1e-9}]
    assert all(type(v) is float for v in json.loads(out)[0].values()) and '"2.5' not in out
    # CSV keeps the exact decimal, in plain notation.
    code, out, _ = run(capsys, "sql", DECIMALS, "--format", "csv")
    assert out.splitlines() == ["zero,price,tiny", "0.000000000,2.500000000,0.000000001"]


def test_status_json_keeps_its_numbers_numbers(refreshed, capsys):
    code, out, _ = run(capsys, "status", "--format", "json")
    status = json.loads(out)
    assert isinstance(status["quarantined_rows"], int)
    assert all(isinstance(s["rows_accepted"], int) for s in status["sources"])


# ---- changes: the last week by default, the future marked scheduled ----------------------------------


def test_changes_default_to_the_last_week_and_mark_what_is_scheduled(costcurve_home, small, capsys, columns):
    code, out, _ = run(capsys, "changes", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["change_date"], r["scheduled"], r["new_value"]) for r in rows] == [
        (str(TODAY + timedelta(days=10)), True, 50.0),
        (str(TODAY - timedelta(days=3)), False, 0.0375),
    ]
    code, out, _ = run(capsys, "changes", "--since", str(TODAY - timedelta(days=60)), "--format", "csv")
    lines = out.splitlines()
    assert lines[0].endswith(",source,scheduled") and len(lines) == 4
    assert [line.rsplit(",", 1)[1] for line in lines[1:]] == ["true", "false", "false"]
    code, out, _ = run(capsys, "changes")
    assert f"Price changes since {TODAY - timedelta(days=7)} (2)" in out
    assert f"{TODAY + timedelta(days=10)} (scheduled)" in out
    assert f"{TODAY - timedelta(days=3)} (scheduled)" not in out and str(TODAY - timedelta(days=3)) in out
    assert re.search(r"^new +0\.0375 *$", out, re.M) and str(TODAY - timedelta(days=30)) not in out


# ---- --version and --help ----------------------------------------------------------------------------


def test_version_is_the_package_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert done.value.code == 0 and capsys.readouterr().out == f"costcurve {version}\n"


@pytest.mark.parametrize(
    "command, example",
    [
        ("sql", 'costcurve sql "select * from marts.token_prices_current limit 5"'),
        ("changes", "costcurve changes --since 2025-01-01 --format csv"),
        ("status", "costcurve status --format json"),
    ],
)
def test_help_shows_an_example(capsys, command, example):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0 and f"example: {example}" in capsys.readouterr().out
