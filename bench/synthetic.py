"""Synthetic token-price history and GPU offers in the real dataset schemas.

The world: ``n_providers`` resellers each serving the same ``n_models`` models (a key per provider
and model, LiteLLM-style ids ``prov007/model-42``), so one canonical model has a key per provider.
Day to day about ``change_rate`` of the keys change price (mostly cuts), and a few keys appear and
disappear, which is what the live feeds show. Everything is seeded: the same arguments give the
same frames, so two runs of the benchmarks measure the same work.

Two ways in, for speed: small or daily frames are built in polars (``initial_snapshot``,
``next_day``); a history of ten million rows is generated as one SQL statement inside DuckDB
(``history_table``), because merging it day by day would take longer than the benchmark itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from sources.base import PRICE_DTYPE
from sources.schemas import GPU_RATES, TOKEN_PRICES

SOURCE = "litellm"
PRICE_COLUMNS = (
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cache_read_usd_per_mtok",
    "cache_write_usd_per_mtok",
    "batch_input_usd_per_mtok",
    "batch_output_usd_per_mtok",
)
# Price moves seen in the feeds are mostly cuts; a raise is rarer and smaller.
_FACTORS = np.array([0.5, 0.67, 0.8, 0.9, 1.1, 1.2])
_FACTOR_WEIGHTS = np.array([0.15, 0.2, 0.25, 0.2, 0.15, 0.05])
# Canonical model ids spread over this many labs, so a lab prefix is not unique to one model.
_LABS = 97


@dataclass(frozen=True)
class ChangeRates:
    """Per key and day: a price change, a disappearance; appearances are a share of keys per day."""

    change: float = 0.005
    appear: float = 0.0002
    disappear: float = 0.0002


def _keys(ids: np.ndarray, n_providers: int) -> pl.DataFrame:
    model_no = ids // n_providers
    return pl.DataFrame({"_p": ids % n_providers, "_m": model_no}).select(
        pl.lit(SOURCE).alias("source"),
        pl.format("prov{}", pl.col("_p").cast(pl.Utf8).str.zfill(3)).alias("provider"),
        pl.format("prov{}/model-{}", pl.col("_p").cast(pl.Utf8).str.zfill(3), pl.col("_m")).alias("model"),
        pl.format("org{}/model-{}", pl.col("_m") % _LABS, pl.col("_m")).alias("canonical_model"),
    )


def _milli(values: np.ndarray) -> pl.Series:
    # Prices are whole thousandths of a dollar: the float -> Decimal(18, 9) cast of k / 1000 is exact.
    return pl.Series(np.round(values, 3)).cast(PRICE_DTYPE)


def initial_snapshot(n_providers: int, n_models: int, seed: int = 0) -> pl.DataFrame:
    """One day's snapshot of ``n_providers x n_models`` keys in the TOKEN_PRICES schema."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n_providers * n_models)
    return _priced(_keys(ids, n_providers), rng)


def _priced(keys: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = keys.height
    price_in = np.round(rng.uniform(0.05, 30.0, n), 3)
    price_out = price_in * rng.integers(2, 6, n)
    null = pl.Series([None] * n, dtype=PRICE_DTYPE)
    return keys.with_columns(
        tier=pl.lit("base"),
        service_tier=pl.lit("standard"),
        off_peak=pl.lit(False),
        mode=pl.lit("chat"),
        input_usd_per_mtok=_milli(price_in),
        output_usd_per_mtok=_milli(price_out),
        cache_read_usd_per_mtok=_milli(np.maximum(price_in / 10, 0.001)),
        cache_write_usd_per_mtok=null,
        batch_input_usd_per_mtok=null,
        batch_output_usd_per_mtok=null,
        context_window=pl.Series(8192 * 2 ** rng.integers(0, 6, n)),
        max_output_tokens=pl.lit(4096, dtype=pl.Int64),
        currency=pl.lit("USD"),
        valid_from=pl.lit(None, dtype=pl.Date),
        valid_to=pl.lit(None, dtype=pl.Date),
    ).select(list(TOKEN_PRICES.schema))


def next_day(
    frame: pl.DataFrame, rng: np.random.Generator, day: int, rates: ChangeRates = ChangeRates()
) -> pl.DataFrame:
    """The snapshot a day later: some prices move, a few keys vanish, a few new ones appear."""
    n = frame.height
    changed = rng.random(n) < rates.change
    factor = np.where(changed, rng.choice(_FACTORS, n, p=_FACTOR_WEIGHTS), 1.0)
    moved = frame.with_columns(
        [
            pl.when(pl.Series(changed))
            .then((pl.col(c).cast(pl.Float64) * pl.Series(factor)).round(3).clip(0.001).cast(PRICE_DTYPE))
            .otherwise(pl.col(c))
            .alias(c)
            for c in PRICE_COLUMNS
        ]
    ).filter(pl.Series(rng.random(n) >= rates.disappear))
    n_new = int(rng.poisson(rates.appear * n))
    if not n_new:
        return moved
    providers = frame["provider"].unique().sort()
    picked = providers.gather(rng.integers(0, providers.len(), n_new))
    new_keys = pl.DataFrame({"provider": picked, "_j": np.arange(n_new)}).select(
        pl.lit(SOURCE).alias("source"),
        "provider",
        pl.format("{}/new-d{}-{}", "provider", pl.lit(day), "_j").alias("model"),
        pl.format("org{}/new-d{}-{}", pl.col("_j") % _LABS, pl.lit(day), "_j").alias("canonical_model"),
    )
    return pl.concat([moved, _priced(new_keys, rng)])


def daily_snapshots(
    n_providers: int, n_models: int, days: int, seed: int = 0, rates: ChangeRates = ChangeRates()
) -> Iterator[pl.DataFrame]:
    """``days`` consecutive daily snapshots, the first being ``initial_snapshot``."""
    rng = np.random.default_rng(seed + 1)
    frame = initial_snapshot(n_providers, n_models, seed)
    for day in range(days):
        if day:
            frame = next_day(frame, rng, day, rates)
        yield frame


def history_table(
    con,
    *,
    n_keys: int,
    versions: int,
    n_current: int,
    n_providers: int,
    start: date = date(2016, 1, 1),
    band_days: int = 365,
) -> date:
    """Fill ``history.token_prices`` with ``n_keys x versions`` SCD2 rows in one SQL statement.

    Keys ``0 .. n_current - 1`` are current (their last version is open); the others were retired.
    Version ``v`` of every key starts inside the ``v``-th band of ``band_days``, and rows are written
    version by version, which is the order daily merges append them in: the naive layout. Values and
    the open versions' ``row_hash`` are those the merge computes, so a snapshot read back from the
    open versions merges as unchanged. Returns the first day after the history (the next observation date).
    """
    from warehouse import history

    history.ensure(con, TOKEN_PRICES)
    last = versions - 1
    end = start + timedelta(days=versions * band_days + 31)
    values = list(TOKEN_PRICES.value_columns)
    # hash() spreads each key's dates and prices deterministically; DuckDB reuses select aliases.
    con.execute(
        f"""
        insert into history.token_prices by name
        select *,
               -- Only open versions are ever compared by a later merge: closed ones get a cheap
               -- placeholder, which halves the time to generate ten million rows.
               case when valid_to is null then {history._hash_expr(values)} else 'closed' end as row_hash
        from (
            select '{SOURCE}' as source,
                   'prov' || lpad((k % {n_providers})::varchar, 3, '0') as provider,
                   provider || '/model-' || (k // {n_providers}) as model,
                   'org' || ((k // {n_providers}) % {_LABS}) || '/model-' || (k // {n_providers})
                       as canonical_model,
                   'base' as tier, 'standard' as service_tier, false as off_peak, 'chat' as mode,
                   ((50 + hash(k, v) % 29950) / 1000)::decimal(18, 9) as input_usd_per_mtok,
                   (input_usd_per_mtok * (2 + hash(k) % 4))::decimal(18, 9) as output_usd_per_mtok,
                   greatest(round(input_usd_per_mtok / 10, 3), 0.001)::decimal(18, 9)
                       as cache_read_usd_per_mtok,
                   null::decimal(18, 9) as cache_write_usd_per_mtok,
                   null::decimal(18, 9) as batch_input_usd_per_mtok,
                   null::decimal(18, 9) as batch_output_usd_per_mtok,
                   (8192 * 2 ** (hash(k) % 6))::bigint as context_window,
                   4096::bigint as max_output_tokens,
                   'USD' as currency,
                   date '{start}' + (v * {band_days} + hash(k, v) % {band_days})::integer as valid_from,
                   case when v < {last}
                        then date '{start}' + ((v + 1) * {band_days} + hash(k, v + 1) % {band_days})::integer
                        when k >= {n_current} then valid_from + (1 + hash(k) % 30)::integer
                   end as valid_to,
                   valid_from::timestamptz as first_seen_at,
                   coalesce(valid_to, date '{end}')::timestamptz as last_seen_at,
                   md5('payload' || v) as payload_sha256
            from (select i // {n_keys} as v, i % {n_keys} as k from range({n_keys * versions}) r(i))
        )
        """
    )
    return end + timedelta(days=1)


def current_snapshot(con) -> pl.DataFrame:
    """The open versions of ``history.token_prices`` as a parsed LiteLLM frame (no declared dates)."""
    data = [c for c in TOKEN_PRICES.schema if c not in ("valid_from", "valid_to")]
    frame = con.execute(
        f"select {', '.join(data)} from history.token_prices where valid_to is null order by model"
    ).pl()
    return frame.with_columns(
        valid_from=pl.lit(None, dtype=pl.Date), valid_to=pl.lit(None, dtype=pl.Date)
    ).select([pl.col(c).cast(t) for c, t in TOKEN_PRICES.schema.items()])


def litellm_body(frame: pl.DataFrame) -> bytes:
    """A snapshot as the LiteLLM price map it would be read from (per-token prices, JSON)."""

    def per_token(column: str) -> pl.Expr:
        # USD per million tokens -> per token, written as a decimal exponent so nothing is rounded.
        return pl.concat_str(pl.col(column).cast(pl.Utf8), pl.lit("e-6"))

    entries = frame.select(
        pl.concat_str(
            [
                pl.lit('"'),
                "model",
                pl.lit('": {"litellm_provider": "'),
                "provider",
                pl.lit('", "mode": "'),
                "mode",
                pl.lit('", "input_cost_per_token": '),
                per_token("input_usd_per_mtok"),
                pl.lit(', "output_cost_per_token": '),
                per_token("output_usd_per_mtok"),
                pl.lit(', "cache_read_input_token_cost": '),
                per_token("cache_read_usd_per_mtok"),
                pl.lit(', "max_input_tokens": '),
                pl.col("context_window").cast(pl.Utf8),
                pl.lit(', "max_output_tokens": '),
                pl.col("max_output_tokens").cast(pl.Utf8),
                pl.lit("}"),
            ]
        )  # fmt: skip
    ).to_series()
    body = "{" + ", ".join(entries.to_list()) + "}"
    json.loads(body)  # a malformed synthetic payload would be rejected as a whole: fail here instead
    return body.encode()


def gpu_offers(n: int, seed: int = 0, accelerators: pl.DataFrame | None = None) -> pl.DataFrame:
    """``n`` GPU rental offers in the GPU_RATES schema, on the catalog's accelerators."""
    rng = np.random.default_rng(seed)
    if accelerators is None:
        accelerators = catalog_accelerators()
    names = accelerators["accelerator"]
    pick = rng.integers(0, names.len(), n)
    gpu_count = rng.choice(np.array([1, 2, 4, 8]), n)
    # Rent scales with the card's memory bandwidth (a fair proxy for its generation) plus noise.
    base = accelerators["memory_bandwidth_tbps"].cast(pl.Float64).to_numpy()[pick] * 1.1
    per_gpu = np.round(np.maximum(base * rng.uniform(0.5, 1.6, n), 0.05), 3)
    pricing = rng.choice(np.array(["on_demand", "spot", "reserved_1y", "marketplace"]), n)
    frame = pl.DataFrame(
        {
            "source": "synthetic",
            "provider": [f"cloud{i:02d}" for i in rng.integers(0, 40, n)],
            "instance_type": [f"gpu-{i}" for i in range(n)],
            "region": [f"region-{i}" for i in rng.integers(0, 12, n)],
            "zone": None,
            "pricing_type": pricing,
            "accelerator": names.gather(pick),
            "accelerator_name": names.gather(pick),
            "gpu_count": _milli(gpu_count.astype(float)),
            "usd_per_instance_hour": _milli(per_gpu * gpu_count),
            "usd_per_gpu_hour": _milli(per_gpu),
            "currency": "USD",
            "valid_from": date(2026, 1, 1),
        }
    )
    return frame.select([pl.col(c).cast(t) for c, t in GPU_RATES.schema.items()])


def catalog_accelerators() -> pl.DataFrame:
    """The curated accelerator specs that have the figures a roofline needs."""
    from importlib.resources import files

    path = files("sources") / "catalog" / "accelerators.csv"
    return (
        pl.read_csv(path.read_bytes(), infer_schema_length=0)
        .select(
            "accelerator",
            *(
                pl.col(c).cast(pl.Float64)
                for c in ("memory_gb", "memory_bandwidth_tbps", "bf16_dense_tflops", "tdp_w")
            ),
        )
        .drop_nulls()
    )
