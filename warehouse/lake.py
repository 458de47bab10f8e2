"""Where the warehouse is stored: the default local DuckDB file, or a DuckLake (a SQL catalog, in a local
``.ducklake`` file or in PostgreSQL, plus Parquet data files in a directory or on S3).

The setting, first found wins:

1. ``COSTCURVE_WAREHOUSE``: ``ducklake:<catalog>`` with ``<catalog>`` a ``.ducklake`` file path or
   ``postgres:dbname=... host=...`` (a libpq connection string; its password from ``PGPASSWORD`` or
   ``~/.pgpass``, never from the setting); ``COSTCURVE_LAKE_DATA`` the data path.
2. ``$COSTCURVE_HOME/costcurve.toml``, section ``[warehouse]``: ``url`` and ``data_path``, same meanings.
3. Neither: the local file ``$COSTCURVE_HOME/costcurve.duckdb`` (``file`` mode).

The extensions come from the ``duckdb-extension-*`` wheels the project's install put in the virtualenv
and are loaded from their installed path: nothing is downloaded at run time. S3 credentials are read
from the environment only (``AWS_ACCESS_KEY_ID`` ...), never from a file of the project.

On a lake every commit is a snapshot; a run's publish is the snapshot that holds all of it. Readers open
the lake read-only at the last published run's snapshot (``meta.runs.snapshot_id``), so they see a
whole run or none of it, whatever a writer is committing meanwhile.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb

PREFIX = "ducklake:"
# The name the lake is attached under; `use` makes it the default, so SQL says history.x, not lake.history.x.
ALIAS = "lake"
CONFIG_FILE = "costcurve.toml"
# Set on the connection before the extensions load: a missing extension is an error here, not a download.
NO_DOWNLOADS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


T = TypeVar("T")
log = logging.getLogger(__name__)
# A DuckLake commit that lost a race DuckLake does not retry itself (two writers creating or commenting
# the same table, or creating a new catalog, at once): run again, at most this many times, waiting
# BACKOFF_S x 2^attempt between. DuckLake retries a plain race of snapshot ids itself
# (ducklake_max_retry_count, ducklake_retry_wait_ms, ducklake_retry_backoff).
ATTEMPTS = 5
BACKOFF_S = 0.2
CONFLICTS = ("Transaction conflict", "Failed to initialize DuckLake")


def retrying(what: str, work: Callable[[], T]) -> T:
    """Run ``work``; when it conflicts with another writer's commit, run it again (it must be idempotent:
    CREATE ... IF NOT EXISTS, a COMMENT, a MERGE, an ATTACH), with bounded retries and backoff, logged."""
    for attempt in range(ATTEMPTS):
        try:
            return work()
        except duckdb.Error as e:
            if not any(c in str(e) for c in CONFLICTS) or attempt == ATTEMPTS - 1:
                raise
            wait = BACKOFF_S * 2**attempt
            log.warning(
                "%s: commit conflicted with another writer, retry %d in %.1f s", what, attempt + 1, wait
            )
            time.sleep(wait)
    raise AssertionError("unreachable")


class StorageError(Exception):
    """The storage setting is wrong or its catalog cannot be reached: the message says what to fix."""


@dataclass(frozen=True)
class Lake:
    catalog: str  # what follows "ducklake:": a .ducklake path or postgres:<libpq string>
    data_path: str  # a directory or s3://bucket/prefix/

    @property
    def url(self) -> str:
        return PREFIX + self.catalog

    @property
    def on_postgres(self) -> bool:
        return self.catalog.startswith("postgres:")

    def describe(self) -> str:
        """The lake in words for messages and logs: the catalog without any password a string may hold."""
        catalog = " ".join(p for p in self.catalog.split() if not p.lower().startswith("password="))
        return f"DuckLake {catalog} (data {self.data_path})"


def setting(home: Path) -> Lake | None:
    """The configured lake, or None for the local DuckDB file."""
    url = os.environ.get("COSTCURVE_WAREHOUSE", "").strip()
    data = os.environ.get("COSTCURVE_LAKE_DATA", "").strip()
    config = home / CONFIG_FILE
    if not url and config.exists():
        try:
            section = tomllib.loads(config.read_text()).get("warehouse", {})
        except tomllib.TOMLDecodeError as e:
            raise StorageError(f"{config} is not valid TOML: {e}") from None
        url = str(section.get("url", "")).strip()
        data = data or str(section.get("data_path", "")).strip()
    if not url or url == "file":
        return None
    return parse(url, data)


def parse(url: str, data: str = "") -> Lake:
    """A lake from its setting's two values (``data`` may be empty for a file catalog)."""
    if not url.startswith(PREFIX):
        raise StorageError(
            f"warehouse setting {url!r} is neither 'file' nor 'ducklake:<catalog>' "
            "(a .ducklake file or postgres:dbname=... host=...)"
        )
    catalog = url.removeprefix(PREFIX)
    if catalog.startswith("postgres:") and not data:
        raise StorageError(
            "a PostgreSQL catalog needs a data path every reader can reach: set COSTCURVE_LAKE_DATA "
            "(or data_path in [warehouse]) to a shared directory or s3://bucket/prefix/"
        )
    if not catalog.startswith("postgres:"):
        catalog = str(Path(catalog).expanduser().resolve())
        # DuckLake's own default for a file catalog: its data beside it.
        data = data or f"{catalog}.files"
    if not data.startswith("s3://"):
        data = str(Path(data).expanduser().resolve())
    return Lake(catalog, data.rstrip("/") + "/")


def extension_path(name: str) -> Path:
    """The installed ``.duckdb_extension`` file of ``duckdb-extension-<name>``, built for this DuckDB."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise StorageError(
            f"the DuckDB {name} extension is not installed: run `make install` "
            f"(pyproject.toml pins duckdb-extension-{name})"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{duckdb.__version__}"
    path = path / f"{name}.duckdb_extension"
    if not path.exists():
        raise StorageError(
            f"no {name} extension for DuckDB {duckdb.__version__} at {path}: duckdb and "
            f"duckdb-extension-{name} must be the same version (run `make install`)"
        )
    return path


# DuckDB names an extension loaded from a path after the file, and calls `<name>_duckdb_cpp_init` in it:
# the postgres wheel's file is postgres.duckdb_extension but the extension inside is postgres_scanner.
_INTERNAL_NAME = {"postgres": "postgres_scanner"}


def _loadable(name: str) -> Path:
    """A path to the extension whose file name is the extension's own name: the installed file itself,
    or a link to it under the user's cache directory."""
    installed = extension_path(name)
    internal = _INTERNAL_NAME.get(name)
    if internal is None:
        return installed
    cache = (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "costcurve" / "duckdb-extensions"
    )
    link = cache / f"v{duckdb.__version__}" / f"{internal}.duckdb_extension"
    if not (link.is_symlink() and link.resolve() == installed.resolve()):
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(installed)
        os.replace(tmp, link)  # atomic: another process loading at the same time sees the old or new link
    return link


def load_extensions(con: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    needed = ["ducklake"]
    needed += ["postgres"] if lake.on_postgres else []
    needed += ["httpfs"] if lake.data_path.startswith("s3://") else []
    for name in needed:
        con.execute(f"load '{_loadable(name)}'")
    if lake.data_path.startswith("s3://"):
        _s3_secret(con)


def _s3_secret(con: duckdb.DuckDBPyConnection) -> None:
    """An S3 secret from the standard AWS variables, so credentials never sit in a setting or a file."""
    env = {
        "KEY_ID": "AWS_ACCESS_KEY_ID",
        "SECRET": "AWS_SECRET_ACCESS_KEY",
        "SESSION_TOKEN": "AWS_SESSION_TOKEN",
        "REGION": "AWS_REGION",
        "ENDPOINT": "AWS_ENDPOINT_URL",
    }
    options = {key: os.environ[var] for key, var in env.items() if os.environ.get(var)}
    if "ENDPOINT" in options:
        # DuckDB wants host[:port]; an http:// endpoint (MinIO on a LAN) also turns SSL off.
        endpoint = options["ENDPOINT"]
        options["USE_SSL"] = "false" if endpoint.startswith("http://") else "true"
        options["ENDPOINT"] = endpoint.split("://", 1)[-1].rstrip("/")
        options["URL_STYLE"] = "path"
    body = ", ".join(
        f"{key} {value}" if key == "USE_SSL" else f"{key} {quote(value)}" for key, value in options.items()
    )
    con.execute(f"create or replace temporary secret costcurve_s3 (type s3{', ' if body else ''}{body})")


def attach(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    *,
    read_only: bool = False,
    snapshot: int | None = None,
    alias: str = ALIAS,
    use: bool = True,
) -> None:
    """Attach ``lake`` (creating its catalog on first write), optionally at a past snapshot."""
    load_extensions(con, lake)
    if not lake.on_postgres and not lake.data_path.startswith("s3://"):
        Path(lake.data_path).mkdir(parents=True, exist_ok=True)
    options = [f"data_path {quote(lake.data_path)}"]
    # Writers keep every change in Parquet: with DuckLake's default inlining (changes under 10 rows
    # kept in the catalog), an insert racing a delete of another writer's inlined rows of the same
    # bookkeeping table is a conflict DuckLake does not retry (two ingests of different datasets at
    # once failed so in CI). The cost is more small files, which maintenance compacts.
    options += ["read_only"] if read_only else ["data_inlining_row_limit 0"]
    options += [f"snapshot_version {int(snapshot)}"] if snapshot is not None else []
    try:
        # Two writers opening a new catalog at once both create its tables: the loser tries again.
        retrying(
            f"attach {lake.describe()}",
            lambda: con.execute(f"attach {quote(lake.url)} as {alias} ({', '.join(options)})"),
        )
    except duckdb.Error as e:
        first = str(e).splitlines()[0]
        raise StorageError(f"cannot open {lake.describe()}: {first}") from None
    if use:
        con.execute(f"use {alias}")


def connect(lake: Lake, *, read_only: bool = False, snapshot: int | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config=NO_DOWNLOADS)
    try:
        attach(con, lake, read_only=read_only, snapshot=snapshot)
    except BaseException:
        con.close()
        raise
    return con


def current_snapshot(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> int:
    return con.execute(f"select id from ducklake_current_snapshot({quote(alias)})").fetchone()[0]


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
