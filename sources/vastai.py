"""Vast.ai marketplace offers (the public ``/api/v0/bundles/`` search, no key needed).

Each offer is one host machine renting ``num_gpus`` GPUs at ``dph_total`` dollars per hour for the
whole offer (GPUs plus the default disk), so ``usd_per_gpu_hour = dph_total / num_gpus`` and the
pricing type is ``marketplace``. ``gpu_frac`` is the share of the machine's GPUs the offer holds
(0.25 = 1 of 4), not a fraction of one GPU, so it does not change the GPU count.

Offer ids change whenever a host re-lists; the instance type is the machine id and GPU count
(``m22990/1x RTX 4090``), which stays put while the host keeps the machine on the market. Both a
``{"offers": [...]}`` response and the bare list that ``vastai search offers --raw`` prints are
accepted. Interruptible bids (``min_bid``) are a floor, not a price, and are not rates.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sources.base import ParseResult, SourceError, json_object, load_json, to_decimal
from sources.gpu_rows import RateRows
from sources.http import Fetched, Http

NAME = "vastai"
DATASET = "gpu_rates"
# One payload is the whole feed: a key it no longer lists is closed (warehouse.history).
SNAPSHOT_SCOPE: tuple[str, ...] | None = ("source",)
LIVE_URL = "https://console.vast.ai/api/v0/bundles/"
# The CLI's default search (verified, rentable, on-demand), ordered like the web console.
QUERY = {
    "verified": {"eq": True},
    "rentable": {"eq": True},
    "external": {"eq": False},
    "type": "on-demand",
    "order": [["score", "desc"]],
    "limit": 2000,
}
REQUIRED = ("gpu_name", "num_gpus", "dph_total")


def fetch_live(http: Http) -> list[Fetched]:
    return [Fetched(LIVE_URL, http.post_json(LIVE_URL, QUERY))]


def embedded() -> list[Fetched]:
    # The curated rate catalog (gpu_curated) is the gpu_rates dataset's embedded default.
    return []


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    offers = _offers(body)
    rates = RateRows(NAME)
    for i, offer in enumerate(offers):
        rates.read(f"offers[{i}]", offer, _key(offer), lambda offer=offer: _add(rates, offer))
    return rates.result()


def _offers(body: bytes) -> list[Any]:
    data = load_json(NAME, body)
    offers = data.get("offers") if isinstance(data, dict) else data
    if not isinstance(offers, list):
        shape = f"keys {sorted(data)}" if isinstance(data, dict) else type(data).__name__
        raise SourceError(NAME, f"expected {{'offers': [...]}} or a list of offers, got {shape}")
    if not offers:
        raise SourceError(NAME, "no offers")
    objects = [o for o in offers if isinstance(o, dict)]
    for field in REQUIRED:
        if objects and all(field not in o for o in objects):
            raise SourceError(NAME, f"no offer has the field {field!r}: the API changed its shape")
    return offers


def _add(rates: RateRows, offer: Any) -> None:
    offer = json_object(offer, what="an offer")
    for field in REQUIRED:
        if offer.get(field) in (None, ""):
            rates.reject("missing_field", f"{field} is missing", offer, field, offer.get(field))
    count = rates.gpu_count(offer, "num_gpus")
    price = rates.number(offer, "dph_total")
    name = str(offer["gpu_name"])
    instance = _instance(offer, count)
    if instance is None:
        rates.reject("missing_field", "neither machine_id nor id identifies the offer", offer, "machine_id")
    try:
        memory = to_decimal(offer.get("gpu_ram"))
    except ValueError:
        memory = None
    rates.add(
        offer,
        provider=NAME,
        instance_type=instance,
        region=_region(offer),
        pricing_type="marketplace",
        accelerator_name=name,
        gpu_count=count,
        usd_per_instance_hour=price,
        # gpu_ram is MiB per GPU (24564 for an RTX 4090).
        memory_gb=memory / Decimal(1024) if memory else None,
        hint=name,
        price_field="dph_total",
    )


def _instance(offer: dict[str, Any], count: Decimal) -> str | None:
    machine = offer.get("machine_id")
    offer_id = offer.get("id") or offer.get("ask_contract_id")
    if machine is not None:
        return f"m{machine}/{count.normalize():f}x {offer['gpu_name']}"
    return None if offer_id is None else f"offer {offer_id}"


def _region(offer: dict[str, Any]) -> str:
    return str(offer.get("geolocation") or "")


def _key(offer: Any) -> dict[str, Any]:
    """The natural key an offer would have had, as far as its fields can be read."""
    if not isinstance(offer, dict):
        return {"provider": NAME, "pricing_type": "marketplace"}
    key = {"provider": NAME, "region": _region(offer), "pricing_type": "marketplace"}
    try:
        count = to_decimal(offer.get("num_gpus"))
        instance = _instance(offer, count) if count and offer.get("gpu_name") else None
    except (ValueError, ArithmeticError):
        instance = None
    return key if instance is None else {**key, "instance_type": instance}
