"""The embedded market snapshot: whole real feeds, as of a stated date, for offline runs.

``catalog/market/`` holds one file per upstream payload and ``snapshot.csv``, which says for each
file the source it stands in for, the day the upstream published it, where it came from and its
licence (sources/catalog/README.md says the same in words). A source's ``embedded()`` returns its files as
payloads carrying that provenance, so an offline run records the snapshot's date as its
observation date and its origin and licence in ``meta.source_runs``.

Built by ``tools/build_market_snapshot.py`` from the whole upstream files.
"""

from __future__ import annotations

import csv
import gzip
import io
from datetime import UTC, date, datetime
from importlib.resources import files

from sources.http import Fetched

FOLDER = files("sources") / "catalog" / "market"
MANIFEST = "snapshot.csv"
# The derived GPU offer format: one row per provider x instance x region x pricing type.
OFFER_COLUMNS = (
    "provider",
    "instance_type",
    "region",
    "pricing_type",
    "accelerator_name",
    "accelerator",
    "gpu_count",
    "usd_per_instance_hour",
    "zones",
)


def payloads(source: str) -> list[Fetched]:
    """The snapshot's payloads for ``source``, in manifest order."""
    text = (FOLDER / MANIFEST).read_text(encoding="utf-8")
    found = []
    for entry in csv.DictReader(io.StringIO(text)):
        if entry["source"] != source:
            continue
        body = (FOLDER / entry["file"]).read_bytes()
        if entry["file"].endswith(".gz"):
            body = gzip.decompress(body)
        day = date.fromisoformat(entry["observed_on"])
        found.append(
            Fetched(
                f"package://sources/catalog/market/{entry['file']}",
                body,
                observed_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
                origin=f"{entry['origin']} ({entry['observed_on']})",
                licence=entry["licence"],
            )
        )
    return found
