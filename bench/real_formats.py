"""Daily payloads in each upstream's own format, at the real feeds' sizes, with day-to-day churn.

One generator per source module, each producing the bytes that source's ``parse`` reads from the
live feed: LiteLLM's price map, OpenRouter's ``/api/v1/models``, genai-prices' v2 JSON, SkyPilot
catalog ``vms.csv`` files (AWS, GCP, Lambda, and anycloud's Azure), and Vast.ai's ``/bundles``
offers. The shapes imitate the real files (fields, key spellings, mixes of modes and of CPU and GPU
rows); the values are made up.

A feed is a population of records with stable ids. Each ``next_day`` about ``Churn.change`` of the
records move price (mostly cuts, as in the feeds; a price stays between half and 1.5 times its
record's reference price, so no move looks like the unit mistakes the price-jump rules hold back),
``Churn.vanish`` disappear and ``Churn.appear`` new ones arrive. Each record's text is rendered once
and again only when it changes, so a day of 60,000 catalog rows costs a join, not a re-render.
Everything is seeded: the same arguments give the same bytes.

Each feed also says what its payload must parse to (``expected_rows``, ``expected_rejects``), which
the tests and the benchmark check against the real parser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

START = date(2025, 1, 1)
# Price moves seen in the feeds are mostly cuts; a raise is rarer and smaller (bench/synthetic.py).
_FACTORS = np.array([0.5, 0.67, 0.8, 0.9, 1.1, 1.2])
_FACTOR_WEIGHTS = np.array([0.15, 0.2, 0.25, 0.2, 0.15, 0.05])


@dataclass(frozen=True)
class Churn:
    """Per record and day: a price change, a disappearance; appearances are a share of records per day."""

    change: float = 0.005
    appear: float = 0.002
    vanish: float = 0.002


@dataclass(frozen=True)
class Payload:
    url: str
    body: bytes


def _moved(current: int, reference: int, factor: float) -> int:
    """``current`` moved by ``factor``, kept within [reference / 2, reference * 1.5] and never unchanged."""
    low, high = max(1, reference // 2), max(2, reference * 3 // 2)
    new = min(max(round(current * factor), low), high)
    if new == current:
        new = current - 1 if current > low else current + 1
    return new


def _decimal(units: int, places: int) -> str:
    """``units`` x 10^-places written as the feeds write it: no exponent, no trailing zeros."""
    whole, fraction = divmod(units, 10**places)
    digits = f"{fraction:0{places}d}".rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def _hash(*values: int) -> int:
    """A cheap deterministic spread of integers (Knuth's multiplicative hash)."""
    h = 0
    for v in values:
        h = ((h ^ v) * 2654435761) % 2**32
    return h


class Feed:
    """A population of records that churns day by day; subclasses say how a record looks and parses."""

    name = ""

    def __init__(self, size: int, *, seed: int = 0, churn: Churn = Churn(), start: date = START):
        self.rng = np.random.default_rng(seed)
        self.churn = churn
        self.start = start
        self.day = 0
        self.records: dict[int, dict[str, Any]] = {}
        self.text: dict[int, str] = {}
        self._serial = 0
        for _ in range(size):
            self._add()

    @property
    def date(self) -> date:
        return self.start + timedelta(days=self.day)

    def _add(self) -> None:
        serial = self._serial
        self._serial += 1
        record = self.new(serial)
        if record is not None:
            self.records[serial] = record
            self.text[serial] = self.render(record)

    def next_day(self) -> None:
        self.day += 1
        serials = list(self.records)
        n = len(serials)
        changed, vanished = self.rng.random((2, n))
        factors = self.rng.choice(_FACTORS, n, p=_FACTOR_WEIGHTS)
        for i in np.flatnonzero(changed < self.churn.change):
            record = self.records[serials[i]]
            if self.reprice(record, float(factors[i])):
                self.text[serials[i]] = self.render(record)
        for i in np.flatnonzero(vanished < self.churn.vanish):
            if not self.records[serials[i]].get("stable"):
                self.drop(serials[i])
        for _ in range(int(self.rng.poisson(self.churn.appear * n))):
            self._add()

    def drop(self, serial: int) -> None:
        del self.records[serial], self.text[serial]

    def expected_rows(self) -> int:
        return sum(self.rows_of(r) for r in self.records.values())

    def expected_rejects(self) -> int:
        return 0

    # What a subclass defines.
    def new(self, serial: int) -> dict[str, Any] | None:
        raise NotImplementedError

    def reprice(self, record: dict[str, Any], factor: float) -> bool:
        """Move the record's prices; False when it has none to move."""
        raise NotImplementedError

    def render(self, record: dict[str, Any]) -> str:
        raise NotImplementedError

    def rows_of(self, record: dict[str, Any]) -> int:
        raise NotImplementedError

    def payloads(self) -> list[Payload]:
        raise NotImplementedError


# The models the token feeds sell: model i of creator _LABS[i % n] has a reference input price that
# every feed selling it prices near, as resellers do (the cross-source rule compares them).
_LABS = ("meta-llama", "qwen", "mistralai", "deepseek", "google", "cohere", "acme", "nousresearch", "zai-org")
_FAMILIES = ("nova", "orca", "lumen", "atlas", "kite", "vega", "sable", "tern", "pike", "wren")
_SIZES = ("8b", "14b", "32b", "70b", "120b", "405b")


def _model(i: int) -> tuple[str, str, int, int]:
    """Model ``i``: its creator, its name, its reference input price and output multiple (milli-USD/MTok)."""
    h = _hash(i, 7)
    name = f"{_FAMILIES[h % len(_FAMILIES)]}{i}-{_SIZES[(h >> 4) % len(_SIZES)]}-instruct"
    reference = 50 + (h >> 8) % 12_000  # 0.05 to 12 USD/MTok input
    return _LABS[i % len(_LABS)], name, reference, 2 + (h >> 20) % 4


def _near(reference: int, serial: int) -> int:
    """A feed's own price for a model near its reference (0.8 to 1.25 times)."""
    return max(1, reference * (80 + _hash(serial, 3) % 46) // 100)


# ---- LiteLLM: model_prices_and_context_window.json


_LITELLM_PROVIDERS = (
    ("fireworks_ai", "fireworks_ai/accounts/fireworks/models/"),
    ("bedrock", "bedrock/"),
    ("azure_ai", "azure_ai/"),
    ("deepinfra", "deepinfra/"),
    ("together_ai", "together_ai/"),
    ("novita", "novita/"),
    ("nebius", "nebius/"),
    ("vertex_ai-language-models", "vertex_ai/"),
    ("openrouter", "openrouter/"),
    ("groq", "groq/"),
)
# (mode, share of entries): the real map's mix. Most entries are chat; about a fifth bill per image,
# second or query and give no row.
_LITELLM_MODES = (
    ("chat", 0.70),
    ("responses", 0.04),
    ("embedding", 0.05),
    ("image_generation", 0.12),
    ("audio_transcription", 0.05),
    ("rerank", 0.04),
)
_LITELLM_SAMPLE_SPEC = {
    "code_interpreter_cost_per_session": 0.0,
    "deprecation_date": "date when the model becomes deprecated in the format YYYY-MM-DD",
    "input_cost_per_token": 0.0,
    "litellm_provider": "one of https://docs.litellm.ai/docs/providers",
    "max_input_tokens": "max input tokens, if the provider specifies it",
    "max_output_tokens": "max output tokens, if the provider specifies it",
    "mode": "one of: chat, embedding, completion, image_generation, audio_transcription, audio_speech, "
    "image_generation, moderation, rerank, search",
    "output_cost_per_reasoning_token": 0.0,
    "output_cost_per_token": 0.0,
    "search_context_cost_per_query": {
        "search_context_size_high": 0.0,
        "search_context_size_low": 0.0,
        "search_context_size_medium": 0.0,
    },
    "supported_regions": ["global", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-northeast-1"],
    "supports_audio_input": True,
    "supports_function_calling": True,
    "supports_prompt_caching": True,
    "supports_reasoning": True,
    "supports_vision": True,
    "vector_store_cost_per_gb_per_day": 0.0,
}


def _per_token(milli_per_mtok: int) -> float:
    """A price in thousandths of a USD per million tokens as LiteLLM's per-token JSON float (2e-06)."""
    return milli_per_mtok / 1e9


class LiteLLM(Feed):
    """LiteLLM's price map: one object of model key -> entry, plus ``sample_spec``."""

    name = "litellm"
    url = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"

    def new(self, serial: int) -> dict[str, Any]:
        model = serial // 4
        lab, name, reference, multiple = _model(model)
        provider, prefix = _LITELLM_PROVIDERS[(serial % 4 + model) % len(_LITELLM_PROVIDERS)]
        h = _hash(serial, 11)
        u = (h % 10_000) / 10_000
        mode = next((m for m, share in _LITELLM_MODES if (u := u - share) < 0), "chat")
        chat = mode in ("chat", "responses")
        price = _near(reference, serial)
        return {
            "key": f"{prefix}{lab}/{name}",
            "provider": provider,
            "mode": mode,
            "reference": price,
            "input": price,
            "multiple": multiple,
            "cache_read": chat and h >> 14 & 1 == 0,
            "cache_write": chat and (h >> 15) % 7 == 0,
            "batches": chat and (h >> 18) % 8 == 0,
            "tier": chat and (h >> 21) % 20 == 0,
            "priority": chat and (h >> 21) % 20 in (1, 2),
            "flex": chat and (h >> 21) % 20 == 3,
            "context": 8192 * 2 ** ((h >> 25) % 7),
        }

    def reprice(self, record: dict[str, Any], factor: float) -> bool:
        record["input"] = _moved(record["input"], record["reference"], factor)
        return True

    def render(self, r: dict[str, Any]) -> str:
        p = r["input"]
        entry: dict[str, Any] = {"litellm_provider": r["provider"], "mode": r["mode"]}
        if r["mode"] == "image_generation":
            entry["output_cost_per_image"] = p / 1000
        elif r["mode"] == "audio_transcription":
            entry["input_cost_per_second"] = p / 1e7
            entry["output_cost_per_second"] = 0.0
        elif r["mode"] == "rerank":
            entry["input_cost_per_query"] = p / 1e6
        else:
            entry["input_cost_per_token"] = _per_token(p)
            entry["output_cost_per_token"] = (
                _per_token(p * r["multiple"]) if r["mode"] != "embedding" else 0.0
            )
        if r["cache_read"]:
            entry["cache_read_input_token_cost"] = _per_token(max(1, p // 10))
        if r["cache_write"]:
            entry["cache_creation_input_token_cost"] = _per_token(p * 5 // 4)
            entry["cache_creation_input_token_cost_above_1hr"] = _per_token(p * 2)
        if r["batches"]:
            entry["input_cost_per_token_batches"] = _per_token(max(1, p // 2))
            entry["output_cost_per_token_batches"] = _per_token(max(1, p * r["multiple"] // 2))
        if r["tier"]:
            entry["input_cost_per_token_above_200k_tokens"] = _per_token(p * 2)
            entry["output_cost_per_token_above_200k_tokens"] = _per_token(p * r["multiple"] * 3 // 2)
        if r["priority"]:
            entry["input_cost_per_token_priority"] = _per_token(p * 17 // 10)
            entry["output_cost_per_token_priority"] = _per_token(p * r["multiple"] * 17 // 10)
        if r["flex"]:
            entry["input_cost_per_token_flex"] = _per_token(max(1, p // 2))
            entry["output_cost_per_token_flex"] = _per_token(max(1, p * r["multiple"] // 2))
        entry["max_input_tokens"] = r["context"]
        entry["max_output_tokens"] = min(r["context"], 65536)
        entry["source"] = "https://docs.example.com/pricing"
        if r["mode"] in ("chat", "responses"):
            entry |= {
                "supports_function_calling": True,
                "supports_prompt_caching": r["cache_read"],
                "supports_reasoning": r["tier"],
                "supports_response_schema": True,
                "supports_system_messages": True,
                "supports_tool_choice": True,
                "supports_vision": r["cache_write"],
                "supported_endpoints": ["/v1/chat/completions", "/v1/completions"],
            }
        return f"{json.dumps(r['key'])}: {json.dumps(entry)}"

    def rows_of(self, r: dict[str, Any]) -> int:
        if r["mode"] not in ("chat", "responses", "embedding"):
            return 0
        return 1 + r["tier"] + r["priority"] + r["flex"]

    def payloads(self) -> list[Payload]:
        spec = f'"sample_spec": {json.dumps(_LITELLM_SAMPLE_SPEC)}'
        body = "{" + ",\n".join([spec, *self.text.values()]) + "}"
        return [Payload(self.url, body.encode())]


# ---- OpenRouter: GET /api/v1/models?output_modalities=all

_OPENROUTER_KINDS = (("text", 0.82), ("free", 0.05), ("image", 0.05), ("embeddings", 0.08))
_OPENROUTER_PARAMETERS = [
    "frequency_penalty", "include_reasoning", "max_tokens", "presence_penalty", "reasoning",
    "response_format", "seed", "stop", "structured_outputs", "temperature", "tool_choice", "tools",
    "top_k", "top_p",
]  # fmt: skip


class OpenRouter(Feed):
    """OpenRouter's model list, ``{"data": [model, ...]}``, with its ``openrouter/auto`` router priced -1."""

    name = "openrouter"
    url = "https://openrouter.ai/api/v1/models?output_modalities=all"

    def __init__(self, size: int, **kwargs: Any):
        super().__init__(size - 1, **kwargs)
        # The router OpenRouter lists with a -1 placeholder price: one reject a day, as in the real feed.
        self.records[-1] = {"stable": True, "kind": "router", "id": "openrouter/auto", "input": -1}
        self.text[-1] = self.render(self.records[-1])

    def new(self, serial: int) -> dict[str, Any]:
        lab, name, reference, multiple = _model(serial * 5 + 2)
        h = _hash(serial, 13)
        u = (h % 10_000) / 10_000
        kind = next((k for k, share in _OPENROUTER_KINDS if (u := u - share) < 0), "text")
        price = _near(reference, serial)
        return {
            "id": f"{lab}/{name}" + (":free" if kind == "free" else ""),
            "kind": kind,
            "reference": price,
            "input": price,
            "multiple": multiple,
            "cache_read": kind == "text" and h >> 14 & 1 == 0,
            "cache_write": kind == "text" and (h >> 15) % 8 == 0,
            "override": kind == "text" and (h >> 18) % 10 == 0,
            "context": 8192 * 2 ** ((h >> 22) % 7),
            "created": 1_700_000_000 + h % 90_000_000,
        }

    def reprice(self, record: dict[str, Any], factor: float) -> bool:
        if record["kind"] not in ("text", "embeddings"):
            return False
        record["input"] = _moved(record["input"], record["reference"], factor)
        return True

    def render(self, r: dict[str, Any]) -> str:
        p = r["input"]
        kind = r["kind"]
        if kind == "router":
            pricing: dict[str, Any] = {"prompt": "-1", "completion": "-1"}
        elif kind in ("free", "image"):
            pricing = {"prompt": "0", "completion": "0"} | ({"image": "0.04"} if kind == "image" else {})
        else:
            out = 0 if kind == "embeddings" else p * r["multiple"]
            pricing = {"prompt": _decimal(p, 9), "completion": _decimal(out, 9)}
            if r["cache_read"]:
                pricing["input_cache_read"] = _decimal(max(1, p // 10), 9)
            if r["cache_write"]:
                pricing["input_cache_write"] = _decimal(p * 5 // 4, 9)
            pricing["web_search"] = "0.01" if r.get("cache_read") else "0"
            if r["override"]:
                pricing["overrides"] = [
                    {
                        "min_prompt_tokens": 128000,
                        "prompt": _decimal(p * 2, 9),
                        "completion": _decimal(out * 2, 9),
                    }
                ]
        base = r["id"].split(":")[0]
        outputs = {"text": ["text"], "free": ["text"], "router": ["text"], "image": ["image"]}.get(
            kind, ["embeddings"]
        )
        model = {
            "id": r["id"],
            "canonical_slug": f"{base}-20250101",
            "hugging_face_id": base if kind != "router" else "",
            "name": base.replace("/", ": "),
            "created": r.get("created", 1_700_000_000),
            "description": f"{base} is a model served through OpenRouter. It is suited for coding, agents, "
            "retrieval and long-context work, with tool use and structured outputs where the upstream "
            "provider supports them...",
            "context_length": r.get("context", 128000),
            "architecture": {
                "modality": f"text->{outputs[0]}",
                "input_modalities": ["text"],
                "output_modalities": outputs,
                "tokenizer": "Other",
                "instruct_type": None,
            },
            "pricing": pricing,
            "top_provider": {
                "context_length": r.get("context", 128000),
                "max_completion_tokens": 16384,
                "is_moderated": False,
            },
            "per_request_limits": None,
            "supported_parameters": _OPENROUTER_PARAMETERS,
            "default_parameters": {"temperature": None, "top_p": None},
            "supported_voices": None,
            "knowledge_cutoff": None,
            "expiration_date": None,
            "links": {"details": f"/api/v1/models/{base}-20250101/endpoints"},
        }
        return json.dumps(model)

    def rows_of(self, r: dict[str, Any]) -> int:
        return {"text": 1 + r.get("override", False), "free": 1, "embeddings": 1}.get(r["kind"], 0)

    def expected_rejects(self) -> int:
        return 1

    def payloads(self) -> list[Payload]:
        body = '{"data": [' + ",\n".join(self.text.values()) + f'], "total_count": {len(self.text)}}}'
        return [Payload(self.url, body.encode())]


# ---- genai-prices: prices/new_data/v2/data.json

_GENAI_PROVIDERS = (
    "openrouter", "together", "aws", "openai", "huggingface_novita", "google", "fireworks", "groq",
    "mistral", "novita", "azure", "huggingface_nebius", "anthropic", "x-ai", "voyageai", "deepseek",
    "cohere", "ovhcloud", "huggingface_together", "huggingface_nscale", "moonshotai", "zhipuai",
    "perplexity", "minimax", "cerebras", "avian", "doubleword", "huggingface_hyperbolic",
    "huggingface_groq", "huggingface_sambanova", "huggingface_publicai", "huggingface_ovhcloud",
    "huggingface_fireworks-ai", "huggingface_cerebras", "modal", "zai",
)  # fmt: skip


class GenaiPrices(Feed):
    """genai-prices' v2 JSON: a list of providers, each with its models. A price change is written as
    genai-prices writes one: a new ``constraint.start_date`` entry on the model's price timeline."""

    name = "genai_prices"
    url = (
        "https://raw.githubusercontent.com/pydantic/genai-prices/refs/heads/main/prices/new_data/v2/data.json"
    )

    def new(self, serial: int) -> dict[str, Any]:
        lab, name, reference, multiple = _model(serial * 3 + 1)
        h = _hash(serial, 17)
        # Skewed like the real file, where one provider (openrouter) lists half the models.
        provider = _GENAI_PROVIDERS[min(int(-4 * np.log(1 - (h >> 16) / 65536)), len(_GENAI_PROVIDERS) - 1)]
        price = _near(reference, serial)
        return {
            "provider": provider,
            "id": f"{lab}/{name}" if provider in ("openrouter", "together") else name,
            "reference": price,
            "empty": h % 20 == 0,  # genai-prices lists models with "prices": {} (157 of 1,466)
            "multiple": multiple,
            "cache_read": h >> 6 & 1 == 0,
            "tiered": (h >> 8) % 10 == 0,
            "batch": (h >> 8) % 10 == 1,
            "context": 8192 * 2 ** ((h >> 12) % 7),
            # (start date or None, input price); every other price follows the input's
            "timeline": [(None, price)],
        }

    def reprice(self, record: dict[str, Any], factor: float) -> bool:
        if record["empty"]:
            return False
        price = _moved(record["timeline"][-1][1], record["reference"], factor)
        record["timeline"].append((self.date, price))
        return True

    def _prices(self, r: dict[str, Any], p: int) -> dict[str, Any]:
        def number(milli: int) -> Any:
            return json.loads(_decimal(milli, 3))

        def tiered(milli: int) -> Any:
            if not r["tiered"]:
                return number(milli)
            return {"base": number(milli), "tiers": [{"start": 200000, "price": number(milli * 2)}]}

        prices = {"input_mtok": tiered(p), "output_mtok": tiered(p * r["multiple"])}
        if r["cache_read"]:
            prices["cache_read_mtok"] = tiered(max(1, p // 10))
        return prices

    def render(self, r: dict[str, Any]) -> str:
        model: dict[str, Any] = {
            "id": r["id"],
            "name": r["id"].split("/")[-1].replace("-", " ").title(),
            "match": {"or": [{"equals": r["id"]}, {"starts_with": f"{r['id']}-"}]},
            "context_window": r["context"],
        }
        if r["empty"]:
            model["prices"] = {}
        elif len(r["timeline"]) == 1:
            model["prices"] = self._prices(r, r["timeline"][0][1])
        else:
            model["prices"] = [
                {"prices": self._prices(r, p)}
                if start is None
                else {"constraint": {"start_date": start.isoformat()}, "prices": self._prices(r, p)}
                for start, p in r["timeline"]
            ]
        if r["batch"] and not r["empty"]:
            latest = r["timeline"][-1][1]
            model["price_variants"] = [
                {
                    "when": {"processing": "batch"},
                    "prices": {
                        "input_mtok": json.loads(_decimal(max(1, latest // 2), 3)),
                        "output_mtok": json.loads(_decimal(max(1, latest * r["multiple"] // 2), 3)),
                    },
                }
            ]
        return json.dumps(model)

    def rows_of(self, r: dict[str, Any]) -> int:
        # One version per timeline entry (each changes every price), times the context tiers.
        return 0 if r["empty"] else len(r["timeline"]) * (2 if r["tiered"] else 1)

    def payloads(self) -> list[Payload]:
        by_provider: dict[str, list[str]] = {p: [] for p in _GENAI_PROVIDERS}
        for serial, record in self.records.items():
            by_provider[record["provider"]].append(self.text[serial])
        providers = []
        for provider, models in by_provider.items():
            if not models:
                continue
            head = {
                "id": provider,
                "name": provider.title(),
                "pricing_urls": [f"https://example.com/{provider}/pricing"],
                "api_pattern": f"https://api\\.{provider}\\.com",
                "model_match": {"contains": provider},
            }
            providers.append(json.dumps(head)[:-1] + ', "models": [' + ",\n".join(models) + "]}")
        return [Payload(self.url, ("[" + ",\n".join(providers) + "]").encode())]


# ---- SkyPilot catalogs: catalogs/v8/<cloud>/vms.csv


@dataclass(frozen=True)
class Product:
    """An instance type a catalog prices in each of its locations (or, on GCP, a host VM with its GPUs)."""

    instance_type: str
    accelerator: str  # "" for a CPU instance
    count: int
    vcpus: int
    memory_gib: int
    gpu_mib: int
    price: int  # USD per instance-hour, in 1e-5 (a reference; each location scales it)
    generation: str = ""  # Azure: "V1", "V2" or "V1,V2" (written unquoted, as anycloud does)


def _gpu(instance_type, accelerator, count, vcpus, memory, gpu_mib, usd, generation="") -> Product:
    return Product(instance_type, accelerator, count, vcpus, memory, gpu_mib, round(usd * 1e5), generation)


def _cpu_products(families: list[tuple[str, float]], sizes: list[int], spell, generation="") -> list[Product]:
    """CPU instances: each family in each size, priced per vCPU."""
    return [
        Product(spell(family, size), "", 0, size, size * 4, 0, round(usd_per_vcpu * size * 1e5), generation)
        for family, usd_per_vcpu in families
        for size in sizes
    ]


class Catalog(Feed):
    """One cloud's ``vms.csv``: a record is one product in one location (region or zone).

    The population is a subset of the grid products x locations; appearances are grid cells not
    listed yet. Spot prices are a fixed share of the on-demand price per record."""

    name = "skypilot"
    cloud = ""
    header = ""
    spot = True

    def __init__(self, size: int, products: list[Product], locations: list[tuple[str, str]], **kwargs: Any):
        self.products = products
        self.locations = locations
        self.present: set[tuple[int, int]] = set()
        if size > 0.9 * len(products) * len(locations):
            raise ValueError(
                f"{self.cloud}: {size} rows do not fit a grid of {len(products) * len(locations)}"
            )
        super().__init__(size, **kwargs)

    @property
    def url(self) -> str:
        return f"https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v8/{self.cloud}/vms.csv"

    def new(self, serial: int) -> dict[str, Any]:
        while True:
            cell = (int(self.rng.integers(len(self.products))), int(self.rng.integers(len(self.locations))))
            if cell not in self.present:
                break
        self.present.add(cell)
        product = self.products[cell[0]]
        # A location's prices sit a fixed share above the cheapest region's, as the clouds' do.
        reference = product.price * (100 + _hash(cell[1], 5) % 35) // 100
        return {
            "cell": cell,
            "product": product,
            "region": self.locations[cell[1]][0],
            "zone": self.locations[cell[1]][1],
            "reference": reference,
            "price": reference,
            "spot_share": 25 + _hash(*cell) % 45,
        }

    def drop(self, serial: int) -> None:
        # The cell is free again: a product can come back to a location it left.
        self.present.discard(self.records[serial]["cell"])
        super().drop(serial)

    def reprice(self, record: dict[str, Any], factor: float) -> bool:
        record["price"] = _moved(record["price"], record["reference"], factor)
        return True

    def spot_price(self, r: dict[str, Any]) -> str:
        return _decimal(r["price"] * r["spot_share"] // 100, 5) if self.spot else ""

    def gpu_info(self, p: Product) -> str:
        return (
            f"\"{{'Gpus': [{{'Name': '{p.accelerator}', 'Manufacturer': 'NVIDIA', 'Count': {p.count}.0, "
            f"'MemoryInfo': {{'SizeInMiB': {p.gpu_mib}}}}}], 'TotalGpuMemoryInMiB': {p.gpu_mib * p.count}}}\""
        )

    def rows_of(self, r: dict[str, Any]) -> int:
        return (1 + self.spot) if r["product"].accelerator else 0

    def payloads(self) -> list[Payload]:
        body = self.header + "\n" + "\n".join(self.text.values()) + "\n"
        return [Payload(self.url, body.encode())]


_AWS_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
    "ap-southeast-1", "ap-southeast-2", "sa-east-1", "me-central-1", "af-south-1", "eu-south-1",
    "ap-east-1",
)  # fmt: skip


class Aws(Catalog):
    cloud = "aws"
    header = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch,Ebs"

    def __init__(self, size: int, **kwargs: Any):
        gpus = [
            _gpu("p5.48xlarge", "H100", 8, 192, 2048, 81920, 55.04),
            _gpu("p5e.48xlarge", "H200", 8, 192, 2048, 144384, 68.8),
            _gpu("p4d.24xlarge", "A100", 8, 96, 1152, 40960, 32.77),
            _gpu("p4de.24xlarge", "A100-80GB", 8, 96, 1152, 81920, 40.96),
            _gpu("g5.xlarge", "A10G", 1, 4, 16, 24576, 1.006),
            _gpu("g5.12xlarge", "A10G", 4, 48, 192, 24576, 5.672),
            _gpu("g6.xlarge", "L4", 1, 4, 16, 23034, 0.805),
            _gpu("g6e.xlarge", "L40S", 1, 4, 32, 46068, 1.861),
            _gpu("g4dn.xlarge", "T4", 1, 4, 16, 16384, 0.526),
            _gpu("g4dn.12xlarge", "T4", 4, 48, 192, 16384, 3.912),
            _gpu("p3.2xlarge", "V100", 1, 8, 61, 16384, 3.06),
        ]
        families = [("m5", 0.048), ("m6i", 0.048), ("m7i", 0.0504), ("m6a", 0.0432), ("c5", 0.0425)]
        families += [("c6i", 0.0425), ("c7i", 0.0446), ("c6a", 0.0383), ("r5", 0.063), ("r6i", 0.063)]
        families += [("r7i", 0.0662), ("r6a", 0.0567), ("t3", 0.0416), ("i4i", 0.0858)]
        sizes = {2: "large", 4: "xlarge", 8: "2xlarge", 16: "4xlarge", 32: "8xlarge", 48: "12xlarge"}
        sizes |= {64: "16xlarge", 96: "24xlarge"}
        cpus = _cpu_products(families, list(sizes), lambda f, n: f"{f}.{sizes[n]}")
        zones = [(r, f"{r}{z}") for r in _AWS_REGIONS for z in "abcd"]
        super().__init__(size, gpus + cpus, zones, **kwargs)

    def render(self, r: dict[str, Any]) -> str:
        p = r["product"]
        gpu = (p.accelerator, f"{p.count}.0", self.gpu_info(p)) if p.accelerator else ("", "", "")
        return (
            f"{p.instance_type},{gpu[0]},{gpu[1]},{p.vcpus}.0,{p.memory_gib}.0,{gpu[2]},"
            f"{_decimal(r['price'], 5)},{self.spot_price(r)},{r['region']},{r['zone']},x86_64,yes"
        )


_GCP_REGIONS = (
    "us-central1", "us-east1", "us-east4", "us-east5", "us-west1", "us-west2", "us-west3", "us-west4",
    "us-south1", "northamerica-northeast1", "northamerica-northeast2", "southamerica-east1",
    "southamerica-west1", "europe-west1", "europe-west2", "europe-west3", "europe-west4", "europe-west6",
    "europe-west8", "europe-west9", "europe-west10", "europe-west12", "europe-north1", "europe-central2",
    "europe-southwest1", "me-west1", "me-central1", "me-central2", "africa-south1", "asia-east1",
    "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3", "asia-south1", "asia-south2",
    "asia-southeast1", "asia-southeast2", "australia-southeast1", "australia-southeast2",
)  # fmt: skip


class Gcp(Catalog):
    """GCP writes a host VM and its GPUs as two rows per zone (the parser sums them): a record here is
    the pair. N1-attachable GPUs (T4, V100) are GPU rows alone; CPU machine types are host rows alone."""

    cloud = "gcp"
    header = "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice"

    def __init__(self, size: int, **kwargs: Any):
        hosts = [
            _gpu(f"a2-highgpu-{n}g", "A100", n, 12 * n, 85 * n, 40960, 3.67 * n) for n in (1, 2, 4, 8)
        ] + [
            _gpu("a2-megagpu-16g", "A100", 16, 96, 1360, 40960, 55.7),
            _gpu("a3-highgpu-8g", "H100", 8, 208, 1872, 81920, 88.25),
            _gpu("a3-megagpu-8g", "H100-MEGA", 8, 208, 1872, 81920, 92.8),
            _gpu("a3-ultragpu-8g", "H200", 8, 224, 2952, 144384, 84.8),
            _gpu("a4-highgpu-8g", "B200", 8, 224, 3968, 184320, 108.0),
        ]
        hosts += [
            _gpu(f"a2-ultragpu-{n}g", "A100-80GB", n, 12 * n, 170 * n, 81920, 5.07 * n) for n in (1, 2, 4, 8)
        ]
        hosts += [_gpu(f"a3-highgpu-{n}g", "H100", n, 26 * n, 234 * n, 81920, 11.06 * n) for n in (1, 2, 4)]
        hosts += [
            _gpu(f"g2-standard-{v}", "L4", n, v, 4 * v, 23034, 0.85 * n)
            for v, n in ((4, 1), (24, 2), (48, 4), (96, 8))
        ]
        # A GPU row alone: instance type empty, priced as the GPUs (SkyPilot's N1 attachments).
        attached = [
            _gpu("", g, n, 0, 0, mib, usd * n)
            for g, mib, usd in (("T4", 16384, 0.35), ("V100", 16384, 2.48))
            for n in (1, 2, 4)
        ]
        families = [
            ("n2-standard", 0.0485),
            ("n2-highmem", 0.0655),
            ("n2d-standard", 0.0422),
            ("c3-standard", 0.0522),
        ]
        families += [
            ("e2-standard", 0.0335),
            ("n4-standard", 0.0491),
            ("c4-standard", 0.0537),
            ("t2d-standard", 0.0422),
        ]
        families += [
            ("n2-highcpu", 0.0358),
            ("n2d-highmem", 0.0569),
            ("c3-highmem", 0.0686),
            ("e2-highmem", 0.0452),
        ]
        families += [
            ("c2d-standard", 0.0456),
            ("n4-highmem", 0.0644),
            ("c4-highcpu", 0.0449),
            ("m3-megamem", 0.1627),
        ]
        cpus = _cpu_products(families, [2, 4, 8, 16, 32, 48, 64, 80, 96, 128], lambda f, n: f"{f}-{n}")
        zones = [(r, f"{r}-{z}") for r in _GCP_REGIONS for z in "abc"]
        super().__init__(size, hosts + attached + cpus, zones, **kwargs)

    def render(self, r: dict[str, Any]) -> str:
        p = r["product"]
        where = f"{r['region']},{r['zone']}"
        if not p.accelerator:
            return f"{p.instance_type},{p.vcpus}.0,{p.memory_gib}.0,,,,{where},{_decimal(r['price'], 5)},{self.spot_price(r)}"
        info = f"{{'Gpus': [{{'MemoryInfo': {{'SizeInMiB': {p.gpu_mib}}}}}]}}"
        if not p.instance_type:
            return (
                f",,,{p.accelerator},{p.count},{info},{where},{_decimal(r['price'], 5)},{self.spot_price(r)}"
            )
        # The host VM is a fifth of the instance price, the GPUs the rest (a3-highgpu-8g: 9.46 + 78.8).
        host = {**r, "price": r["price"] // 5}
        gpus = {**r, "price": r["price"] - r["price"] // 5}
        return (
            f"{p.instance_type},{p.vcpus}.0,{p.memory_gib}.0,,,,{where},{_decimal(host['price'], 5)},{self.spot_price(host)}\n"
            f",,,{p.accelerator},{p.count},{info},{where},{_decimal(gpus['price'], 5)},{self.spot_price(gpus)}"
        )


_LAMBDA_REGIONS = (
    "us-east-1", "us-east-2", "us-east-3", "us-west-1", "us-west-2", "us-west-3", "us-south-1",
    "us-south-2", "us-south-3", "us-midwest-1", "europe-central-1", "asia-south-1", "me-west-1",
    "asia-northeast-1", "asia-northeast-2",
)  # fmt: skip


class Lambda(Catalog):
    cloud = "lambda"
    header = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice"
    spot = False

    def __init__(self, size: int, **kwargs: Any):
        cards = (
            ("h100_sxm5", "H100", 81920, 2.99), ("h100_pcie", "H100", 81920, 2.49), ("a100_sxm4", "A100", 40960, 1.29),
            ("a100_sxm4_80gb", "A100-80GB", 81920, 1.79), ("a10", "A10", 24576, 0.75), ("a6000", "A6000", 49152, 0.8),
            ("gh200", "GH200", 98304, 1.49), ("b200_sxm6", "B200", 184320, 4.99), ("v100_n", "V100", 16384, 0.55),
        )  # fmt: skip
        gpus = [
            _gpu(f"gpu_{n}x_{slug}", name, n, 26 * n, 200 * n, mib, usd * n)
            for slug, name, mib, usd in cards
            for n in (1, 2, 4, 8)
        ]
        cpus = _cpu_products([("generalx", 0.05)], [4, 8, 16, 32], lambda f, n: f"cpu_{n}x_{f}")
        super().__init__(size, gpus + cpus, [(r, "") for r in _LAMBDA_REGIONS], **kwargs)

    def render(self, r: dict[str, Any]) -> str:
        p = r["product"]
        gpu = (p.accelerator, f"{p.count}.0", self.gpu_info(p)) if p.accelerator else ("", "", "")
        return (
            f"{p.instance_type},{gpu[0]},{gpu[1]},{p.vcpus}.0,{p.memory_gib}.0,{_decimal(r['price'], 5)},"
            f"{r['region']},{gpu[2]},"
        )


_AZURE_REGIONS = (
    "australiacentral", "australiaeast", "australiasoutheast", "brazilsouth", "canadacentral",
    "canadaeast", "centralindia", "centralus", "eastasia", "eastus", "eastus2", "francecentral",
    "germanywestcentral", "israelcentral", "italynorth", "japaneast", "japanwest", "koreacentral",
    "koreasouth", "mexicocentral", "northcentralus", "northeurope", "norwayeast", "polandcentral",
    "qatarcentral", "southafricanorth", "southcentralus", "southeastasia", "southindia", "spaincentral",
    "swedencentral", "switzerlandnorth", "uaenorth", "uksouth", "ukwest", "westcentralus",
    "westeurope", "westindia", "westus", "westus2", "westus3", "newzealandnorth", "indonesiacentral",
    "malaysiawest", "chilecentral", "austriaeast", "belgiumcentral", "denmarkeast", "jioindiawest",
    "brazilsoutheast", "germanynorth", "norwaywest", "switzerlandwest", "francesouth", "uaecentral",
    "southafricawest", "australiacentral2", "swedensouth", "koreasouth2", "japanwest2",
)  # fmt: skip


class Azure(Catalog):
    """anycloud's Azure catalog (SkyPilot schema): mostly CPU sizes, ``GpuInfo`` a bare name, and
    ``Generation`` written unquoted as ``V1,V2`` on about half the lines (the parser rejoins them)."""

    cloud = "azure"
    header = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,Generation"

    @property
    def url(self) -> str:
        return "https://raw.githubusercontent.com/anycloud-sh/catalog/main/azure/vms.csv"

    def __init__(self, size: int, **kwargs: Any):
        gpus = [
            _gpu("Standard_NC24ads_A100_v4", "A100-80GB", 1, 24, 220, 81920, 3.673, "V2"),
            _gpu("Standard_NC48ads_A100_v4", "A100-80GB", 2, 48, 440, 81920, 7.346, "V2"),
            _gpu("Standard_NC96ads_A100_v4", "A100-80GB", 4, 96, 880, 81920, 14.692, "V2"),
            _gpu("Standard_ND96asr_v4", "A100", 8, 96, 900, 40960, 27.197, "V2"),
            _gpu("Standard_ND96amsr_A100_v4", "A100-80GB", 8, 96, 1900, 81920, 32.77, "V2"),
            _gpu("Standard_ND96isr_H100_v5", "H100", 8, 96, 1900, 81920, 98.32, "V2"),
            _gpu("Standard_NC40ads_H100_v5", "H100", 1, 40, 320, 94208, 6.98, "V2"),
            _gpu("Standard_ND96isr_H200_v5", "H200", 8, 96, 1850, 144384, 110.24, "V2"),
            _gpu("Standard_NC6s_v3", "V100", 1, 6, 112, 16384, 3.06, "V1,V2"),
            _gpu("Standard_NC12s_v3", "V100", 2, 12, 224, 16384, 6.12, "V1,V2"),
            _gpu("Standard_NC4as_T4_v3", "T4", 1, 4, 28, 16384, 0.526, "V1,V2"),
            _gpu("Standard_NC64as_T4_v3", "T4", 4, 64, 440, 16384, 4.352, "V1,V2"),
            _gpu("Standard_NV36ads_A10_v5", "A10", 1, 36, 440, 24576, 3.2, "V1,V2"),
        ]
        families = [
            (f"{series}{flavour}_v{version}", usd)
            for series, usd in (("D", 0.048), ("E", 0.063), ("F", 0.0423), ("B", 0.0416), ("L", 0.078))
            for flavour in ("s", "as", "ds", "ads", "ls", "pls")
            for version in (3, 4, 5, 6)
        ]
        sizes = [2, 4, 8, 16, 32, 48, 64, 96]

        def spell(family: str, n: int) -> str:
            series, rest = family[0], family[1:]
            return f"Standard_{series}{n}{rest}"

        cpus = [
            Product(p.instance_type, "", 0, p.vcpus, p.memory_gib, 0, p.price, "V1,V2" if i % 2 else "V1")
            for i, p in enumerate(_cpu_products(families, sizes, spell))
        ]
        super().__init__(size, gpus + cpus, [(r, "") for r in _AZURE_REGIONS], **kwargs)

    def render(self, r: dict[str, Any]) -> str:
        p = r["product"]
        gpu = (p.accelerator, str(p.count), p.accelerator) if p.accelerator else ("", "", "")
        return (
            f"{p.instance_type},{gpu[0]},{gpu[1]},{p.vcpus},{p.memory_gib},{gpu[2]},"
            f"{_decimal(r['price'], 5)},{self.spot_price(r)},{r['region']},{p.generation}"
        )


class SkyPilot:
    """The day's catalogs of several clouds: one ``vms.csv`` payload each, as the refresh fetches them."""

    name = "skypilot"

    def __init__(self, size: int, *, seed: int = 0, churn: Churn = Churn(), start: date = START):
        # The real split: anycloud's Azure catalog is the bulk (56,671 rows, nearly all CPU sizes),
        # GCP about half that, AWS smaller, Lambda a few hundred.
        shares = (("azure", 0.6), ("gcp", 0.28), ("aws", 0.113), ("lambda", 0.007))
        kinds = {"azure": Azure, "gcp": Gcp, "aws": Aws, "lambda": Lambda}
        self.clouds = [
            kinds[cloud](max(1, round(size * share)), seed=seed + i, churn=churn, start=start)
            for i, (cloud, share) in enumerate(shares)
        ]

    def next_day(self) -> None:
        for cloud in self.clouds:
            cloud.next_day()

    def expected_rows(self) -> int:
        return sum(c.expected_rows() for c in self.clouds)

    def expected_rejects(self) -> int:
        return 0

    def payloads(self) -> list[Payload]:
        return [p for c in self.clouds for p in c.payloads()]


# ---- Vast.ai: POST /api/v0/bundles/

# Card, MiB per GPU, reference USD per GPU-hour (the marketplace's going rates).
_VAST_CARDS = (
    ("RTX 4090", 24564, 0.35), ("RTX 3090", 24576, 0.22), ("RTX 5090", 32607, 0.6), ("A100 SXM4", 81920, 1.1),
    ("A100 PCIE", 40960, 0.8), ("H100 SXM", 81559, 2.0), ("H100 NVL", 95830, 2.2), ("RTX A6000", 49140, 0.45),
    ("L40S", 46068, 0.8), ("RTX 4080", 16376, 0.2), ("A40", 46068, 0.4), ("H200", 143771, 3.0),
    ("RTX 6000Ada", 49140, 0.7), ("RTX 5080", 16303, 0.25), ("Tesla V100", 16384, 0.25),
)  # fmt: skip
_VAST_PLACES = (
    "Texas, US", "California, US", "Ohio, US", "Quebec, CA", "Bulgaria, BG", "Sweden, SE", "Guangxi, CN",
    "Czechia, CZ", "Poland, PL", "Norway, NO", "Spain, ES", "Japan, JP", "Vietnam, VN", "Taiwan, TW",
    "Finland, FI", "Oregon, US", "Nevada, US", "Utah, US", "Belgium, BE", "Netherlands, NL",
)  # fmt: skip


class Vast(Feed):
    """Vast.ai's ``{"offers": [...]}``: each offer with the ~80 fields the API returns for it."""

    name = "vastai"
    url = "https://console.vast.ai/api/v0/bundles/"

    def new(self, serial: int) -> dict[str, Any]:
        h = _hash(serial, 19)
        card, mib, usd = _VAST_CARDS[h % len(_VAST_CARDS)]
        count = (1, 1, 1, 2, 4, 8)[(h >> 5) % 6]
        # dph_total in 1e-6 USD per hour for the whole offer.
        reference = round(usd * count * (85 + (h >> 9) % 40) / 100 * 1e6)
        return {
            "serial": serial,
            "card": card,
            "mib": mib,
            "count": count,
            "place": _VAST_PLACES[(h >> 15) % len(_VAST_PLACES)],
            "reference": reference,
            "price": reference,
        }

    def reprice(self, record: dict[str, Any], factor: float) -> bool:
        record["price"] = _moved(record["price"], record["reference"], factor)
        return True

    def render(self, r: dict[str, Any]) -> str:
        s, n, dph = r["serial"], r["count"], r["price"] / 1e6
        offer = {
            "ask_contract_id": 11_000_000 + s, "bundle_id": 1_598_000_000 + s, "bundled_results": None,
            "bw_nvlink": 0.0, "compute_cap": 890, "cpu_arch": "amd64", "cpu_cores": 96, "cpu_cores_effective": 24.0,
            "cpu_ghz": 2.3, "cpu_name": "AMD EPYC 7642 48-Core Processor", "cpu_ram": 64393,
            "credit_discount_max": 0.4, "cuda_max_good": 12.2, "direct_port_count": 249, "discount_rate": 0.0,
            "discounted_dph_total": dph, "discounted_hourly": 0.0, "disk_bw": 2545.294, "disk_name": "INTEL SSDPE2KX080T8",
            "disk_space": 1607.875, "dlperf": 106.637, "dlperf_per_dphtotal": 432.296, "dph_base": dph,
            "dph_total": dph, "dph_total_adj": dph, "driver_vers": 535183001, "driver_version": "535.183.01",
            "duration": 13356528.56, "end_date": 1735707781.0, "external": None, "flops_per_dphtotal": 336.35,
            "geolocation": r["place"], "geolocode": 921675020, "gpu_arch": "nvidia", "gpu_display_active": False,
            "gpu_frac": 1.0, "gpu_ids": list(range(82267, 82267 + n)), "gpu_lanes": 16, "gpu_mem_bw": 3108.4,
            "gpu_name": r["card"], "gpu_ram": r["mib"], "gpu_total_ram": r["mib"] * n, "has_avx": 1,
            "host_id": 100_000 + s // 3, "hosting_type": 0, "hostname": None, "id": 11_000_000 + s,
            "inet_down": 105.9, "inet_down_cost": 0.0, "inet_up": 77.7, "inet_up_cost": 0.0,
            "instance": {"discountTotalHour": 0, "discountedTotalPerHour": 9.26e-06, "diskHour": 9.26e-06,
                         "gpuCostPerHour": 0, "totalHour": 9.26e-06},
            "internet_down_cost_per_tb": 0.0, "internet_up_cost_per_tb": 0.0, "is_bid": False,
            "logo": "/static/logos/vastai_small2.png", "machine_id": 20_000 + s, "min_bid": round(dph / 2, 4),
            "mobo_name": "H12SSL", "num_gpus": n, "os_version": "22.04", "pci_gen": 4.0, "pcie_bw": 12.3,
            "public_ipaddr": f"10.{s >> 16 & 255}.{s >> 8 & 255}.{s & 255}", "reliability": 0.97,
            "reliability2": 0.97, "reliability_mult": 0.771, "rentable": True, "rented": False, "rn": 1,
            "score": 190.03, "search": {"discountTotalHour": 0, "discountedTotalPerHour": dph, "diskHour": 9.26e-06,
                                        "gpuCostPerHour": dph, "totalHour": dph},
            "start_date": 1722348655.8, "static_ip": False, "storage_cost": 0.00133, "storage_total_cost": 9.26e-06,
            "time_remaining": "", "time_remaining_isbid": "", "total_flops": 82.97, "vericode": 1,
            "verification": "verified", "vram_costperhour": 0.0103, "webpage": None,
        }  # fmt: skip
        return json.dumps(offer)

    def rows_of(self, r: dict[str, Any]) -> int:
        return 1

    def payloads(self) -> list[Payload]:
        return [Payload(self.url, ('{"offers": [' + ",\n".join(self.text.values()) + "]}").encode())]


@dataclass(frozen=True)
class Sizes:
    """Records per feed; the defaults are the real feeds' sizes (SkyPilot: catalog rows, all clouds)."""

    litellm: int = 5_000
    openrouter: int = 550
    genai_prices: int = 2_300
    skypilot: int = 60_000
    vastai: int = 10_000


def feeds(sizes: Sizes = Sizes(), *, seed: int = 0, churn: Churn = Churn(), start: date = START) -> list:
    """One feed per source module, in the order a refresh lists them."""
    common = {"churn": churn, "start": start}
    return [
        LiteLLM(sizes.litellm, seed=seed, **common),
        OpenRouter(sizes.openrouter, seed=seed + 1, **common),
        GenaiPrices(sizes.genai_prices, seed=seed + 2, **common),
        SkyPilot(sizes.skypilot, seed=seed + 3, **common),
        Vast(sizes.vastai, seed=seed + 10, **common),
    ]
