"""The live-fetch client under every failure a real upstream produces, replayed with no network."""

import httpx
import pytest

from sources.http import FetchError, Http

URL = "https://feeds.example/prices.json"


def client(handler, **kwargs) -> tuple[Http, list[float]]:
    slept: list[float] = []
    http = Http(httpx.Client(transport=httpx.MockTransport(handler)), sleep=slept.append, **kwargs)
    return http, slept


def test_returns_the_body_verbatim():
    http, _ = client(lambda request: httpx.Response(200, content=b'{"a": 1}\r\n'))
    assert http.get(URL) == b'{"a": 1}\r\n'


def test_retries_server_errors_with_backoff_then_succeeds():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(500) if len(calls) < 3 else httpx.Response(200, content=b"ok")

    http, slept = client(handler)
    assert http.get(URL) == b"ok"
    assert len(calls) == 3 and slept == [1.0, 2.0]


def test_gives_up_after_bounded_attempts_naming_the_url_and_status():
    http, slept = client(lambda request: httpx.Response(503))
    with pytest.raises(
        FetchError, match=r"GET https://feeds.example/prices.json failed after 4 attempt\(s\): HTTP 503"
    ):
        http.get(URL)
    assert slept == [1.0, 2.0, 4.0]


def test_honours_retry_after_on_429():
    responses = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, content=b"ok")])
    http, slept = client(lambda request: next(responses))
    assert http.get(URL) == b"ok"
    assert slept == [7.0]


def test_retry_after_beyond_the_limit_fails_at_once():
    http, slept = client(lambda request: httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(FetchError, match="Retry-After 3600s exceeds"):
        http.get(URL)
    assert slept == []


def test_client_errors_are_not_retried():
    calls = []
    http, _ = client(lambda request: calls.append(1) or httpx.Response(404))
    with pytest.raises(FetchError, match="HTTP 404"):
        http.get(URL)
    assert calls == [1]


def test_timeouts_and_refused_connections_fail_after_retries():
    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request):
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(FetchError, match="timed out"):
        client(timeout)[0].get(URL)
    with pytest.raises(FetchError, match="connection failed .*refused"):
        client(refused)[0].get(URL)


def test_response_over_the_size_cap_is_refused():
    http, _ = client(lambda request: httpx.Response(200, content=b"x" * 2048), max_bytes=1024)
    with pytest.raises(FetchError, match="over the cap of 1,024|more than the cap of 1,024"):
        http.get(URL)


def test_plain_http_is_refused_before_any_request():
    calls = []
    http, _ = client(lambda request: calls.append(1) or httpx.Response(200))
    with pytest.raises(FetchError, match="must use https"):
        http.get("http://feeds.example/prices.json")
    assert calls == []


def test_query_strings_never_reach_error_messages():
    http, _ = client(lambda request: httpx.Response(500))
    with pytest.raises(FetchError) as info:
        http.get(URL + "?api_key=SENTINEL-SECRET")
    assert "SENTINEL-SECRET" not in str(info.value)


def test_post_json_sends_the_payload():
    seen = {}

    def handler(request):
        seen["body"] = request.content
        return httpx.Response(200, content=b'{"data": {}}')

    http, _ = client(handler)
    assert http.post_json(URL, {"query": "{ gpuTypes { id } }"}) == b'{"data": {}}'
    assert b"gpuTypes" in seen["body"]
