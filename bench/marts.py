"""5. A 4M-cell breakeven grid with the core formulas in DuckDB vs the same formulas in Python loops.

Cells: GPU offers x size classes x weight dtypes x utilizations x monthly volumes (the default
assumption set's grids). Per cell: GPUs to hold the weights, KV cache, roofline decode throughput,
self-hosted USD per million tokens, monthly self-host and API bills, and the breakeven volume.

The grid is one SQL query over the core macros (see `_sql`: the deployment-level formulas once per
deployment, then crossed with the two grids), read as Arrow; storing it as a table is timed beside
it, and so is polars over the core expressions. The references: `core.scalar` called per cell (the
notebook API, one polars evaluation per call: timed on a sample and scaled), and the same arithmetic written as plain Python floats
(timed on a tenth of the grid and scaled). Results are compared cell by cell on the samples.
"""

from __future__ import annotations

import math
import time

import duckdb
import polars as pl

from bench import synthetic
from bench.common import Result, Sizes, say
from core import Assumptions

# USD per million tokens (3:1 blend) of an API model of each class: the comparison the grid answers.
API_PRICE = {"8b": 0.10, "70b": 0.60, "405b": 3.00}
COLUMNS = (
    "gpus",
    "tokens_per_second",
    "self_host_usd_per_mtok",
    "self_host_monthly",
    "api_monthly",
    "breakeven",
)


def _dimensions(sizes: Sizes) -> dict[str, pl.DataFrame]:
    a = Assumptions()
    accelerators = synthetic.catalog_accelerators()
    offers = (
        synthetic.gpu_offers(sizes.grid_offers, accelerators=accelerators)
        .join(accelerators, on="accelerator")
        .select(
            pl.int_range(pl.len()).alias("offer"),
            pl.col("usd_per_gpu_hour").cast(pl.Float64),
            "memory_gb",
            "memory_bandwidth_tbps",
            "bf16_dense_tflops",
        )
    )
    classes = pl.DataFrame(
        [
            {
                "size_class": name,
                "params_b": c.params_b,
                "layers": c.layers,
                "kv_heads": c.kv_heads,
                "head_dim": c.head_dim,
                "api_usd_per_mtok": API_PRICE[name],
            }
            # The dense classes: a mixture of experts reads other weights per token, which the
            # plain-float reference loop does not model.
            for name, c in a.size_classes.items()
            if name in API_PRICE
        ]
    )
    dtypes = pl.DataFrame(
        {"dtype": list(a.bytes_per_param), "bytes_per_param": list(a.bytes_per_param.values())}
    )
    utilization = pl.DataFrame({"utilization": list(a.utilization_grid)})
    volume = pl.DataFrame({"monthly_tokens": [float(v) for v in a.monthly_token_grid]})
    return {
        "offers": offers,
        "classes": classes,
        "dtypes": dtypes,
        "utilization": utilization,
        "volume": volume,
    }


def _cells(dims: dict[str, pl.DataFrame]) -> pl.DataFrame:
    grid = dims["offers"]
    for name in ("classes", "dtypes", "utilization", "volume"):
        grid = grid.join(dims[name], how="cross")
    return grid.with_row_index("cell")


def _sql(a: Assumptions, dims: dict[str, pl.DataFrame]) -> str:
    """The grid as one query: what depends on the deployment is evaluated once per deployment.

    GPUs, throughput and the breakeven volume depend only on the offer, size class and dtype (40k
    deployments), so the roofline's nested macros expand over 40k rows, not 4M; the crossing with
    the utilization and volume grids then evaluates only the three formulas that depend on them.
    Cell numbers follow `_cells`' order, so the rows compare one for one with the Python loops.
    """
    # A model split over several GPUs keeps multi_gpu_efficiency of their summed bandwidth and compute.
    scale = f"gpus * (case when gpus > 1 then {a.multi_gpu_efficiency} else 1 end)"
    n_classes, n_dtypes = dims["classes"].height, dims["dtypes"].height
    n_util, n_volume = dims["utilization"].height, dims["volume"].height
    return f"""
        with sized as (
            select o.i * {n_classes * n_dtypes} + c.i * {n_dtypes} + d.i as deployment,
                   usd_per_gpu_hour, api_usd_per_mtok, params_b, bytes_per_param, memory_bandwidth_tbps,
                   bf16_dense_tflops,
                   gpus_needed(params_b, bytes_per_param, {a.memory_overhead}, memory_gb) as gpus,
                   kv_cache_bytes(layers, kv_heads, head_dim, {a.context_tokens}, {a.batch_size},
                                  {a.kv_bytes_per_elem}) as kv_bytes
            from offers o, classes c, dtypes d
        ), deployments as materialized (
            select deployment, usd_per_gpu_hour, api_usd_per_mtok, gpus, usd_per_gpu_hour * gpus as usd_per_hour,
                   decode_tokens_per_second(params_b, bytes_per_param, memory_bandwidth_tbps * {scale},
                                            bf16_dense_tflops * {scale}, {a.batch_size}, kv_bytes,
                                            {a.bw_efficiency}, {a.compute_efficiency}) as tokens_per_second,
                   breakeven_monthly_tokens(usd_per_gpu_hour * gpus * {a.hours_per_month}, api_usd_per_mtok)
                       as breakeven
            from sized
        )
        select deployment * {n_util * n_volume} + u.i * {n_volume} + v.i as cell, gpus, tokens_per_second,
               self_host_cost_per_mtok(usd_per_gpu_hour, gpus, tokens_per_second, utilization)
                   as self_host_usd_per_mtok,
               self_host_monthly_usd(monthly_tokens, usd_per_hour, tokens_per_second, utilization,
                                     {a.hours_per_month}) as self_host_monthly,
               api_monthly_usd(monthly_tokens, api_usd_per_mtok) as api_monthly,
               breakeven
        from deployments, utilization u, volume v
    """


def _polars(cells: pl.DataFrame, a: Assumptions) -> pl.DataFrame:
    import core

    gpus = pl.col("gpus")
    scale = gpus * pl.when(gpus > 1).then(a.multi_gpu_efficiency).otherwise(1.0)
    return (
        cells.lazy()
        .with_columns(
            gpus=core.gpus_needed("params_b", "bytes_per_param", a.memory_overhead, "memory_gb"),
            kv_bytes=core.kv_cache_bytes(
                "layers", "kv_heads", "head_dim", a.context_tokens, a.batch_size, a.kv_bytes_per_elem
            ),
        )
        .with_columns(
            tokens_per_second=core.decode_tokens_per_second(
                "params_b",
                "bytes_per_param",
                pl.col("memory_bandwidth_tbps") * scale,
                pl.col("bf16_dense_tflops") * scale,
                a.batch_size,
                "kv_bytes",
                a.bw_efficiency,
                a.compute_efficiency,
            )
        )
        .select(
            "cell",
            "gpus",
            "tokens_per_second",
            self_host_usd_per_mtok=core.self_host_cost_per_mtok(
                "usd_per_gpu_hour", "gpus", "tokens_per_second", "utilization"
            ),
            self_host_monthly=core.self_host_monthly_usd(
                "monthly_tokens",
                pl.col("usd_per_gpu_hour") * gpus,
                "tokens_per_second",
                "utilization",
                a.hours_per_month,
            ),
            api_monthly=core.api_monthly_usd("monthly_tokens", "api_usd_per_mtok"),
            breakeven=core.breakeven_monthly_tokens(
                pl.col("usd_per_gpu_hour") * gpus * a.hours_per_month, "api_usd_per_mtok"
            ),
        )
        .collect()
    )


def _scalar_cell(c: dict, a: Assumptions) -> tuple:
    """One cell through core.scalar, the plain-number API (one polars evaluation per call)."""
    from core import scalar

    gpus = scalar.gpus_needed(c["params_b"], c["bytes_per_param"], a.memory_overhead, c["memory_gb"])
    kv = scalar.kv_cache_bytes(
        c["layers"], c["kv_heads"], c["head_dim"], a.context_tokens, a.batch_size, a.kv_bytes_per_elem
    )
    scale = gpus * (a.multi_gpu_efficiency if gpus > 1 else 1.0)
    tps = scalar.decode_tokens_per_second(
        c["params_b"],
        c["bytes_per_param"],
        c["memory_bandwidth_tbps"] * scale,
        c["bf16_dense_tflops"] * scale,
        a.batch_size,
        kv,
        a.bw_efficiency,
        a.compute_efficiency,
    )
    return (
        gpus,
        tps,
        scalar.self_host_cost_per_mtok(c["usd_per_gpu_hour"], gpus, tps, c["utilization"]),
        scalar.self_host_monthly_usd(
            c["monthly_tokens"], c["usd_per_gpu_hour"] * gpus, tps, c["utilization"], a.hours_per_month
        ),
        scalar.api_monthly_usd(c["monthly_tokens"], c["api_usd_per_mtok"]),
        scalar.breakeven_monthly_tokens(
            c["usd_per_gpu_hour"] * gpus * a.hours_per_month, c["api_usd_per_mtok"]
        ),
    )


def _python_cell(c: dict, a: Assumptions) -> tuple:
    """The same formulas as plain float arithmetic: the straightforward pure-Python version."""
    gpus = math.ceil(
        c["params_b"] * 1e9 * c["bytes_per_param"] * a.memory_overhead / (c["memory_gb"] * 1e9) * (1 - 1e-12)
    )
    kv = (
        2.0
        * c["layers"]
        * c["kv_heads"]
        * c["head_dim"]
        * a.context_tokens
        * a.batch_size
        * a.kv_bytes_per_elem
    )
    scale = gpus * (a.multi_gpu_efficiency if gpus > 1 else 1.0)
    memory_s = (c["params_b"] * 1e9 * c["bytes_per_param"] + kv) / (
        c["memory_bandwidth_tbps"] * scale * 1e12 * a.bw_efficiency
    )
    compute_s = (
        2
        * c["params_b"]
        * 1e9
        * a.batch_size
        / (c["bf16_dense_tflops"] * scale * 1e12 * a.compute_efficiency)
    )
    tps = a.batch_size / max(memory_s, compute_s)
    util, tokens, usd = c["utilization"], c["monthly_tokens"], c["usd_per_gpu_hour"]
    capacity = tps * 3600 * util * a.hours_per_month
    api = c["api_usd_per_mtok"]
    return (
        float(gpus),
        tps,
        usd * gpus / (tps * 3600 * util) * 1e6,
        max(1.0, math.ceil(tokens / capacity * (1 - 1e-12))) * usd * gpus * a.hours_per_month,
        tokens * api / 1e6,
        usd * gpus * a.hours_per_month / api * 1e6 if api > 0 else None,
    )


def _close(x, y) -> bool:
    if x is None or y is None:
        return x is None and y is None
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=0.0)


def run(sizes: Sizes) -> list[Result]:
    from core.macros import macro_statements

    a = Assumptions()
    dims = _dimensions(sizes)
    cells = _cells(dims)
    n = cells.height
    con = duckdb.connect()
    for statement in macro_statements():
        con.execute(statement)
    for name, frame in dims.items():
        con.register(name, frame.with_row_index("i"))
    # The figure is the grid as a query result (Arrow), as the Python loops produce theirs in memory;
    # storing the same rows in a table is timed beside it.
    start, cpu = time.perf_counter(), time.process_time()
    by_sql = pl.from_arrow(con.execute(_sql(a, dims)).to_arrow_table()).sort("cell")
    sql_s, sql_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    con.execute(f"create table breakeven_grid as {_sql(a, dims)}")
    table_s = time.perf_counter() - start
    start = time.perf_counter()
    by_polars = _polars(cells, a)
    polars_s = time.perf_counter() - start
    mismatched = sum(
        not all(_close(x, y) for x, y in zip(r1, r2, strict=True))
        for r1, r2 in zip(
            by_sql.select(COLUMNS).iter_rows(),
            by_polars.sort("cell").select(COLUMNS).iter_rows(),
            strict=True,
        )
    )

    rows = (
        cells.to_dicts()
        if n <= sizes.grid_python_sample
        else cells.sample(sizes.grid_python_sample, seed=1).to_dicts()
    )
    start, cpu = time.perf_counter(), time.process_time()
    by_python = [_python_cell(c, a) for c in rows]
    python_s = (time.perf_counter() - start) * n / len(rows)
    python_cpu = (time.process_time() - cpu) * n / len(rows)
    scalar_rows = rows[: sizes.grid_scalar_sample]
    start = time.perf_counter()
    by_scalar = [_scalar_cell(c, a) for c in scalar_rows]
    scalar_s = (time.perf_counter() - start) * n / len(scalar_rows)

    sql_rows = dict(zip(by_sql["cell"].to_list(), by_sql.select(COLUMNS).iter_rows(), strict=True))
    python_bad = sum(
        not all(_close(x, y) for x, y in zip(sql_rows[c["cell"]], p, strict=True))
        for c, p in zip(rows, by_python, strict=True)
    )
    scalar_bad = sum(
        not all(_close(x, y) for x, y in zip(sql_rows[c["cell"]], s, strict=True))
        for c, s in zip(scalar_rows, by_scalar, strict=True)
    )
    say(
        f"  {n:,} cells: DuckDB macros {sql_s:.2f} s, polars expressions {polars_s:.2f} s; "
        f"core.scalar loop ~{scalar_s:.0f} s (timed on {len(scalar_rows):,} cells), plain Python ~{python_s:.1f} s "
        f"(timed on {len(rows):,})"
    )
    say(
        f"  equality (rel 1e-9): SQL vs polars {n - mismatched:,}/{n:,}; SQL vs plain Python "
        f"{len(rows) - python_bad:,}/{len(rows):,}; SQL vs core.scalar {len(scalar_rows) - scalar_bad:,}/{len(scalar_rows):,}"
    )
    # CPU time too: on a busy machine wall time says more about the neighbours than about the code.
    say(
        f"  CPU: SQL {sql_cpu:.2f} s (both cores), plain Python ~{python_cpu:.1f} s: "
        f"{python_cpu / sql_cpu:.1f}x; the same grid stored as a table {table_s:.2f} s"
    )
    identical = not (mismatched or python_bad or scalar_bad)
    common = [
        f"{n:,} cells; identical within 1e-9 on every compared cell: {'yes' if identical else 'NO'}",
        f"CPU time: SQL {sql_cpu:.2f} s vs plain Python ~{python_cpu:.1f} s ({python_cpu / sql_cpu:.1f}x); "
        f"stored as a table instead of read as Arrow: {table_s:.2f} s",
    ]

    def result(name: str, figure: float, reference: float, figure_label: str, reference_label: str):
        return Result(
            name,
            figure,
            reference,
            ">= 5x faster, identical",
            reference >= 5 * figure and identical,
            figure_label,
            reference_label,
            common,
            faster=True,
        )

    scalar_label = f"core.scalar per cell (timed on {len(scalar_rows):,} cells, scaled)"
    python_label = f"plain-float Python loop (timed on {len(rows):,} cells, scaled)"
    return [
        result(
            "5a grid: SQL macros vs core.scalar",
            sql_s,
            scalar_s,
            "DuckDB core macros, one query",
            scalar_label,
        ),
        result(
            "5b grid: SQL macros vs plain Python",
            sql_s,
            python_s,
            "DuckDB core macros, one query",
            python_label,
        ),
        result(
            "5c grid: polars core vs plain Python",
            polars_s,
            python_s,
            "polars core expressions",
            python_label,
        ),
    ]
