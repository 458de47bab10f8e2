"""SkyPilot catalog ``vms.csv`` files, one per cloud (catalog schema v8).

One payload per cloud; the cloud is read from the origin (``.../catalogs/v8/aws/vms.csv`` or a
file name such as ``skypilot_catalog_v8_aws_vms.csv``), because the file itself does not say it.

Format facts handled here (all seen in the real catalogs):

- Column order differs per cloud; columns are read by name. Some files are CRLF.
- ``Price`` and ``SpotPrice`` are per instance; the per-GPU price divides by ``AcceleratorCount``,
  which may be fractional (Azure's NV*_A10_v5 shares of one GPU).
- ``GpuInfo`` is a Python literal (``ast.literal_eval``, never ``eval``), JSON in some clouds,
  or a bare name (anycloud's Azure). Memory is per GPU in ``MemoryInfo.SizeInMiB`` except in the
  Vast and Prime Intellect catalogs, where that field holds the whole instance's memory.
- GCP prices the host VM (``a3-highgpu-8g``, no accelerator) and the GPUs (empty instance type,
  ``H100`` x 8) on separate rows per zone; the rate is their sum, as SkyPilot computes it. A host
  without a GPU row in its zone is rejected, never emitted at the host-only price.
- GCP's N1-attached GPUs (T4, V100, P100, P4) have GPU rows and no host row of their own: they are
  priced as the GPUs alone (instance type ``T4:2``, SkyPilot's accelerator spelling), the N1 host
  left out and said so in a warning (docs/methodology.md, "GCP GPUs without a host").
- GCP's TPU slices (``tpu-v5p-8``) are accelerator rows priced per slice; the rate is per chip, the
  chip count read from the slice name by the generation's convention (``TPU_NAME_UNITS_PER_CHIP``).
  A zone pricing every slice of a generation the same whatever its size is a placeholder: rejected.
- A spot price that is empty, zero, equal to or above on-demand is not a spot price: no spot row,
  counted in a warning.
- ``Region`` is the cloud region and ``AvailabilityZone`` (AWS, GCP) the zone within it; they go to
  ``region`` and ``zone`` apart, so that a filter on the region finds every zone's offers.
- anycloud's Azure catalog writes ``Generation`` unquoted as ``V1,V2`` on about half its lines (70%
  of its GPU rows): one field too many, exactly there. Such a row is read with the value rejoined;
  any other row of the wrong length is rejected.

The anycloud catalogs (github.com/anycloud-sh/catalog) are SkyPilot-schema files built by another
bot from the same cloud APIs. This parser reads them too; their rows carry ``source = 'anycloud'``
so that their history never mixes with SkyPilot's under one natural key.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl

from sources import azure, market_snapshot
from sources.accelerator_identity import canonical_accelerator
from sources.base import TRUNCATED, ParseResult, RowRejected, SourceError
from sources.gpu_rows import RateRows, read_csv, read_csv_frame
from sources.http import Fetched, FetchError, Http

NAME = "skypilot"
DATASET = "gpu_rates"
# One payload is one cloud's catalog: it closes only that cloud's missing keys.
SNAPSHOT_SCOPE: tuple[str, ...] | None = ("source", "provider")
CATALOG_VERSION = "v8"
LIVE_URL = (
    f"https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/{CATALOG_VERSION}"
)
# The mirror SkyPilot itself falls back to when GitHub rate-limits it.
MIRROR_URL = f"https://skypilot-catalog.s3.us-east-1.amazonaws.com/catalogs/{CATALOG_VERSION}"
# Clouds with a priced vms.csv in catalog v8 (kubernetes and slurm have none).
CLOUDS = (
    "aws",
    "gcp",
    "lambda",
    "runpod",
    "vast",
    "nebius",
    "shadeform",
    "verda",
    "cudo",
    "daytona",
    "hyperbolic",
    "hyperstack",
    "jarvislabs",
    "lium",
    "mithril",
    "oci",
    "primeintellect",
    "seeweb",
    "spheron",
    "yotta",
)
# Clouds of older catalog versions and of anycloud, recognized in an origin.
OTHER_CLOUDS = ("azure", "fluidstack", "paperspace", "ibm", "scp", "scaleway", "ovhcloud", "do", "simplepod")
PROVIDER_NAMES = {"vast": "vastai"}
MEMORY_IS_INSTANCE_TOTAL = frozenset({"vast", "primeintellect"})
# One piece of a Generation value: an Azure Hyper-V VM generation (V1, V2).
GENERATION = ("Generation", re.compile(r"V\d+"))

REQUIRED = ("InstanceType", "AcceleratorName", "AcceleratorCount", "Price", "Region")
KNOWN = (
    "SpotPrice",
    "GpuInfo",
    "AvailabilityZone",
    "vCPUs",
    "MemoryGiB",
    "Arch",
    "Generation",
    "UpstreamCloudId",
    "StorageGiB",
)

# GCP host VM families -> the accelerator their GPU rows are named by (SkyPilot's
# _ACC_INSTANCE_TYPE_DICTS, plus a3-edgegpu, which carries H100s as well).
# The first bytes of the embedded snapshot's derived offer format (sources/market_snapshot.py).
OFFERS_HEADER = ",".join(market_snapshot.OFFER_COLUMNS).encode()
GCP_HOST_FAMILIES = {
    "a2-highgpu": "A100",
    "a2-megagpu": "A100",
    "a2-ultragpu": "A100-80GB",
    "a3-highgpu": "H100",
    "a3-edgegpu": "H100",
    "a3-megagpu": "H100-MEGA",
    "a3-ultragpu": "H200",
    "a4-highgpu": "B200",
}
GCP_HOST = re.compile(r"^(?P<family>[a-z]\d-[a-z]+gpu)-(?P<count>\d+)g(-nolssd)?$")
GCP_L4_HOSTS = {"4": 1, "8": 1, "12": 1, "16": 1, "32": 1, "24": 2, "48": 4, "96": 8}
GCP_L4_HOST = re.compile(r"^g2-standard-(?P<vcpus>\d+)$")
# GPUs GCP attaches to N1 hosts of the user's choosing (SkyPilot's gcp catalog fetcher), so the
# catalog has GPU rows for them and no host family that implies them.
GCP_N1_GPUS = frozenset({"T4", "V100", "P100", "P4"})
GCP_TPU_SLICE = re.compile(r"^tpu-(?P<generation>v\d+[a-z]*)-(?P<size>\d+)$")
# What the number in a slice name counts, per generation: TensorCores (2 per chip) for v2 to v5p,
# chips for v5e (v5litepod) and v6e. Google's Cloud TPU pages give the cores per chip
# (cloud.google.com/tpu/docs/v4: "Each TPU v4 chip contains two TensorCores"; /v5e and /v6e: one).
# The real anycloud GCP catalog's prices agree: tpu-v4-8 costs 12.88 = 4 x 3.22, tpu-v5p-8
# 16.8 = 4 x 4.20, tpu-v5litepod-8 9.6 = 8 x 1.20, tpu-v6e-256 691.2 = 256 x 2.70 (us-south1).
TPU_NAME_UNITS_PER_CHIP = {"v2": 2, "v3": 2, "v4": 2, "v5p": 2, "v5litepod": 1, "v6e": 1}


def fetch_live(http: Http) -> list[Fetched]:
    return [_fetch_cloud(http, cloud) for cloud in CLOUDS]


def _fetch_cloud(http: Http, cloud: str) -> Fetched:
    errors = []
    for base in (LIVE_URL, MIRROR_URL):
        url = f"{base}/{cloud}/vms.csv"
        try:
            return Fetched(url, http.get(url))
        except FetchError as e:
            errors.append(str(e))
    raise FetchError(f"skypilot catalog for {cloud}: " + "; ".join(errors))


def embedded() -> list[Fetched]:
    """The market snapshot's offers, one payload per cloud (sources/market_snapshot.py)."""
    return market_snapshot.payloads(NAME)


def cloud_of(origin: str) -> str:
    """The cloud a vms.csv belongs to, from its URL or file name."""
    tokens = [t for t in re.split(r"[^a-z0-9]+", origin.lower()) if t]
    known = set(CLOUDS) | set(OTHER_CLOUDS)
    before_vms = [
        tokens[i - 1] for i, t in enumerate(tokens) if t == "vms" and i > 0 and tokens[i - 1] in known
    ]
    found = before_vms or sorted({t for t in tokens if t in known})
    if len(found) != 1:
        raise SourceError(
            NAME,
            f"cannot tell which cloud {origin!r} is for: name the cloud in the path or file name, "
            f"e.g. .../aws/vms.csv or skypilot_aws_vms.csv (known clouds: {', '.join(sorted(known))})",
        )
    return found[0]


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    source = "anycloud" if "anycloud" in origin.lower() else NAME
    if body.lstrip(b"\xef\xbb\xbf").startswith(OFFERS_HEADER):
        # The derived format names its provider on every row: no cloud to tell from the origin.
        return _Catalog(source, None).read_offers(body)
    catalog = _Catalog(source, cloud_of(origin))
    frame, malformed, warnings = read_csv_frame(
        source, body, required=REQUIRED, known=KNOWN, key=catalog.key, unquoted=GENERATION
    )
    rows = catalog.priced_rows(frame)
    catalog.rates.rejects.extend(malformed)
    catalog.rates.warnings.extend(warnings)
    catalog.rates.complete = not any(r.rule == TRUNCATED for r in malformed)
    if catalog.cloud == "gcp":
        rows = catalog.add_gcp_instances(rows)
    for row in rows:
        catalog.rates.read(_label(row), row, catalog.key(row), lambda row=row: catalog.add_row(row))
    return catalog.result()


class _Catalog:
    def __init__(self, source: str, cloud: str | None):
        self.rates = RateRows(source)
        self.cloud = cloud
        self.provider = PROVIDER_NAMES.get(cloud, cloud)
        self.no_spot: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.gpus_alone = 0

    def key(self, row: dict[str, Any]) -> dict[str, Any]:
        """The natural key a catalog row would have had, as far as its columns say."""
        key = {"provider": self.provider}
        if row.get("InstanceType"):
            key["instance_type"] = row["InstanceType"]
        if row.get("Region"):
            key["region"] = row["Region"]
            key["zone"] = _zone(row)
        return key

    def priced_rows(self, frame: pl.DataFrame) -> list[dict[str, Any]]:
        """The rows that may give a rate, as dicts for the per-row rules. CPU instances (most of a
        cloud's catalog: 98% of anycloud's Azure file) are counted here, on the frame, since no rule
        reads them: no accelerator and, on GCP, no instance type naming a GPU host VM."""
        cpu = pl.col("AcceleratorName") == ""
        if self.cloud == "gcp":
            # GCP's host VMs and its GPU rows (no instance type) have no AcceleratorName either;
            # a name the host patterns match goes on to _gcp_host_gpus, which knows the families.
            instance = pl.col("InstanceType")
            host = instance.str.contains(GCP_HOST.pattern) | instance.str.contains(GCP_L4_HOST.pattern)
            cpu = cpu & (instance != "") & ~host
        skipped = frame.select(cpu.sum()).item()
        if skipped:
            self.skipped[_CPU_ROWS] += skipped
        return frame.filter(~cpu).drop("_line").to_dicts()

    def add_row(self, row: dict[str, Any]) -> None:
        if not row["AcceleratorName"]:
            self.skipped[_CPU_ROWS] += 1
            return
        on_demand = self.rates.number(row, "Price")
        spot = self.rates.number(row, "SpotPrice") if "SpotPrice" in row else None
        self._add_rates(row, on_demand, spot)

    def _add_rates(
        self,
        row: dict[str, Any],
        on_demand: Decimal | None,
        spot: Decimal | None,
        accelerator: str | None = None,
    ) -> None:
        count = self.rates.gpu_count(row, "AcceleratorCount")
        info = _gpu_info(row.get("GpuInfo", ""))
        hint = (row["InstanceType"], row.get("UpstreamCloudId"), _info_name(info))
        common = {
            "provider": self.provider,
            "instance_type": row["InstanceType"],
            "region": row["Region"],
            "zone": _zone(row),
            "accelerator_name": row["AcceleratorName"],
            "gpu_count": count,
            "accelerator": accelerator or self._azure_accelerator(row["InstanceType"]),
            "memory_gb": self._memory_per_gpu(info, count),
            "hint": " ".join(filter(None, hint)),
        }
        if on_demand is None:
            self.skipped["rows without an on-demand price"] += 1
        else:
            self._emit(
                row, pricing_type="on_demand", usd_per_instance_hour=on_demand, price_field="Price", **common
            )
        reason = _not_spot(spot, on_demand)
        if reason:
            self.no_spot[reason] += 1
        else:
            self._emit(
                row, pricing_type="spot", usd_per_instance_hour=spot, price_field="SpotPrice", **common
            )

    def _emit(self, row: dict[str, Any], **rate: Any) -> None:
        # The on-demand and spot rows of one catalog row are rejected independently.
        try:
            self.rates.add(row, **rate)
        except RowRejected:
            pass

    def _azure_accelerator(self, instance_type: str) -> str | None:
        # SkyPilot-schema Azure catalogs write 'H100' for the NC*ads_H100_v5 SKUs, which carry
        # H100 NVL 94 GB; the Azure SKU table knows better than the name.
        if self.cloud != "azure":
            return None
        gpus = azure.vm_gpus(instance_type)
        return gpus.accelerator if gpus else None

    def _memory_per_gpu(self, info: dict[str, Any] | None, count: Decimal) -> Decimal | None:
        size = ((_first_gpu(info) or {}).get("MemoryInfo") or {}).get("SizeInMiB")
        try:
            mib = Decimal(str(size))
        except ArithmeticError:
            return None
        if self.cloud in MEMORY_IS_INSTANCE_TOTAL:
            mib /= count
        # RunPod and Shadeform write GB into the MiB field (80 for an 80 GB part).
        return mib if mib < 1024 else mib / 1024

    def add_gcp_instances(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Adds the GCP host VMs summed with their zone's GPU rows and the TPU slices; returns the
        rows left to add, the N1-attached GPU rows among them under an instance type of their own."""
        gpu_rows: dict[tuple[str, str, str], dict[str, Any]] = {}
        accelerator_rows, hosts, rest = [], [], []
        for row in rows:
            if not row["InstanceType"]:
                accelerator_rows.append(row)
                gpu_rows.setdefault(_gpu_key(row["AcceleratorName"], row["AcceleratorCount"], row), row)
            elif row["AcceleratorName"] or not _gcp_host_gpus(row["InstanceType"]):
                rest.append(row)
            else:
                hosts.append(row)
        used = set()
        for host in hosts:
            name, count = _gcp_host_gpus(host["InstanceType"])
            key = _gpu_key(name, str(count), host)
            used.add(key)
            gpus = gpu_rows.get(key)
            build = functools.partial(self._add_gcp_instance, host, gpus, name, count)
            self.rates.read(_label(host), host, self.key(host), build)
        unpaired = [
            r
            for r in accelerator_rows
            if _gpu_key(r["AcceleratorName"], r["AcceleratorCount"], r) not in used
        ]
        # anycloud's GCP file repeats 154 TPU rows verbatim: a repeat adds nothing and is no conflict.
        slices = [r for r in unpaired if GCP_TPU_SLICE.match(r["AcceleratorName"])]
        tpus = list({tuple(r.items()): r for r in slices}.values())
        if repeated := len(slices) - len(tpus):
            self.skipped["GCP TPU rows repeated verbatim"] += repeated
        flat = _flat_priced(tpus)
        for row in tpus:
            tpu = {**row, "InstanceType": row["AcceleratorName"]}
            self.rates.read(_label(tpu), tpu, self.key(tpu), functools.partial(self._add_tpu, tpu, flat))
        for row in unpaired:
            if row["AcceleratorName"] in GCP_N1_GPUS:
                _, count, _ = _gpu_key(row["AcceleratorName"], row["AcceleratorCount"], row)
                rest.append({**row, "InstanceType": f"{row['AcceleratorName']}:{count}"})
                self.gpus_alone += 1
            elif not GCP_TPU_SLICE.match(row["AcceleratorName"]):
                self.skipped["GCP GPU-only rows whose host VM is not in their zone"] += 1
        return rest

    def _add_tpu(self, row: dict[str, Any], flat: set[tuple[str, str]]) -> None:
        """One TPU slice priced per chip: the slice's price over its chips."""
        m = GCP_TPU_SLICE.match(row["AcceleratorName"])
        generation, size = m["generation"], int(m["size"])
        units = TPU_NAME_UNITS_PER_CHIP.get(generation)
        if units is None or size % units:
            self.rates.reject(
                "tpu_slice",
                f"cannot tell how many chips {row['AcceleratorName']} has: no naming convention is known "
                f"for TPU {generation} or its size is not a whole number of chips",
                row,
                "AcceleratorName",
                row["AcceleratorName"],
            )
        if (generation, row.get("AvailabilityZone", "")) in flat:
            self.rates.reject(
                "tpu_flat_price",
                f"every TPU {generation} slice in {row.get('AvailabilityZone')} is priced {row['Price']} "
                "whatever its size: a placeholder, not a rate",
                row,
                "Price",
                row["Price"],
            )
        # AcceleratorCount counts slices (1 in every real row); the rate row counts chips.
        chips = self.rates.gpu_count(row, "AcceleratorCount") * size / units
        slice_ = {**row, "AcceleratorCount": str(chips)}
        on_demand = self.rates.number(row, "Price")
        spot = self.rates.number(row, "SpotPrice")
        self._add_rates(slice_, on_demand, spot, canonical_accelerator(f"tpu-{generation}"))

    def _add_gcp_instance(
        self, host: dict[str, Any], gpus: dict[str, Any] | None, name: str, count: int
    ) -> None:
        if gpus is None:
            self.rates.reject(
                "gcp_unpaired",
                f"host VM {host['InstanceType']} in {host.get('AvailabilityZone') or host['Region']} has no "
                f"{name} x{count} GPU row to add; its price alone leaves out the GPUs",
                host,
            )
        record = {**host, "gpu_row": gpus}
        totals = {}
        for field in ("Price", "SpotPrice"):
            parts = [self.rates.number(record, field, part.get(field, "")) for part in (host, gpus)]
            if field == "Price" and 0 in parts:
                self.rates.reject(
                    "zero_component",
                    f"a GCP {'host VM' if parts[0] == 0 else 'GPU'} price of 0 is a placeholder; "
                    "the instance price would leave it out",
                    record,
                    field,
                    "0",
                )
            totals[field] = None if None in parts or 0 in parts else parts[0] + parts[1]
        instance = {
            **host,
            "AcceleratorName": name,
            "AcceleratorCount": str(count),
            "GpuInfo": gpus.get("GpuInfo", ""),
        }
        self._add_rates(instance, totals["Price"], totals["SpotPrice"])

    def read_offers(self, body: bytes) -> ParseResult:
        """The embedded snapshot's derived format: rows already priced per instance and region."""

        def key(row: dict[str, Any]) -> dict[str, Any]:
            return {k: row.get(k) for k in ("provider", "instance_type", "region", "pricing_type")}

        rows, malformed, warnings = read_csv(
            self.rates.source, body, required=market_snapshot.OFFER_COLUMNS, key=key
        )
        self.rates.rejects.extend(malformed)
        self.rates.warnings.extend(warnings)
        for row in rows:
            label = f"{row['instance_type']} in {row['region']}"
            self.rates.read(label, row, key(row), functools.partial(self._add_offer, row))
        return self.result()

    def _add_offer(self, row: dict[str, Any]) -> None:
        self._emit(
            row,
            provider=row["provider"],
            instance_type=row["instance_type"],
            region=row["region"],
            pricing_type=row["pricing_type"],
            accelerator_name=row["accelerator_name"],
            # The identity the build resolved; an unmapped name is looked up again at each read,
            # so an alias added since the build maps it.
            accelerator=row["accelerator"] or None,
            gpu_count=self.rates.gpu_count(row, "gpu_count"),
            usd_per_instance_hour=self.rates.number(row, "usd_per_instance_hour"),
            price_field="usd_per_instance_hour",
        )

    def result(self) -> ParseResult:
        if self.no_spot:
            detail = ", ".join(f"{n} {reason}" for reason, n in sorted(self.no_spot.items()))
            self.rates.warnings.append(f"no spot row where the spot price is not one: {detail}")
        self.rates.warnings.extend(f"skipped {n} {what}" for what, n in sorted(self.skipped.items()))
        if self.gpus_alone:
            self.rates.warnings.append(
                f"priced {self.gpus_alone} GCP N1-attached GPU rows (T4, V100, P100, P4) as the GPUs alone: "
                "the N1 host VM they need, of the user's choosing, is not included"
            )
        return self.rates.result()


_CPU_ROWS = "rows without an accelerator (CPU instances)"


def _label(row: dict[str, Any]) -> str:
    return f"{row.get('InstanceType') or row.get('AcceleratorName')} in {row.get('AvailabilityZone') or row.get('Region')}"


def _gpu_key(name: str, count: str, row: dict[str, Any]) -> tuple[str, str, str]:
    try:
        count = format(Decimal(count).normalize(), "f")
    except ArithmeticError:
        pass
    return name, count, row.get("AvailabilityZone", "")


def _gcp_host_gpus(instance_type: str) -> tuple[str, int] | None:
    if m := GCP_HOST.match(instance_type):
        family = GCP_HOST_FAMILIES.get(m["family"])
        return (family, int(m["count"])) if family else None
    if m := GCP_L4_HOST.match(instance_type):
        count = GCP_L4_HOSTS.get(m["vcpus"])
        return ("L4", count) if count else None
    return None


def _flat_priced(tpus: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(generation, zone) pairs whose slices of different sizes all have one on-demand price
    (anycloud's GCP file prices every v6e slice 700.0 in three zones)."""
    sizes: dict[tuple[str, str], set[str]] = {}
    prices: dict[tuple[str, str], set[str]] = {}
    for row in tpus:
        m = GCP_TPU_SLICE.match(row["AcceleratorName"])
        where = (m["generation"], row.get("AvailabilityZone", ""))
        sizes.setdefault(where, set()).add(m["size"])
        prices.setdefault(where, set()).add(row["Price"])
    return {where for where, found in sizes.items() if len(found) > 1 and len(prices[where]) == 1}


def _not_spot(spot: Decimal | None, on_demand: Decimal | None) -> str | None:
    if spot is None:
        return "empty"
    if spot == 0:
        return "zero"
    if on_demand is not None and on_demand > 0:
        if spot == on_demand:
            return "equal to on-demand"
        if spot > on_demand:
            return "above on-demand"
    return None


def _zone(row: dict[str, Any]) -> str | None:
    # Some catalogs repeat the region in AvailabilityZone: that is no zone.
    zone = row.get("AvailabilityZone")
    return zone if zone and zone != row["Region"] else None


# The same GpuInfo text recurs on every zone's row of an instance type; callers only read the result.
@functools.lru_cache(maxsize=1 << 14)
def _gpu_info(text: str) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        try:
            value = json.loads(text)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _first_gpu(info: dict[str, Any] | None) -> dict[str, Any] | None:
    gpus = (info or {}).get("Gpus")
    return gpus[0] if isinstance(gpus, list) and gpus and isinstance(gpus[0], dict) else None


def _info_name(info: dict[str, Any] | None) -> str | None:
    name = (_first_gpu(info) or {}).get("Name")
    return name if isinstance(name, str) else None
