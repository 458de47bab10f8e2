"""Every live source as recorded responses, and the faults a real upstream produces.

``Upstream`` answers each source's requests with its fixture(s) from ``tests/fixtures``, at the URLs
its ``fetch_live`` asks for, through ``httpx.MockTransport``: no network. A fault is either a
transport behaviour (timeout, refused connection, 5xx, 429, a connection dropped mid-body, a garbled
compressed body, a body over the size cap) or a change to the payload's content (cut short,
malformed, empty, schema drift, unit error, negative, NaN, duplicate), applied by the same code to
every source through a small description of its shape (``SHAPES``).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import httpx

from sources import azure, epoch, genai_prices, litellm, openrouter, runpod, skypilot, vastai
from sources.http import Http

FIXTURES = Path(__file__).parents[1] / "fixtures"
RETRY_AFTER_S = 7
CAP_BYTES = 512

Doc = Any
Slot = tuple[dict, str]


@dataclass(frozen=True)
class Shape:
    """How to find the records and the prices in one payload of a source."""

    kind: str  # json or csv
    lists: Callable[[Doc], list[list[dict]]]  # the lists holding records, mutable in place
    prices: Callable[[dict], list[Slot]]  # the price values of one record
    required: str  # a field every record needs: renaming it is schema drift the parser must catch
    text_prices: bool = False  # prices written as JSON strings (OpenRouter)


def _keys(*names: str) -> Callable[[dict], list[Slot]]:
    return lambda record: [(record, k) for k in names if k in record]


def _genai_prices(model: dict) -> list[Slot]:
    prices = model.get("prices")
    sets = [e.get("prices", {}) for e in prices] if isinstance(prices, list) else [prices or {}]
    sets += [v.get("prices", {}) for v in model.get("price_variants", [])]
    return [(s, k) for s in sets for k in s if k.endswith("_mtok")]


def _litellm_prices(entry: dict) -> list[Slot]:
    blocks = [entry, entry.get("off_peak_pricing") or {}, *(entry.get("tiered_pricing") or [])]
    return [(b, k) for b in blocks for k, v in b.items() if "cost" in k and isinstance(v, int | float)]


def _openrouter_prices(model: dict) -> list[Slot]:
    pricing = model.get("pricing") or {}
    blocks = [pricing, *(pricing.get("overrides") or [])]
    conditions = {"min_prompt_tokens", "utc_start", "utc_end", "overrides"}
    return [(b, k) for b in blocks for k in b if k not in conditions]


SHAPES = {
    "genai_prices": Shape("json", lambda d: [p["models"] for p in d], _genai_prices, "prices"),
    "litellm": Shape("json", lambda d: [d["entries"]], _litellm_prices, "litellm_provider"),
    "openrouter": Shape("json", lambda d: [d["data"]], _openrouter_prices, "pricing", text_prices=True),
    "skypilot": Shape("csv", lambda d: [d["rows"]], _keys("Price", "SpotPrice"), "Price"),
    "azure": Shape("json", lambda d: [d["Items"]], _keys("retailPrice", "unitPrice"), "armSkuName"),
    "vastai": Shape("json", lambda d: [d["offers"]], _keys("dph_total", "dph_base"), "dph_total"),
    "runpod": Shape("json", lambda d: [d["data"]["gpuTypes"]], _keys(*runpod.PRICES), "securePrice"),
    "epoch": Shape("csv", lambda d: [d["rows"]], _keys("Release price (USD)"), "Memory bandwidth (byte/s)"),
}


def load(source: str, body: bytes) -> Doc:
    if SHAPES[source].kind == "csv":
        reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))
        return {"header": list(reader.fieldnames or []), "rows": list(reader)}
    doc = json.loads(body)
    # LiteLLM's payload is one object of entries; a list of pairs keeps a repeated key repeatable.
    return {"entries": [dict(v, _key=k) for k, v in doc.items()]} if source == "litellm" else doc


def dump(source: str, doc: Doc) -> bytes:
    if SHAPES[source].kind == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=doc["header"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(doc["rows"])
        return out.getvalue().encode()
    if source == "litellm":
        pairs = (
            f"{json.dumps(e['_key'])}: {json.dumps({k: v for k, v in e.items() if k != '_key'})}"
            for e in doc["entries"]
        )
        return ("{" + ", ".join(pairs) + "}").encode()
    return json.dumps(doc).encode()


def _scaled(value: Any, factor: int) -> Any:
    if isinstance(value, bool) or value is None or value == "":
        return value
    if isinstance(value, int | float):
        return value * factor
    if isinstance(value, str):
        try:
            return format(Decimal(value) * factor, "f")
        except ArithmeticError:
            return value
    if isinstance(value, dict):  # genai-prices tiers: {"base": 5, "tiers": [{"start": 200000, "price": 10}]}
        tiers = [dict(t, price=_scaled(t["price"], factor)) for t in value.get("tiers", [])]
        return dict(value, base=_scaled(value.get("base"), factor), tiers=tiers)
    return value


def _priced(shape: Shape, record: dict) -> bool:
    def number(v: Any) -> bool:
        try:
            return Decimal(str(v)) != 0
        except ArithmeticError:
            return False

    return any(
        not isinstance(c[k], dict | bool) and c[k] not in (None, "") and number(c[k])
        for c, k in shape.prices(record)
    )


def _first_priced(shape: Shape, doc: Doc) -> tuple[list[dict], int]:
    return next((lst, i) for lst in shape.lists(doc) for i, r in enumerate(lst) if _priced(shape, r))


def _set_all_prices(shape: Shape, record: dict, value: Callable[[Any], Any]) -> None:
    for container, key in shape.prices(record):
        if not isinstance(container[key], dict | bool) and container[key] not in (None, ""):
            container[key] = value(container[key])


def _rename(source: str, doc: Doc, old: str, new: str) -> None:
    if SHAPES[source].kind == "csv":
        doc["header"] = [new if h == old else h for h in doc["header"]]
    for lst in SHAPES[source].lists(doc):
        for record in lst:
            if old in record:
                record[new] = record.pop(old)


def _add_field(source: str, doc: Doc) -> None:
    if SHAPES[source].kind == "csv":
        doc["header"].append("AddedUpstream")
    for lst in SHAPES[source].lists(doc):
        for record in lst:
            record["AddedUpstream" if SHAPES[source].kind == "csv" else "added_upstream"] = "1"


def _edit(fn: Callable[[str, Doc], None]) -> Callable[[str, bytes], bytes]:
    def apply(source: str, body: bytes) -> bytes:
        doc = load(source, body)
        fn(source, doc)
        return dump(source, doc)

    return apply


def _scale_all(source: str, doc: Doc, factor: int) -> None:
    for lst in SHAPES[source].lists(doc):
        for record in lst:
            for container, key in SHAPES[source].prices(record):
                container[key] = _scaled(container[key], factor)


def _negative(source: str, doc: Doc) -> None:
    lst, i = _first_priced(SHAPES[source], doc)
    _set_all_prices(SHAPES[source], lst[i], lambda v: _scaled(v, -1))


def _nan(source: str, doc: Doc) -> None:
    lst, i = _first_priced(SHAPES[source], doc)
    text = SHAPES[source].text_prices or SHAPES[source].kind == "csv"
    _set_all_prices(SHAPES[source], lst[i], lambda v: "NaN" if text else math.nan)


def _duplicate(source: str, doc: Doc) -> None:
    lst, i = _first_priced(SHAPES[source], doc)
    lst.append(copy.deepcopy(lst[i]))


def _empty(source: str, doc: Doc) -> None:
    for lst in SHAPES[source].lists(doc):
        lst.clear()
    if source == "genai_prices":
        doc.clear()


# Content faults: (source, good body) -> faulty body. Each applies to every payload of a source.
CONTENT_FAULTS: dict[str, Callable[[str, bytes], bytes]] = {
    "cut_short": lambda source, body: body[: len(body) // 2],
    "malformed": lambda source, body: (
        b"<html><body>502 Bad Gateway</body></html>"
        if SHAPES[source].kind == "csv"
        else body.replace(b"{", b"{{", 1)
    ),
    "empty_list": _edit(_empty),
    "renamed_field": _edit(
        lambda source, doc: _rename(source, doc, SHAPES[source].required, "renamed_upstream")
    ),
    "new_field": _edit(lambda source, doc: _add_field(source, doc)),
    "unit_error": _edit(lambda source, doc: _scale_all(source, doc, 1_000_000)),
    "negative": _edit(_negative),
    "nan": _edit(_nan),
    "duplicate": _edit(_duplicate),
}
# Prices moved by a factor the parsers' bands let through but no real price change reaches: per
# thousand tokens read as per million (x1000), a GPU rate with its decimal point shifted (x20).
JUMPS = {
    "genai_prices": 1000,
    "litellm": 1000,
    "openrouter": 1000,
    "skypilot": 20,
    "azure": 20,
    "vastai": 20,
    "runpod": 20,
}


def jump(source: str, body: bytes) -> bytes:
    return _edit(lambda s, doc: _scale_all(s, doc, JUMPS[s]))(source, body)


TRANSPORT_FAULTS = ("timeout", "refused", "http_500", "retry_after", "dropped", "garbled", "oversize")


def _fixture(*parts: str) -> bytes:
    return FIXTURES.joinpath(*parts).read_bytes()


def _skypilot_cloud(cloud: str) -> bytes:
    named = FIXTURES / "gpu_rates" / f"skypilot_v8_{cloud}_vms.csv"
    if named.exists():
        return named.read_bytes()
    # Clouds without a fixture get a small catalog of their own: distinct bodies, as real clouds send.
    return (
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region\n"
        f"{cloud}-1x-h100,H100,1.0,16.0,128.0,2.49,,region-1\n"
        f"{cloud}-8x-h100,H100,8.0,128.0,1024.0,19.92,12.0,region-1\n"
    ).encode()


def good_bodies(source: str, url: str) -> bytes:
    """The recorded response of ``source`` for a request to ``url``."""
    if source == "skypilot":
        return _skypilot_cloud(urlsplit(url).path.rstrip("/").split("/")[-2])
    return {
        "genai_prices": lambda: _fixture("token_prices", "genai_prices_v2.json"),
        "litellm": lambda: _fixture("token_prices", "litellm_prices.json"),
        "openrouter": lambda: _fixture("token_prices", "openrouter_models.json"),
        "azure": lambda: _fixture("gpu_rates", "azure_retail_prices_page.json"),
        "vastai": lambda: _fixture("gpu_rates", "vastai_bundles.json"),
        "runpod": lambda: _fixture("gpu_rates", "runpod_graphql_gputypes.json"),
        "epoch": lambda: _fixture("hardware", "epoch_ml_hardware.csv"),
    }[source]()


MODULES: dict[str, ModuleType] = {
    m.NAME: m for m in (genai_prices, litellm, openrouter, skypilot, azure, vastai, runpod, epoch)
}
HOSTS = {
    "raw.githubusercontent.com": None,  # genai_prices, litellm and skypilot share it: told apart by path
    "skypilot-catalog.s3.us-east-1.amazonaws.com": "skypilot",
    "openrouter.ai": "openrouter",
    "prices.azure.com": "azure",
    "console.vast.ai": "vastai",
    "api.runpod.io": "runpod",
    "epoch.ai": "epoch",
}


def source_of(url: httpx.URL) -> str:
    by_host = HOSTS[url.host]
    if by_host:
        return by_host
    path = url.path
    return "genai_prices" if "genai-prices" in path else "litellm" if "litellm" in path else "skypilot"


@dataclass
class Upstream:
    """A fake internet: every source answers with its recording unless told to fail.

    ``faults`` maps a source to one fault name; the others answer normally. ``only`` limits the
    faults to URLs containing it (one SkyPilot cloud). ``requests`` counts the requests per URL
    (query strings kept), ``slept`` the seconds the client waited between attempts.
    """

    faults: dict[str, str] = field(default_factory=dict)
    only: str = ""
    requests: Counter[str] = field(default_factory=Counter)
    slept: list[float] = field(default_factory=list)

    def http(self) -> Http:
        return Http(
            httpx.Client(transport=httpx.MockTransport(self.handle)),
            sleep=self.slept.append,
            max_bytes=self.cap,
        )

    @property
    def cap(self) -> int:
        return CAP_BYTES if "oversize" in self.faults.values() else 64 * 1024 * 1024

    def urls(self, source: str) -> Counter[str]:
        return Counter({u: n for u, n in self.requests.items() if source_of(httpx.URL(u)) == source})

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requests[url] += 1
        source = source_of(request.url)
        fault = self.faults.get(source) if self.only in url else None
        if fault == "timeout":
            raise httpx.ReadTimeout("timed out waiting for the response", request=request)
        if fault == "refused":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if fault == "http_500":
            return httpx.Response(500, text="Internal Server Error")
        if fault == "retry_after" and self.requests[url] == 1:
            return httpx.Response(429, headers={"Retry-After": str(RETRY_AFTER_S)})
        body = good_bodies(source, url)
        if fault in CONTENT_FAULTS:
            body = CONTENT_FAULTS[fault](source, body)
        elif fault == "jump":
            body = jump(source, body)
        if fault == "dropped":
            return httpx.Response(200, stream=_Dropped(body))
        if fault == "garbled":  # says gzip, is not: a compressed body mangled in transit
            return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=_Chunks(body))
        # No Content-Length: the client must count the bytes itself to enforce the cap.
        return httpx.Response(200, stream=_Chunks(body))


class _Chunks(httpx.SyncByteStream):
    def __init__(self, body: bytes):
        self.body = body

    def __iter__(self) -> Iterator[bytes]:
        for i in range(0, len(self.body), 256):
            yield self.body[i : i + 256]


class _Dropped(_Chunks):
    """The connection closes half-way through the body, as a crashed proxy does."""

    def __iter__(self) -> Iterator[bytes]:
        yield self.body[: len(self.body) // 2]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
