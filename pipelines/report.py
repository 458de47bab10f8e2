"""published/report.html: one static page of charts that opens offline, with no server.

Charts are Vega-Lite specs built with altair; the Vega, Vega-Lite and vega-embed JavaScript comes from
vl-convert's bundle and is inlined, so the file needs no network. A chart whose mart is absent, empty or
lacks the columns it plots becomes a "no data yet" note instead of failing the report: the marts grow
at different speeds. Each chart's container records whether it drew (data-rendered="ok" or "error"), so
a test, or a person, can tell a broken chart from a slow one.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from datetime import UTC, date
from functools import cache
from importlib.metadata import version
from pathlib import Path

import altair as alt
import duckdb
import polars as pl

from pipelines import changes

WIDTH = 760
# Axis labels for token volumes: 1M, 300M, 10B rather than 1,000,000,000.
TOKENS_LABEL = (
    "datum.value >= 1e9 ? format(datum.value / 1e9, '~g') + 'B' : format(datum.value / 1e6, '~g') + 'M'"
)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    blurb: str
    chart: alt.TopLevelMixin | None = None
    note: str | None = None
    body_html: str = ""


def write(con: duckdb.DuckDBPyConnection, path: Path, today: date | None = None) -> Path:
    """Render the report from the warehouse `con` into `path` (replaced atomically)."""
    text = render(con, today or date.today())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def render(con: duckdb.DuckDBPyConnection, today: date) -> str:
    sections = [
        _price_history(con, today),
        _gpu_cheapest(con),
        _mci(con),
        _breakeven_api(con),
        _breakeven_buy(con),
        _cost_per_correct(con),
        _changes(con, today),
    ]
    specs = {s.id: s.chart.to_dict() for s in sections if s.chart is not None}
    return _PAGE.format(
        header=_header(con),
        sections="\n".join(_section_html(s) for s in sections),
        bundle=_bundle(),
        specs=json.dumps(specs).replace("</", "<\\/"),
    )


# ---- data access ------------------------------------------------------------------------------------


def _missing(con: duckdb.DuckDBPyConnection, table: str, needed: set[str]) -> str | None:
    """Why `table` cannot feed a chart yet, in words; None when it can."""
    schema, name = table.split(".")
    present = {
        c
        for (c,) in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    }
    if not present:
        return f"No data yet: {table} is not built in this warehouse."
    if needed - present:
        return f"No data yet: {table} lacks the columns {', '.join(sorted(needed - present))}."
    if con.execute(f"select count(*) from {table}").fetchone()[0] == 0:
        return f"No data yet: {table} is empty."
    return None


# ---- sections ---------------------------------------------------------------------------------------


def _price_history(con: duckdb.DuckDBPyConnection, today: date) -> Section:
    title = "List prices of flagship models"
    blurb = (
        "Blended price (3 input : 1 output tokens) of each flagship model's first-party list price of record; "
        "a step is a price change, a line starts at launch. Flagships are chosen from the data "
        '(docs/methodology.md, "Flagship models"). From marts.flagship_price_history. Log scale.'
    )
    table = "marts.flagship_price_history"
    if note := _missing(con, table, {"canonical_model", "valid_from", "valid_to", "blended_usd_per_mtok"}):
        return Section("price-history", title, blurb, note=note)
    # One point where each period starts and one at today for the current period: a step line.
    frame = con.execute(
        f"""
        select canonical_model as model, valid_from as day, blended_usd_per_mtok
        from {table}
        union all
        select canonical_model, $today, blended_usd_per_mtok
        from {table} where valid_to is null
        order by model, day
        """,
        {"today": today},
    ).pl()
    if frame.is_empty():
        return Section(
            "price-history", title, blurb, note="No data yet: no flagship model has a dated price."
        )
    chart = (
        alt.Chart(frame, width=WIDTH, height=340)
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y(
                "blended_usd_per_mtok:Q",
                title="USD per million tokens (blended)",
                scale=alt.Scale(type="log"),
            ),
            color=alt.Color(
                "model:N",
                title=None,
                scale=alt.Scale(scheme="tableau10"),
                legend=alt.Legend(orient="bottom", columns=3),
            ),
            tooltip=["model:N", "day:T", "blended_usd_per_mtok:Q"],
        )
    )
    return Section("price-history", title, blurb, chart)


# Lines in the cheapest-GPU chart: beyond about 20 a reader cannot tell the colours apart.
GPU_LINES = 20


def _gpu_cheapest(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Cheapest on-demand GPU-hour per accelerator"
    blurb = (
        f"Lowest on-demand price per GPU-hour across every offer in effect each day, for the {GPU_LINES} "
        "accelerators with the most on-demand offers today (marts.gpu_rates_daily has them all). Hover a step "
        "for the provider and the number of offers behind it: a hollow point is a price that rests on a "
        "single offer."
    )
    table = "marts.gpu_rates_daily"
    needed = {
        "day",
        "accelerator",
        "pricing_type",
        "cheapest_usd_per_gpu_hour",
        "n_offers",
        "cheapest_provider",
    }
    if note := _missing(con, table, needed):
        return Section("gpu-cheapest", title, blurb, note=note)
    # Only the days the cheapest price or the offers behind it moved (and the last day): the same
    # steps with far fewer points.
    frame = con.execute(
        f"""
        select accelerator, day, cheapest_usd_per_gpu_hour::double as usd_per_gpu_hour,
               cheapest_provider, n_offers
        from {table}
        where pricing_type = 'on_demand' and accelerator in (
            select accelerator from {table} where pricing_type = 'on_demand' and day = (select max(day) from {table})
            order by n_offers desc, accelerator limit {GPU_LINES}
        )
        qualify (cheapest_usd_per_gpu_hour, n_offers) is distinct from
                    lag((cheapest_usd_per_gpu_hour, n_offers)) over (partition by accelerator order by day)
             or day = max(day) over (partition by accelerator)
        order by accelerator, day
        """
    ).pl()
    if frame.is_empty():
        return Section("gpu-cheapest", title, blurb, note=f"No data yet: {table} has no on-demand offers.")
    base = alt.Chart(frame, width=WIDTH, height=340).encode(
        x=alt.X("day:T", title=None),
        y=alt.Y("usd_per_gpu_hour:Q", title="USD per GPU-hour", scale=alt.Scale(type="log")),
        color=alt.Color(
            "accelerator:N",
            title=None,
            scale=alt.Scale(scheme="tableau20"),
            legend=alt.Legend(orient="bottom", columns=4),
        ),
        tooltip=[
            alt.Tooltip("accelerator:N", title="accelerator"),
            alt.Tooltip("day:T", title="from", format="%Y-%m-%d"),
            alt.Tooltip("usd_per_gpu_hour:Q", title="cheapest, USD per GPU-hour", format="$,.2f"),
            alt.Tooltip("cheapest_provider:N", title="offered by"),
            alt.Tooltip("n_offers:Q", title="offers in effect", format=","),
        ],
    )
    lines = base.mark_line(interpolate="step-after")
    single = base.transform_filter("datum.n_offers == 1").mark_point(filled=False, size=40)
    return Section("gpu-cheapest", title, blurb, lines + single)


# What the MCI chart's legends say, in words rather than column names.
MCI_TIERS = {
    "all": "all models",
    "flagship": "flagship models",
    "mid": "mid-tier models",
    "small": "small models",
}
MCI_SERIES = {
    "mci": "Margin Compression Index",
    "price_index": "list-price index",
    "compute_cost_index": "compute-cost index",
}


def _mci(con: duckdb.DuckDBPyConnection) -> Section:
    title = "AI Margin Compression Index"
    table = "marts.margin_compression_index"
    if note := _missing(con, table, {"date", "tier", "mci", "price_index", "compute_cost_index"}):
        return Section("mci", title, "From marts.margin_compression_index.", note=note)
    base_date = con.execute("select mci_base_date from meta.assumptions").fetchone()[0]
    blurb = (
        "The index by tier (top) and, for all models, its two components (bottom): the chain-linked list-price "
        "index over the compute-cost index; it falls when list prices fall faster than the compute under them. "
        f"Every series is 100 at the base month, {base_date:%B %Y} (the dashed line; the assumption set's "
        "mci_base_date). From marts.margin_compression_index; docs/methodology.md defines it."
    )
    frame = con.execute(
        f"select date, tier, mci::double as mci, price_index::double as price_index, "
        f"compute_cost_index::double as compute_cost_index from {table} order by tier, date"
    ).pl()
    frame = frame.with_columns(pl.col("tier").replace_strict(MCI_TIERS, default=pl.col("tier")).alias("tier"))
    marker = alt.Chart(pl.DataFrame({"date": [base_date], "label": ["base = 100"]})).mark_rule(
        strokeDash=[4, 4]
    )
    marker = marker.encode(x="date:T", tooltip=[alt.Tooltip("label:N", title="base month")])
    index = alt.Tooltip("value:Q", title="index", format=".1f")
    by_tier = (
        alt.Chart(frame, width=WIDTH, height=260)
        .transform_calculate(value="datum.mci")
        .mark_line(point=True)
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("value:Q", title="Margin Compression Index"),
            color=alt.Color("tier:N", title="by tier", legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("tier:N", title="tier"),
                alt.Tooltip("date:T", title="month", format="%B %Y"),
                index,
            ],
        )
    )
    parts = (
        frame.filter(pl.col("tier") == MCI_TIERS["all"])
        .unpivot(list(MCI_SERIES), index="date", variable_name="series")
        .with_columns(pl.col("series").replace_strict(MCI_SERIES))
    )
    components = (
        alt.Chart(parts, width=WIDTH, height=260)
        .mark_line(point=True)
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("value:Q", title="index"),
            color=alt.Color("series:N", title="all models", legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("series:N", title="series"),
                alt.Tooltip("date:T", title="month", format="%B %Y"),
                index,
            ],
        )
    )
    chart = alt.vconcat(by_tier + marker, components + marker).resolve_scale(color="independent")
    return Section("mci", title, blurb, chart)


def _breakeven_api(con: duckdb.DuckDBPyConnection) -> Section:
    title = "API or self-host: monthly cost by volume"
    blurb = (
        "What a month of tokens costs from each reference API model against renting GPUs to serve it yourself "
        "(the cheapest current offer and precision; whole replicas, so the self-host line steps), per model-size "
        "class, at the utilization nearest 50%. From marts.breakeven_api_vs_self_host. Log scales."
    )
    table = "marts.breakeven_api_vs_self_host"
    needed = {"size_class", "model_size_b", "utilization", "monthly_tokens", "api_model"}
    if note := _missing(con, table, needed | {"api_monthly_usd", "self_host_monthly_usd"}):
        return Section("breakeven-api", title, blurb, note=note)
    frame = con.execute(
        f"""
        with grid as (
            select * from {table}
            where utilization = (select arg_min(utilization, abs(utilization - 0.5)) from {table})
        )
        select size_class, model_size_b, monthly_tokens::double as monthly_tokens, 'API: ' || api_model as option,
               min(api_monthly_usd)::double as monthly_usd
        from grid group by all
        union all
        select size_class, model_size_b, monthly_tokens::double, 'self-host (cheapest offer)',
               min(self_host_monthly_usd)::double
        from grid group by all
        order by model_size_b, option, monthly_tokens
        """
    ).pl()
    sizes = frame.sort("model_size_b")["size_class"].unique(maintain_order=True).to_list()
    chart = (
        alt.Chart(frame, width=WIDTH // len(sizes) - 70, height=260)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "monthly_tokens:Q",
                title="tokens per month",
                scale=alt.Scale(type="log"),
                axis=alt.Axis(labelExpr=TOKENS_LABEL, tickCount=5),
            ),
            y=alt.Y("monthly_usd:Q", title="USD per month", scale=alt.Scale(type="log")),
            color=alt.Color("option:N", title=None, legend=alt.Legend(orient="bottom", columns=3)),
            tooltip=["size_class:N", "option:N", "monthly_tokens:Q", "monthly_usd:Q"],
        )
        .facet(column=alt.Column("size_class:N", title="model size", sort=sizes))
    )
    return Section("breakeven-api", title, blurb, chart)


def _breakeven_buy(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Buy or rent: months until owning pays off"
    blurb = (
        "Calendar months until buying a GPU beats renting it at the median on-demand offer, by utilization; the "
        "dashed line is the depreciation life, beyond which owning never pays back. From "
        "marts.breakeven_buy_vs_rent. Log scale."
    )
    table = "marts.breakeven_buy_vs_rent"
    needed = {
        "accelerator",
        "pricing_type",
        "rent_basis",
        "utilization",
        "breakeven_months",
        "depreciation_years",
    }
    if note := _missing(con, table, needed):
        return Section("breakeven-buy", title, blurb, note=note)
    frame = con.execute(
        f"""select accelerator, utilization::double as utilization, breakeven_months::double as breakeven_months,
                   depreciation_years::double * 12 as life_months
            from {table} where pricing_type = 'on_demand' and rent_basis = 'median' and breakeven_months is not null
            order by accelerator, utilization"""
    ).pl()
    if frame.is_empty():
        return Section(
            "breakeven-buy", title, blurb, note=f"No data yet: {table} has no payback on the median rent."
        )
    base = alt.Chart(frame, width=WIDTH, height=300)
    lines = base.mark_line(point=True).encode(
        x=alt.X("utilization:Q", title="utilization", axis=alt.Axis(format="%")),
        y=alt.Y("breakeven_months:Q", title="months to break even", scale=alt.Scale(type="log")),
        color=alt.Color("accelerator:N", title=None, legend=alt.Legend(orient="bottom", columns=4)),
        tooltip=["accelerator:N", "utilization:Q", "breakeven_months:Q"],
    )
    life = base.mark_rule(strokeDash=[6, 4], color="#57606a").encode(y="max(life_months):Q")
    return Section("breakeven-buy", title, blurb, alt.layer(lines, life))


def _cost_per_correct(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Cost per correct output, by task"
    blurb = (
        "What one correct answer costs at list price: cost per attempt / pass rate, from the eval results and "
        "each model's first-party price. From marts.cost_per_correct_output (price_mode = 'list'). Log scale."
    )
    table = "marts.cost_per_correct_output"
    if note := _missing(con, table, {"task", "model", "price_mode", "cost_per_correct_usd", "pass_rate"}):
        return Section("cost-per-correct", title, blurb, note=note)
    frame = con.execute(
        f"""select task, model, cost_per_correct_usd, pass_rate::double as pass_rate from {table}
            where price_mode = 'list' and cost_per_correct_usd is not null order by task, cost_per_correct_usd"""
    ).pl()
    if frame.is_empty():
        return Section("cost-per-correct", title, blurb, note=f"No data yet: {table} has no list-price rows.")
    chart = (
        alt.Chart(frame, width=WIDTH - 160)
        # Dots, not bars: a bar on a log scale has no zero to start from.
        .mark_circle(size=90, opacity=1)
        .encode(
            x=alt.X("cost_per_correct_usd:Q", title="USD per correct output", scale=alt.Scale(type="log")),
            y=alt.Y("model:N", title=None, sort="x"),
            color=alt.Color("model:N", legend=None),
            tooltip=["task:N", "model:N", "cost_per_correct_usd:Q", "pass_rate:Q"],
        )
        .facet(row=alt.Row("task:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")))
        .resolve_scale(y="independent")
    )
    return Section("cost-per-correct", title, blurb, chart)


def _changes(con: duckdb.DuckDBPyConnection, today: date) -> Section:
    title = f"Price changes on {today:%Y-%m-%d}"
    blurb = "Prices that changed today or that a refresh caught today, biggest moves first (marts.price_change_events)."
    if note := _missing(con, "marts.price_change_events", {"change_date"}):
        return Section("changes", title, blurb, note=note)
    todays = changes.notable_today(con, today, limit=25)
    recent = changes.latest(con, today)
    body = _changes_table(todays) if todays.height else "<p class='note'>No price changed today.</p>"
    body += "<h3>Most recent changes</h3>" + _changes_table(recent)
    return Section("changes", title, blurb, body_html=body)


# ---- HTML -------------------------------------------------------------------------------------------


def _changes_table(frame: pl.DataFrame) -> str:
    rows = []
    for r in frame.iter_rows(named=True):
        pct = "" if r["pct_change"] is None else f"{r['pct_change']:+.1f}%"
        cells = [
            str(r["change_date"]),
            html.escape(r["what"]),
            html.escape(changes.FIELD_LABELS.get(r["field"], r["field"])),
            _num(r["old_value"]),
            _num(r["new_value"]),
            pct,
            html.escape(r["source"]),
        ]
        rows.append(f"<tr class='{r['direction']}'>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("date", "what", "price", "old", "new", "change", "source"))
    return f"<table class='changes'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _header(con: duckdb.DuckDBPyConnection) -> str:
    run = con.execute(
        "select run_id, status, finished_at, summary from meta.runs order by started_at desc limit 1"
    ).fetchone()
    if run is None:
        return "<p class='note'>No run recorded in this warehouse.</p>"
    sources = con.execute(
        "select source, dataset, mode, status from meta.source_runs where run_id = ? order by dataset, source",
        [run[0]],
    ).fetchall()
    finished = "still running" if run[2] is None else f"{run[2].astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    items = "".join(
        f"<li class='{html.escape(st)}'>{html.escape(d)}: {html.escape(s)} ({html.escape(m)}, {html.escape(st)})</li>"
        for s, d, m, st in sources
    )
    return (
        f"<p>Refreshed {finished}, run <code>{html.escape(run[0])}</code>: {html.escape(run[1])}, "
        f"{html.escape(run[3] or '')}.</p><ul class='sources'>{items}</ul>"
    )


def _section_html(s: Section) -> str:
    if s.chart is not None:
        content = f"<div class='chart' id='{s.id}' data-rendered='pending'></div>"
    elif s.note:
        content = f"<p class='note nodata' id='{s.id}'>{html.escape(s.note)}</p>"
    else:
        content = f"<div id='{s.id}'>{s.body_html}</div>"
    return f"<section><h2>{html.escape(s.title)}</h2><p class='blurb'>{html.escape(s.blurb)}</p>{content}</section>"


@cache
def _bundle() -> str:
    """The Vega, Vega-Lite and vega-embed JavaScript, inlined so the report draws offline.

    vl-convert builds it on every call (seconds), so it is kept in the user's cache directory per
    vl-convert and Vega-Lite version and built again only when one of them changes.
    """
    import vl_convert

    # The bundle's Vega-Lite must read the schema version altair writes.
    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    cache_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "costcurve"
    cached = cache_dir / f"vega-bundle-{version('vl-convert-python')}-vl{major_minor}.js"
    if cached.exists():
        return cached.read_text()
    bundle = vl_convert.javascript_bundle(vl_version=major_minor)
    # Inlined in a <script> element, which the first "</script" would end.
    if "</script" in bundle.lower():
        raise ValueError("the vl-convert JavaScript bundle contains '</script' and cannot be inlined")
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    tmp.write_text(bundle)
    os.replace(tmp, cached)
    return bundle


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>costcurve report</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 900px;
         color: #1f2328; padding: 0 1rem; }}
  h1 {{ margin-bottom: 0.2rem; }}
  section {{ margin: 2.2rem 0; }}
  h2 {{ border-bottom: 1px solid #d0d7de; padding-bottom: 0.3rem; }}
  .blurb {{ color: #57606a; font-size: 0.92rem; }}
  .note {{ background: #f6f8fa; border-left: 4px solid #d0d7de; padding: 0.6rem 0.9rem; }}
  .chart[data-rendered="error"] {{ color: #cf222e; }}
  ul.sources {{ columns: 2; font-size: 0.85rem; color: #57606a; }}
  li.failed {{ color: #cf222e; }}
  li.skipped {{ color: #8c959f; }}
  table.changes {{ border-collapse: collapse; font-size: 0.85rem; width: 100%; }}
  table.changes th, table.changes td {{ border-bottom: 1px solid #eaeef2; padding: 0.25rem 0.4rem;
         text-align: left; }}
  table.changes td:nth-child(4), table.changes td:nth-child(5), table.changes td:nth-child(6) {{ text-align: right; }}
  tr.cut td:nth-child(6) {{ color: #1a7f37; }}
  tr.rise td:nth-child(6) {{ color: #cf222e; }}
</style>
<script>{bundle}</script>
</head>
<body>
<h1>costcurve</h1>
{header}
{sections}
<script>
const specs = {specs};
for (const [id, spec] of Object.entries(specs)) {{
  const el = document.getElementById(id);
  vegaEmbed(el, spec, {{renderer: "svg", actions: false}})
    .then(() => {{ el.dataset.rendered = "ok"; }})
    .catch((error) => {{
      el.dataset.rendered = "error";
      el.textContent = "This chart failed to draw: " + error;
      console.error(error);
    }});
}}
</script>
</body>
</html>
"""
