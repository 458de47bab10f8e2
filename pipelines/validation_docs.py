"""The validation pages published with every snapshot (``data_docs/``): an index of every run the
warehouse remembers, newest first, and one page per run with each dataset's verdict, the rows
refused by rule and field (with example values), and what each source did.

They replace Great Expectations' Data Docs, whose pages load Bootstrap, jQuery, Font Awesome and
Vega from CDNs (the great_expectations wheel ships none of them) and render blank offline. These
are plain HTML with their style inline: no script, no request, readable from a file anywhere. They
are built from ``meta.runs``, ``meta.validations``, ``meta.source_runs``, ``meta.run_failures`` and
``quarantine.rejected_rows``, which keep every run, so the history survives any number of
publishes and a ``costcurve rebuild`` starts it again from the replayed runs.
"""

from __future__ import annotations

import os
import re
import shutil
from html import escape
from pathlib import Path

import duckdb
import polars as pl

# Examples of refused values quoted per rule and field: enough to recognise the fault.
EXAMPLES = 3

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; max-width: 80rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
table { border-collapse: collapse; font-size: 0.88rem; margin: 0.4rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f2f5; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #17692c; font-weight: 600; } .bad { color: #a4161a; font-weight: 600; }
.warn { color: #8a5a00; font-weight: 600; } .note { color: #555; }
nav a { margin-right: 1rem; }
"""
_VERDICT_CLASS = {"success": "ok", "partial": "warn", "running": "warn"}


def write(con: duckdb.DuckDBPyConnection, directory: Path) -> Path:
    """Write the index and one page per run into ``directory``, replacing what was there (built
    aside, then swapped in, so a reader never sees half of it). Returns the index page."""
    runs = con.execute(
        """select r.run_id, r.kind, r.started_at, r.finished_at, r.status, r.summary,
                  count(v.dataset) as datasets, coalesce(sum(v.rows), 0)::bigint as rows,
                  coalesce(sum(v.rejected), 0)::bigint as rejected,
                  count(v.dataset) filter (where not v.success) as failed
           from meta.runs r left join meta.validations v using (run_id)
           group by all order by r.started_at desc, r.run_id"""
    ).pl()
    fresh = directory.with_name(directory.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    (fresh / "runs").mkdir(parents=True)
    (fresh / "index.html").write_text(_index(runs))
    ids = runs["run_id"].to_list()
    for position, run in enumerate(runs.iter_rows(named=True)):
        newer = ids[position - 1] if position else None
        older = ids[position + 1] if position + 1 < len(ids) else None
        (fresh / "runs" / page_name(run["run_id"])).write_text(_run_page(con, run, newer, older))
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        os.replace(directory, old)
    os.replace(fresh, directory)
    shutil.rmtree(old, ignore_errors=True)
    return directory / "index.html"


def page_name(run_id: str) -> str:
    """The run's page file: its id with anything but letters, digits, '.', '_' and '-' replaced."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", run_id) + ".html"


def _document(title: str, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def _verdict(status: str | None) -> str:
    status = status or "unknown"
    return f'<span class="{_VERDICT_CLASS.get(status, "bad")}">{escape(status)}</span>'


def _cell(value: object) -> str:
    if value is None:
        return "<td></td>"
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, int | float):
        return (
            f'<td class="n">{value:,}</td>' if isinstance(value, int) else f'<td class="n">{value:,.3g}</td>'
        )
    if isinstance(value, list):
        return f"<td>{'<br>'.join(escape(str(v)) for v in value)}</td>"
    return f"<td>{escape(str(value))}</td>"


def _table(frame: pl.DataFrame, empty: str, raw: dict[str, str] | None = None) -> str:
    """An HTML table of ``frame``; ``raw`` gives cells already written as HTML, by column."""
    if frame.is_empty():
        return f'<p class="note">{escape(empty)}</p>'
    raw = raw or {}
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns if not c.startswith("_"))
    rows = []
    for row in frame.iter_rows(named=True):
        cells = [
            f"<td>{row[raw[c]]}</td>" if c in raw else _cell(row[c])
            for c in frame.columns
            if not c.startswith("_")
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value is not None else ""


def _index(runs: pl.DataFrame) -> str:
    listed = runs.with_columns(
        pl.struct("run_id", "status")
        .map_elements(
            lambda r: f'<a href="runs/{escape(page_name(r["run_id"]))}">{escape(r["run_id"])}</a>',
            return_dtype=pl.String,
        )
        .alias("_link"),
        pl.col("status").map_elements(_verdict, return_dtype=pl.String).alias("_status"),
        pl.col("started_at").map_elements(_when, return_dtype=pl.String).alias("started"),
    ).select(
        pl.col("_link").alias("run"),
        "kind",
        "started",
        pl.col("_status").alias("status"),
        pl.col("datasets").alias("datasets validated"),
        pl.col("failed").alias("verdicts failed"),
        pl.col("rows").alias("rows validated"),
        pl.col("rejected").alias("rows rejected"),
        "summary",
    )
    body = (
        "<h1>costcurve validation history</h1>"
        f'<p class="note">{runs.height} runs, newest first. Each run validates every dataset it staged: '
        "the verdict, the rows refused and why are on its page. Refused rows are kept in "
        "<code>quarantine.rejected_rows</code>; verdicts in <code>meta.validations</code>.</p>"
        + _table(listed, "No run yet.", raw={"run": "run", "status": "status"})
    )
    return _document("costcurve validation history", body)


def _run_page(con: duckdb.DuckDBPyConnection, run: dict, newer: str | None, older: str | None) -> str:
    run_id = run["run_id"]
    validations = con.execute(
        """select dataset, success as verdict, rows, rejected,
                  round(100.0 * rejected / nullif(rows, 0), 1) as "rejected %",
                  rules_broken as "rules broken", summary, merged_at is not null as merged
           from meta.validations where run_id = ? order by dataset""",
        [run_id],
    ).pl()
    rejections = con.execute(
        f"""select dataset, source, rule, field, count(*) as rows,
                   list(distinct value order by value)[1:{EXAMPLES}] as "example values",
                   min(reason) as "example reason"
            from quarantine.rejected_rows where run_id = ?
            group by all order by dataset, rows desc, rule, field""",
        [run_id],
    ).pl()
    sources = con.execute(
        """select source, dataset, mode, status, rows_in as "rows in", rows_accepted as accepted,
                  rows_rejected as rejected, versions_inserted as "new versions", keys_closed as "keys closed",
                  error, warnings
           from meta.source_runs where run_id = ? order by dataset, source""",
        [run_id],
    ).pl()
    failures = con.execute(
        "select step, error, failed_at from meta.run_failures where run_id = ? order by failed_at", [run_id]
    ).pl()
    nav = ['<a href="../index.html">all runs</a>']
    if newer:
        nav.append(f'<a href="{escape(page_name(newer))}">newer run</a>')
    if older:
        nav.append(f'<a href="{escape(page_name(older))}">older run</a>')
    body = (
        f"<nav>{''.join(nav)}</nav>"
        f"<h1>Run {escape(run_id)}</h1>"
        f"<p>{escape(run['kind'] or '')} run, {_verdict(run['status'])}: {escape(run['summary'] or '')}<br>"
        f'<span class="note">started {_when(run["started_at"])}, finished {_when(run["finished_at"])}</span></p>'
        "<h2>Verdict per dataset</h2>"
        + _table(
            validations.with_columns(
                pl.col("verdict").replace_strict(
                    {True: '<span class="ok">passed</span>', False: '<span class="bad">failed</span>'},
                    return_dtype=pl.String,
                )
            ),
            "No dataset was validated in this run.",
            raw={"verdict": "verdict"},
        )
        + "<h2>Rows refused, by rule and field</h2>"
        + _table(rejections, "No row was refused in this run.")
        + "<h2>Sources</h2>"
        + _table(sources, "No source ran in this run.")
        + ("<h2>Steps that failed</h2>" + _table(failures, "") if failures.height else "")
    )
    return _document(f"costcurve run {run_id}", body)
