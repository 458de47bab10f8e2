"""The explorer: a Dash app over the published snapshot, five pages in tabs.

Dash serves React, Plotly.js and its components from the installed package (``serve_locally``), so
the pages load with no network. Every table has a CSV download written by ``pipelines.export``'s
safe writer, holding what the page's controls select (all rows, not only the page shown).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

# Plotly imports pandas on first use; imported here, before the server's threads, because two
# requests importing it at once see a half-initialised module.
import duckdb
import pandas  # noqa: F401
import plotly.graph_objects as go
import polars as pl
from dash import Dash, Input, Output, State, dash_table, dcc, html

from pipelines import export
from pipelines.explorer import views
from pipelines.explorer.snapshot import Snapshot

# What a what-if page opens with; the other assumptions start at the snapshot's values.
DEFAULT_UTILIZATION = 0.5
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 1.5rem 2rem; color: #222; }
h1 { font-size: 1.4rem; margin: 1rem 0 0.2rem; }
h2 { font-size: 1.1rem; margin: 1.2rem 0 0.4rem; }
.note { color: #555; font-size: 0.9rem; margin: 0.2rem 0 0.8rem; }
.controls { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 2.2rem 1.5rem;
            margin: 0.8rem 0 2.4rem; }
.controls label { font-size: 0.85rem; font-weight: 600; display: block; margin-bottom: 0.2rem; }
.headline { font-size: 1.05rem; background: #f4f6fa; padding: 0.6rem 0.9rem; border-radius: 6px; }
.headline b { font-variant-numeric: tabular-nums; }
.download { margin: 0.4rem 0; }
"""


def _records(frame: pl.DataFrame) -> list[dict]:
    """Rows for a DataTable: exact decimals as numbers, dates and times as ISO text."""
    return frame.with_columns(
        [pl.col(c).cast(pl.Float64) for c, t in frame.schema.items() if isinstance(t, pl.Decimal)]
        + [pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t.is_temporal()]
        + [
            pl.col(c).map_elements(lambda v: ", ".join(map(str, v)), return_dtype=pl.String)
            for c, t in frame.schema.items()
            if t.is_nested()
        ]
    ).to_dicts()


def _columns(frame: pl.DataFrame) -> list[dict]:
    """Column specs: prices to six significant digits, counts with thousands separators (d3-format)."""
    columns = []
    for c, t in frame.schema.items():
        spec = {"name": c, "id": c, "type": "text"}
        if t.is_float() or isinstance(t, pl.Decimal):
            spec |= {"type": "numeric", "format": {"specifier": ",.6~g"}}
        elif t.is_integer():
            spec |= {"type": "numeric", "format": {"specifier": ","}}
        columns.append(spec)
    return columns


def csv_file(frame: pl.DataFrame, name: str) -> dict:
    """A dcc.Download payload: the frame through the CSV writer every costcurve CSV goes through."""
    out = io.StringIO()
    export.write_csv(frame, out)
    return {"content": out.getvalue(), "filename": f"{name}.csv", "type": "text/csv"}


def _table(table_id: str, page_size: int = 12) -> html.Div:
    return html.Div(
        [
            html.Button("Download CSV", id=f"{table_id}-download", className="download"),
            dcc.Download(id=f"{table_id}-csv"),
            dash_table.DataTable(
                id=table_id,
                page_size=page_size,
                sort_action="native",
                filter_action="native",
                style_table={"overflowX": "auto"},
                style_cell={"fontFamily": "system-ui, sans-serif", "fontSize": "0.85rem", "padding": "4px"},
                style_header={"fontWeight": "600"},
            ),
        ]
    )


def _money(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"${value:,.{digits}f}"


def _tokens(value: float | None) -> str:
    if value is None:
        return "none: the API is cheaper at every volume"
    for size, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if value >= size:
            return f"{value / size:,.1f}{unit} tokens a month"
    return f"{value:,.0f} tokens a month"


def _empty(message: str) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def _lines(points: pl.DataFrame, title: str, y_title: str, shape: str = "hv") -> go.Figure:
    """One line per series of a (series, date, value) frame."""
    if points.is_empty():
        return _empty("no rows")
    figure = go.Figure()
    for (series,), rows in points.group_by("series", maintain_order=True):
        figure.add_trace(
            go.Scatter(
                x=rows["date"].to_list(),
                y=rows["value"].to_list(),
                name=series,
                mode="lines",
                line_shape=shape,
                hovertemplate="%{x|%Y-%m-%d}: $%{y:,.4g}<extra>" + series + "</extra>",
            )
        )
    figure.update_layout(title=title, yaxis_title=y_title, legend={"font": {"size": 10}}, height=480)
    return figure


def _models_page(snap: Snapshot) -> list:
    choices = views.models(snap)
    return [
        html.P(
            "Every price version of one model across sources, providers and tiers "
            "(model_price_history). Type to search.",
            className="note",
        ),
        html.Div(
            [
                html.Div(
                    [
                        html.Label("Model", htmlFor="model"),
                        dcc.Dropdown(
                            id="model",
                            options=choices,
                            value=choices[0] if choices else None,
                            searchable=True,
                            clearable=False,
                            placeholder="Search a model...",
                        ),
                    ]
                ),
                html.Div(
                    [
                        html.Label("Price"),
                        dcc.RadioItems(
                            id="price-field",
                            options=[{"label": v, "value": k} for k, v in views.PRICE_FIELDS.items()],
                            value="blended_usd_per_mtok",
                            inline=True,
                        ),
                    ]
                ),
            ],
            className="controls",
        ),
        dcc.Graph(id="model-chart"),
        _table("model-table"),
    ]


def _compare_page() -> list:
    return [
        html.H2("Price against quality"),
        html.P(
            "Pass rate per task against the blended 3:1 list price (marts.cost_per_correct_output): "
            "up and to the left is better. Only models with eval data appear.",
            className="note",
        ),
        dcc.Graph(id="quality-chart"),
        _table("quality-table", page_size=8),
        html.H2("Current prices of every model"),
        html.P(
            "Chat models at the base tier and standard service, USD per million tokens "
            "(marts.token_prices_current), cheapest first. "
            "Filter any column by typing in the row under its header.",
            className="note",
        ),
        _table("prices-table", page_size=15),
    ]


def _gpu_page(snap: Snapshot) -> list:
    options, busiest = views.gpu_options(snap), views.busiest_accelerator(snap)
    return [
        html.P(
            "Current GPU offers (marts.gpu_rates_current) and every rate version of the matching offers "
            f"(history.gpu_rates; the {views.MAX_OFFER_LINES} cheapest offers are drawn). Empty filter: all.",
            className="note",
        ),
        html.Div(
            [
                html.Div(
                    [
                        html.Label(column.replace("_", " ").capitalize()),
                        dcc.Dropdown(
                            id=f"gpu-{column}",
                            options=options[column],
                            value=[busiest] if column == "accelerator" and busiest else [],
                            multi=True,
                        ),
                    ]
                )
                for column in views.GPU_FILTERS
            ],
            className="controls",
        ),
        dcc.Graph(id="gpu-chart"),
        _table("gpu-table"),
    ]


def _mci_page(snap: Snapshot) -> list:
    frame = views.mci(snap)
    _, numeric, _ = views.mci_chart_columns(frame)
    return [
        html.P(
            "The AI Margin Compression Index (marts.margin_compression_index): every column of the mart, "
            "its components and item counts included. Pick the column to chart.",
            className="note",
        ),
        html.Div(
            [
                html.Div(
                    [
                        html.Label("Column"),
                        dcc.Dropdown(
                            id="mci-column",
                            options=numeric,
                            value=numeric[0] if numeric else None,
                            clearable=False,
                        ),
                    ]
                )
            ],
            className="controls",
        ),
        dcc.Graph(id="mci-chart"),
        _table("mci-table"),
    ]


def _what_if_page(snap: Snapshot) -> list:
    base = snap.assumptions()
    classes, precisions = views.size_classes(snap), views.dtypes(snap)

    def slider(name: str, label: str, low: float, high: float, step: float, value: float) -> html.Div:
        return html.Div(
            [
                html.Label(label, htmlFor=name),
                dcc.Slider(
                    id=name,
                    min=low,
                    max=high,
                    step=step,
                    value=value,
                    marks=None,
                    tooltip={"placement": "bottom", "always_visible": True},
                    updatemode="mouseup",
                ),
            ]
        )

    return [
        html.P(
            "Vary the assumptions behind marts.self_host_cost, marts.breakeven_api_vs_self_host and "
            "marts.breakeven_buy_vs_rent: the marts are rebuilt from their own SQL and the same formula "
            f"macros over this snapshot (assumption set {base.assumption_set_id()} as published).",
            className="note",
        ),
        html.Div(
            [
                html.Div(
                    [
                        html.Label("Model size", htmlFor="size-class"),
                        dcc.Dropdown(id="size-class", options=classes, value=classes[0], clearable=False),
                    ]
                ),
                html.Div(
                    [
                        html.Label("Weight precision", htmlFor="dtype"),
                        dcc.Dropdown(id="dtype", options=precisions, value=precisions[0], clearable=False),
                    ]
                ),
                slider("utilization", "Utilization", 0.05, 1.0, 0.05, DEFAULT_UTILIZATION),
                html.Div(
                    [
                        html.Label("Batch size (sequences per decode step)", htmlFor="batch-size"),
                        dcc.Slider(
                            id="batch-size",
                            min=0,
                            max=len(BATCH_SIZES) - 1,
                            step=1,
                            value=_nearest(BATCH_SIZES, base.batch_size),
                            marks={i: str(b) for i, b in enumerate(BATCH_SIZES)},
                            updatemode="mouseup",
                        ),
                    ]
                ),
                slider("usd-per-kwh", "Power price, $/kWh", 0.02, 0.50, 0.01, base.usd_per_kwh),
                slider("pue", "PUE", 1.0, 2.0, 0.05, base.pue),
                slider("depreciation-years", "Depreciation, years", 1, 8, 0.5, base.depreciation_years),
            ],
            className="controls",
        ),
        dcc.Loading(html.Div(id="what-if-headline", className="headline")),
        html.H2("Self-hosted cost against utilization"),
        dcc.Graph(id="self-host-chart"),
        _table("self-host-table", page_size=8),
        html.H2("API or self-host: monthly bill against volume"),
        dcc.Graph(id="breakeven-chart"),
        _table("breakeven-table", page_size=8),
        html.H2("Buy or rent: months until owning pays back"),
        dcc.Graph(id="buy-rent-chart"),
        _table("buy-rent-table", page_size=8),
    ]


def _nearest(values: tuple[int, ...], target: float) -> int:
    return min(range(len(values)), key=lambda i: abs(values[i] - target))


def create(snap: Snapshot) -> Dash:
    app = Dash(__name__, title="costcurve explorer", serve_locally=True, update_title=None)
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + _STYLE + "</style>")

    def layout() -> html.Div:
        # A function: every page load reads the snapshot published now (new models, new offers).
        return html.Div(
            [
                html.H1("costcurve explorer"),
                html.Div(_snapshot_note(snap), id="snapshot", className="note"),
                dcc.Tabs(
                    id="tabs",
                    value="models",
                    children=[
                        dcc.Tab(label="Model prices", value="models", children=_models_page(snap)),
                        dcc.Tab(label="Compare models", value="compare", children=_compare_page()),
                        dcc.Tab(label="GPU offers", value="gpus", children=_gpu_page(snap)),
                        dcc.Tab(label="Margin Compression Index", value="mci", children=_mci_page(snap)),
                        dcc.Tab(label="What if", value="what-if", children=_what_if_page(snap)),
                    ],
                ),
            ]
        )

    app.layout = layout
    _callbacks(app, snap)
    return app


def _snapshot_note(snap: Snapshot) -> str:
    ((run_id, finished, status),) = snap.frame(
        "select run_id, finished_at, status from meta.runs where finished_at is not null "
        "order by finished_at desc limit 1"
    ).rows() or [(None, None, None)]
    path = snap.identity()[0]
    return (
        f"Snapshot {path} · last run {run_id} ({status}, {finished:%Y-%m-%d %H:%M} UTC)" if run_id else path
    )


def _download(app: Dash, table_id: str, states: list[State], frame: Callable[..., pl.DataFrame], name: str):
    @app.callback(
        Output(f"{table_id}-csv", "data"),
        Input(f"{table_id}-download", "n_clicks"),
        *states,
        prevent_initial_call=True,
    )
    def _send(_clicks, *values):
        return csv_file(frame(*values), name)


_WHAT_IF_STATES = (
    "size-class",
    "dtype",
    "utilization",
    "batch-size",
    "usd-per-kwh",
    "pue",
    "depreciation-years",
)
_what_if_lock = threading.Lock()


def _what_if(snap: Snapshot, size_class, dtype, utilization, batch, usd_per_kwh, pue, depreciation):
    # One rebuild at a time: the callbacks of one slider move arrive together and share the result.
    with _what_if_lock:
        return snap.what_if(
            utilization,
            batch_size=BATCH_SIZES[batch],
            usd_per_kwh=usd_per_kwh,
            pue=pue,
            depreciation_years=depreciation,
        )


def _callbacks(app: Dash, snap: Snapshot) -> None:
    @app.callback(
        Output("model-chart", "figure"),
        Output("model-table", "data"),
        Output("model-table", "columns"),
        Input("model", "value"),
        Input("price-field", "value"),
    )
    def _model(canonical, field):
        if not canonical:
            return _empty("pick a model"), [], []
        frame = views.model_history(snap, canonical)
        points = views.steps(frame, views.price_label(), field)
        chart = _lines(points, f"{canonical}: {views.PRICE_FIELDS[field]} price", "USD per million tokens")
        return chart, _records(frame), _columns(frame)

    _download(
        app,
        "model-table",
        [State("model", "value")],
        lambda canonical: views.model_history(snap, canonical or ""),
        "model_price_history",
    )

    @app.callback(
        Output("quality-chart", "figure"),
        Output("quality-table", "data"),
        Output("quality-table", "columns"),
        Output("prices-table", "data"),
        Output("prices-table", "columns"),
        Input("tabs", "value"),
    )
    def _compare(_tab):
        quality, prices = views.price_vs_quality(snap), views.current_prices(snap)
        figure = _empty("no eval results in this warehouse")
        if quality.height:
            figure = go.Figure()
            for (task,), rows in quality.group_by("task", maintain_order=True):
                figure.add_trace(
                    go.Scatter(
                        x=rows["blended_usd_per_mtok"].to_list(),
                        y=rows["pass_rate"].cast(pl.Float64).to_list(),
                        text=rows["canonical_model"].to_list(),
                        name=task,
                        mode="markers+text",
                        textposition="top center",
                        marker={"size": 11},
                        hovertemplate="%{text}<br>$%{x:,.3g} per M tokens<br>pass rate %{y:.1%}<extra>"
                        + task
                        + "</extra>",
                    )
                )
            figure.update_layout(
                xaxis={"type": "log", "title": "blended list price, USD per million tokens (log)"},
                yaxis={"title": "pass rate", "tickformat": ".0%"},
                height=440,
            )
        return figure, _records(quality), _columns(quality), _records(prices), _columns(prices)

    _download(app, "quality-table", [], lambda: views.price_vs_quality(snap), "price_vs_quality")
    _download(app, "prices-table", [], lambda: views.current_prices(snap), "current_prices")

    gpu_inputs = [f"gpu-{c}" for c in views.GPU_FILTERS]

    def chosen(*values) -> dict:
        return dict(zip(views.GPU_FILTERS, values, strict=True))

    @app.callback(
        Output("gpu-chart", "figure"),
        Output("gpu-table", "data"),
        Output("gpu-table", "columns"),
        *(Input(i, "value") for i in gpu_inputs),
    )
    def _gpus(*values):
        offers = views.gpu_offers(snap, chosen(*values))
        history = views.gpu_history(snap, chosen(*values))
        label = views.offer_label()
        drawn = history.with_columns(label.alias("_offer")).filter(
            pl.col("_offer").is_in(pl.col("_offer").unique(maintain_order=True).head(views.MAX_OFFER_LINES))
        )
        points = views.steps(drawn, label, "usd_per_gpu_hour")
        chart = _lines(points, "Rate per GPU-hour, every version", "USD per GPU-hour")
        return chart, _records(offers), _columns(offers)

    _download(
        app,
        "gpu-table",
        [State(i, "value") for i in gpu_inputs],
        lambda *values: views.gpu_offers(snap, chosen(*values)),
        "gpu_offers",
    )

    @app.callback(
        Output("mci-chart", "figure"),
        Output("mci-table", "data"),
        Output("mci-table", "columns"),
        Input("mci-column", "value"),
    )
    def _mci(column):
        frame = views.mci(snap)
        x, numeric, series = views.mci_chart_columns(frame)
        if x is None or column not in numeric:
            return (
                _empty("nothing to chart: the mart has no date or no such column"),
                _records(frame),
                _columns(frame),
            )
        points = frame.select(
            (pl.col(series) if series else pl.lit(column)).alias("series"),
            pl.col(x).alias("date"),
            pl.col(column).cast(pl.Float64).alias("value"),
        ).drop_nulls("value")
        chart = _lines(points, f"marts.margin_compression_index: {column}", column, shape="linear")
        return chart, _records(frame), _columns(frame)

    _download(app, "mci-table", [], lambda: views.mci(snap), "margin_compression_index")

    what_if_inputs = [Input(i, "value") for i in _WHAT_IF_STATES]
    what_if_states = [State(i, "value") for i in _WHAT_IF_STATES]

    @app.callback(
        Output("what-if-headline", "children"),
        Output("self-host-chart", "figure"),
        Output("self-host-table", "data"),
        Output("self-host-table", "columns"),
        Output("breakeven-chart", "figure"),
        Output("breakeven-table", "data"),
        Output("breakeven-table", "columns"),
        Output("buy-rent-chart", "figure"),
        Output("buy-rent-table", "data"),
        Output("buy-rent-table", "columns"),
        *what_if_inputs,
    )
    def _scenario(size_class, dtype, utilization, batch, usd_per_kwh, pue, depreciation):
        try:
            built = _what_if(snap, size_class, dtype, utilization, batch, usd_per_kwh, pue, depreciation)
        except (duckdb.Error, ValueError) as e:
            # A snapshot published by an older costcurve lacks what this version's marts read.
            message = f"The what-if cannot be computed over this snapshot ({e}); run `costcurve refresh`."
            blank = _empty("no what-if")
            return message, blank, [], [], blank, [], [], blank, [], []
        curves = views.self_host_curves(built, size_class, dtype)
        bills = views.api_vs_self_host(built, size_class, dtype, utilization)
        owned = views.buy_vs_rent(built)
        numbers = views.headline(built, size_class, dtype, utilization)
        return (
            _headline(numbers, size_class, dtype, utilization),
            _self_host_chart(curves, utilization),
            _records(curves),
            _columns(curves),
            _breakeven_chart(bills),
            _records(bills),
            _columns(bills),
            _buy_rent_chart(owned, utilization, depreciation),
            _records(owned),
            _columns(owned),
        )

    def scenario_table(view: Callable[[dict, str, str, float], pl.DataFrame]):
        def frame(size_class, dtype, utilization, batch, usd_per_kwh, pue, depreciation):
            built = _what_if(snap, size_class, dtype, utilization, batch, usd_per_kwh, pue, depreciation)
            return view(built, size_class, dtype, utilization)

        return frame

    _download(
        app,
        "self-host-table",
        what_if_states,
        scenario_table(lambda b, s, d, u: views.self_host_curves(b, s, d)),
        "self_host_cost_what_if",
    )
    _download(
        app, "breakeven-table", what_if_states, scenario_table(views.api_vs_self_host), "breakeven_what_if"
    )
    _download(
        app,
        "buy-rent-table",
        what_if_states,
        scenario_table(lambda b, s, d, u: views.buy_vs_rent(b)),
        "buy_vs_rent_what_if",
    )


def _headline(numbers: dict, size_class: str, dtype: str, utilization: float) -> list:
    cost = numbers["self_host_usd_per_mtok"]
    lines = [
        html.Div(
            [
                f"Self-hosting a {size_class} model in {dtype} at {utilization:.0%} utilization costs ",
                html.B(_money(cost, 4), id="what-if-cost"),
                " per million tokens"
                + (
                    f" (cheapest: {numbers['self_host_accelerator']} at {numbers['self_host_provider']})."
                    if cost
                    else "."
                ),
            ]
        )
    ]
    if numbers["api_model"]:
        lines.append(
            html.Div(
                [
                    f"Against {numbers['api_model']} at {_money(numbers['api_usd_per_mtok'], 4)} per million, "
                    "self-hosting pays from ",
                    html.B(_tokens(numbers["breakeven_monthly_tokens"]), id="what-if-breakeven"),
                    ".",
                ]
            )
        )
    months = numbers["median_breakeven_months"]
    lines.append(
        html.Div(
            [
                "Buying a GPU instead of renting the cheapest offer pays back within its life for ",
                html.B(f"{numbers['pay_back']} of {numbers['accelerators_owned']}", id="what-if-payback"),
                " accelerators (median " + ("never" if months is None else f"{months:,.1f} months") + ").",
            ]
        )
    )
    return lines


def _self_host_chart(curves: pl.DataFrame, utilization: float) -> go.Figure:
    points = curves.select(
        pl.col("accelerator").alias("series"),
        pl.col("utilization").alias("date"),
        pl.col("usd_per_blended_mtok").alias("value"),
    )
    figure = _lines(
        points, "USD per million blended tokens, cheapest on-demand offer", "USD per M tokens", "linear"
    )
    figure.update_xaxes(title="utilization", tickformat=".0%")
    figure.update_yaxes(type="log")
    figure.add_vline(x=utilization, line_dash="dot")
    return figure


def _breakeven_chart(bills: pl.DataFrame) -> go.Figure:
    if bills.is_empty():
        return _empty("no reference API price or no offer can hold this model")
    figure = go.Figure()
    first = bills.filter(pl.col("accelerator") == bills["accelerator"][0])
    figure.add_trace(
        go.Scatter(
            x=first["monthly_tokens"].to_list(),
            y=first["api_monthly_usd"].to_list(),
            name=f"API: {first['api_model'][0]}",
            line={"width": 3, "color": "black"},
        )
    )
    # The three accelerators cheapest per token: more lines hide the crossing.
    for accelerator in bills["accelerator"].unique(maintain_order=True).head(3).to_list():
        rows = bills.filter(pl.col("accelerator") == accelerator)
        figure.add_trace(
            go.Scatter(
                x=rows["monthly_tokens"].to_list(),
                y=rows["self_host_monthly_usd"].to_list(),
                name=f"self-host: {accelerator}",
                line_shape="linear",
            )
        )
    figure.update_layout(
        xaxis={"type": "log", "title": "tokens a month"},
        yaxis={"type": "log", "title": "USD a month"},
        height=440,
    )
    return figure


def _buy_rent_chart(owned: pl.DataFrame, utilization: float, depreciation: float) -> go.Figure:
    points = owned.select(
        pl.col("accelerator").alias("series"),
        pl.col("utilization").alias("date"),
        pl.col("breakeven_months").alias("value"),
    ).drop_nulls("value")
    life = depreciation * 12
    figure = _lines(
        points,
        f"Months until buying beats renting the cheapest offer (beyond {4 * life:g} off the chart)",
        "months",
        "linear",
    )
    figure.update_xaxes(title="utilization", tickformat=".0%")
    # Near the utilization where rent barely exceeds the running cost, months run to thousands.
    figure.update_yaxes(range=[0, 4 * life])
    figure.add_vline(x=utilization, line_dash="dot")
    figure.add_hline(y=life, line_dash="dash", annotation_text="end of depreciation life")
    return figure
