"""One accelerator identity: the canonical id every source name maps to (rate rows: ``gpu_rows``).

Canonical ids look like ``nvidia-h100-sxm-80gb``: vendor, model, form factor where it matters,
memory. The explicit alias table (``catalog/accelerator_aliases.csv``) maps the names sources
write (``H100``, ``NVIDIA H100 80GB HBM3``, SkyPilot's ``A100`` meaning 40 GB, ...) to those ids.
An alias row may be qualified by memory (GB) and/or form factor (sxm, pcie, nvl): the same name
means different parts, e.g. SkyPilot's Vast catalog writes ``H100`` for an H100 NVL 94 GB and only
the memory or the offer name tells them apart. A name that maps to nothing returns None; rate rows
keep ``accelerator = null`` with ``accelerator_name`` set so the pipeline can list them.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

from sources.base import plain_id, to_decimal

# Vendor and product-line words that sources prepend or omit at will ("NVIDIA GeForce RTX 4090",
# "Tesla V100", "AMD Radeon Instinct MI250X"); stripped only when the full name has no alias.
_PREFIXES = ("nvidia", "amd", "intel", "google", "tesla", "geforce", "radeon", "instinct", "habana")
_FORM_FACTORS = ("sxm", "pcie", "nvl")
_MEMORY_TOLERANCE = Decimal("0.08")


@dataclass(frozen=True)
class Alias:
    canonical: str
    memory_gb: Decimal | None
    form_factor: str | None


def normalize(name: str) -> str:
    """Lower case without spaces, underscores or hyphens: 'RTX6000-Ada' == 'RTX 6000 Ada'."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def form_factor(text: str | None) -> str | None:
    """The form factor a name or offer id states (sxm, pcie, nvl), if exactly one."""
    if not text:
        return None
    t = normalize(text)
    # 'nvlink' is a bridge on SXM and PCIe parts alike, not the NVL product. Cudo shortens PCIe to
    # 'pci' ('intel-ice-lake-a100-pci_1x2v4gb'), so 'pci' not followed by another letter counts too.
    found = {
        ff
        for ff, pattern in (("sxm", r"sxm"), ("pcie", r"pci(e|(?![a-z]))"), ("nvl", r"nvl(?!ink)"))
        if re.search(pattern, t)
    }
    return found.pop() if len(found) == 1 else None


def _implied_form_factor(canonical: str) -> str | None:
    parts = canonical.split("-")
    return next((p for p in parts if p in _FORM_FACTORS or p.startswith("sxm")), None)


@cache
def aliases() -> dict[str, tuple[Alias, ...]]:
    """Normalized alias -> its rows in file order (the unqualified row is the default)."""
    text = (files("sources") / "catalog" / "accelerator_aliases.csv").read_text(encoding="utf-8")
    table: dict[str, list[Alias]] = {}
    for row in csv.DictReader(text.splitlines()):
        memory = row["memory_gb"].strip()
        table.setdefault(normalize(row["alias"]), []).append(
            Alias(
                row["canonical"].strip(),
                Decimal(memory) if memory else None,
                row["form_factor"].strip() or None,
            )
        )
    return {k: tuple(v) for k, v in table.items()}


def _candidates(name: str) -> tuple[Alias, ...]:
    key = normalize(name)
    table = aliases()
    while key not in table:
        prefix = next((p for p in _PREFIXES if key.startswith(p) and len(key) > len(p)), None)
        if prefix is None:
            return ()
        key = key[len(prefix) :]
    return table[key]


def _memory_matches(actual: Decimal, nominal: Decimal) -> bool:
    return abs(actual - nominal) <= nominal * _MEMORY_TOLERANCE


def canonical_accelerator(name: str, *, memory_gb: Any = None, hint: str | None = None) -> str | None:
    """The canonical id for an accelerator name, or None when nothing maps it.

    ``memory_gb`` is the memory of one accelerator (GiB as vendors print it: 80, 94, 141);
    ``hint`` is any text that may state the form factor (an offer id, a socket, a display name).
    The name is read in NFKC form; one that still holds a character outside printable ASCII raises
    ``BadRecord`` (a look-alike of a real name). The most specific alias row whose qualifiers all hold wins. A hint that contradicts the form
    factor of the result (a PCIe offer resolving to an SXM part) gives None rather than a guess.
    """
    try:
        return _canonical_accelerator(name, memory_gb, hint)
    except TypeError:  # a value no dict can hold (a list from a malformed payload): read without the cache
        return _canonical_accelerator.__wrapped__(name, memory_gb, hint)


# A catalog repeats the same (name, memory, hint) on thousands of rows (every zone, spot and on-demand),
# and the answer depends on them and the alias table only, which is read once per process.
@lru_cache(maxsize=1 << 16)
def _canonical_accelerator(name: str, memory_gb: Any, hint: str | None) -> str | None:
    if not name or not name.strip():
        return None
    name = plain_id(name, field="accelerator_name")
    memory = to_decimal(memory_gb) if memory_gb not in (None, "") else None
    ff = form_factor(hint) or form_factor(name)
    best, best_score = None, -1
    for alias in _candidates(name):
        score = 0
        if alias.memory_gb is not None:
            if memory is None or not _memory_matches(memory, alias.memory_gb):
                continue
            score += 1
        if alias.form_factor is not None:
            if alias.form_factor != ff:
                continue
            score += 1
        if score > best_score:
            best, best_score = alias, score
    if best is None:
        return None
    implied = _implied_form_factor(best.canonical)
    if ff and implied and not implied.startswith(ff):
        return None
    return best.canonical
