"""Dagster resources: the working warehouse, held for the whole run, and the refresh settings; and the
one Dagster instance (``$COSTCURVE_HOME/dagster``) that the CLI's refresh and `make dev` share."""

import os
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field, PrivateAttr

from pipelines import flow
from warehouse import db
from warehouse.lock import RUNS_TURN, writer_lock


class Warehouse(dg.ConfigurableResource):
    """The pipeline's working warehouse under $COSTCURVE_HOME.

    On a local file or a ``.ducklake`` catalog (one writing process): one connection and one writer
    lock for the whole run, opened before the first asset and closed after the last, so no other writer
    gets in between two assets and the run is one unit. The run is opened once here; publish finishes
    it, or, when publish did not (a selection without it, a failed step), the teardown computes its
    status from what reached history.

    On a DuckLake with a PostgreSQL catalog (``db.concurrent_writers``) the job runs each step in a
    process of its own (Dagster's multiprocess executor, pipelines/definitions.py), so the datasets'
    staging and history steps run at once: each step opens its own connection, and takes its turn at
    what it writes (``turn``) as `costcurve ingest` does. The first step to start opens the run; publish
    finishes it, and when it does not run, whoever launched the run does (the CLI, or the run-failure
    sensor for the UI's runs).
    """

    _con: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _run_id: str | None = PrivateAttr(default=None)
    _per_step: bool = PrivateAttr(default=False)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        run_id = context.run_id or flow.new_run_id("refresh")
        if db.concurrent_writers():
            with writer_lock("dagster step", RUNS_TURN, wait=True), db.working() as con:
                flow.ensure(con)
                flow.begin_run(con, run_id, "refresh")
            with db.working() as con:
                self._con, self._run_id, self._per_step = con, run_id, True
                try:
                    yield self
                finally:
                    self._con = None
            return
        # A scheduled run takes the same lock as the CLI, so neither can write under the other.
        with writer_lock("dagster run"), db.working() as con:
            flow.ensure(con)
            flow.begin_run(con, run_id, "refresh")
            self._con, self._run_id = con, run_id
            try:
                yield self
            finally:
                self._con = None
                flow.close_run(con, run_id)

    @contextmanager
    def turn(self, what: str):
        """A step's turn at writing ``what`` (a dataset, or MODELS_TURN for the tables every model
        build and publish replaces). A run of one connection holds the whole warehouse already."""
        if not self._per_step:
            yield
            return
        with writer_lock("dagster step", what, wait=True):
            yield

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("the Warehouse resource is used outside a run")
        return self._con

    @property
    def run_id(self) -> str:
        return self._run_id


def _offline_by_default() -> bool:
    return os.environ.get("COSTCURVE_OFFLINE", "") == "1"


class RefreshSettings(dg.ConfigurableResource):
    """How a refresh fetches. The UI's launchpad and `costcurve refresh` share the default: live,
    unless COSTCURVE_OFFLINE=1 (then both run on the embedded defaults, as `make run` does)."""

    offline: bool = Field(
        default_factory=_offline_by_default,
        description="Use only the embedded defaults (no network). Default: COSTCURVE_OFFLINE=1 in the "
        "environment; a live source that cannot be reached falls back to its embedded default and its "
        "source check warns.",
    )


# What costcurve writes as the instance's dagster.yaml when it has none (an edited one is kept).
INSTANCE_YAML = """\
# The Dagster instance of this costcurve home, shared by `costcurve refresh` and `make dev`, so the UI
# shows every run, schedule tick and materialization, and they survive restarts. Written by costcurve
# (pipelines/resources.py) when missing; edits are kept.
run_queue:
  # One DuckDB file has one writer: queued runs go one at a time (the writer lock refuses a second).
  max_concurrent_runs: 1
python_logs:
  # The terminal shows costcurve's progress lines; Dagster's debug events (a step process starting,
  # on a shared lake) stay in the UI's event log.
  python_log_level: INFO
telemetry:
  # Runs offline; nothing is sent anywhere.
  enabled: false
"""


def dagster_home() -> Path:
    """$COSTCURVE_HOME/dagster, the persistent DAGSTER_HOME (created, with its dagster.yaml, if missing)."""
    path = db.home() / "dagster"
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        tmp = path / f".dagster.yaml.{os.getpid()}.tmp"
        tmp.write_text(INSTANCE_YAML)
        os.replace(tmp, config)
    return path


def instance() -> dg.DagsterInstance:
    """The Dagster instance the UI reads (`make dev` sets DAGSTER_HOME to the same folder)."""
    return dg.DagsterInstance.from_config(str(dagster_home()))


if __name__ == "__main__":
    # `make dev`: DAGSTER_HOME=$(python -m pipelines.resources) dagster dev ...
    print(dagster_home())
