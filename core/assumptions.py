"""The assumptions analysts vary, with documented defaults, and a stable id for each set of values.

Defaults cite the four seed documents of the project brief as `seed NNN:Lnn` (document and line; the
methodology doc lists them) or say plainly that they are our own judgement. Seed figures are reference
points, not truths: where the seeds disagree the choice is explained.

    >>> a = Assumptions.from_mapping({"pue": 1.2, "utilization_grid": [0.5, 0.9]})
    >>> a.pue, a.utilization_grid
    (1.2, (0.5, 0.9))
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class SizeClass:
    """A model-size class: a representative open-weights architecture and the API models it is compared with.

    The architecture feeds the KV-cache term of the roofline. The default classes use the Llama 3.1
    family's published shapes (8B: 32 layers; 70B: 80 layers; 405B: 126 layers; all with 8 KV heads of
    dimension 128 under grouped-query attention; seed 003:L1848 gives the 70B's 64 query / 8 KV heads).
    reference_api_models are canonical model ids (`creator/name`, as in token_prices.canonical_model)
    that the breakeven mart prices at their first-party list price, so each must be sold by its own
    creator: Meta sells no Llama tokens itself, so the Llama twins of the classes cannot be references
    (their third-party prices feed marts.implied_gross_margin instead). The defaults are our judgement of
    a similar tier: for 8B, Mistral's own open-weights 8B and GPT-4o mini; for 70B, the small closed
    models of 2025 that Llama 3.3 70B is usually ranked with; for 405B, GPT-4.1 and the open-weights
    DeepSeek V3.2 as its lab sells it (a 671B mixture of experts: a price reference, not the same shape).

    A mixture of experts also states active_params_b (parameters each token runs), experts (routed
    experts per layer) and experts_per_token (routed experts each token picks); a dense model leaves
    them at their defaults (active = total, 1 of 1). Memory is sized on params_b, the compute of a token
    on active_params_b, and the bytes a decode step reads on `core.selfhost.moe_params_read_b`. The MoE
    defaults use the published configurations: DeepSeek-V3 (671B total, 37B active, 61 layers, 256
    routed experts of which 8 per token; its multi-head latent attention caches 512 + 64 values per token
    and layer, written here as 1 KV head of dimension 288 so that 2 x 1 x 288 = 576), Qwen3-235B-A22B
    (94 layers, 4 KV heads of 128, 128 experts, 8 per token) and gpt-oss-120b (116.8B total, 5.1B active,
    36 layers, 8 KV heads of 64, 128 experts, 4 per token; its sliding-window layers, which cache at most
    128 tokens, are counted as full ones: a KV cache overstated by up to 2x).
    """

    params_b: float
    layers: int
    kv_heads: int
    head_dim: int
    reference_api_models: tuple[str, ...]
    active_params_b: float = None  # type: ignore[assignment]  # None: dense, set to params_b
    experts: int = 1
    experts_per_token: int = 1

    def __post_init__(self) -> None:
        if self.active_params_b is None:
            object.__setattr__(self, "active_params_b", self.params_b)
        _normalise_numbers(self)
        object.__setattr__(self, "reference_api_models", tuple(self.reference_api_models))
        if self.params_b <= 0 or min(self.layers, self.kv_heads, self.head_dim) <= 0:
            raise ValueError(
                f"a size class needs positive params_b, layers, kv_heads and head_dim, got {self}"
            )
        if not self.reference_api_models:
            raise ValueError("a size class needs at least one reference API model")
        if not 0 < self.active_params_b <= self.params_b:
            raise ValueError(f"a size class needs 0 < active_params_b <= params_b, got {self}")
        if self.active_params_b < self.params_b and not 1 <= self.experts_per_token < self.experts:
            raise ValueError(f"a mixture of experts needs 1 <= experts_per_token < experts, got {self}")


def _default_size_classes() -> Mapping[str, SizeClass]:
    return {
        "8b": SizeClass(8.0, 32, 8, 128, ("mistralai/ministral-8b", "openai/gpt-4o-mini")),
        "70b": SizeClass(70.0, 80, 8, 128, ("openai/gpt-4.1-mini", "google/gemini-2.5-flash")),
        "405b": SizeClass(405.0, 126, 8, 128, ("openai/gpt-4.1", "deepseek/deepseek-v3.2")),
        "deepseek-v3-671b": SizeClass(
            671.0,
            61,
            1,
            288,
            ("deepseek/deepseek-v3.2",),
            active_params_b=37.0,
            experts=256,
            experts_per_token=8,
        ),
        # Alibaba sells Qwen tokens under provider ids that are not its creator id, so no first-party
        # Qwen price exists; DeepSeek's own V3.2, an open mixture of experts of the same tier, stands in.
        "qwen3-235b-a22b": SizeClass(
            235.0,
            94,
            4,
            128,
            ("deepseek/deepseek-v3.2",),
            active_params_b=22.0,
            experts=128,
            experts_per_token=8,
        ),
        "gpt-oss-120b": SizeClass(
            116.8, 36, 8, 64, ("openai/gpt-oss-120b",), active_params_b=5.1, experts=128, experts_per_token=4
        ),
    }


def _default_bytes_per_param() -> Mapping[str, float]:
    # seed 002:L165-168 (FP16/BF16 2, INT8 1, INT4 0.5 bytes per parameter); FP8 is one byte like INT8.
    return {"bf16": 2.0, "fp8": 1.0, "int4": 0.5}


@dataclass(frozen=True)
class Assumptions:
    """One set of assumptions behind the derived tables. Build with `Assumptions()` or `from_mapping`."""

    # 3:1 input:output, the blend price trackers use; DESIGN.md fixes it as the index's blend.
    blend_input_share: float = 0.75

    # Share of paid hours the hardware serves traffic. The grid brackets the seeds' thresholds: cloud
    # wins below 40%, on-prem at 60%+ (seed 003:L168, L1358-1366), industry crossover 50-60%.
    utilization_grid: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

    # Tokens per month, 1-3-10 steps from 1M to 30B. Seed 003 places the API/self-host breakeven at
    # 10-50M tokens/month (L60, L2293) and self-hosting "almost always" ahead above 100M; seed 002's
    # largest tier is 500M+ tokens/day, about 15B/month.
    monthly_token_grid: tuple[int, ...] = (
        1_000_000,
        3_000_000,
        10_000_000,
        30_000_000,
        100_000_000,
        300_000_000,
        1_000_000_000,
        3_000_000_000,
        10_000_000_000,
        30_000_000_000,
    )

    # Industrial electricity, USD/kWh. Seed 003:L138 prices 2.32 MW saved at $2M/year, i.e. $0.0984/kWh;
    # its other figure (L140-142, $667K a year on 150 kW, $0.51/kWh) is inconsistent and not used.
    usd_per_kwh: float = 0.10

    # Facility power / IT power. Seed 003:L1227: Uptime average 1.59, colocation 1.5-1.6, hyperscalers
    # below 1.4; L1189: AI datacenter specs aim below 1.3. We assume a modern AI hall.
    pue: float = 1.3

    # Wall power of the server per kW of GPU TDP: a DGX H100 is rated 10.2 kW for 8 x 700 W GPUs
    # (seed 003:L2151), 10.2 / 5.6 = 1.82. Rated, not average: the same note measures <= 76% of TDP.
    system_power_factor: float = 1.8

    # Straight-line life of owned hardware. Seed 002:L86 assumes 3 years; seed 003 reports 4-6-year
    # accounting schedules but an economic life that may be under 4 (L149-157). 3 is the conservative one.
    depreciation_years: float = 3.0

    # Operations (staff, facility, network, maintenance) per owned GPU-hour. Seed 003:L1343 puts
    # operations and people at 30-40% of real TCO; 30% of the 8 x H100 node's $3.21/GPU-hour all-in
    # 3-year TCO ($675K, seed 003:L1362) is $0.96.
    ops_usd_per_gpu_hour: float = 0.96

    # The GPU that ops_usd_per_gpu_hour is calibrated on (an H100 SXM, 700 W). Operations per owned
    # GPU-hour scale with the GPU's TDP: staff, space, cooling and maintenance grow with the power a GPU
    # puts in the rack (colocation is sold per kW), so an A10 (150 W) carries 150/700 of the H100's $0.96.
    ops_reference_tdp_w: float = 700.0

    # Capex per GPU is a server share: the GPU plus its share of the host (CPUs, memory, NICs, storage,
    # chassis and the server's own network ports). A DGX H100 sold for about $270,000 (SemiAnalysis, via
    # Epoch AI's training-cost-trends notebook) against 8 H100s at $25,000-30,000 each (Raymond James, same
    # source): (270,000 - 8 x 27,500) / (8 x 27,500) = 0.227 of the GPUs' price is the host.
    host_share_of_gpu_price: float = 0.227

    # Accelerators whose launch_price_usd already is a server share, so no host share is added: Epoch's
    # H100 SXM price is the DGX H100 list price / 8 (sources/catalog/accelerators.csv, its note).
    server_share_priced: tuple[str, ...] = ("nvidia-h100-sxm-80gb",)

    # 730 h = 8760 / 12, the month seed 003 uses ($12.33/h -> $9,000.90/month, L534).
    hours_per_month: float = 730.0

    # Achieved share of peak memory bandwidth in decode. Not in the seeds: our judgement, inside the
    # 60-85% usually quoted for tuned serving stacks.
    bw_efficiency: float = 0.7

    # Achieved share of peak dense compute (MFU). Seed 003:L213 and L2089 report 41-48% (47% on H100).
    compute_efficiency: float = 0.45

    # Efficiency kept when a model is split across GPUs: seed 002:L107 and L429 give a 20-30% loss from
    # inter-GPU communication. Applied to summed bandwidth and compute when gpus > 1.
    multi_gpu_efficiency: float = 0.75

    # Concurrent sequences per decode step. Seed 003:L164 and L1282: batching 32 requests cuts the
    # per-token cost 85%.
    batch_size: int = 32

    # Tokens held in each sequence's KV cache, and bytes per cached element (BF16 KV cache).
    context_tokens: int = 4096
    kv_bytes_per_elem: float = 2.0

    # Operating points of marts.self_host_operating_points: every batch size and context length of these
    # grids, the batch limited by what fits beside the weights (max_batch_in_memory). Batch 1 is the
    # latency floor, 256 where the H200 measurements (reference/measured_throughput_h200.csv) stop; 1k-32k
    # tokens spans chat turns to long documents. Our judgement.
    batch_grid: tuple[int, ...] = (1, 8, 32, 64, 128, 256)
    context_grid: tuple[int, ...] = (1024, 4096, 16384, 32768)
    # Per-token latency target of the cheapest operating point, ms per output token of each sequence (one
    # decode step): 50 ms is 20 tokens/s per user, faster than reading. 0 = no target.
    latency_target_ms_per_token: float = 50.0

    # Weight bytes by dtype (seed 002:L165-168).
    bytes_per_param: Mapping[str, float] = field(default_factory=_default_bytes_per_param)

    # Weights x overhead must fit in memory: seed 002:L157-168 gives 1.2-1.4 (framework, buffers, a small
    # KV cache); we take the low end because the roofline counts the batch's KV cache separately.
    memory_overhead: float = 1.2

    size_classes: Mapping[str, SizeClass] = field(default_factory=_default_size_classes)

    # The Margin Compression Index is 100 in this month (ISO date of its first day). January 2025: every
    # tier has several matched models by then and the GPU panel has begun (docs/methodology.md).
    mci_base_date: str = "2025-01-01"

    # A link of the index over fewer matched items than this is published with low_coverage set: one or
    # two relatives make a number that looks solid but is one model's (or offer's) price. Our judgement.
    mci_min_matched_items: int = 5

    # A measurement (history.throughput_measurements) replaces the roofline in marts.self_host_cost when
    # it is of the same accelerator, GPU count and dtype, a decode measurement whose parameter count lies
    # within measured_params_tolerance of the size class's and whose batch and context lie within their
    # tolerances (relative) of batch_size and context_tokens. Our judgement: 10% tells 8B from 7B shapes
    # apart but not 8.03B from 8B; 25% keeps decode throughput, near-linear in batch at small batches,
    # within about a quarter of the assumed operating point.
    measured_params_tolerance: float = 0.10
    measured_batch_tolerance: float = 0.25
    measured_context_tolerance: float = 0.25

    # Share of an eval run's tokens that were input, for a run that published its cost but not its tokens
    # (intermediate.int_eval_runs): the median of the 23 runs of Aider's polyglot leaderboard that publish
    # both counts (Aider-AI/aider@5dc9490, range 0.37-0.91). Cached reads are not modelled (they lower a
    # published cost, so derived tokens are a lower bound).
    derived_tokens_input_share: float = 0.69

    def __post_init__(self) -> None:
        _normalise_numbers(self)
        # TOML reads an unquoted date as a date; the set keeps ISO text so its id stays JSON-hashable.
        object.__setattr__(self, "mci_base_date", date.fromisoformat(str(self.mci_base_date)).isoformat())
        # Freeze the containers too, so a set's values (and so its id) cannot change after it is made.
        object.__setattr__(self, "utilization_grid", tuple(float(u) for u in self.utilization_grid))
        object.__setattr__(self, "monthly_token_grid", tuple(int(t) for t in self.monthly_token_grid))
        object.__setattr__(self, "server_share_priced", tuple(str(a) for a in self.server_share_priced))
        object.__setattr__(self, "batch_grid", tuple(int(b) for b in self.batch_grid))
        object.__setattr__(self, "context_grid", tuple(int(c) for c in self.context_grid))
        object.__setattr__(
            self, "bytes_per_param", MappingProxyType({k: float(v) for k, v in self.bytes_per_param.items()})
        )
        object.__setattr__(
            self,
            "size_classes",
            MappingProxyType({name: _size_class(name, value) for name, value in self.size_classes.items()}),
        )
        self._validate()

    def _validate(self) -> None:
        problems = []
        for name in (
            "blend_input_share",
            "bw_efficiency",
            "compute_efficiency",
            "multi_gpu_efficiency",
            "measured_params_tolerance",
            "measured_batch_tolerance",
            "measured_context_tolerance",
            "derived_tokens_input_share",
            "host_share_of_gpu_price",
        ):
            if not 0 <= getattr(self, name) <= 1:
                problems.append(f"{name} must lie in [0, 1], got {getattr(self, name)!r}")
        if not self.utilization_grid or not all(0 < u <= 1 for u in self.utilization_grid):
            problems.append(f"utilization_grid needs values in (0, 1], got {self.utilization_grid!r}")
        if not self.monthly_token_grid or min(self.monthly_token_grid) < 0:
            problems.append(f"monthly_token_grid needs non-negative volumes, got {self.monthly_token_grid!r}")
        for name in ("batch_grid", "context_grid"):
            if not getattr(self, name) or min(getattr(self, name)) < 1:
                problems.append(f"{name} needs positive whole numbers, got {getattr(self, name)!r}")
        if self.latency_target_ms_per_token < 0:
            problems.append(
                f"latency_target_ms_per_token must not be negative, got {self.latency_target_ms_per_token!r}"
            )
        if self.pue < 1:
            problems.append(f"pue is facility power / IT power and cannot be below 1, got {self.pue!r}")
        for name in (
            "depreciation_years",
            "ops_reference_tdp_w",
            "hours_per_month",
            "batch_size",
            "context_tokens",
            "memory_overhead",
        ):
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be positive, got {getattr(self, name)!r}")
        for name in ("usd_per_kwh", "ops_usd_per_gpu_hour", "system_power_factor", "kv_bytes_per_elem"):
            if not getattr(self, name) >= 0:
                problems.append(f"{name} must not be negative, got {getattr(self, name)!r}")
        if not self.bytes_per_param or min(self.bytes_per_param.values()) <= 0:
            problems.append(f"bytes_per_param needs positive sizes, got {dict(self.bytes_per_param)!r}")
        if date.fromisoformat(self.mci_base_date).day != 1:
            problems.append(f"mci_base_date must be the first day of a month, got {self.mci_base_date!r}")
        if self.mci_min_matched_items < 1:
            problems.append(f"mci_min_matched_items must be at least 1, got {self.mci_min_matched_items!r}")
        if not self.size_classes:
            problems.append("size_classes must name at least one class")
        if problems:
            raise ValueError("invalid assumptions: " + "; ".join(problems))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Assumptions:
        """Defaults overridden by `values` (e.g. a parsed config file). Unknown keys are an error.

        A mapping-valued key (bytes_per_param, size_classes) replaces the default mapping as a whole, so
        a config file states every dtype or class it wants. Lists become tuples.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown assumption key(s): {', '.join(unknown)}; known keys: {', '.join(sorted(known))}"
            )
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, e.g. to store beside a mart."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["utilization_grid"] = list(self.utilization_grid)
        values["monthly_token_grid"] = list(self.monthly_token_grid)
        values["server_share_priced"] = list(self.server_share_priced)
        values["batch_grid"] = list(self.batch_grid)
        values["context_grid"] = list(self.context_grid)
        values["bytes_per_param"] = dict(self.bytes_per_param)
        values["size_classes"] = {
            name: {**dataclasses.asdict(size), "reference_api_models": list(size.reference_api_models)}
            for name, size in self.size_classes.items()
        }
        return values

    def __hash__(self) -> int:
        # The generated hash would hash the read-only mappings, which are unhashable.
        return hash(self.assumption_set_id())

    def assumption_set_id(self) -> str:
        """12 hex characters of the SHA-256 of the values: the same values give the same id on any machine."""
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _size_class(name: str, value: SizeClass | Mapping[str, Any]) -> SizeClass:
    if isinstance(value, SizeClass):
        return value
    known = {f.name for f in dataclasses.fields(SizeClass)}
    needed = {f.name for f in dataclasses.fields(SizeClass) if f.default is dataclasses.MISSING}
    unknown = sorted(set(value) - known)
    missing = sorted(needed - set(value))
    if unknown or missing:
        raise ValueError(
            f"size class {name!r}: unknown key(s) {unknown}, missing key(s) {missing}; "
            f"expected {sorted(known)}"
        )
    return SizeClass(**value)


def _normalise_numbers(instance: object) -> None:
    """Store float fields as float and int fields as int, so 3 and 3.0 give one assumption set id."""
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        if f.type == "float":
            object.__setattr__(instance, f.name, float(value))
        elif f.type == "int":
            if value != int(value):
                raise ValueError(f"{f.name} must be a whole number, got {value!r}")
            object.__setattr__(instance, f.name, int(value))
