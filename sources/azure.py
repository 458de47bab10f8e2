"""Azure Retail Prices API: GPU VM rates, on-demand, spot and 1- and 3-year reservations.

The live fetch asks for the SKUs of the GPU table below and follows ``NextPageLink`` until it is
null, then stores the pages as one body ``{"Items": [...]}`` (the page envelope with every item).

How items become rates:

- ``type == "Consumption"`` is on-demand, or spot when the meter or SKU name says ``Spot``.
  ``Low Priority`` meters (the Batch/VMSS predecessor of spot, being retired) are not spot and are
  skipped, as are ``DevTestConsumption`` items and Windows products (same meter as Linux, the
  product name ends in ``Windows``): rates here are for Linux VMs.
- ``type == "Reservation"``: ``retailPrice`` is the price of the whole term although
  ``unitOfMeasure`` says "1 Hour"; per hour it is price / (years x 8760).
- A spot price equal to or above the on-demand price of the same SKU and region is not a spot
  price: no spot row, counted in a warning.
- The GPU model and count come from the explicit SKU table; a SKU missing from it is rejected
  with a reason, not dropped.
- ``valid_from`` is the item's ``effectiveStartDate``: Azure declares when each price took effect.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from sources.accelerator_identity import canonical_accelerator
from sources.base import ParseResult, SourceError, json_object, read_date
from sources.gpu_rows import RateRows
from sources.http import Fetched, FetchError, Http

NAME = "azure"
DATASET = "gpu_rates"
# One payload is one cloud's catalog: it closes only that cloud's missing keys.
SNAPSHOT_SCOPE: tuple[str, ...] | None = ("source", "provider")
LIVE_URL = "https://prices.azure.com/api/retail/prices"
HOURS_PER_YEAR = 8760
MAX_PAGES = 500
RESERVATION_TERMS = {"1 year": ("reserved_1y", 1), "3 years": ("reserved_3y", 3)}
_HOURLY = re.compile(r"^1\s*/?\s*hours?$", re.IGNORECASE)


@dataclass(frozen=True)
class VmGpus:
    name: str
    count: Decimal

    @property
    def accelerator(self) -> str | None:
        return canonical_accelerator(self.name)


def _family(name: str, sizes: dict[str, str]) -> dict[str, VmGpus]:
    return {sku: VmGpus(name, Decimal(count)) for sku, count in sizes.items()}


# GPU VM SKUs (Azure's N-series size pages). Counts are GPUs per VM; NVadsA10_v5 sizes get a
# share of one A10 (1/6, 1/3, 1/2), written as exact fractions.
SKUS: dict[str, VmGpus] = {
    **_family("A100", {"Standard_ND96asr_v4": "8"}),
    **_family("A100-80GB-SXM", {"Standard_ND96amsr_A100_v4": "8"}),
    **_family(
        "A100 80GB PCIe",
        {"Standard_NC24ads_A100_v4": "1", "Standard_NC48ads_A100_v4": "2", "Standard_NC96ads_A100_v4": "4"},
    ),
    **_family("H100-SXM", {"Standard_ND96isr_H100_v5": "8"}),
    **_family(
        "H100 NVL",
        {"Standard_NC40ads_H100_v5": "1", "Standard_NC80adis_H100_v5": "2", "Standard_NCC40ads_H100_v5": "1"},
    ),
    **_family("H200-SXM", {"Standard_ND96isr_H200_v5": "8"}),
    **_family("MI300X", {"Standard_ND96isr_MI300X_v5": "8"}),
    **_family("V100-32GB", {"Standard_ND40rs_v2": "8"}),
    **_family(
        "V100 PCIe",
        {
            "Standard_NC6s_v3": "1",
            "Standard_NC12s_v3": "2",
            "Standard_NC24s_v3": "4",
            "Standard_NC24rs_v3": "4",
        },
    ),
    **_family(
        "T4",
        {
            "Standard_NC4as_T4_v3": "1",
            "Standard_NC8as_T4_v3": "1",
            "Standard_NC16as_T4_v3": "1",
            "Standard_NC64as_T4_v3": "4",
        },
    ),
    **_family(
        "A10",
        {
            "Standard_NV6ads_A10_v5": str(Decimal(1) / 6),
            "Standard_NV12ads_A10_v5": str(Decimal(1) / 3),
            "Standard_NV18ads_A10_v5": "0.5",
            "Standard_NV36ads_A10_v5": "1",
            "Standard_NV36adms_A10_v5": "1",
            "Standard_NV72ads_A10_v5": "2",
        },
    ),
}
_BY_LOWER = {sku.lower(): gpus for sku, gpus in SKUS.items()}


def vm_gpus(sku: str) -> VmGpus | None:
    """The GPUs of an Azure VM size (``Standard_ND96isr_H100_v5`` -> H100 SXM x 8), if known."""
    return _BY_LOWER.get(sku.strip().lower())


def live_filter() -> str:
    skus = " or ".join(f"armSkuName eq '{sku}'" for sku in sorted(SKUS))
    return f"serviceName eq 'Virtual Machines' and ({skus})"


def fetch_live(http: Http) -> list[Fetched]:
    first = f"{LIVE_URL}?{urlencode({'$filter': live_filter()})}"
    items: list[Any] = []
    envelope: dict[str, Any] = {}
    url: str | None = first
    for _ in range(MAX_PAGES):
        if url is None:
            break
        try:
            page = json.loads(http.get(url))
        except ValueError as e:
            raise FetchError(f"GET {LIVE_URL}: a page is not JSON ({e})") from None
        if not isinstance(page, dict) or not isinstance(page.get("Items"), list):
            raise FetchError(f"GET {LIVE_URL}: a page has no Items list")
        envelope = envelope or {k: v for k, v in page.items() if k not in ("Items", "NextPageLink", "Count")}
        items.extend(page["Items"])
        url = page.get("NextPageLink") or None
    else:
        raise FetchError(f"GET {LIVE_URL}: still paging after {MAX_PAGES} pages")
    body = {**envelope, "Items": items, "NextPageLink": None, "Count": len(items)}
    return [Fetched(first, json.dumps(body).encode())]


def embedded() -> list[Fetched]:
    # The curated rate catalog (gpu_curated) is the gpu_rates dataset's embedded default.
    return []


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    items, currency = _items(body)
    rates = RateRows(NAME)
    skipped: Counter[str] = Counter()
    no_spot: Counter[str] = Counter()
    on_demand: dict[tuple[str, str], Decimal] = {}
    rated: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for i, item in enumerate(items):
        label = f"Items[{i}]"

        def rate_of(item=item, label=label) -> None:
            rate = _rate(rates, item, currency, skipped)
            if rate is not None:
                rated.append((label, item, rate))

        rates.read(label, item, _key(item), rate_of)
    # Spot rows last: a spot price is checked against the on-demand price of its SKU and region.
    rated.sort(key=lambda r: r[2]["pricing_type"] == "spot")
    for label, item, rate in rated:
        where = (rate["instance_type"], rate["region"])
        if rate["pricing_type"] == "spot":
            reference = on_demand.get(where)
            if reference is not None and rate["usd_per_instance_hour"] >= reference:
                no_spot[
                    "equal to on-demand" if rate["usd_per_instance_hour"] == reference else "above on-demand"
                ] += 1
                continue
        elif rate["pricing_type"] == "on_demand":
            on_demand.setdefault(where, rate["usd_per_instance_hour"])
        rates.read(label, item, _key(item), lambda item=item, rate=rate: rates.add(item, **rate))
    if no_spot:
        detail = ", ".join(f"{n} {reason}" for reason, n in sorted(no_spot.items()))
        rates.warnings.append(f"no spot row where the spot price is not one: {detail}")
    rates.warnings.extend(f"skipped {n} {what}" for what, n in sorted(skipped.items()))
    return rates.result()


def _items(body: bytes) -> tuple[list[Any], str]:
    if not body.strip():
        raise SourceError(NAME, "empty payload")
    try:
        page = json.loads(body)
    except ValueError as e:
        raise SourceError(NAME, f"payload is not JSON ({e})") from None
    if not isinstance(page, dict) or not isinstance(page.get("Items"), list):
        shape = f"keys {sorted(page)}" if isinstance(page, dict) else type(page).__name__
        raise SourceError(NAME, f"expected a Retail Prices page with an Items list, got {shape}")
    if not page["Items"]:
        raise SourceError(NAME, "the page has no items")
    return page["Items"], str(page.get("BillingCurrency") or "USD")


def _key(item: Any) -> dict[str, Any]:
    """The natural key an item would have had, as far as its fields say."""
    if not isinstance(item, dict):
        return {"provider": NAME}
    fields = {"instance_type": item.get("armSkuName"), "region": item.get("armRegionName")}
    return {"provider": NAME, **{k: v for k, v in fields.items() if isinstance(v, str) and v}}


def _rate(rates: RateRows, item: Any, currency: str, skipped: Counter[str]) -> dict[str, Any] | None:
    item = json_object(item, what="an item")
    for field in ("armSkuName", "armRegionName", "type"):
        if not item.get(field):
            rates.reject("missing_field", f"{field} is missing", item, field, item.get(field))
    product, meter, sku_name = (str(item.get(k) or "") for k in ("productName", "meterName", "skuName"))
    kind = item["type"]
    if kind not in ("Consumption", "Reservation"):
        skipped[f"{kind} items"] += 1
        return None
    if "windows" in product.lower():
        skipped["Windows items (rates are for Linux)"] += 1
        return None
    if "low priority" in f"{meter} {sku_name}".lower():
        skipped["Low Priority items (not spot)"] += 1
        return None
    sku = item["armSkuName"]
    gpus = vm_gpus(sku)
    if gpus is None:
        rates.reject(
            "unmapped_sku",
            f"{sku} is not in the Azure GPU VM table (NC, ND, NV families); add it to sources/azure.py",
            item,
            "armSkuName",
            sku,
        )
    unit = str(item.get("unitOfMeasure") or "1 Hour")
    if not _HOURLY.match(unit.strip()):
        rates.reject("unit", f"unitOfMeasure {unit!r} is not hourly", item, "unitOfMeasure", unit)
    field = "retailPrice" if "retailPrice" in item else "unitPrice"
    price = rates.number(item, field)
    if price is None:
        rates.reject("missing_field", f"{field} is missing", item, field, None)
    if kind == "Reservation":
        term = str(item.get("reservationTerm") or "").strip().lower()
        if term not in RESERVATION_TERMS:
            rates.reject(
                "unknown_term", f"reservationTerm {term!r} is not 1 or 3 years", item, "reservationTerm", term
            )
        pricing_type, years = RESERVATION_TERMS[term]
        price = price / (years * HOURS_PER_YEAR)
    else:
        pricing_type = "spot" if "spot" in f"{meter} {sku_name}".lower() else "on_demand"
    return {
        "provider": NAME,
        "instance_type": sku,
        "region": item["armRegionName"],
        "pricing_type": pricing_type,
        "accelerator_name": gpus.name,
        "accelerator": gpus.accelerator,
        "gpu_count": gpus.count,
        "usd_per_instance_hour": price,
        "currency": str(item.get("currencyCode") or currency),
        "valid_from": read_date(item.get("effectiveStartDate"), field="effectiveStartDate"),
        "price_field": field,
    }
