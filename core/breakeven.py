"""Buy vs rent and API vs self-hosting: monthly costs and the points where they cross.

Money in USD, time in hours, volumes in tokens. Prices per token are USD per million tokens.
"""

from __future__ import annotations

import polars as pl

from core._expr import ExprLike, as_expr, fraction
from core.cost import SECONDS_PER_HOUR, TOKENS_PER_MTOK
from core.selfhost import CEIL_SLACK

# 365 x 24. A month is 730 hours (8760 / 12), the convention seed 003 uses ($12.33/h -> $9,000.90/month).
HOURS_PER_YEAR = 8760
HOURS_PER_MONTH = 730


def own_opex_per_hour(
    power_kw: ExprLike, pue: ExprLike, usd_per_kwh: ExprLike, ops_usd_per_hour: ExprLike
) -> pl.Expr:
    """USD per hour of running owned hardware: power_kw x pue x usd_per_kwh + ops_usd_per_hour.

    power_kw is the IT load at the wall (server, not just the GPU's TDP); PUE scales it to facility
    power (seed 003: total facility energy / IT energy). Null when pue < 1, which no facility can have.
    """
    kw, ratio, tariff, ops = as_expr(power_kw), as_expr(pue), as_expr(usd_per_kwh), as_expr(ops_usd_per_hour)
    return pl.when(ratio >= 1).then(kw * ratio * tariff + ops)


def amortized_usd_per_hour(
    capex: ExprLike, depreciation_years: ExprLike, salvage_usd: ExprLike = 0
) -> pl.Expr:
    """Straight-line depreciation per hour owned: (capex - salvage_usd) / (depreciation_years x 8760).

    Seed 003: annual depreciation = (cost - salvage) / useful life. Every hour owned carries it, busy or
    idle. Null when depreciation_years is not positive.
    """
    cost, years, salvage = as_expr(capex), as_expr(depreciation_years), as_expr(salvage_usd)
    return pl.when(years > 0).then((cost - salvage) / (years * HOURS_PER_YEAR))


def breakeven_hours(capex: ExprLike, rent_per_hour: ExprLike, own_opex_per_hour: ExprLike) -> pl.Expr:
    """Hours of use after which buying beats renting: capex / (rent_per_hour - own_opex_per_hour).

    Each hour of use saves the rent and costs the opex; the purchase is paid back when the savings reach
    capex. Null when rent does not exceed opex: owning then never breaks even.
    """
    cost, rent, opex = as_expr(capex), as_expr(rent_per_hour), as_expr(own_opex_per_hour)
    return pl.when(rent > opex).then(cost / (rent - opex))


def breakeven_months(
    capex: ExprLike,
    rent_per_hour: ExprLike,
    own_opex_per_hour: ExprLike,
    utilization: ExprLike,
    hours_per_month: ExprLike = HOURS_PER_MONTH,
) -> pl.Expr:
    """Calendar months until buying beats renting: `breakeven_hours` / (utilization x hours_per_month).

    Assumes you would rent only the hours you use and that opex is paid per hour of use. If the opex is
    paid around the clock (staff, idle power), pass own_opex_per_hour / utilization instead. Null when
    owning never breaks even, utilization is 0 or outside [0, 1], or hours_per_month is not positive.
    """
    util, month = as_expr(utilization), as_expr(hours_per_month)
    hours_used_per_month = util * month
    return pl.when(fraction(util) & (hours_used_per_month > 0)).then(
        breakeven_hours(capex, rent_per_hour, own_opex_per_hour) / hours_used_per_month
    )


def payback_months(
    capex: ExprLike,
    rent_per_hour: ExprLike,
    rented_share: ExprLike,
    busy_usd_per_hour: ExprLike,
    owned_usd_per_hour: ExprLike,
    utilization: ExprLike,
    hours_per_month: ExprLike = HOURS_PER_MONTH,
) -> pl.Expr:
    """Calendar months until owning a GPU beats renting it, from what each costs in a month.

    Renting costs rent_per_hour x rented_share x hours_per_month: rented_share is the utilization for a
    rent paid per hour used (on demand, spot) and 1 for a reservation, paid for every hour of its term.
    Owning costs busy_usd_per_hour (power) x utilization x hours_per_month plus owned_usd_per_hour
    (operations: staff, space, maintenance) x hours_per_month, paid every hour owned, busy or idle.
    months = capex / (monthly rent - monthly cost of owning). Nothing is divided by utilization, so a low
    utilization gives a small (or negative) monthly saving, never an inflated hourly cost. Null when the
    saving is not positive (owning never pays back), when utilization or rented_share lies outside
    [0, 1], or when hours_per_month is not positive.
    """
    cost, rent, share = as_expr(capex), as_expr(rent_per_hour), as_expr(rented_share)
    busy, owned, util, month = (
        as_expr(busy_usd_per_hour),
        as_expr(owned_usd_per_hour),
        as_expr(utilization),
        as_expr(hours_per_month),
    )
    saving = (rent * share - busy * util - owned) * month
    return pl.when(fraction(util) & fraction(share) & (month > 0) & (saving > 0)).then(cost / saving)


def api_monthly_usd(monthly_tokens: ExprLike, usd_per_mtok: ExprLike) -> pl.Expr:
    """USD per month at an API: monthly_tokens x usd_per_mtok / 1e6 (use a blended price for mixed traffic)."""
    return as_expr(monthly_tokens) * as_expr(usd_per_mtok) / TOKENS_PER_MTOK


def self_host_monthly_usd(
    monthly_tokens: ExprLike,
    usd_per_hour: ExprLike,
    tokens_per_second: ExprLike,
    utilization: ExprLike,
    hours_per_month: ExprLike = HOURS_PER_MONTH,
) -> pl.Expr:
    """USD per month for enough always-on replicas of one deployment to serve monthly_tokens.

    A replica costs usd_per_hour (all its GPUs) every hour of the month, busy or not, and serves at most
    tokens_per_second x 3600 x utilization x hours_per_month tokens, utilization being the highest
    sustained share the traffic allows. replicas = max(1, ceil(monthly_tokens / capacity)), so the curve
    is flat up to one replica's capacity and steps up after it. Null when the capacity is not positive or
    utilization is outside [0, 1].
    """
    tokens, usd, tps = as_expr(monthly_tokens), as_expr(usd_per_hour), as_expr(tokens_per_second)
    util, month = as_expr(utilization), as_expr(hours_per_month)
    capacity = tps * SECONDS_PER_HOUR * util * month
    replicas = pl.max_horizontal(pl.lit(1.0), (tokens / capacity * CEIL_SLACK).ceil())
    return pl.when(fraction(util) & (capacity > 0) & tokens.is_not_null()).then(replicas * usd * month)


def breakeven_monthly_tokens(
    self_host_monthly_fixed_usd: ExprLike,
    api_usd_per_mtok: ExprLike,
    self_host_marginal_usd_per_mtok: ExprLike = 0,
) -> pl.Expr:
    """Monthly tokens at which the API bill equals self-hosting: fixed / (api - marginal) x 1e6.

    API cost = tokens x api price; self-hosting = fixed monthly cost + tokens x marginal price (power per
    token, say). Valid while the fixed cost buys enough capacity for that volume (see
    `self_host_monthly_usd`). Null when the API is never dearer per token than the marginal self-host cost.
    """
    fixed, api = as_expr(self_host_monthly_fixed_usd), as_expr(api_usd_per_mtok)
    marginal = as_expr(self_host_marginal_usd_per_mtok)
    return pl.when(api > marginal).then(fixed / (api - marginal) * TOKENS_PER_MTOK)
