"""The tables behind each page of the explorer, as polars frames: what a chart draws is what its
table shows and what its CSV download holds. Prices come from the marts and the table macros; the
what-if numbers from the marts rebuilt by ``Snapshot.what_if``; nothing here computes a price."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.explorer.snapshot import Snapshot

PRICE_FIELDS = {
    "blended_usd_per_mtok": "blended 3:1",
    "input_usd_per_mtok": "input",
    "output_usd_per_mtok": "output",
}
GPU_FILTERS = ("accelerator", "provider", "region", "pricing_type")
# A history chart of more offers than this is unreadable; the table still lists every one.
MAX_OFFER_LINES = 40


def models(snap: Snapshot) -> list[str]:
    """Every canonical model with a price in history, the most often repriced first."""
    return (
        snap.frame(
            "select canonical_model from history.token_prices where canonical_model is not null "
            "group by 1 order by count(*) desc, 1"
        )
        .to_series()
        .to_list()
    )


def model_history(snap: Snapshot, canonical: str) -> pl.DataFrame:
    """Every price version of one model across sources, providers and tiers (model_price_history)."""
    return snap.frame("from model_price_history(?)", [canonical])


def steps(frame: pl.DataFrame, label: pl.Expr, value: str, today: date | None = None) -> pl.DataFrame:
    """Points of a step line per series: each version's value from valid_from to valid_to (today while
    it is current), so a price that held for a year draws as a year-long segment. A version without a
    declared valid_from starts when it was first seen."""
    today = today or date.today()
    start = pl.coalesce("valid_from", pl.col("first_seen_at").dt.date())
    versions = frame.select(
        label.alias("series"),
        start.alias("start"),
        pl.coalesce("valid_to", pl.max_horizontal(pl.lit(today), start)).alias("end"),
        pl.col(value).cast(pl.Float64).alias("value"),
    ).filter(pl.col("value").is_not_null())
    # At a price change the old version's end and the new one's start share a date: the end comes first.
    points = pl.concat(
        [
            versions.select("series", pl.col("start").alias("date"), "value", pl.lit(1).alias("order")),
            versions.select("series", pl.col("end").alias("date"), "value", pl.lit(0).alias("order")),
        ]
    )
    return points.sort("series", "date", "order").drop("order")


def price_label() -> pl.Expr:
    """One series per way a model is sold: provider, model id, source and tier."""
    return pl.concat_str(
        pl.col("provider"),
        pl.lit(" · "),
        pl.col("model"),
        pl.lit(" ("),
        pl.col("source"),
        pl.lit(", "),
        pl.col("tier"),
        pl.when(pl.col("service_tier") != "standard")
        .then(pl.lit(", ") + pl.col("service_tier"))
        .otherwise(pl.lit("")),
        pl.when(pl.col("off_peak")).then(pl.lit(", off-peak")).otherwise(pl.lit("")),
        pl.lit(")"),
    )


def current_prices(snap: Snapshot) -> pl.DataFrame:
    """Today's list price of every language model and provider at the base tier and standard service
    (image, embedding and other modes are priced per unit of their own)."""
    return snap.frame(
        """select canonical_model, provider, model, source, mode, input_usd_per_mtok, output_usd_per_mtok,
                  blended_usd_per_mtok, cache_read_usd_per_mtok, context_window, price_since
           from marts.token_prices_current
           where tier = 'base' and service_tier = 'standard' and not off_peak and mode = 'chat'
           order by canonical_model is null, blended_usd_per_mtok nulls last, canonical_model, provider, source"""
    )


def price_vs_quality(snap: Snapshot) -> pl.DataFrame:
    """Each evaluated model's pass rate per task beside its blended list price and cost per correct
    output (marts.cost_per_correct_output at list prices)."""
    return snap.frame(
        """select task, canonical_model, model, price_provider, pass_rate,
                  blended_price(input_usd_per_mtok, output_usd_per_mtok) as blended_usd_per_mtok,
                  cost_per_attempt_usd, cost_per_correct_usd, rank_in_task, eval_source, as_of
           from marts.cost_per_correct_output
           where price_mode = 'list'
           order by task, rank_in_task"""
    )


def gpu_options(snap: Snapshot) -> dict[str, list[str]]:
    """The values each GPU filter offers: those of the current offers."""
    frame = snap.frame(f"select distinct {', '.join(GPU_FILTERS)} from marts.gpu_rates_current")
    return {c: sorted(v for v in frame[c].unique().to_list() if v is not None) for c in GPU_FILTERS}


def busiest_accelerator(snap: Snapshot) -> str | None:
    """The accelerator with the most current offers: what the GPU page opens on, so its chart compares
    offers of one card rather than the cheapest slices of many."""
    rows = snap.frame(
        "select accelerator from marts.gpu_rates_current where accelerator is not null "
        "group by 1 order by count(*) desc, 1 limit 1"
    )
    return rows.item() if rows.height else None


def _gpu_where(chosen: dict[str, list[str] | None]) -> tuple[str, list]:
    """A WHERE clause keeping the offers whose every filter is empty or lists the offer's value."""
    clauses, params = [], []
    for column in GPU_FILTERS:
        values = chosen.get(column) or []
        if values:
            clauses.append(f"list_contains(?::varchar[], {column})")
            params.append(values)
    return (" and ".join(clauses) or "true"), params


def gpu_offers(snap: Snapshot, chosen: dict[str, list[str] | None]) -> pl.DataFrame:
    """The current offers that match the filters, cheapest per GPU-hour first."""
    where, params = _gpu_where(chosen)
    return snap.frame(
        f"""select accelerator, provider, pricing_type, region, zone, instance_type, gpu_count,
                   usd_per_gpu_hour, usd_per_instance_hour, usd_per_tbps_hour, source, rate_since
            from marts.gpu_rates_current where {where}
            order by usd_per_gpu_hour, accelerator, provider, instance_type, region""",
        params,
    )


def gpu_history(snap: Snapshot, chosen: dict[str, list[str] | None]) -> pl.DataFrame:
    """Every rate version of the matching offers (history.gpu_rates), the offers that are cheapest
    today first."""
    where, params = _gpu_where(chosen)
    return snap.frame(
        f"""select accelerator, provider, pricing_type, region, zone, instance_type, source,
                   usd_per_gpu_hour, usd_per_instance_hour, gpu_count, valid_from, valid_to, first_seen_at
            from history.gpu_rates
            where accelerator is not null and {where}
            order by min(usd_per_gpu_hour) over (
                         partition by source, provider, instance_type, region, zone, pricing_type),
                     provider, instance_type, region, zone, pricing_type, valid_from nulls first""",
        params,
    )


def offer_label() -> pl.Expr:
    return pl.concat_str(
        pl.col("provider"),
        pl.lit(" · "),
        pl.col("instance_type"),
        pl.lit(" · "),
        pl.coalesce(pl.col("region").replace("", None), pl.lit("any region")),
        pl.lit(" · "),
        pl.col("pricing_type"),
    )


def mci(snap: Snapshot) -> pl.DataFrame:
    """marts.margin_compression_index as it is, whatever its columns, oldest date first."""
    frame = snap.frame("from marts.margin_compression_index")
    order = [c for c, t in frame.schema.items() if t.is_temporal()] + [
        c for c, t in frame.schema.items() if t == pl.String
    ]
    return frame.sort(order) if order else frame


def mci_chart_columns(frame: pl.DataFrame) -> tuple[str | None, list[str], str | None]:
    """How to chart the MCI table without knowing its columns: the first date column as x, its
    numeric columns as the values to pick from (the index, named ``mci`` or ``*index*``, first; item
    counts last) and its first text column with a handful of values (the tier) as the series."""
    dates = [c for c, t in frame.schema.items() if t.is_temporal()]
    numeric = [c for c, t in frame.schema.items() if t.is_numeric()]
    numeric.sort(key=lambda c: (c != "mci", "index" not in c, c.startswith("n_")))
    series = next(
        (c for c, t in frame.schema.items() if t == pl.String and 1 < frame[c].n_unique() <= 12), None
    )
    return (dates[0] if dates else None), numeric, series


def size_classes(snap: Snapshot) -> list[str]:
    return snap.frame("select size_class from meta.size_classes order by params_b").to_series().to_list()


def dtypes(snap: Snapshot) -> list[str]:
    return snap.frame("select dtype from meta.dtypes order by bytes_per_param desc").to_series().to_list()


def self_host_curves(built: dict[str, pl.DataFrame], size_class: str, dtype: str) -> pl.DataFrame:
    """Self-hosted cost per million blended tokens against utilization: per accelerator, its cheapest
    on-demand offer (offer_rank 1)."""
    return (
        built["marts.self_host_cost"]
        .filter(
            pl.col("size_class") == size_class,
            pl.col("dtype") == dtype,
            pl.col("pricing_type") == "on_demand",
            pl.col("offer_rank") == 1,
        )
        .sort("accelerator", "utilization")
    )


def api_vs_self_host(
    built: dict[str, pl.DataFrame], size_class: str, dtype: str, utilization: float
) -> pl.DataFrame:
    """Monthly API and self-hosted bills across the volume grid at one utilization, for the class's
    first reference API model, per accelerator."""
    frame = built["marts.breakeven_api_vs_self_host"]
    return frame.filter(
        pl.col("size_class") == size_class,
        pl.col("dtype") == dtype,
        (pl.col("utilization") - utilization).abs() < 1e-9,
        pl.col("api_model_rank") == 1,
    ).sort("self_host_usd_per_blended_mtok", "accelerator", "monthly_tokens")


def buy_vs_rent(built: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Months until owning a GPU beats renting it at the cheapest offer, per accelerator and utilization."""
    return (
        built["marts.breakeven_buy_vs_rent"]
        .filter(pl.col("pricing_type") == "on_demand", pl.col("rent_basis") == "cheapest")
        .sort("accelerator", "utilization")
    )


def headline(
    built: dict[str, pl.DataFrame], size_class: str, dtype: str, utilization: float
) -> dict[str, object]:
    """The numbers the what-if page states in words at the chosen utilization."""
    at = (pl.col("utilization") - utilization).abs() < 1e-9
    cheapest = self_host_curves(built, size_class, dtype).filter(at).sort("usd_per_blended_mtok").head(1)
    crossing = api_vs_self_host(built, size_class, dtype, utilization).head(1)
    owned = buy_vs_rent(built).filter(at)
    return {
        "self_host_usd_per_mtok": cheapest["usd_per_blended_mtok"].item() if cheapest.height else None,
        "self_host_accelerator": cheapest["accelerator"].item() if cheapest.height else None,
        "self_host_provider": cheapest["provider"].item() if cheapest.height else None,
        "api_model": crossing["api_model"].item() if crossing.height else None,
        "api_usd_per_mtok": crossing["api_usd_per_mtok"].item() if crossing.height else None,
        "breakeven_monthly_tokens": crossing["breakeven_monthly_tokens"].item() if crossing.height else None,
        "pay_back": int(owned["pays_back_within_life"].sum()),
        "accelerators_owned": owned.height,
        "median_breakeven_months": owned["breakeven_months"].median(),
    }
