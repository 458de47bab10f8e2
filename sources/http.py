"""HTTP for live sources: https only, timeouts, bounded retries with backoff, a response-size cap.

Retries of connection failures go through httpx's transport; status retries (429 with
Retry-After, 5xx) are ours because the transport does not retry on status codes. Redirects are
followed here, not by httpx, so that every hop is held to https.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_BYTES = 64 * 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ATTEMPTS = 4
MAX_RETRY_AFTER_S = 60.0
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A request failed for good. The message names the URL (without its query) and the cause."""


@dataclass(frozen=True)
class Fetched:
    """One payload as it came off the wire (or out of a file, or out of the embedded default)."""

    url: str
    body: bytes
    # Provenance of an embedded snapshot (sources/market_snapshot.py): when the upstream published
    # what the body holds, where it came from and under which licence. None for a live fetch, which
    # is observed when it is fetched.
    observed_at: datetime | None = None
    origin: str | None = None
    licence: str | None = None


def redact(url: str) -> str:
    """A URL fit for logs, messages and raw metadata: an http(s) URL loses its query, fragment and
    credentials (where keys travel); a file path or ``package:``/``embedded:`` origin is kept as is."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an invalid URL)"
    if parts.scheme not in ("http", "https"):
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class _RedactedRequestLog(logging.Filter):
    """httpx logs every request's full URL at INFO; a key in a query string must not reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(str(a)) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


logging.getLogger("httpx").addFilter(_RedactedRequestLog())


def _scheme(url: str) -> str | None:
    try:
        return urlsplit(url).scheme
    except ValueError:
        return None


class Http:
    """The one way sources reach the network."""

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        max_bytes: int = MAX_BYTES,
        sleep: Callable[[float], None] = time.sleep,
        backoff_s: float = 1.0,
    ):
        self.client = client or httpx.Client(
            timeout=DEFAULT_TIMEOUT,
            transport=httpx.HTTPTransport(retries=2),
            headers={"User-Agent": "costcurve/0.1 (+price warehouse)"},
        )
        self.max_bytes = max_bytes
        self.sleep = sleep
        self.backoff_s = backoff_s

    def get(
        self, url: str, *, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> bytes:
        return self._request("GET", url, params=params, headers=headers)

    def post_json(self, url: str, payload: Any, *, headers: dict[str, str] | None = None) -> bytes:
        return self._request("POST", url, json=payload, headers=headers)

    def _request(self, method: str, url: str, **kwargs: Any) -> bytes:
        if _scheme(url) != "https":
            raise FetchError(f"refusing {redact(url)}: live sources must use https")
        last: str = ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                body, status, retry_after = self._once(method, url, **kwargs)
            except httpx.TimeoutException as e:
                last = f"timed out ({type(e).__name__})"
            except httpx.TransportError as e:
                last = f"connection failed ({type(e).__name__}: {e})"
            except httpx.DecodingError as e:  # a compressed body cut or garbled in transit
                last = f"the body could not be decoded ({e})"
            except httpx.InvalidURL as e:
                raise FetchError(f"refusing {redact(url)}: {e}") from None
            else:
                if status < 400:
                    return body
                last = f"HTTP {status}"
                if status not in RETRY_STATUSES:
                    break
                if retry_after is not None:
                    if retry_after > MAX_RETRY_AFTER_S:
                        last += f" (Retry-After {retry_after:.0f}s exceeds {MAX_RETRY_AFTER_S:.0f}s)"
                        break
                    if attempt < MAX_ATTEMPTS:
                        self.sleep(retry_after)
                    continue
            if attempt < MAX_ATTEMPTS:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise FetchError(f"{method} {redact(url)} failed after {attempt} attempt(s): {last}")

    def _once(self, method: str, url: str, **kwargs: Any) -> tuple[bytes, int, float | None]:
        request = self.client.build_request(method, url, **kwargs)
        for _ in range(MAX_REDIRECTS + 1):
            response = self.client.send(request, stream=True, follow_redirects=False)
            try:
                if response.next_request is None:
                    return self._read(url, response)
                request = response.next_request
            finally:
                response.close()
            if request.url.scheme != "https":
                raise FetchError(
                    f"refusing the redirect of {redact(url)} to {redact(str(request.url))}: "
                    "live sources must use https"
                )
        raise FetchError(f"{redact(url)} redirects more than {MAX_REDIRECTS} times")

    def _read(self, url: str, response: httpx.Response) -> tuple[bytes, int, float | None]:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(
                f"{redact(url)} declares {int(declared):,} bytes, over the cap of {self.max_bytes:,}"
            )
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(f"{redact(url)} sent more than the cap of {self.max_bytes:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks), response.status_code, _retry_after(response)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
