"""The assumption set of a run, as tables the SQL models join: meta.assumptions (one row),
meta.size_classes and meta.dtypes."""

from __future__ import annotations

import duckdb

from core.assumptions import Assumptions
from warehouse.db import document

_SCALARS = {
    "blend_input_share": ("double", "Input share of the blended price (0.75 = 3:1 input:output)."),
    "usd_per_kwh": ("double", "Electricity price, USD per kWh."),
    "pue": ("double", "Power usage effectiveness: facility power / IT power."),
    "system_power_factor": ("double", "Server wall power per unit of GPU TDP."),
    "depreciation_years": ("double", "Straight-line life of owned hardware, years."),
    "ops_usd_per_gpu_hour": (
        "double",
        "Operations cost per owned GPU-hour of a GPU of ops_reference_tdp_w, USD; others scale by TDP.",
    ),
    "ops_reference_tdp_w": ("double", "TDP (W) of the GPU ops_usd_per_gpu_hour is calibrated on."),
    "host_share_of_gpu_price": ("double", "Host share of a server, as a share of its GPUs' price."),
    "server_share_priced": ("varchar[]", "Accelerators whose launch price already is a server share."),
    "hours_per_month": ("double", "Hours in a month."),
    "bw_efficiency": ("double", "Achieved share of peak memory bandwidth in decode."),
    "compute_efficiency": ("double", "Achieved share of peak dense compute (MFU)."),
    "multi_gpu_efficiency": ("double", "Efficiency kept when a model is split across GPUs."),
    "batch_size": ("bigint", "Concurrent sequences per decode step."),
    "context_tokens": ("bigint", "Tokens in each sequence's KV cache."),
    "kv_bytes_per_elem": ("double", "Bytes per cached KV element."),
    "batch_grid": ("bigint[]", "Batch sizes of the operating-point grid."),
    "context_grid": ("bigint[]", "Context lengths (tokens) of the operating-point grid."),
    "latency_target_ms_per_token": ("double", "Per-token latency target, ms per output token; 0 = none."),
    "memory_overhead": ("double", "Weights x this must fit in GPU memory."),
    "utilization_grid": ("double[]", "Utilizations the grids are computed at."),
    "monthly_token_grid": ("bigint[]", "Monthly token volumes of the API-vs-self-host curves."),
    "mci_base_date": ("date", "Month in which the Margin Compression Index is 100."),
    "mci_min_matched_items": (
        "bigint",
        "Fewest matched items behind an index link not flagged low_coverage.",
    ),
    "measured_params_tolerance": (
        "double",
        "A measurement stands for a size class whose params_b lies within this share of its own.",
    ),
    "measured_batch_tolerance": ("double", "... and whose batch lies within this share of batch_size."),
    "measured_context_tolerance": (
        "double",
        "... and whose context lies within this share of context_tokens.",
    ),
    "derived_tokens_input_share": (
        "double",
        "Input share of an eval run's tokens where they are derived from its published cost.",
    ),
}


def write(con: duckdb.DuckDBPyConnection, assumptions: Assumptions) -> str:
    """Replace the meta assumption tables with this set; returns its assumption_set_id."""
    set_id = assumptions.assumption_set_id()
    values = assumptions.as_dict()
    columns = ", ".join(f"?::{kind} as {name}" for name, (kind, _) in _SCALARS.items())
    con.execute(
        f"create or replace table meta.assumptions as select ?::varchar as assumption_set_id, {columns}",
        [set_id, *(values[name] for name in _SCALARS)],
    )
    con.execute(
        "create or replace table meta.size_classes (size_class varchar, params_b double, layers bigint, "
        "kv_heads bigint, head_dim bigint, reference_api_models varchar[], active_params_b double, "
        "experts bigint, experts_per_token bigint)"
    )
    con.executemany(
        "insert into meta.size_classes values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                name,
                c["params_b"],
                c["layers"],
                c["kv_heads"],
                c["head_dim"],
                c["reference_api_models"],
                c["active_params_b"],
                c["experts"],
                c["experts_per_token"],
            )
            for name, c in values["size_classes"].items()
        ],
    )
    con.execute("create or replace table meta.dtypes (dtype varchar, bytes_per_param double)")
    con.executemany("insert into meta.dtypes values (?, ?)", list(values["bytes_per_param"].items()))
    _document(con)
    return set_id


def _document(con: duckdb.DuckDBPyConnection) -> None:
    document(
        con,
        "meta.assumptions",
        "The assumption set the marts were computed with (one row).",
        {"assumption_set_id": "Short hash of every value; marts carry it to say which set produced them."}
        | {name: doc for name, (_, doc) in _SCALARS.items()},
    )
    document(
        con,
        "meta.size_classes",
        "Model-size classes of the self-host and breakeven marts.",
        {
            "size_class": "Name of the class (8b, 70b, 405b, deepseek-v3-671b, ...).",
            "params_b": "Parameters, billions.",
            "layers": "Transformer layers.",
            "kv_heads": "Key/value heads (grouped-query attention).",
            "head_dim": "Dimension of each head.",
            "reference_api_models": "API models compared with self-hosting this class.",
            "active_params_b": "Parameters each token runs, billions (= params_b for a dense model).",
            "experts": "Routed experts per layer (1 for a dense model).",
            "experts_per_token": "Routed experts each token picks (1 for a dense model).",
        },
    )
    document(
        con,
        "meta.dtypes",
        "Weight precisions and their bytes per parameter.",
        {
            "dtype": "Weight precision (bf16, fp8, int4).",
            "bytes_per_param": "Bytes each parameter takes in memory.",
        },
    )
