"""Secrets, file access, transport and fetched content: what the warehouse refuses to do.

No source takes a key yet, so the key is a sentinel put where a keyed source would put it: in a
URL's query string and in an Authorization header.
"""

import ast
import csv
import io
import json
import logging
import os
import re
from pathlib import Path

import duckdb
import httpx
import pytest
from feeds import MODULES, Upstream
from warehouse_checks import published_files

from pipelines import flow
from pipelines.cli import main
from sources import azure, litellm, skypilot
from sources.http import MAX_ATTEMPTS, FetchError, Http
from warehouse import raw

pytestmark = pytest.mark.filterwarnings("ignore")

SENTINEL = "sk-SENTINEL-7f3a9c"
ROOT = Path(__file__).parents[2]
PRODUCT = ("core", "sources", "warehouse", "pipelines")


def string_columns_holding(con: duckdb.DuckDBPyConnection, needle: str) -> list[str]:
    """Every text column of every table that holds ``needle`` somewhere in a value."""
    columns = con.execute(
        """select schema_name, table_name, column_name from duckdb_columns()
           where database_name = current_database() and data_type not in ('BLOB')
             and (data_type like 'VARCHAR%' or data_type = 'JSON' or data_type like '%[]')"""
    ).fetchall()
    return [
        f"{s}.{t}.{c}"
        for s, t, c in columns
        if con.execute(
            f'select count(*) from "{s}"."{t}" where cast("{c}" as varchar) like ?', [f"%{needle}%"]
        ).fetchone()[0]
    ]


# ---- secrets -------------------------------------------------------------------------------------


def _raise(error):
    def handler(request):
        raise error(f"failed talking to {request.url.host}", request=request)

    return handler


FAILURES = {
    "ok": lambda request: httpx.Response(200, content=b"{}"),
    "http_500": lambda request: httpx.Response(500),
    "timeout": _raise(httpx.ReadTimeout),
    "refused": _raise(httpx.ConnectError),
    "retry_after_too_long": lambda request: httpx.Response(429, headers={"Retry-After": "3600"}),
    "oversize": lambda request: httpx.Response(200, content=b"x" * 4096),
    "redirect_to_http": lambda request: httpx.Response(
        302, headers={"Location": f"http://{request.url.host}/x?{request.url.query.decode()}"}
    ),
    "garbled": lambda request: httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip"),
}  # fmt: skip


@pytest.mark.parametrize("failure", FAILURES)
def test_http_never_writes_a_key_into_errors_or_logs(failure, caplog):
    sent = []

    def handler(request):
        sent.append(request)
        return FAILURES[failure](request)

    http = Http(httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda s: None, max_bytes=1024)
    caplog.set_level(logging.DEBUG)
    try:
        http.get(
            f"https://feeds.example/prices.json?api_key={SENTINEL}",
            headers={"Authorization": f"Bearer {SENTINEL}"},
        )
        message = ""
    except FetchError as e:
        message = str(e)
        assert "feeds.example/prices.json" in message  # the error still says where
    assert sent and SENTINEL in str(sent[0].url) and sent[0].headers["authorization"] == f"Bearer {SENTINEL}"
    assert SENTINEL not in message
    assert SENTINEL not in caplog.text
    assert len(sent) <= MAX_ATTEMPTS


def test_a_key_in_a_source_url_reaches_neither_the_warehouse_nor_the_snapshot(home, monkeypatch):
    """flow.stage redacts every URL before archiving it and before the parser sees it as its origin:
    a good payload, a failed fetch and a payload that cannot be read (whose error names the URL)."""
    monkeypatch.setattr(litellm, "LIVE_URL", f"{litellm.LIVE_URL}?api_key={SENTINEL}")
    with duckdb.connect(str(home / "costcurve.duckdb")) as con:
        flow.ensure(con)
        run_id = flow.new_run_id("keyed")
        flow.begin_run(con, run_id, "refresh")
        messages = []
        for fault in (None, "http_500", "malformed"):
            upstream = Upstream({"litellm": fault} if fault else {})
            staged = flow.stage(
                con, litellm.DATASET, [flow.Feed(litellm)], run_id=f"{run_id}-{fault}", http=upstream.http()
            )
            (outcome,) = staged.outcomes
            assert any(SENTINEL in u for u in upstream.requests)  # the key did go out
            messages += [outcome.error or "", *outcome.warnings]
        assert [m for m in messages if SENTINEL in m] == []
        assert string_columns_holding(con, SENTINEL) == []
        flow.publish(con, run_id)
    with duckdb.connect(str(home / "published" / "costcurve.duckdb"), read_only=True) as snapshot:
        assert string_columns_holding(snapshot, SENTINEL) == []


def test_the_snapshot_publishes_no_raw_archive(baseline):
    """Bodies and the URLs they came from stay in the working warehouse: analysts never see them."""
    with duckdb.connect(str(baseline / "published" / "costcurve.duckdb"), read_only=True) as con:
        schemas = {s for (s,) in con.execute("select distinct schema_name from duckdb_tables()").fetchall()}
    assert "raw" not in schemas and "staging" not in schemas


def _called_names(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name):
                yield f.id
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                yield f"{f.value.id}.{f.attr}"


def product_modules():
    return sorted(p for package in PRODUCT for p in (ROOT / package).rglob("*.py"))


def test_no_product_code_holds_a_credential_or_evaluates_text():
    """Tripwires over the product's source: keys come from the environment, never from a literal,
    and nothing fetched or read can become code."""
    credential = re.compile(
        r"\b(sk-[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|Bearer [A-Za-z0-9._-]{20,}|ghp_[A-Za-z0-9]{30,})"
    )
    forbidden = {
        "eval", "exec", "compile", "__import__", "pickle.loads", "pickle.load", "marshal.loads", "yaml.load",
        "os.system", "os.popen", "subprocess.run", "subprocess.Popen", "subprocess.call",
    }  # fmt: skip
    # `costcurve backfill` runs git on an argument list (never a shell): the one reviewed exception.
    allowed = {("pipelines/backfill.py", "subprocess.run")}
    found = []
    for path in product_modules():
        text = path.read_text()
        module = str(path.relative_to(ROOT))
        found += [f"{path}: credential-like literal" for _ in credential.finditer(text)]
        found += [
            f"{path}: calls {name}"
            for name in _called_names(ast.parse(text))
            if name in forbidden and (module, name) not in allowed
        ]
        found += [f"{path}: shell=True" for node in ast.walk(ast.parse(text)) if _shell_true(node)]
    assert found == []


def _shell_true(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.keyword)
        and node.arg == "shell"
        and not (isinstance(node.value, ast.Constant) and node.value.value is False)
    )


# ---- costcurve sql: read-only, no files (what tests/pipelines/test_refresh.py does not cover) ---------


@pytest.mark.parametrize(
    "query",
    [
        "select * from '/etc/passwd'",
        "select * from read_text('/etc/passwd')",
        "select * from read_blob('/etc/hostname')",
        "select * from glob('/etc/*')",
        "select * from read_parquet('{tmp}/any.parquet')",
        "copy meta.runs from '/etc/passwd'",
        "export database '{tmp}/exported'",
        "install httpfs",
        "load httpfs",
        "set lock_configuration = false",
        "update meta.runs set status = 'tampered'",
        "delete from history.token_prices",
        "create table marts.mine as select 1",
        "select 1; drop table history.token_prices",
        "detach costcurve",
    ],
)
def test_sql_refuses_every_write_and_file_access(baseline, monkeypatch, capsys, tmp_path, query):
    monkeypatch.setenv("COSTCURVE_HOME", str(baseline))
    before = published_files(baseline)
    assert main(["sql", query.format(tmp=tmp_path)]) == 2
    assert "query failed" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert published_files(baseline) == before


def test_sql_csv_writes_list_and_struct_cells_as_json(baseline, monkeypatch, capsys):
    monkeypatch.setenv("COSTCURVE_HOME", str(baseline))
    query = (
        "select source, warnings, [1, 2] as numbers, {'a': 1, 'b': 'x'} as pair from meta.source_runs "
        "where len(warnings) > 0 order by source limit 1"
    )
    assert main(["sql", query, "--format", "csv"]) == 0
    (row,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    with duckdb.connect(str(baseline / "published" / "costcurve.duckdb"), read_only=True) as con:
        (warnings,) = con.execute(f"select warnings from ({query})").fetchone()
    assert json.loads(row["pair"]) == {"a": 1, "b": "x"}
    assert json.loads(row["numbers"]) == [1, 2]
    assert warnings and json.loads(row["warnings"]) == warnings


# ---- https only ----------------------------------------------------------------------------------


def test_every_live_source_is_https():
    urls = [m.LIVE_URL for m in MODULES.values()] + [skypilot.MIRROR_URL]
    assert [u for u in urls if not u.startswith("https://")] == []


def test_a_redirect_to_plain_http_is_refused_before_it_is_followed():
    hosts = []

    def handler(request):
        hosts.append(request.url.scheme)
        return httpx.Response(301, headers={"Location": "http://mirror.example/prices.json"})

    http = Http(httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda s: None)
    with pytest.raises(FetchError, match="refusing the redirect .* to http://mirror.example/prices.json"):
        http.get("https://feeds.example/prices.json")
    assert hosts == ["https"]


def test_azure_paging_cannot_lead_off_https():
    """Azure's next page comes from the fetched content: a link to plain http ends the fetch."""
    pages = []

    def handler(request):
        pages.append(str(request.url))
        return httpx.Response(
            200, json={"Items": [], "NextPageLink": "http://prices.azure.com/api/retail/prices?page=2"}
        )

    with pytest.raises(FetchError, match="must use https"):
        azure.fetch_live(Http(httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda s: None))
    assert len(pages) == 1


# ---- fetched and ingested content is data, never code ---------------------------------------------


def test_skypilot_gpu_info_is_read_as_a_literal_never_evaluated(tmp_path):
    marker = tmp_path / "pwned"
    attack = f"__import__('os').system('touch {marker}')"
    payload = (
        "InstanceType,AcceleratorName,AcceleratorCount,Price,Region,GpuInfo\n"
        f'p5.4xlarge,H100,1,6.88,us-east-1,"{attack}"\n'
        f"p5.8xlarge,H100,1,6.88,us-east-2,\"{{'Gpus': [{{'MemoryInfo': {{'SizeInMiB': {attack}}}}}]}}\"\n"
    ).encode()
    result = skypilot.parse(payload, observed_at=None, origin="https://example/catalogs/v8/aws/vms.csv")
    assert not marker.exists()
    assert result.rows.height == 2  # the rows stand; the GpuInfo that is not a literal is ignored
    assert set(result.rows["accelerator"]) == {"nvidia-h100-sxm-80gb"}


@pytest.mark.parametrize(
    ("dataset", "source", "content"),
    [
        ("token_prices", "litellm", "#!/bin/sh\ntouch {marker}\n"),
        ("accelerators", "epoch", "import os\nos.system('touch {marker}')\n"),
        ("gpu_rates", "skypilot", "=cmd|' /C touch {marker}'!A0\n"),
    ],
)
def test_files_given_to_ingest_are_read_never_executed(costcurve_home, capsys, dataset, source, content):
    home = costcurve_home
    home.mkdir()
    marker = home / "pwned"
    script = home / "skypilot_aws_vms.sh"
    script.write_text(content.format(marker=marker))
    os.chmod(script, 0o755)
    assert main(["ingest", dataset, str(script), "--source", source]) == 2
    assert not marker.exists()
    assert "nothing reached history" in " ".join(capsys.readouterr().err.split())
    with duckdb.connect(str(home / "costcurve.duckdb"), read_only=True) as con:
        (sha,) = con.execute("select sha256 from raw.payloads where url = ?", [str(script)]).fetchone()
        body = raw.body(con, sha)
    assert body == script.read_bytes()  # archived verbatim, as data
