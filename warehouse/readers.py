"""Read-only connections for analysts, dashboards and the CLI, on either storage kind.

What a reader sees: the last published run. On a local file that is the snapshot file of the current
generation (warehouse.publish); on a DuckLake, the lake attached read-only at the snapshot the last
publish committed, so a run in progress is invisible. Time travel (a past run, or what was published
at a past time) is a DuckLake feature; a local file keeps only the current generation and the one
before it, so there a past run is found only while its generation directory is kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from warehouse import db, lake, publish
from warehouse.lake import StorageError

# Said when a local file cannot answer a time-travel question: what it can do instead.
FILE_MODE_HISTORY = (
    "a local-file warehouse keeps only the last published run and the one before it; "
    "what it believed at a past time is in the as-known macros "
    "(token_prices_as_known(day, known_at), gpu_rates_as_known, ...), "
    "and a DuckLake warehouse (COSTCURVE_WAREHOUSE=ducklake:..., docs/deployment.md) keeps every run"
)


def published(
    settings: dict[str, Any] | None = None, *, run_id: str | None = None, as_of: datetime | None = None
) -> duckdb.DuckDBPyConnection:
    """The published warehouse, read-only: the last run, or the run ``run_id`` published, or the last
    one published at or before ``as_of``. ``settings`` (the sql sandbox's) apply once it is open."""
    configured = db.storage()
    if configured is None:
        return _published_file(settings or {}, run_id, as_of)
    con = duckdb.connect(config=lake.NO_DOWNLOADS)
    try:
        snapshot = published_snapshot(con, configured, run_id=run_id, as_of=as_of)
        lake.attach(con, configured, read_only=True, snapshot=snapshot)
        statements = con.execute(f"select statement from {publish.MACROS} order by position").fetchall()
        db.create_macros(con, [statement for (statement,) in statements])
        _apply(con, settings or {}, configured)
    except BaseException:
        con.close()
        raise
    return con


def working() -> duckdb.DuckDBPyConnection:
    """The working warehouse read-only, as it is now (runs in progress included): for `costcurve status`."""
    configured = db.storage()
    if configured is None:
        return duckdb.connect(str(db.working_path()), read_only=True)
    return lake.connect(configured, read_only=True)


def published_snapshot(
    con: duckdb.DuckDBPyConnection, configured: lake.Lake, *, run_id: str | None, as_of: datetime | None
) -> int:
    """The snapshot id a reader attaches: read from the lake's snapshot log, then detached."""
    lake.attach(con, configured, read_only=True, alias="costcurve_log", use=False)
    try:
        where = ["commit_message = ?"]
        params: list[Any] = [publish.PUBLISH_MESSAGE]
        if run_id is not None:
            where.append("commit_extra_info = ?")
            params.append(run_id)
        if as_of is not None:
            where.append("snapshot_time <= ?")
            params.append(as_of)
        row = con.execute(
            f"select max(snapshot_id) from costcurve_log.snapshots() where {' and '.join(where)}", params
        ).fetchone()
    finally:
        con.execute("detach costcurve_log")
    if row[0] is None:
        if run_id is not None:
            raise StorageError(
                f"run {run_id} published nothing on {configured.describe()}: list the published runs with "
                'costcurve sql "select run_id, finished_at, snapshot_id from meta.runs where snapshot_id is not null"'
            )
        if as_of is not None:
            raise StorageError(
                f"nothing was published on or before {as_of.isoformat()} on {configured.describe()}"
            )
        raise StorageError(
            f"nothing published yet on {configured.describe()}: run `costcurve refresh --offline` first"
        )
    return row[0]


def _published_file(settings: dict[str, Any], run_id: str | None, as_of: datetime | None):
    if as_of is not None:
        raise StorageError(f"--as-of needs a DuckLake warehouse: {FILE_MODE_HISTORY}")
    path = db.published_path() if run_id is None else publish.generation_dir(run_id) / "costcurve.duckdb"
    if not path.exists():
        if run_id is not None:
            raise StorageError(f"the snapshot of run {run_id} is no longer kept: {FILE_MODE_HISTORY}")
        raise StorageError(
            f"no published warehouse at {path}: run `costcurve refresh --offline` (or `make run`) first"
        )
    return duckdb.connect(str(path), read_only=True, config=settings)


def _apply(con: duckdb.DuckDBPyConnection, settings: dict[str, Any], configured: lake.Lake) -> None:
    """Settings given for a connection, applied after the lake is attached (its extensions load first,
    which a sandbox without external access would refuse); lock_configuration last, as it freezes the rest.
    A sandbox without external access still reads the lake's own Parquet files, and only those."""
    if settings.get("enable_external_access") is False:
        con.execute(f"set allowed_directories = [{lake.quote(configured.data_path)}]")
    for name, value in sorted(settings.items(), key=lambda item: item[0] == "lock_configuration"):
        con.execute(f"set {name} = {str(value).lower() if isinstance(value, bool) else value}")
