"""Row-level rules the GX suite is not built for, run on each parsed payload before it is staged.

GX judges a row by itself; these rules judge it against the rest of its payload and against what
the warehouse already holds. A row a rule refuses goes to ``quarantine.rejected_rows`` with the
rule and both values in its reason, exactly like a parser reject, and never reaches history.

- ``duplicate_key``: a second row with the natural key and ``valid_from`` of an earlier row of the
  same payload. The first is kept, as every parser does; GX's uniqueness check would quarantine
  both, and the key would miss the day.
- ``price_jump``: a token price (input or output, USD/MTok) at least 50 times above or below the
  same key's history version, or a GPU rate (``usd_per_gpu_hour``) at least 10 times. A per-token
  price read as per-million moves by 10^6, a per-thousand by 10^3 and an instance price read as
  per-GPU by up to 8. Real changes mostly stay far below: of 419 consecutive token-price changes in
  genai-prices' dated history, 10 reach 10x and one 50x (an OpenRouter flash model's output price,
  0.0112 -> 0.84); the largest curated GPU change is 1.8x. Only rows without a declared start are
  judged: a dated version is the source's explicit statement of a change (that 75x step is one), a
  unit mistake arrives undated in a daily snapshot. The version compared is the key's latest (or,
  for the open start of a dated timeline, its open-start version). A zero on either side is not
  compared: free tiers start and end for real.
  The same factors hold across sources: an undated row of a wholly undated key is also held back
  when it lies that far from every current value other sources give for the same item
  (``SAME_ITEM``: the key without the source, the canonical model for token prices). The nearest
  quote decides, because one canonical id can cover dated snapshots priced a few times apart; the
  largest gap between two sources' current token prices in the embedded defaults is 5.2x.
- ``spec_jump``: an accelerator spec (``SPEC_COLUMNS``: memory, bandwidth, dense tensor throughput)
  at least ``SPEC_JUMP_FACTOR`` times above or below the key's current history version, another
  source's current row for the accelerator, or the curated catalog the package ships while history
  has no curated row. Epoch and the curated catalog agree within 7% on the 29 accelerators both
  list. A spec that landed wrong would re-band every rate of its accelerator, so it waits for review.
- ``accelerator_price_band``: a GPU rate outside the band its accelerator's memory bandwidth
  implies, ``BAND_USD_PER_GPU_HOUR_PER_TBPS`` times the TB/s. Rental prices track bandwidth
  across classes (see ``docs/reliability.md`` for the calibration), so one rule gives each class its
  own band: a T4 (0.32 TB/s) $0.03-3.84, an RTX 4090 (1.0 TB/s) $0.08-12, an H100 SXM (3.35 TB/s)
  $0.27-40, a B200 (7.7 TB/s) $0.62-92 per GPU-hour. It catches misidentified accelerators and
  per-instance prices taken as per-GPU that the global $0.01-100 band of the parsers lets through.
  Specs come from ``history.accelerators`` (the curated source first), else from the curated
  catalog the package ships, so the first refresh and a rebuild check against the same values.
- ``price_band`` on accelerators: a launch price outside ``LAUNCH_PRICE_USD`` (a price in
  thousands, or in cents, or multiplied by a unit mistake).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import duckdb
import polars as pl

from sources import accelerator_specs
from sources.base import Dataset, Reject
from sources.schemas import DATASETS

JUMP_FACTORS = {
    "token_prices": (("input_usd_per_mtok", "output_usd_per_mtok"), 50, "USD/MTok"),
    "gpu_rates": (("usd_per_gpu_hour",), 10, "USD per GPU-hour"),
}
# What makes two sources' rows the same thing sold: the natural key without the source, and for token
# prices the canonical model instead of the id each source writes (litellm's gpt-4o is genai-prices'
# openai/gpt-4o).
SAME_ITEM = {
    "token_prices": ("provider", "canonical_model", "tier", "service_tier", "off_peak"),
    "gpu_rates": ("provider", "instance_type", "region", "pricing_type"),
}
# Datasheet figures: two sources agree within 7% on every accelerator both list, and a new chip is a
# new accelerator id; a 10x move is a unit or typing slip (TB/s as GB/s, a misplaced digit).
SPEC_COLUMNS = (
    "memory_gb",
    "memory_bandwidth_tbps",
    "bf16_dense_tflops",
    "fp8_dense_tflops",
    "int8_dense_tops",
    "fp4_dense_tflops",
)
SPEC_JUMP_FACTOR = 10
# USD per GPU-hour per TB/s of memory bandwidth: real quotes span 0.19 (an old V100 on spot) to 7.0
# (an H100 in Azure's dearest region); the band leaves about 2x on each side.
BAND_USD_PER_GPU_HOUR_PER_TBPS = (Decimal("0.08"), Decimal("12"))
# The cheapest accelerator anyone rents sells for a few hundred dollars; one GPU of a GB200 rack, the
# dearest per unit, for tens of thousands.
LAUNCH_PRICE_USD = (Decimal(50), Decimal(1_000_000))

_ROW = "_rule_row"
# The start of a version whose start is unknown (valid_from null) and of a row with no declared date.
_OPEN = "date '0001-01-01'"
_LATEST = "date '9999-12-31'"


def apply(con: duckdb.DuckDBPyConnection, dataset_name: str, frame: pl.DataFrame):
    """The rows of ``frame`` that pass every rule, and a ``Reject`` for each row that does not."""
    dataset = DATASETS[dataset_name]
    indexed = frame.with_row_index(_ROW)
    rejects: dict[int, Reject] = {}
    checks = [_duplicates]
    if dataset_name in JUMP_FACTORS:
        checks += [_jumps, _disagreements]
    if dataset_name == "gpu_rates":
        checks.append(_accelerator_bands)
    if dataset_name == "accelerators":
        checks += [_spec_jumps, _launch_prices]
    for check in checks:
        remaining = indexed.filter(~pl.col(_ROW).is_in(list(rejects)))
        if remaining.is_empty():
            break
        rejects |= check(con, dataset, remaining)
    passed = indexed.filter(~pl.col(_ROW).is_in(list(rejects))).drop(_ROW)
    return passed, [rejects[i] for i in sorted(rejects)]


def _reject(
    dataset: Dataset, row: dict[str, Any], rule: str, why: str, field: str | None, value: Any
) -> Reject:
    record = {k: v for k, v in row.items() if k != _ROW}
    label = "/".join(str(record.get(k)) for k in dataset.key if k != "source")
    return Reject(
        record["source"], rule, f"{record['source']}: {dataset.name} row {label} {why}", record, field, value
    )


def _duplicates(con, dataset: Dataset, frame: pl.DataFrame) -> dict[int, Reject]:
    repeated = frame.filter(~pl.struct([*dataset.key, "valid_from"]).is_first_distinct())
    why = "repeats the natural key and valid_from of an earlier row of the payload; the first is kept"
    return {row[_ROW]: _reject(dataset, row, "duplicate_key", why, None, None) for row in repeated.to_dicts()}


def _jumps(con: duckdb.DuckDBPyConnection, dataset: Dataset, frame: pl.DataFrame) -> dict[int, Reject]:
    columns, factor, unit = JUMP_FACTORS[dataset.name]
    keys = ", ".join(dataset.key)
    match = " and ".join(f"h.{k} is not distinct from i.{k}" for k in dataset.key)
    dates = [c for c in ("valid_from", "valid_to") if c in frame.columns]
    declared = " or ".join(f"{d} is not null" for d in dates)
    incoming = frame.select(_ROW, *dataset.key, *dates, *columns)  # noqa: F841 - read by DuckDB
    # Only pairs near or past the factor come back (as doubles, with a margin), to be judged exactly
    # below: most of a day's rows match a version at the same price.
    near = " or ".join(
        f"(i.{c} <> 0 and h.{c} <> 0 and greatest(i.{c} / h.{c}, h.{c} / i.{c}) >= {factor * 0.999})"
        for c in columns
    )
    # Same start rule as history.merge: a declared date; an undeclared row of a key whose other rows
    # declare dates is the open start of that timeline; otherwise the key's latest version.
    versions = con.execute(
        f"""
        with i as (
            select *, case when valid_from is not null then valid_from
                           when bool_or({declared}) over (partition by {keys}) then {_OPEN}
                           else {_LATEST} end as _start
            from incoming
        )
        select * exclude (_near) from (
            select i.{_ROW}, h.valid_from as h_from, {", ".join(f"h.{c} as h_{c}" for c in columns)},
                   {near} as _near
            from i join history.{dataset.name} h on {match} and coalesce(h.valid_from, {_OPEN}) <= i._start
            where i.valid_from is null
            qualify row_number() over (partition by i.{_ROW} order by coalesce(h.valid_from, {_OPEN}) desc) = 1
        ) where _near
        """
    ).fetchall()
    candidates = frame.filter(pl.col(_ROW).is_in([v[0] for v in versions]))
    rows = dict(zip(candidates[_ROW], candidates.iter_rows(named=True), strict=True))
    out = {}
    for index, since, *before in versions:
        row = rows[index]
        moves = [
            (c, old, row[c]) for c, old in zip(columns, before, strict=True) if _jumps_by(row[c], old, factor)
        ]
        if not moves:
            continue
        text = "; ".join(
            f"{c} {_text(old)} -> {_text(new)} {unit} (x{_ratio(new, old)})" for c, old, new in moves
        )
        why = (
            f"jumps against its history version from {since or 'its open start'}: {text}. A change of "
            f"{factor}x or more looks like a unit mistake, not a price change"
        )
        column, _, new = moves[0]
        out[index] = _reject(dataset, row, "price_jump", why, column, _text(new))
    return out


def _disagreements(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, frame: pl.DataFrame
) -> dict[int, Reject]:
    columns, factor, unit = JUMP_FACTORS[dataset.name]
    same = SAME_ITEM[dataset.name]
    keys = ", ".join(dataset.key)
    dates = [c for c in ("valid_from", "valid_to") if c in frame.columns]
    declared = " or ".join(f"{d} is not null" for d in dates)
    incoming = frame.select(_ROW, *dataset.key, *(c for c in same if c not in dataset.key), *dates)  # noqa: F841
    # Only a key with no declared date states a price for today, comparable with another source's
    # current one; a dated timeline is the source's own statement of when prices changed.
    found = con.execute(
        f"""
        with i as (select *, bool_or({declared}) over (partition by {keys}) as _dated from incoming)
        select i.{_ROW}, h.source, {", ".join(f"h.{c}" for c in columns)}
        from i join history.{dataset.name} h
          on {" and ".join(f"h.{c} = i.{c}" for c in same)} and h.source <> i.source and h.valid_to is null
        where not i._dated
        """
    ).fetchall()
    quotes: dict[int, list[tuple[str, tuple]]] = {}
    for index, source, *values in found:
        quotes.setdefault(index, []).append((source, tuple(values)))
    rows = {r[_ROW]: r for r in frame.filter(pl.col(_ROW).is_in(list(quotes))).to_dicts()}
    out = {}
    for index, others in quotes.items():
        row = rows[index]
        gaps = []
        for n, c in enumerate(columns):
            priced = [(source, values[n]) for source, values in others if row[c] and values[n]]
            # Held only when even the nearest quote is that far: sources list dated snapshots of a
            # model under one canonical id, at prices a few times apart.
            if priced and all(_jumps_by(row[c], old, factor) for _, old in priced):
                source, old = min(priced, key=lambda quote: _gap(row[c], quote[1]))
                gaps.append((c, source, old, row[c]))
        if not gaps:
            continue
        text = "; ".join(
            f"{c} {_text(new)} against {source}'s {_text(old)} {unit} (x{_ratio(new, old)})"
            for c, source, old, new in gaps
        )
        why = (
            f"is {factor}x or more away from every current value other sources give for the same "
            f"{'/'.join(same)}: {text}. A gap that large looks like a unit mistake; held back for review"
        )
        column, _, _, new = gaps[0]
        out[index] = _reject(dataset, row, "price_jump", why, column, _text(new))
    return out


def _spec_jumps(con: duckdb.DuckDBPyConnection, dataset: Dataset, frame: pl.DataFrame) -> dict[int, Reject]:
    catalog = _catalog_specs()  # noqa: F841 - read by DuckDB
    incoming = frame.select(_ROW, "source", "accelerator")  # noqa: F841 - read by DuckDB
    specs = ", ".join(SPEC_COLUMNS)
    # The row's own current version, every other source's, and the catalog the package ships where
    # history has no curated row yet (the first refresh, a rebuild), so both check the same values.
    found = con.execute(
        f"""
        with cur as (select source, accelerator, {specs} from history.accelerators where valid_to is null),
        refs as (
            select source, accelerator, false as shipped, {specs} from cur
            union all
            select ?, accelerator, true, {specs} from catalog
            where accelerator not in (select accelerator from cur where source = ?)
        )
        select i.{_ROW}, r.source, r.shipped, {", ".join(f"r.{c}" for c in SPEC_COLUMNS)}
        from incoming i join refs r on r.accelerator = i.accelerator and not (r.shipped and r.source = i.source)
        order by i.{_ROW}, r.shipped, r.source <> i.source, r.source
        """,
        [accelerator_specs.NAME, accelerator_specs.NAME],
    ).fetchall()
    rows = {r[_ROW]: r for r in frame.filter(pl.col(_ROW).is_in([f[0] for f in found])).to_dicts()}
    moves: dict[int, list[tuple[str, str]]] = {}
    for index, source, shipped, *values in found:
        row = rows[index]
        where = (
            "the catalog the package ships"
            if shipped
            else "its history version"
            if source == row["source"]
            else f"{source}'s current row"
        )
        for c, old in zip(SPEC_COLUMNS, values, strict=True):
            if _jumps_by(row[c], old, SPEC_JUMP_FACTOR):
                text = f"{c} {_text(row[c])} against {_text(old)} in {where} (x{_ratio(row[c], old)})"
                moves.setdefault(index, []).append((c, text))
    out = {}
    for index, found_moves in moves.items():
        row = rows[index]
        why = (
            f"moves a spec by {SPEC_JUMP_FACTOR}x or more: {'; '.join(t for _, t in found_moves)}. "
            "A datasheet figure does not change tenfold: a unit or typing mistake is held back for "
            "review, not applied"
        )
        column = found_moves[0][0]
        out[index] = _reject(dataset, row, "spec_jump", why, column, _text(row[column]))
    return out


def _gap(new: Decimal, old: Decimal) -> Decimal:
    return max(new / old, old / new)


def _jumps_by(new: Decimal | None, old: Decimal | None, factor: int) -> bool:
    return bool(new and old) and _gap(new, old) >= factor


def _ratio(new: Decimal, old: Decimal) -> str:
    ratio = new / old
    return f"{ratio:,.0f}" if ratio >= 1 else f"1/{1 / ratio:,.0f}"


def _text(value: Decimal | None) -> str:
    return "null" if value is None else format(value.normalize(), "f")


def _accelerator_bands(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, frame: pl.DataFrame
) -> dict[int, Reject]:
    low, high = BAND_USD_PER_GPU_HOUR_PER_TBPS
    catalog = _catalog_specs()  # noqa: F841 - read by DuckDB
    mapped = frame.filter(pl.col("accelerator").is_not_null())
    rates = mapped.select(_ROW, "accelerator", "usd_per_gpu_hour")  # noqa: F841 - read by DuckDB
    found = con.execute(
        f"""
        with specs as (
            select accelerator, memory_bandwidth_tbps as tbps, 0 as rank from history.accelerators
            where valid_to is null and source = ? and memory_bandwidth_tbps > 0
            union all select accelerator, memory_bandwidth_tbps, 1 from catalog where memory_bandwidth_tbps > 0
            union all select accelerator, memory_bandwidth_tbps, 2 from history.accelerators
            where valid_to is null and source <> ? and memory_bandwidth_tbps > 0
        ), best as (select accelerator, arg_min(tbps, rank) as tbps from specs group by accelerator)
        select r.{_ROW}, b.tbps from rates r join best b using (accelerator)
        where r.usd_per_gpu_hour < b.tbps * {low} or r.usd_per_gpu_hour > b.tbps * {high}
        """,
        [accelerator_specs.NAME, accelerator_specs.NAME],
    ).fetchall()
    rows = {r[_ROW]: r for r in frame.filter(pl.col(_ROW).is_in([f[0] for f in found])).to_dicts()}
    out = {}
    for index, tbps in found:
        row = rows[index]
        price = row["usd_per_gpu_hour"]
        band = f"{_text(tbps * low)}-{_text(tbps * high)}"
        why = (
            f"costs {_text(price)} USD per GPU-hour, outside the {band} band of {row['accelerator']} "
            f"({_text(tbps)} TB/s x {low}-{high} USD per GPU-hour per TB/s): a per-instance price taken "
            "as per-GPU, or the wrong accelerator"
        )
        out[index] = _reject(dataset, row, "accelerator_price_band", why, "usd_per_gpu_hour", _text(price))
    return out


@cache
def _catalog_specs() -> pl.DataFrame:
    (payload,) = accelerator_specs.embedded()
    rows = accelerator_specs.parse(payload.body, observed_at=datetime.now(UTC), origin=payload.url).rows
    return rows.select("accelerator", *SPEC_COLUMNS)


def _launch_prices(con, dataset: Dataset, frame: pl.DataFrame) -> dict[int, Reject]:
    low, high = LAUNCH_PRICE_USD
    out = {}
    for row in frame.filter(~pl.col("launch_price_usd").is_between(low, high)).to_dicts():
        price = _text(row["launch_price_usd"])
        why = (
            f"has launch_price_usd {price}, outside {low}-{high:,} USD: a price in other units "
            "(cents, thousands) or multiplied by a unit mistake"
        )
        out[row[_ROW]] = _reject(dataset, row, "price_band", why, "launch_price_usd", price)
    return out
