"""Argument coercion shared by the formula modules.

Every formula takes `ExprLike` arguments: a polars expression, a column name, or a plain number.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

ExprLike = pl.Expr | str | float | int | Decimal | None


def as_expr(value: ExprLike) -> pl.Expr:
    """Turn a formula argument into a Float64 expression.

    Everything is computed in Float64 because the DuckDB macros cast every argument to DOUBLE: Decimal
    price columns and integer token counts would otherwise follow each engine's own promotion rules
    (decimal scale, integer overflow) and the two definitions would drift apart.
    """
    if isinstance(value, pl.Expr):
        return value.cast(pl.Float64)
    if isinstance(value, str):
        return pl.col(value).cast(pl.Float64)
    if value is None:
        return pl.lit(None, dtype=pl.Float64)
    if isinstance(value, bool):
        raise TypeError("a formula argument must be a number, a column name or an expression, not a bool")
    return pl.lit(float(value), dtype=pl.Float64)


def fraction(value: pl.Expr) -> pl.Expr:
    """True where a share, rate or efficiency lies in [0, 1]."""
    return (value >= 0) & (value <= 1)
