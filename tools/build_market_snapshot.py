"""Build the embedded market snapshot (sources/catalog/market/) from whole real upstream files.

    python -m tools.build_market_snapshot DIR

DIR holds the files as ../shared/real/ names them (token_prices/..., gpu_rates/...). Run it by
hand when the snapshot is renewed; `make run` offline then shows the market of these files. What
is embedded, per licence (sources/catalog/README.md says the same for readers):

- LiteLLM's price map (MIT): the file itself, gzipped.
- OpenRouter's models response (no licence; prices are public facts): per model only the fields
  the parser reads (id, pricing, context, modalities, alias target), no descriptions.
- GPU catalogs: one row per provider x instance x region x pricing type with the accelerator, GPU
  count and price, as the skypilot parser reads them. The anycloud files carry no licence, so only
  these derived facts are taken from them; SkyPilot's own catalogs are Apache-2.0. Zones are
  collapsed into their region: in the 2026-05-20 files every zone of a region has one price per
  instance and pricing type, and the build refuses a file where that does not hold.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from sources import skypilot
from sources.market_snapshot import FOLDER, MANIFEST, OFFER_COLUMNS

# The upstream files of the snapshot: (path under DIR, source, cloud, observed on, origin, licence).
TOKEN_FILES = [
    (
        "token_prices/litellm_1.110.2_model_prices_backup.json",
        "litellm",
        date(2026, 8, 21),
        "BerriAI/litellm: model_prices_and_context_window_backup.json in the litellm==1.110.2 wheel "
        "(the map carries no date: observed on the day the token snapshot set was taken)",
        "MIT",
    ),
    (
        "token_prices/openrouter_models_all_2026-08-19.json",
        "openrouter",
        date(2026, 8, 19),
        "openrouter.ai/api/v1/models?output_modalities=all as saved on 2026-08-19",
        "derived facts (prices are public facts; the response has no licence)",
    ),
]
SKYPILOT_EXCERPT = (
    "skypilot-org/skypilot-catalog (a v8 excerpt of 2026; its day is not recorded, dated with the set)"
)
CATALOGS = [
    ("gpu_rates/anycloud_azure_vms_2026-05-20.csv.gz", "azure", "anycloud-sh/catalog@62ff0a9"),
    ("gpu_rates/anycloud_gcp_vms_2026-05-20.csv.gz", "gcp", "anycloud-sh/catalog@62ff0a9"),
    ("gpu_rates/anycloud_lambda_vms_2026-05-20.csv.gz", "lambda", "anycloud-sh/catalog@62ff0a9"),
    ("gpu_rates/anycloud_vast_vms_2026-05-20.csv.gz", "vast", "anycloud-sh/catalog@62ff0a9"),
    ("gpu_rates/skypilot_v8_cudo_vms_excerpt.csv", "cudo", SKYPILOT_EXCERPT),
    ("gpu_rates/skypilot_v8_oci_vms_excerpt.csv", "oci", SKYPILOT_EXCERPT),
]
CATALOG_DATE = date(2026, 5, 20)
# The fields of an OpenRouter model that sources/openrouter.py reads.
OPENROUTER_FIELDS = ("id", "name", "created", "context_length", "pricing", "top_provider", "alias_target")


def offers(body: bytes, cloud: str) -> pl.DataFrame:
    """A catalog's accepted rate rows, one per provider x instance x region x pricing type."""
    parsed = skypilot.parse(body, observed_at=datetime.now(UTC), origin=f"{cloud}/vms.csv").rows
    key = ["provider", "instance_type", "region", "pricing_type"]
    collapsed = parsed.group_by(key, maintain_order=True).agg(
        pl.col("accelerator_name", "accelerator", "gpu_count", "usd_per_instance_hour").first(),
        pl.col("usd_per_instance_hour").n_unique().alias("prices"),
        pl.len().alias("zones"),
    )
    uneven = collapsed.filter(pl.col("prices") > 1)
    if uneven.height:
        raise SystemExit(f"{cloud}: zones of one region differ in price, cannot collapse: {uneven.head(3)}")
    return collapsed.select(OFFER_COLUMNS)


def openrouter_facts(body: bytes) -> bytes:
    payload = json.loads(body)
    models = []
    for model in payload["data"]:
        kept = {k: model[k] for k in OPENROUTER_FIELDS if model.get(k) is not None}
        outputs = (model.get("architecture") or {}).get("output_modalities")
        if outputs:
            kept["architecture"] = {"output_modalities": outputs}
        models.append(kept)
    return json.dumps({"data": models}, separators=(",", ":"), sort_keys=True).encode()


def _write(name: str, body: bytes) -> None:
    # mtime=0: the same input gives the same bytes, so a rebuild shows no diff.
    (FOLDER / name).write_bytes(gzip.compress(body, compresslevel=9, mtime=0))


def build(real: Path) -> list[dict[str, str]]:
    FOLDER.mkdir(parents=True, exist_ok=True)
    manifest = []
    for path, source, observed_on, origin, licence in TOKEN_FILES:
        body = (real / path).read_bytes()
        kind = "copy"
        if source == "openrouter":
            body, kind = openrouter_facts(body), "derived"
        name = f"{source}_{observed_on}.json.gz"
        _write(name, body)
        manifest.append(dict(file=name, source=source, observed_on=str(observed_on), kind=kind, origin=origin, licence=licence))  # fmt: skip
    for path, cloud, origin in CATALOGS:
        body = (real / path).read_bytes()
        if path.endswith(".gz"):
            body = gzip.decompress(body)
        frame = offers(body, cloud)
        text = io.StringIO()
        frame.write_csv(text)
        name = f"skypilot_{cloud}_offers_{CATALOG_DATE}.csv.gz"
        _write(name, text.getvalue().encode())
        licence = (
            "Apache-2.0" if origin.startswith("skypilot-org") else "derived facts (the file has no licence)"
        )
        manifest.append(
            dict(file=name, source="skypilot", observed_on=str(CATALOG_DATE), kind="derived",
                 origin=f"{origin} {Path(path).name}", licence=licence)
        )  # fmt: skip
        print(f"{cloud}: {frame.height} offers", file=sys.stderr)
    with (FOLDER / MANIFEST).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(manifest[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(manifest)
    return manifest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m tools.build_market_snapshot DIR (e.g. ../shared/real)")
    build(Path(sys.argv[1]))
