"""RunPod GPU types from its GraphQL API (``gpuTypes``), prices per GPU-hour.

RunPod sells the same GPU type in two clouds with separate prices: Secure Cloud (RunPod's data
centers) and Community Cloud (vetted hosts). They are one provider, ``runpod``, and the cloud is
the ``region`` ('secure' or 'community'), so a GPU's on-demand prices in both clouds stay two rows
of one key shape and compare directly with SkyPilot's RunPod rows (also provider ``runpod``).

- ``securePrice`` / ``communityPrice``: on-demand, one GPU per row (per-GPU price, gpu_count 1).
- ``secureSpotPrice`` / ``communitySpotPrice``: spot (interruptible) in that cloud; not a spot
  price when empty, zero, or not below the on-demand price of the same cloud.
- ``oneMonthPrice`` / ``threeMonthPrice`` / ``sixMonthPrice``: Secure Cloud savings plans,
  pricing types ``committed_1m`` / ``committed_3m`` / ``committed_6m``.
- A price of 0 or null means RunPod does not offer that GPU there now: no row, counted in a warning.

The instance type is RunPod's GPU id (``NVIDIA H100 80GB HBM3``); the display name (``H100 SXM``)
and ``memoryInGb`` help resolve the canonical accelerator.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

from sources.base import ParseResult, RowRejected, SourceError, json_object, load_json
from sources.gpu_rows import RateRows
from sources.http import Fetched, Http

NAME = "runpod"
DATASET = "gpu_rates"
# One payload is the whole feed: a key it no longer lists is closed (warehouse.history).
SNAPSHOT_SCOPE: tuple[str, ...] | None = ("source",)
LIVE_URL = "https://api.runpod.io/graphql"
QUERY = (
    "query GpuTypes { gpuTypes { id displayName memoryInGb securePrice communityPrice "
    "secureSpotPrice communitySpotPrice oneMonthPrice threeMonthPrice sixMonthPrice } }"
)
# price field -> (pricing type, cloud, the on-demand field a spot price must stay below)
PRICES = {
    "securePrice": ("on_demand", "secure", None),
    "communityPrice": ("on_demand", "community", None),
    "secureSpotPrice": ("spot", "secure", "securePrice"),
    "communitySpotPrice": ("spot", "community", "communityPrice"),
    "oneMonthPrice": ("committed_1m", "secure", None),
    "threeMonthPrice": ("committed_3m", "secure", None),
    "sixMonthPrice": ("committed_6m", "secure", None),
}


def fetch_live(http: Http) -> list[Fetched]:
    return [Fetched(LIVE_URL, http.post_json(LIVE_URL, {"query": QUERY}))]


def embedded() -> list[Fetched]:
    # The curated rate catalog (gpu_curated) is the gpu_rates dataset's embedded default.
    return []


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    gpu_types = _gpu_types(body)
    rates = RateRows(NAME)
    not_offered: Counter[str] = Counter()
    for i, gpu in enumerate(gpu_types):
        gpu_id = gpu.get("id") if isinstance(gpu, dict) else None
        key = {"provider": NAME, **({"instance_type": str(gpu_id)} if gpu_id else {})}
        rates.read(f"gpuTypes[{i}]", gpu, key, lambda gpu=gpu: _add(rates, gpu, not_offered))
    if not_offered:
        detail = ", ".join(f"{n} {what}" for what, n in sorted(not_offered.items()))
        rates.warnings.append(f"prices that are 0, empty or not a spot discount gave no row: {detail}")
    return rates.result()


def _gpu_types(body: bytes) -> list[Any]:
    data = load_json(NAME, body)
    gpu_types = ((data.get("data") or {}) if isinstance(data, dict) else {}).get("gpuTypes")
    if not isinstance(gpu_types, list):
        errors = data.get("errors") if isinstance(data, dict) else None
        if errors:
            raise SourceError(NAME, f"GraphQL errors: {json.dumps(errors)[:500]}")
        shape = f"keys {sorted(data)[:8]}" if isinstance(data, dict) else type(data).__name__
        raise SourceError(NAME, f"expected a GraphQL response {{'data': {{'gpuTypes': [...]}}}}, got {shape}")
    if not gpu_types:
        raise SourceError(NAME, "gpuTypes is empty")
    objects = [g for g in gpu_types if isinstance(g, dict)]
    for field in ("id", "securePrice"):
        if objects and all(field not in g for g in objects):
            raise SourceError(NAME, f"no GPU type has the field {field!r}: the API changed its shape")
    return gpu_types


def _add(rates: RateRows, gpu: Any, not_offered: Counter[str]) -> None:
    gpu = json_object(gpu, what="a GPU type")
    if not gpu.get("id"):
        rates.reject("missing_field", "id is missing", gpu, "id", gpu.get("id"))
    prices = {field: rates.number(gpu, field) for field in PRICES if field in gpu}
    for field, price in prices.items():
        pricing_type, cloud, below = PRICES[field]
        reference = prices.get(below) if below else None
        if not price:
            not_offered[f"{field} 0 or empty"] += 1
        elif reference and price >= reference:
            not_offered[f"{field} not below {below}"] += 1
        else:
            _emit(rates, gpu, field, pricing_type, cloud, price)


def _emit(
    rates: RateRows, gpu: dict[str, Any], field: str, pricing_type: str, cloud: str, price: Decimal
) -> None:
    # Each price of a GPU type is its own row, rejected on its own.
    try:
        rates.add(
            gpu,
            provider=NAME,
            instance_type=str(gpu["id"]),
            region=cloud,
            pricing_type=pricing_type,
            accelerator_name=str(gpu["id"]),
            gpu_count=Decimal(1),
            usd_per_instance_hour=price,
            memory_gb=gpu.get("memoryInGb"),
            hint=str(gpu.get("displayName") or ""),
            price_field=field,
        )
    except RowRejected:
        pass
