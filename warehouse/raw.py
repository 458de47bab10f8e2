"""The raw archive: every payload's verbatim bytes, stored once per content, and every fetch of it.

``raw.payloads`` holds each distinct body once (keyed by sha256) so a daily refresh of an
unchanged 2 MB feed costs nothing; ``raw.fetches`` records each observation (which run, source,
mode, when), which is what ``rebuild`` replays in order.

Bodies are stored gzip-compressed where that makes them smaller (``encoding``); ``body()`` gives the
verbatim bytes back, and ``sha256`` and ``size`` are always those of the verbatim bytes. Kept whole, a
body over DuckDB's 16 MB WAL threshold checkpoints at once, and every checkpoint rewrites the row
group holding each body archived so far: a day's 21.6 MB Vast payload took 0.6 s to archive into a new
file and 4.5 s by the 40th day (docs/performance.md, "A year at real size"). The feeds' JSON and CSV
shrink 4-28x, so a year of payloads stays a fraction of the file and of a rebuild's memory.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from datetime import datetime

import duckdb

from warehouse.db import create_tables, document, merge, transaction, upsert

DDL = """
create table if not exists raw.payloads (
    sha256 varchar primary key,
    source varchar not null,
    dataset varchar not null,
    url varchar not null,
    fetched_at timestamptz not null,
    size bigint not null,
    body blob not null,
    encoding varchar not null default 'identity'
);
create table if not exists raw.fetches (
    fetch_id varchar primary key,
    run_id varchar not null,
    source varchar not null,
    dataset varchar not null,
    mode varchar not null,
    url varchar not null,
    observed_at timestamptz not null,
    sha256 varchar,
    error varchar
);
"""

DOCS = {
    "raw.payloads": (
        "Every distinct payload body exactly as fetched, stored once per sha256.",
        {
            "sha256": "SHA-256 of body; the lineage id history rows point to.",
            "source": "Source module that fetched it.",
            "dataset": "Dataset it feeds (token_prices, gpu_rates, accelerators).",
            "url": "Where it came from (query strings removed), a file path, or package:<name>==<version>.",
            "fetched_at": "When this body was first fetched.",
            "size": "Size of the verbatim body in bytes.",
            "body": "The body as stored: the verbatim bytes, gzip-compressed when encoding is 'gzip'.",
            "encoding": (
                "'gzip' (body is the gzip of the verbatim bytes) or 'identity' (body is verbatim: a payload "
                "gzip does not shrink, or one archived before bodies were compressed). "
                "warehouse.raw.body() returns the verbatim bytes."
            ),
        },
    ),
    "raw.fetches": (
        "One row per fetch attempt: what rebuild replays, in observed_at order.",
        {
            "fetch_id": "Unique id of this fetch.",
            "run_id": "The refresh or ingest run that made it (meta.runs).",
            "source": "Source module.",
            "dataset": "Dataset it feeds.",
            "mode": "live, embedded or file.",
            "url": "Where the body came from.",
            "observed_at": (
                "When the data was observed: fetch time, --observed-at for a file, or the upstream's own date "
                "for an embedded snapshot (sources/catalog/README.md)."
            ),
            "sha256": "The body in raw.payloads; null when the fetch failed.",
            "error": "Why the fetch failed, in words; null on success.",
        },
    ),
}


@dataclass(frozen=True)
class Archived:
    fetch_id: str
    sha256: str
    new: bool


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    create_tables(con, DDL)
    # A warehouse from before compression: its bodies are verbatim. (A column added to an existing
    # table cannot be NOT NULL in DuckDB; the default fills the old rows.)
    con.execute("alter table raw.payloads add column if not exists encoding varchar default 'identity'")
    for table, (doc, columns) in DOCS.items():
        document(con, table, doc, columns)


def archive(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    source: str,
    dataset: str,
    mode: str,
    url: str,
    body: bytes,
    observed_at: datetime,
) -> Archived:
    sha = hashlib.sha256(body).hexdigest()
    # The URL is part of the identity: two feeds of one source may send the same bytes in one run.
    fetch_id = f"{run_id}:{source}:{sha[:16]}:{hashlib.sha256(url.encode()).hexdigest()[:8]}"
    inserted, _ = _store(con, sha, source, dataset, url, observed_at, body)
    upsert(
        con,
        "raw.fetches",
        ["fetch_id"],
        _fetch(fetch_id, run_id, source, dataset, mode, url, observed_at, sha),
        update=False,
    )
    return Archived(fetch_id, sha, bool(inserted))


def record_failure(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    source: str,
    dataset: str,
    mode: str,
    url: str,
    observed_at: datetime,
    error: str,
) -> None:
    fetch_id = f"{run_id}:{source}:failed:{url}"
    row = _fetch(fetch_id, run_id, source, dataset, mode, url, observed_at, None) | {"error": error}
    upsert(con, "raw.fetches", ["fetch_id"], row, update=False)


def _fetch(fetch_id, run_id, source, dataset, mode, url, observed_at, sha256) -> dict:
    return dict(
        fetch_id=fetch_id,
        run_id=run_id,
        source=source,
        dataset=dataset,
        mode=mode,
        url=url,
        observed_at=observed_at,
        sha256=sha256,
    )


def mark_failed(con: duckdb.DuckDBPyConnection, fetch_id: str, error: str) -> None:
    con.execute("update raw.fetches set error = ? where fetch_id = ?", [error, fetch_id])


def copy_from(con: duckdb.DuckDBPyConnection, database: str) -> int:
    """Add the payloads of the attached warehouse ``database`` that this one lacks, in one transaction,
    compressing the bodies an older costcurve archived verbatim; returns how many it compressed.
    ``costcurve rebuild`` copies its archive this way.

    Bodies are compressed as they are copied, never updated in place: an UPDATE of each verbatim body
    would checkpoint again and again, each time rewriting the row group that holds them all."""
    source = f"{database}.raw.payloads"
    has_encoding = con.execute(
        "select count(*) from duckdb_columns() where database_name = ? and schema_name = 'raw' "
        "and table_name = 'payloads' and column_name = 'encoding'",
        [database],
    ).fetchone()[0]
    encoding = "encoding" if has_encoding else "'identity'"
    compressed = 0
    with transaction(con):
        merge(
            con,
            "raw.payloads",
            ["sha256"],
            f"select * from {source} where {encoding} <> 'identity'",
            update=False,
        )
        verbatim = con.execute(f"select sha256 from {source} where {encoding} = 'identity'").fetchall()
        for sha in verbatim:  # one body in memory at a time
            row = con.execute(
                f"select sha256, source, dataset, url, fetched_at, body from {source} where sha256 = ?", sha
            ).fetchone()
            inserted, kind = _store(con, *row)
            compressed += inserted and kind != "identity"
    return compressed


def _store(
    con, sha256: str, source: str, dataset: str, url: str, fetched_at: datetime, body: bytes
) -> tuple[bool, str | None]:
    """Store one payload's ``body`` under its ``sha256`` unless stored already, compressed where that
    is smaller; returns whether it was new and the encoding chosen (None when it was not new)."""
    # Checked before compressing: most fetches (an unchanged feed, every payload a rebuild replays)
    # bring bytes the archive holds, and gzip of a real-size day's payloads costs ~0.4 s.
    if con.execute("select 1 from raw.payloads where sha256 = ?", [sha256]).fetchone():
        return False, None
    stored, encoding = _encoded(body)
    row = dict(
        sha256=sha256,
        source=source,
        dataset=dataset,
        url=url,
        fetched_at=fetched_at,
        size=len(body),
        body=stored,
        encoding=encoding,
    )
    return bool(upsert(con, "raw.payloads", ["sha256"], row, update=False)), encoding


def _encoded(body: bytes) -> tuple[bytes, str]:
    """The bytes to store and their encoding: gzip where it is smaller (an already gzipped catalog is not)."""
    packed = gzip.compress(body, compresslevel=6, mtime=0)  # zlib's default; 9 is 1.6x slower for ~2% less
    return (packed, "gzip") if len(packed) < len(body) else (body, "identity")


def body(con: duckdb.DuckDBPyConnection, sha256: str) -> bytes:
    """The verbatim bytes of the payload ``sha256``."""
    stored, encoding = con.execute(
        "select body, encoding from raw.payloads where sha256 = ?", [sha256]
    ).fetchone()
    if encoding == "gzip":
        return gzip.decompress(stored)
    if encoding == "identity":
        return stored
    raise ValueError(f"raw.payloads {sha256}: unknown encoding {encoding!r}")
