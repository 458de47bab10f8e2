"""Which source modules feed which dataset, in the order they are run."""

from __future__ import annotations

import importlib
from types import ModuleType

from sources.schemas import DATASETS

SOURCES: dict[str, tuple[str, ...]] = {
    "token_prices": ("genai_prices", "token_curated", "litellm", "openrouter"),
    "gpu_rates": ("gpu_curated", "skypilot", "azure", "vastai", "runpod"),
    "accelerators": ("accelerator_specs", "epoch"),
    "eval_results": ("eval_results", "aider"),
    "throughput_measurements": ("throughput",),
}
# What analysts may type for a dataset on the command line.
DATASET_ALIASES = {"evals": "eval_results", "throughput": "throughput_measurements"}


def modules(dataset: str) -> list[ModuleType]:
    return [importlib.import_module(f"sources.{name}") for name in SOURCES[dataset]]


def module_for(dataset: str, source: str) -> ModuleType:
    """The module of ``dataset`` whose NAME is ``source`` (e.g. token_prices + curated)."""
    dataset = DATASET_ALIASES.get(dataset, dataset)
    if dataset not in DATASETS:
        raise KeyError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    found = [m for m in modules(dataset) if m.NAME == source]
    if not found:
        names = ", ".join(m.NAME for m in modules(dataset))
        raise KeyError(f"unknown source {source!r} for {dataset}; known: {names}")
    return found[0]
