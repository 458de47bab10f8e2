"""The normalized datasets. Column names here are the contract analysts and dashboards rely on;
their docs become DuckDB comments on the history tables and the data dictionary."""

from __future__ import annotations

import polars as pl

from sources.base import PRICE_DTYPE, Column, Dataset

_VALID_FROM = Column(
    "valid_from",
    pl.Date,
    "Date the values took effect as declared by the source; null in a parsed frame when the source "
    "declares none (history then uses the first observation).",
)

_VALID_TO = Column(
    "valid_to",
    pl.Date,
    "Date (exclusive) the source declares the values end, e.g. when a dated price change drops a "
    "context tier; null when the source declares no end.",
)

TOKEN_PRICES = Dataset(
    name="token_prices",
    doc="Hosted-model list prices per million tokens, one row per source, provider, model, tier, "
    "service tier and off-peak window.",
    key=("source", "provider", "model", "tier", "service_tier", "off_peak"),
    columns=(
        Column(
            "source", pl.Utf8, "Upstream the price came from (genai_prices, litellm, openrouter, curated)."
        ),
        Column("provider", pl.Utf8, "Who sells the tokens (openai, anthropic, aws, azure, openrouter, ...)."),
        Column("model", pl.Utf8, "The model id as the source writes it."),
        Column(
            "canonical_model",
            pl.Utf8,
            "One id for the same model across sources and resellers, "
            "e.g. openai/o3; null when no alias rule maps it (see marts.unmapped_models).",
        ),
        Column("tier", pl.Utf8, "Context tier: 'base', or the prompt-size threshold such as '>200k'."),
        Column("service_tier", pl.Utf8, "Service level: 'standard', or 'flex', 'priority', 'fast' ..."),
        Column("off_peak", pl.Boolean, "True for a discounted time-of-day window (e.g. DeepSeek off-peak)."),
        Column("mode", pl.Utf8, "Modality the price is for: chat, embedding, image, audio, rerank, ..."),
        Column("input_usd_per_mtok", PRICE_DTYPE, "USD per million input (prompt) tokens."),
        Column("output_usd_per_mtok", PRICE_DTYPE, "USD per million output (completion) tokens."),
        Column(
            "cache_read_usd_per_mtok",
            PRICE_DTYPE,
            "USD per million cached input tokens read; null if not stated.",
        ),
        Column(
            "cache_write_usd_per_mtok",
            PRICE_DTYPE,
            "USD per million input tokens written to the cache; null if not stated.",
        ),
        Column(
            "batch_input_usd_per_mtok",
            PRICE_DTYPE,
            "USD per million input tokens through the batch API; null if not stated.",
        ),
        Column(
            "batch_output_usd_per_mtok",
            PRICE_DTYPE,
            "USD per million output tokens through the batch API; null if not stated.",
        ),
        Column("context_window", pl.Int64, "Maximum context length in tokens, where the source states it."),
        Column(
            "max_output_tokens", pl.Int64, "Maximum output tokens per request, where the source states it."
        ),
        Column("currency", pl.Utf8, "ISO currency of every price column (USD for all current sources)."),
        _VALID_FROM,
        _VALID_TO,
    ),
)

GPU_RATES = Dataset(
    name="gpu_rates",
    doc="GPU rental rates per instance and per GPU-hour, one row per source, provider, instance "
    "type, region, zone and pricing type.",
    key=("source", "provider", "instance_type", "region", "zone", "pricing_type"),
    columns=(
        Column("source", pl.Utf8, "Upstream the rate came from (skypilot, azure, vastai, runpod, curated)."),
        Column(
            "provider",
            pl.Utf8,
            "Cloud or marketplace renting the GPU (aws, gcp, azure, lambda, runpod, ...).",
        ),
        Column("instance_type", pl.Utf8, "Instance, SKU or offer id as the provider names it."),
        Column(
            "region",
            pl.Utf8,
            "Cloud region or location as the provider names it (us-east-1, eastus), never a zone; "
            "'' when not regional.",
        ),
        Column(
            "zone",
            pl.Utf8,
            "Availability zone within the region (us-east-1a, use1-az2) where the source prices per "
            "zone; null where it prices per region. Part of the key: zones of one region are priced "
            "apart and may differ.",
        ),
        Column(
            "pricing_type",
            pl.Utf8,
            "on_demand, spot, reserved_1y, reserved_3y, committed_<N>m or marketplace.",
        ),
        Column(
            "accelerator",
            pl.Utf8,
            "Canonical accelerator id (e.g. nvidia-h100-sxm-80gb); null when the "
            "name maps to nothing (see marts.unmapped_accelerators).",
        ),
        Column("accelerator_name", pl.Utf8, "The accelerator name as the source writes it."),
        Column("gpu_count", PRICE_DTYPE, "GPUs in the instance; fractional for shared GPUs."),
        Column("usd_per_instance_hour", PRICE_DTYPE, "Price of the whole instance per hour."),
        Column("usd_per_gpu_hour", PRICE_DTYPE, "usd_per_instance_hour / gpu_count."),
        Column("currency", pl.Utf8, "ISO currency of the price columns."),
        _VALID_FROM,
    ),
)

ACCELERATORS = Dataset(
    name="accelerators",
    doc="Accelerator specifications: dense throughput per precision, memory, bandwidth, power, price.",
    key=("source", "accelerator"),
    columns=(
        Column("source", pl.Utf8, "Where the spec row came from (curated, epoch)."),
        Column("accelerator", pl.Utf8, "Canonical accelerator id."),
        Column("vendor", pl.Utf8, "nvidia, amd, google, intel, aws, ..."),
        Column("memory_gb", PRICE_DTYPE, "On-package memory in GB (1e9 bytes)."),
        Column("memory_bandwidth_tbps", PRICE_DTYPE, "Memory bandwidth in TB/s (1e12 bytes per second)."),
        Column("bf16_dense_tflops", PRICE_DTYPE, "Dense (not sparse) BF16 tensor TFLOPS."),
        Column("fp8_dense_tflops", PRICE_DTYPE, "Dense FP8 tensor TFLOPS; null where unsupported."),
        Column("int8_dense_tops", PRICE_DTYPE, "Dense INT8 tensor TOPS; null where unsupported."),
        Column("fp4_dense_tflops", PRICE_DTYPE, "Dense FP4 tensor TFLOPS; null where unsupported."),
        Column("tdp_w", PRICE_DTYPE, "Thermal design power in watts."),
        Column("interconnect", pl.Utf8, "Scale-up interconnect (NVLink 4, Infinity Fabric, ICI, PCIe ...)."),
        Column("release_date", pl.Date, "Release or general availability date."),
        Column(
            "launch_price_usd", PRICE_DTYPE, "Launch or list price in USD where published; null otherwise."
        ),
        Column("source_url", pl.Utf8, "Where the values of this row can be checked."),
        _VALID_FROM,
    ),
)

EVAL_RESULTS = Dataset(
    name="eval_results",
    doc="Task pass rates and tokens per attempt per model: the denominator of cost per correct output.",
    key=("source", "model", "task"),
    columns=(
        Column("source", pl.Utf8, "Who measured it: a leaderboard, a paper or the analyst's own eval run."),
        Column("model", pl.Utf8, "The model id as the source writes it."),
        Column("canonical_model", pl.Utf8, "One id for the same model across sources; null when unmapped."),
        Column("task", pl.Utf8, "The task or benchmark (e.g. aider-code-editing, support-triage)."),
        Column("pass_rate", PRICE_DTYPE, "Share of attempts judged correct, 0..1 (independent attempts)."),
        Column("n", pl.Int64, "Attempts the pass rate is measured on; null when not published."),
        Column("mean_input_tokens", PRICE_DTYPE, "Mean input tokens per attempt."),
        Column(
            "mean_output_tokens", PRICE_DTYPE, "Mean output tokens per attempt (reasoning tokens included)."
        ),
        Column(
            "mean_cached_input_tokens",
            PRICE_DTYPE,
            "Mean input tokens per attempt served from the cache; null = none.",
        ),
        Column(
            "tokens_basis",
            pl.Utf8,
            "measured (the source counted tokens), assumed (our stated assumption) or derived_from_cost (the"
            " source published only what the run cost: intermediate.int_eval_runs derives the tokens from the"
            " prices in force on the run's date; the token columns are null here).",
        ),
        Column(
            "cost_per_attempt_usd",
            PRICE_DTYPE,
            "What one attempt cost as the source published it (a run's total cost / attempts), USD at the"
            " prices of the run's date; null when not published.",
        ),
        Column("source_url", pl.Utf8, "Where the pass rate can be checked."),
        _VALID_FROM,
    ),
)

THROUGHPUT_MEASUREMENTS = Dataset(
    name="throughput_measurements",
    doc="Measured inference throughput: tokens per second of a model shape on a number of accelerators, "
    "per engine, precision, phase, batch and context; the measured alternative to the roofline.",
    key=(
        "source",
        "accelerator_name",
        "gpus",
        "engine",
        "engine_version",
        "model",
        "dtype",
        "phase",
        "batch",
        "context_tokens",
        "prompt_tokens",
    ),
    columns=(
        Column("source", pl.Utf8, "Who published or took the measurement (curated, or a user's file)."),
        Column("accelerator_name", pl.Utf8, "The accelerator as the source writes it."),
        Column(
            "accelerator",
            pl.Utf8,
            "Canonical accelerator id; null when the name maps to nothing (then no mart uses the row).",
        ),
        Column("gpus", pl.Int64, "Accelerators the model ran on (the tensor-parallel degree)."),
        Column("engine", pl.Utf8, "Serving engine or framework: pytorch, vllm, tensorrt-llm, nim, ..."),
        Column("engine_version", pl.Utf8, "Its version as published; '' when not stated."),
        Column(
            "model", pl.Utf8, "The model or model shape measured (e.g. llama3-8b, llama-3.3-70b-instruct)."
        ),
        Column("params_b", PRICE_DTYPE, "Total parameters, billions."),
        Column(
            "active_params_b", PRICE_DTYPE, "Parameters active per token, billions (= params_b if dense)."
        ),
        Column("layers", pl.Int64, "Transformer layers; null when not stated."),
        Column("kv_heads", pl.Int64, "Key/value heads per layer; null when not stated."),
        Column("head_dim", pl.Int64, "Dimension of each head; null when not stated."),
        Column("dtype", pl.Utf8, "Weight precision: bf16, fp8, int4, fp4, ..."),
        Column(
            "phase",
            pl.Utf8,
            "decode (tokens/s of decode steps alone), prefill (prompt tokens/s) or serving (output tokens/s "
            "of whole requests, prefill included, as load generators report).",
        ),
        Column("batch", pl.Int64, "Concurrent sequences (decode, prefill) or concurrent requests (serving)."),
        Column(
            "context_tokens",
            pl.Int64,
            "Tokens in each sequence's context: the KV length for decode, the prompt for prefill, prompt + "
            "output at a request's end for serving.",
        ),
        Column(
            "prompt_tokens",
            pl.Int64,
            "Prompt tokens per request (prefill, serving); 0 for decode (no prompt is timed).",
        ),
        Column("output_tokens", pl.Int64, "Output tokens per request (serving); null otherwise."),
        Column(
            "tokens_per_second",
            PRICE_DTYPE,
            "Throughput of all the GPUs together: output tokens/s (decode, serving) or prompt tokens/s (prefill).",
        ),
        Column(
            "measured_on",
            pl.Date,
            "Date of the measurement or, for a published figure, of its publication (of its reading where the "
            "publication is undated; notes say so).",
        ),
        Column("source_url", pl.Utf8, "Where the figure can be checked."),
        Column("notes", pl.Utf8, "Method and caveats as the source states them."),
        _VALID_FROM,
    ),
)

DATASETS = {d.name: d for d in (TOKEN_PRICES, GPU_RATES, ACCELERATORS, EVAL_RESULTS, THROUGHPUT_MEASUREMENTS)}
