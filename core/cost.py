"""What a hosted model or a GPU hour costs per request, per correct answer and per useful token.

Prices are USD per million tokens (USD/MTok), the unit every provider publishes. Each function returns a
polars expression; arguments are expressions, column names or numbers (see `core._expr.as_expr`).
"""

from __future__ import annotations

import polars as pl

from core._expr import ExprLike, as_expr, fraction

TOKENS_PER_MTOK = 1e6
SECONDS_PER_HOUR = 3600


def blended_price(
    input_usd_per_mtok: ExprLike, output_usd_per_mtok: ExprLike, input_share: ExprLike = 0.75
) -> pl.Expr:
    """One price per model: input_share x input price + (1 - input_share) x output price, in USD/MTok.

    The default 0.75 is the 3:1 input:output token mix that price trackers use to rank models by one
    number. Null when input_share is outside [0, 1].
    """
    price_in, price_out, share = (
        as_expr(input_usd_per_mtok),
        as_expr(output_usd_per_mtok),
        as_expr(input_share),
    )
    return pl.when(fraction(share)).then(share * price_in + (1 - share) * price_out)


def cost_per_request(
    input_tokens: ExprLike,
    output_tokens: ExprLike,
    input_price: ExprLike,
    output_price: ExprLike,
    cached_tokens: ExprLike = 0,
    cache_read_price: ExprLike = None,
) -> pl.Expr:
    """USD for one request; prices in USD/MTok.

    cached_tokens are part of input_tokens (as providers count them) and are billed at cache_read_price,
    or at input_price when the model has no cache price. For batch pricing pass the batch prices.
    Null when cached_tokens is negative or larger than input_tokens.
    """
    tokens_in, tokens_out = as_expr(input_tokens), as_expr(output_tokens)
    price_in, price_out = as_expr(input_price), as_expr(output_price)
    cached = as_expr(cached_tokens)
    cache_price = pl.coalesce(as_expr(cache_read_price), price_in)
    usd = ((tokens_in - cached) * price_in + cached * cache_price + tokens_out * price_out) / TOKENS_PER_MTOK
    return pl.when((cached >= 0) & (cached <= tokens_in)).then(usd)


def cost_per_correct(cost_per_attempt: ExprLike, pass_rate: ExprLike) -> pl.Expr:
    """Expected cost of one verified-correct answer: cost_per_attempt / pass_rate (same unit as the cost).

    Assumes attempts are independent and a verifier recognises a correct answer, so the expected number
    of attempts per success is 1 / pass_rate. A pass rate of 0 means no finite cost exists: the result
    is null, never infinity. A pass rate outside [0, 1] is null too.
    """
    cost, rate = as_expr(cost_per_attempt), as_expr(pass_rate)
    return pl.when(fraction(rate) & (rate > 0)).then(cost / rate)


def tokens_from_cost(
    cost_usd: ExprLike, input_usd_per_mtok: ExprLike, output_usd_per_mtok: ExprLike, input_share: ExprLike
) -> pl.Expr:
    """Tokens a published cost buys at given prices: cost_usd x 1e6 / blended_price(input, output, share).

    For an eval run that states what it cost but not how many tokens it used: input_share is the assumed
    share of the run's tokens that were input, so the run read input_share x tokens and wrote
    (1 - input_share) x tokens. Cached reads billed below the input price make the published cost smaller,
    so the tokens derived from it are a lower bound. Null when the blended price is not positive, the cost
    is negative or input_share lies outside [0, 1].
    """
    cost = as_expr(cost_usd)
    blended = blended_price(input_usd_per_mtok, output_usd_per_mtok, input_share)
    return pl.when((blended > 0) & (cost >= 0)).then(cost * TOKENS_PER_MTOK / blended)


def cascade_cost_per_correct(
    small_cost: ExprLike, small_pass: ExprLike, large_cost: ExprLike, large_pass: ExprLike
) -> pl.Expr:
    """Cost per correct answer when a small model answers first and its failures go to a large model.

    Assumes a verifier detects every small-model failure at no cost and escalates it once:
    expected cost per round = small_cost + (1 - small_pass) x large_cost,
    success probability per round = small_pass + (1 - small_pass) x large_pass,
    cost per correct = expected cost / success probability (rounds repeat until one succeeds, as in
    `cost_per_correct`). Null when both pass rates are 0 or either lies outside [0, 1].
    """
    c_small, p_small = as_expr(small_cost), as_expr(small_pass)
    c_large, p_large = as_expr(large_cost), as_expr(large_pass)
    expected_cost = c_small + (1 - p_small) * c_large
    success = p_small + (1 - p_small) * p_large
    return pl.when(fraction(p_small) & fraction(p_large) & (success > 0)).then(expected_cost / success)


def cost_per_useful_mtok(
    usd_per_hour: ExprLike, tokens_per_second: ExprLike, utilization: ExprLike, pass_rate: ExprLike
) -> pl.Expr:
    """USD per million useful tokens from an hourly price (seed 000's utilization-paradox equation).

    usd_per_hour / (tokens_per_second x 3600 x utilization x pass_rate) x 1e6. Utilization is the share
    of the hour the hardware carries work; pass_rate the share of output that is correct. Null when the
    useful token rate is not positive (utilization, pass rate or throughput 0) or a share is outside [0, 1].
    """
    usd, tps = as_expr(usd_per_hour), as_expr(tokens_per_second)
    util, rate = as_expr(utilization), as_expr(pass_rate)
    useful_tokens_per_hour = tps * SECONDS_PER_HOUR * util * rate
    return pl.when(fraction(util) & fraction(rate) & (useful_tokens_per_hour > 0)).then(
        usd / useful_tokens_per_hour * TOKENS_PER_MTOK
    )


def implied_gross_margin(price: ExprLike, cost: ExprLike) -> pl.Expr:
    """(price - cost) / price as a fraction of price: what a seller keeps at a given cost (any one unit).

    Negative when the cost exceeds the price. Null when the price is not positive.
    """
    p, c = as_expr(price), as_expr(cost)
    return pl.when(p > 0).then((p - c) / p)
