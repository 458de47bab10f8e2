"""Token prices from LiteLLM's model price map (``model_prices_and_context_window.json``).

The payload is one JSON object: model key -> entry. Prices are USD per token written as JSON
floats; the body is read with Decimal floats, so ``2e-06`` becomes exactly 2 USD per million
tokens, never a binary float. ``sample_spec`` (field documentation) is skipped. The key is the
model id (a regional key such as ``azure/eu/gpt-4o`` keeps its own id) and ``litellm_provider``
is the provider. LiteLLM declares no dates, so ``valid_from`` is null (the first observation).

An entry's price keys become rows, one per context tier x service tier x off-peak flag:

- ``input_cost_per_token``, ``output_cost_per_token``, ``cache_read_input_token_cost`` (or the
  older ``input_cost_per_token_cache_hit``) and ``cache_creation_input_token_cost`` form the
  ``base`` / ``standard`` row.
- ``<price>_above_<N>k_tokens`` -> tier ``'>Nk'``. ``tiered_pricing`` (``[{range: [lo, hi],
  <prices>}]``, e.g. DashScope) -> one row per range: ``'base'`` for lo = 0, else ``'>lo'``. A
  tier inherits the prices it does not restate from the flat prices, as LiteLLM bills.
- ``<price>_batches`` -> ``batch_input`` / ``batch_output`` of the same tier (never inherited:
  a batch price not stated for a tier is unknown). Batch cache prices have no column.
- ``<price>_flex``, ``_priority``, ``_ultrafast``, ``_balanced``, ``_decisions`` -> rows with that
  service_tier (nothing inherited from the standard row); a suffix not listed here is warned about.
- ``{"alias_of": <key>}`` is priced by LiteLLM as its target: the alias gets the target's rows under
  its own key (chains followed), its own fields (a ``litellm_provider``) over the target's. An alias
  whose chain loops or names no entry is rejected (``alias_cycle`` / ``alias_target_missing``).
- ``off_peak_pricing`` (``{hours_utc, <prices>}``) -> an off_peak row over the base row.
- ``cache_creation`` is the default 5-minute cache write. The 1-hour and 12-hour writes
  (``..._above_1hr``, ``..._above_12hr``) are not stored: the schema has one cache-write column.
- mode is LiteLLM's ``mode`` in the shared vocabulary: chat (also completion, responses),
  embedding, image, audio, video, rerank, moderation; an unknown mode is kept as written.
- context_window is ``max_input_tokens`` (else ``max_tokens``), max_output_tokens is
  ``max_output_tokens``; LiteLLM's non-numeric placeholders become null.

Outcomes: an entry priced only per image, second or character, or all zeros (free tiers, prices
LiteLLM has not filled in), is not billed per token: no row, one warning per payload counting them
by unit with a few examples.
In embedding, rerank and moderation modes a zero output price means no output tokens: null. A
negative, non-numeric or NaN price, a missing ``litellm_provider``, a malformed tier, a price
above 10,000 USD/MTok (a per-million price written as per-token) or a repeated key rejects the
entry. A price-looking key (``*cost*``) this module does not know is ignored with a warning.

How it reads (issue 17): most entries are plain (flat per-token prices, an ASCII id, a provider) and
are read as frames by ``_Flat``: one Python pass over the decoded JSON collects the ``*cost*`` fields,
each distinct value goes through ``checked_price`` once, and the tier, inheritance, batch and zero
rules are polars expressions over the whole payload. The rest (aliases, ``tiered_pricing``,
``off_peak_pricing``, repeated keys, odd ids, any value a rule refuses) is read per record by
``_entry_rows``, the same rules written for one entry. Both give the same rows, rejects and warnings
(tests/sources/test_litellm_columnar.py); docs/performance.md has the timings.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl

from sources import market_snapshot
from sources.base import (
    PRICE_DTYPE,
    BadRecord,
    ParseResult,
    Records,
    SourceError,
    checked_price,
    json_object,
    plain_id,
)
from sources.http import Fetched, Http
from sources.model_identity import canonical_model
from sources.schemas import TOKEN_PRICES

NAME = "litellm"
DATASET = "token_prices"
# One payload is the whole feed: a key it no longer lists is closed (warehouse.history).
SNAPSHOT_SCOPE: tuple[str, ...] | None = ("source",)
LIVE_URL = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"

_PRICE_KEY = re.compile(
    r"(?P<base>input_cost_per_token_cache_hit|input_cost_per_token|output_cost_per_token"
    r"|cache_read_input_token_cost|cache_creation_input_token_cost)"
    r"(?P<duration>_above_\d+hr)?(?:_above_(?P<k>\d+)k_tokens)?"
    r"(?:_(?P<service>batches|flex|priority|ultrafast|balanced|decisions))?"
)
_COLUMN = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "input_cost_per_token_cache_hit": "cache_hit",
    "cache_creation_input_token_cost": "cache_write",
}
# Prices LiteLLM states for things the schema has no column for (media, per-call fees, reasoning
# tokens billed as output); a price-looking key matching none of these is new and worth a warning.
_KNOWN_UNMAPPED = re.compile(
    r"audio|image|video|pixel|character|second|minute|hour|page|query|request|session|call|citation"
    r"|search|computer_use|tool_use|file_|vector_store|code_interpreter|reasoning|dbu|_gb"
)
# The unit of a price that is not per token: ``output_cost_per_image`` -> image.
_UNIT = re.compile(r"per_([a-z]+)")
_MODES = {
    "chat": "chat", "completion": "chat", "responses": "chat", "embedding": "embedding",
    "image_generation": "image", "image_edit": "image", "audio_transcription": "audio",
    "audio_speech": "audio", "realtime": "audio", "video_generation": "video", "rerank": "rerank",
    "moderation": "moderation",
}  # fmt: skip
_NO_OUTPUT_MODES = frozenset({"embedding", "rerank", "moderation"})
_COUNTS = ("max_input_tokens", "max_tokens", "max_output_tokens")
_INT64 = range(-(2**63), 2**63)
_META = {
    "_pos": pl.UInt32,
    "model": pl.Utf8,
    "provider": pl.Utf8,
    "mode": pl.Utf8,
    "cw": pl.Int64,
    "mo": pl.Int64,
}
_LONG = {"_pos": pl.UInt32, "field": pl.Utf8, "vid": pl.UInt32}


def fetch_live(http: Http) -> list[Fetched]:
    return [Fetched(LIVE_URL, http.get(LIVE_URL))]


def embedded() -> list[Fetched]:
    """The market snapshot's copy of this feed, with its date and licence (sources/market_snapshot.py)."""
    return market_snapshot.payloads(NAME)


class _Object(dict):
    """A JSON object that remembers the keys it saw twice (json.loads would keep the last). Only an
    object with a repeated key is one (``_object``): building every entry this way is slow."""

    def __init__(self, pairs: list[tuple[str, Any]]):
        super().__init__()
        self.repeated: list[tuple[str, Any]] = []
        for key, value in pairs:
            if key in self:
                self.repeated.append((key, value))
            else:
                self[key] = value


def parse(body: bytes, *, observed_at: datetime, origin: str) -> ParseResult:
    entries = _load(body, origin)
    items = [(key, entry, False) for key, entry in entries.items() if key != "sample_spec"]
    again = entries.repeated if isinstance(entries, _Object) else []
    items += [(key, entry, True) for key, entry in again if key != "sample_spec"]
    flat = _Flat(items)
    fast = flat.rows()
    prices = Records(NAME, TOKEN_PRICES)
    # (position, unit, key) of the entries read without a reject that give no row
    not_per_token = [(pos, _unit(items[pos][1]), items[pos][0]) for pos in flat.no_rows]
    slow_rows: list[tuple[int, int]] = []  # (position, row within the entry) of each row of prices.rows
    for pos in sorted(flat.slow):
        key, entry, repeated = items[pos]
        provider = entry.get("litellm_provider") if isinstance(entry, dict) else None
        natural = {"model": key, **({"provider": provider} if isinstance(provider, str) and provider else {})}
        rows: list[dict[str, Any]] = []
        priced = [entry]

        def read(key=key, entry=entry, repeated=repeated, rows=rows, priced=priced) -> list[dict[str, Any]]:
            if repeated:
                raise BadRecord(
                    "duplicate_key", f"{key}: the key appears again; the first entry is kept", "model", key
                )
            target, priced[0] = _aliased(key, entry, entries)
            rows.extend(_entry_rows(key, priced[0], target))
            return rows

        if not prices.read(key, {"model": key, "provider": provider}, natural, read):
            flat.rejected.add(pos)
            continue
        slow_rows += [(pos, n) for n in range(len(rows))]
        if not rows:
            not_per_token.append((pos, _unit(priced[0]), key))
    slow = prices.result().rows.with_columns(
        pl.Series("_pos", [p for p, _ in slow_rows], pl.UInt32),
        pl.Series("_order", [n for _, n in slow_rows], pl.UInt32),
    )
    prices.warnings.extend(flat.new_fields())
    if not_per_token:
        by_unit: dict[str, list[str]] = defaultdict(list)
        for _, unit, key in sorted(not_per_token):
            by_unit[unit].append(key)
        units = sorted(by_unit.items(), key=lambda item: (-len(item[1]), item[0]))
        prices.warnings.append(
            f"{NAME}: {len(not_per_token)} entries not billed per token give no row: "
            + ", ".join(f"{len(keys)} {unit} (e.g. {keys[0]})" for unit, keys in units)
        )
    rows = pl.concat([fast, slow]).sort("_pos", "_order").drop("_pos", "_order")
    if rows.is_empty() and not prices.rejects:
        raise SourceError(
            NAME,
            f"payload from {origin} holds no token price rows ({len(not_per_token)} not billed per token)",
        )
    return ParseResult(rows, prices.rejects, prices.warnings, prices.complete)


class _Flat:
    """The columnar path: the entries that need none of the per-record rules, read as frames.

    One pass over the JSON collects every ``*cost*`` field as (entry, field, value) with the value's
    id in a table of distinct values; each distinct value is read once by ``checked_price`` (the
    exact Decimal rule every path shares), and everything else (which fields are prices, tiers,
    inheritance, batch prices, the zero rules) is polars expressions over the whole payload.

    An entry goes to the per-record path (``slow``) when it needs a rule written per record: a repeated
    key, an alias, ``tiered_pricing`` or ``off_peak_pricing`` blocks, a missing provider, an id that is
    not plain ASCII (or that one of those ids normalizes to), a count too large for its column, or a
    price that is empty or that ``checked_price`` refuses (so the reject and its reason are the
    per-record path's own). In LiteLLM's real map that is 165 of 4,877 entries.
    """

    def __init__(self, items: list[tuple[str, Any, bool]]):
        self.slow: set[int] = set()
        self.rejected: set[int] = set()
        self.no_rows: list[int] = []
        self._keys = [key for key, _, _ in items]
        # Distinct values by vid. _load gives one Decimal object per distinct number text, so a
        # Decimal is told apart by its id (hashing 100k Decimals costs more than the rest of the pass).
        self._objects: list[Any] = []
        vids: dict[Any, int] = {}
        meta: dict[str, list[Any]] = {c: [] for c in _META}
        long: dict[str, list[Any]] = {c: [] for c in _LONG}
        odd_ids = set()
        for pos, (key, entry, repeated) in enumerate(items):
            if not isinstance(entry, dict):
                self.slow.add(pos)
                continue
            for field, value in entry.items():
                if "cost" in field:
                    seen = id(value) if value.__class__ is Decimal else (value.__class__, _hashable(value))
                    vid = vids.get(seen)
                    if vid is None:
                        vid = vids[seen] = len(self._objects)
                        self._objects.append(value)
                    long["_pos"].append(pos)
                    long["field"].append(field)
                    long["vid"].append(vid)
            provider = entry.get("litellm_provider")
            counts = [_count(entry.get(f)) for f in _COUNTS]
            if (
                repeated
                or not _plain(key)
                or not isinstance(provider, str)
                or not provider
                or not _plain(provider)
                or "alias_of" in entry
                or "tiered_pricing" in entry
                or "off_peak_pricing" in entry
                or any(c is not None and c not in _INT64 for c in counts)
            ):
                self.slow.add(pos)
                if not _plain(key):
                    odd_ids.add(unicodedata.normalize("NFKC", key))
                continue
            mode = entry.get("mode")
            meta["_pos"].append(pos)
            meta["model"].append(key)
            meta["provider"].append(provider)
            meta["mode"].append(mode if isinstance(mode, str) else None)
            meta["cw"].append(counts[0] or counts[1])
            meta["mo"].append(counts[2])
        # An id that normalizes to a plain one collides with it: both are read in order, per record.
        self.slow.update(p for p, key in zip(meta["_pos"], meta["model"], strict=True) if key in odd_ids)
        self._meta = pl.DataFrame(meta, schema=_META)
        self._long = pl.DataFrame(long, schema=_LONG).with_row_index("idx")

    def _prices(self) -> pl.DataFrame:
        """Each distinct value as USD per million tokens, null where the per-record rule is needed."""
        out = []
        for value in self._objects:
            try:
                listed = isinstance(value, list | dict)
                price = None if listed else checked_price(value, label="", field="", per_token=True)
            except BadRecord:
                price = None
            out.append(None if price is None else format(price, "f"))
        return pl.DataFrame({"price": pl.Series(out, dtype=pl.Utf8).cast(PRICE_DTYPE)}).with_row_index("vid")

    def rows(self) -> pl.DataFrame:
        """The rows of every entry read here, with ``_pos`` / ``_order`` to put them in payload order."""
        parts = _PRICE_KEY.pattern
        found = (
            self._long.join(self._prices(), on="vid", how="left")
            .with_columns(pl.col("field").str.extract_groups(f"^(?:{parts})$").alias("m"))
            .unnest("m")
            .filter(pl.col("base").is_not_null() & pl.col("duration").is_null())
        )
        # A price the rule refuses (or an empty one): that entry is read per record, reject and all.
        self.slow.update(found.filter(pl.col("price").is_null())["_pos"].to_list())
        fast = self._meta.filter(~pl.col("_pos").is_in(list(self.slow)))
        found = found.join(fast.select("_pos"), on="_pos", how="semi").with_columns(
            tier=pl.when(pl.col("k").is_not_null()).then(pl.format(">{}k", "k")).otherwise(pl.lit("base")),
            service=pl.col("service").fill_null("standard"),
            column=pl.col("base").replace_strict(_COLUMN),
        )
        columns = sorted(set(_COLUMN.values()))
        flat = found.group_by("_pos", "tier", "service").agg(
            pl.col("idx").min().alias("_order"),
            *(pl.col("price").filter(pl.col("column") == c).first().alias(c) for c in columns),
        )
        base = flat.filter(pl.col("tier") == "base").select(
            "_pos", "service", *(pl.col(c).alias(f"base_{c}") for c in columns)
        )
        batch = flat.filter(pl.col("service") == "batches").select(
            "_pos", "tier", pl.col("input").alias("batch_input"), pl.col("output").alias("batch_output")
        )

        def inherited(c: str) -> pl.Expr:
            return pl.coalesce(c, f"base_{c}")

        standard = pl.col("service") == "standard"
        no_output = pl.col("mode").is_in(list(_NO_OUTPUT_MODES))
        rows = (
            flat.filter(pl.col("service") != "batches")
            .join(base, on=["_pos", "service"], how="left")
            .join(batch, on=["_pos", "tier"], how="left")
            .join(fast, on="_pos")
            .with_columns(pl.col("mode").replace(_MODES))
            .select(
                "_pos",
                "_order",
                "provider",
                "model",
                "mode",
                "tier",
                pl.col("service").alias("service_tier"),
                pl.col("cw").alias("context_window"),
                pl.col("mo").alias("max_output_tokens"),
                inherited("input").alias("input_usd_per_mtok"),
                _zero_is_none(inherited("output"), no_output).alias("output_usd_per_mtok"),
                pl.coalesce(inherited("cache_read"), inherited("cache_hit")).alias("cache_read_usd_per_mtok"),
                inherited("cache_write").alias("cache_write_usd_per_mtok"),
                pl.when(standard).then("batch_input").alias("batch_input_usd_per_mtok"),
                _zero_is_none(pl.when(standard).then("batch_output"), no_output).alias(
                    "batch_output_usd_per_mtok"
                ),
            )
            .filter(pl.col("input_usd_per_mtok").is_not_null() | pl.col("output_usd_per_mtok").is_not_null())
        )
        # All zeros: a free tier or a price LiteLLM has not filled in, not a token price.
        priced = pl.any_horizontal(
            pl.col(c).fill_null(0) != 0 for c in rows.columns if c.endswith("_usd_per_mtok")
        )
        rows = rows.filter(priced.any().over("_pos"))
        self.no_rows = sorted(set(fast["_pos"].to_list()) - set(rows["_pos"].to_list()))
        identities = rows.select("provider", "model").unique()
        identities = identities.with_columns(
            pl.Series("canonical_model", [canonical_model(p, m) for p, m in identities.iter_rows()], pl.Utf8)
        )
        rows = rows.join(identities, on=["provider", "model"], how="left").with_columns(
            source=pl.lit(NAME), off_peak=pl.lit(False), currency=pl.lit("USD")
        )
        return rows.select(
            *(
                pl.col(c.name).cast(c.dtype)
                if c.name in rows.columns
                else pl.lit(None, c.dtype).alias(c.name)
                for c in TOKEN_PRICES.columns
            ),
            "_pos",
            "_order",
        )

    def new_fields(self) -> list[str]:
        """A warning per price-looking field this module does not know, over the entries read."""
        fields = self._long.filter(
            ~pl.col("_pos").is_in(list(self.rejected))
            & ~pl.col("field").str.contains(f"^(?:{_PRICE_KEY.pattern})$")
            & ~pl.col("field").str.contains(_KNOWN_UNMAPPED.pattern)
        )
        return [
            f"{NAME}: price-looking field {field!r} is not mapped to a column (on {n} entries, e.g. {self._keys[pos]})"
            for field, n, pos in fields.group_by("field")
            .agg(pl.len(), pl.col("_pos").min())
            .sort("field")
            .iter_rows()
        ]


def _aliased(key: str, entry: Any, entries: dict[str, Any]) -> tuple[str, Any]:
    """The key and entry LiteLLM prices ``key`` with: an ``{"alias_of": target}`` entry is priced as
    its target, chains followed, with the alias's own fields (a ``litellm_provider``) over the target's."""
    chain = [key]
    priced = entry
    while isinstance(priced, dict) and "alias_of" in priced:
        target = priced["alias_of"]
        if not isinstance(target, str) or target not in entries or target == "sample_spec":
            raise BadRecord(
                "alias_target_missing",
                f"{key}: alias_of chain {' -> '.join([*chain, str(target)])} ends at {target!r}, "
                "which is not an entry of the map",
                "alias_of",
                entry["alias_of"],
            )
        if target in chain:
            raise BadRecord(
                "alias_cycle",
                f"{key}: alias_of chain {' -> '.join([*chain, target])} loops back to {target}",
                "alias_of",
                entry["alias_of"],
            )
        chain.append(target)
        priced = entries[target]
    if len(chain) == 1:
        return key, entry
    own = {field: value for field, value in entry.items() if field != "alias_of"}
    return chain[-1], {**json_object(priced, what=f"{key}: the entry of its alias target {chain[-1]}"), **own}


def _unit(entry: Any) -> str:
    """How an entry with no per-token price bills: the unit of its first non-zero price."""
    for field, value in entry.items():
        nonzero = isinstance(value, int | Decimal) and not isinstance(value, bool) and value > 0
        units = _UNIT.findall(field) if "cost" in field and nonzero else []
        if units and units[-1] != "token":
            return f"per {units[-1]}"
    return "priced all zero or not at all"


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    return found if len(found) == len(pairs) else _Object(pairs)


def _decimals() -> Callable[[str], Decimal]:
    """``parse_float`` giving one Decimal object per distinct number text of a payload."""
    seen: dict[str, Decimal] = {}

    def read(text: str) -> Decimal:
        number = seen.get(text)
        if number is None:
            number = seen[text] = Decimal(text)
        return number

    return read


def _load(body: bytes, origin: str) -> dict[str, Any]:
    if not body.strip():
        raise SourceError(NAME, f"payload from {origin} is empty")
    try:
        entries = json.loads(body, parse_float=_decimals(), object_pairs_hook=_object)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SourceError(NAME, f"payload from {origin} is not JSON ({e})") from None
    if not isinstance(entries, dict):
        raise SourceError(
            NAME,
            f"payload from {origin} is a JSON {type(entries).__name__}, expected an object of model entries",
        )
    if not set(entries) - {"sample_spec"}:
        raise SourceError(NAME, f"payload from {origin} has no model entries")
    return entries


def _entry_rows(key: str, entry: Any, priced_as: str) -> list[dict[str, Any]]:
    """The rows of ``key``, priced by ``entry``: its own, or that of the key ``priced_as`` it aliases."""
    entry = json_object(entry, what=f"{key}: the entry")
    provider = entry.get("litellm_provider")
    if not isinstance(provider, str) or not provider:
        raise BadRecord("missing_field", f"{key}: no litellm_provider", "litellm_provider", provider)
    provider = plain_id(provider, field="litellm_provider", label=key)
    model = plain_id(key, field="model")
    # (tier, service, off_peak) -> {'input' | 'output' | 'cache_read' | 'cache_hit' | 'cache_write': USD/MTok}
    # Flat keys: (tier, service) -> {'input' | 'output' | 'cache_read' | 'cache_hit' | 'cache_write': USD/MTok}
    flat: dict[tuple[str, str], dict[str, Decimal | None]] = defaultdict(dict)
    for field, value in entry.items():
        match = _PRICE_KEY.fullmatch(field)
        if match and not match["duration"]:
            tier = f">{match['k']}k" if match["k"] else "base"
            flat[(tier, match["service"] or "standard")][_COLUMN[match["base"]]] = _per_mtok(
                key, field, value
            )
    # Blocks that override the flat prices: (tier, service, off_peak) -> prices
    blocks: dict[tuple[str, str, bool], dict[str, Decimal | None]] = defaultdict(dict)
    for tier, tier_prices in _tiered(key, entry.get("tiered_pricing")):
        blocks[(tier, "standard", False)].update(tier_prices)
    off_peak_block = entry.get("off_peak_pricing")
    if isinstance(off_peak_block, dict):
        blocks[("base", "standard", True)].update(_flat_prices(key, "off_peak_pricing", off_peak_block))
    mode = entry.get("mode") if isinstance(entry.get("mode"), str) else None
    mode = _MODES.get(mode, mode)
    common = {
        "source": NAME,
        "provider": provider,
        "model": model,
        # An alias names the model it resolves to, as LiteLLM's own lookup does.
        "canonical_model": canonical_model(provider, plain_id(priced_as, field="alias_of")),
        "mode": mode,
        "context_window": _count(entry.get("max_input_tokens")) or _count(entry.get("max_tokens")),
        "max_output_tokens": _count(entry.get("max_output_tokens")),
        "currency": "USD",
        "valid_from": None,
    }
    rows = []
    for tier, service, off_peak in dict.fromkeys([*((t, s, False) for t, s in flat), *blocks]):
        if service == "batches":
            continue
        # What a tier or block does not restate is the entry's flat base price, as LiteLLM bills it.
        values = {**flat.get(("base", service), {}), **flat.get((tier, service), {})}
        values.update(blocks.get((tier, service, off_peak), {}))
        batch = flat.get((tier, "batches"), {}) if service == "standard" and not off_peak else {}
        row = {
            "input_usd_per_mtok": values.get("input"),
            "output_usd_per_mtok": values.get("output"),
            "cache_read_usd_per_mtok": _first(values.get("cache_read"), values.get("cache_hit")),
            "cache_write_usd_per_mtok": values.get("cache_write"),
            "batch_input_usd_per_mtok": batch.get("input"),
            "batch_output_usd_per_mtok": batch.get("output"),
        }
        if mode in _NO_OUTPUT_MODES:
            for column in ("output_usd_per_mtok", "batch_output_usd_per_mtok"):
                row[column] = row[column] or None
        if row["input_usd_per_mtok"] is None and row["output_usd_per_mtok"] is None:
            continue
        rows.append({**common, **row, "tier": tier, "service_tier": service, "off_peak": off_peak})
    # All zeros: a free tier or a price LiteLLM has not filled in, not a token price.
    if all(not any(row[c] for c in row if c.endswith("_usd_per_mtok")) for row in rows):
        return []
    return rows


def _tiered(key: str, tiers: Any) -> list[tuple[str, dict[str, Decimal | None]]]:
    if tiers is None:
        return []
    if not isinstance(tiers, list):
        raise BadRecord(
            "malformed_tier", f"{key}: tiered_pricing is not a list", "tiered_pricing", str(tiers)[:200]
        )
    out = []
    for tier in tiers:
        bounds = tier.get("range") if isinstance(tier, dict) else None
        start = bounds[0] if isinstance(bounds, list) and bounds else None
        if (
            not isinstance(start, int | Decimal)
            or isinstance(start, bool)
            or start < 0
            or start != int(start)
        ):
            raise BadRecord(
                "malformed_tier",
                f"{key}: tiered_pricing range {bounds!r} has no token count to start from",
                "tiered_pricing.range",
                str(bounds),
            )
        out.append(
            (
                "base" if start == 0 else f">{_thousands(int(start))}",
                _flat_prices(key, "tiered_pricing", tier),
            )
        )
    return out


def _flat_prices(key: str, where: str, block: dict[str, Any]) -> dict[str, Decimal | None]:
    return {
        _COLUMN[field]: _per_mtok(key, f"{where}.{field}", value)
        for field, value in block.items()
        if field in _COLUMN
    }


def _per_mtok(key: str, field: str, value: Any) -> Decimal | None:
    return checked_price(value, label=key, field=field, per_token=True)


def _thousands(tokens: int) -> str:
    return f"{tokens // 1000}k" if tokens % 1000 == 0 else str(tokens)


def _count(value: Any) -> int | None:
    """A token count, or None for LiteLLM's placeholders (descriptions, zero, fractions)."""
    if value.__class__ is int:  # most counts: skip the checks below
        return value if value > 0 else None
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value <= 0 or value != int(value):
        return None
    return int(value)


def _hashable(value: Any) -> Any:
    """``value`` as a dict key: a list or an object where a price belongs by its text."""
    return repr(value) if isinstance(value, list | dict) else value


def _plain(text: str) -> bool:
    """Printable ASCII, which NFKC leaves as it is: the id needs none of ``plain_id``'s checks."""
    return text.isascii() and text.isprintable()


def _zero_is_none(price: pl.Expr, no_output: pl.Expr) -> pl.Expr:
    """In embedding, rerank and moderation modes a zero output price means no output tokens."""
    return pl.when(no_output & (price == 0)).then(None).otherwise(price)


def _first(*values: Decimal | None) -> Decimal | None:
    return next((v for v in values if v is not None), None)
