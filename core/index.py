"""Chain-linked Jevons price indices over matched items, and the Margin Compression Index ratio.

A Jevons index compares two periods by the geometric mean of price relatives p_t / p_(t-1) of the items
priced in both (a matched sample); chain-linking multiplies consecutive links, so items may enter and
leave over time without breaking comparability between neighbouring periods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import polars as pl

from core._expr import ExprLike, as_expr

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

_ALL = "__all__"


def jevons_chain_index(
    prices: Frame,
    *,
    base_period: object,
    period: str = "period",
    item: str | Sequence[str] = "item",
    price: str = "price",
    by: str | Sequence[str] = (),
) -> Frame:
    """Chain-linked Jevons index of a long frame (period, item, price), 100 at base_period.

    For each period t after the first in its group:
      link(t) = exp(mean over items priced in both t and the previous period of ln(p_t / p_prev)),
      n_matched(t) = how many items that mean covers.
    index(t) = 100 x the product of the links between base_period and t (divided, for periods before it).

    Rules, so every number can be traced:
    - Only positive prices enter (a free or placeholder price has no logarithm); an item with several
      prices in one period (several providers, say) enters with their geometric mean.
    - "Previous period" is the previous period in which the group has any priced item.
    - A link with no matched item breaks the chain: periods on the far side of the break from
      base_period get a null index, as does every period of a group with no prices at base_period.
    - `by` gives one independent index per group (e.g. per tier); item may name several key columns.

    Returns columns (*by, period, index, n_matched, n_items) sorted by group and period; n_matched is
    null for a group's first period, n_items counts the items priced in the period. The input's frame
    type is kept (DataFrame in, DataFrame out; LazyFrame in, LazyFrame out).
    """
    group = [by] if isinstance(by, str) else list(by)
    items = [item] if isinstance(item, str) else list(item)
    keys = group or [_ALL]
    lf = prices.lazy()
    if not group:
        lf = lf.with_columns(pl.lit(0).alias(_ALL))

    log_prices = (
        lf.with_columns(pl.col(price).cast(pl.Float64))
        .filter(pl.col(price) > 0)
        .group_by([*keys, period, *items])
        .agg(pl.col(price).log().mean().alias("_log_price"))
    )
    periods = (
        log_prices.group_by([*keys, period])
        .agg(pl.len().cast(pl.Int64).alias("n_items"))
        .sort([*keys, period])
        .with_columns(pl.col(period).shift(1).over(keys).alias("_previous"))
    )
    previous_prices = log_prices.rename({period: "_previous", "_log_price": "_log_previous"})
    links = (
        log_prices.join(periods.select([*keys, period, "_previous"]), on=[*keys, period])
        .join(previous_prices, on=[*keys, "_previous", *items], how="inner")
        .group_by([*keys, period])
        .agg(
            (pl.col("_log_price") - pl.col("_log_previous")).mean().alias("_log_link"),
            pl.len().cast(pl.Int64).alias("n_matched"),
        )
    )
    chained = (
        periods.join(links, on=[*keys, period], how="left")
        .sort([*keys, period])
        .with_columns(
            pl.when(pl.col("_previous").is_not_null())
            .then(pl.col("n_matched").fill_null(0))
            .alias("n_matched")
        )
        .with_columns(
            # Log space turns the chain product into a running sum; counting breaks lets a period be
            # linked to the base only when no break lies between them.
            pl.col("_log_link").fill_null(0.0).cum_sum().over(keys).alias("_chain"),
            (pl.col("n_matched") == 0).fill_null(False).cast(pl.Int64).cum_sum().over(keys).alias("_breaks"),
        )
    )
    base = chained.filter(pl.col(period) == pl.lit(base_period)).select(
        *keys, pl.col("_chain").alias("_base_chain"), pl.col("_breaks").alias("_base_breaks")
    )
    result = (
        chained.join(base, on=keys, how="left")
        .with_columns(
            pl.when(pl.col("_breaks") == pl.col("_base_breaks"))
            .then(100 * (pl.col("_chain") - pl.col("_base_chain")).exp())
            .alias("index")
        )
        .sort([*keys, period])
        .select(*group, period, "index", "n_matched", "n_items")
    )
    return result.collect() if isinstance(prices, pl.DataFrame) else result


def margin_compression_index(price_index: ExprLike, compute_cost_index: ExprLike) -> pl.Expr:
    """AI Margin Compression Index: 100 x price_index / compute_cost_index (both based 100 on one date).

    Below 100 list prices have fallen faster than the compute under them. Null when the compute index is
    not positive.
    """
    prices_idx, compute_idx = as_expr(price_index), as_expr(compute_cost_index)
    return pl.when(compute_idx > 0).then(100 * prices_idx / compute_idx)
