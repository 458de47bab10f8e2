"""Dagster resources: the working warehouse, held for the whole run, and the refresh settings."""

import os
from contextlib import contextmanager

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from pipelines import flow
from warehouse import db
from warehouse.lock import writer_lock


class Warehouse(dg.ConfigurableResource):
    """The pipeline's working DuckDB file under $COSTCURVE_HOME (the only writer).

    One connection and one writer lock for the whole run, opened before the first asset and closed
    after the last: no other writer gets in between two assets, and the run is one unit. The run is
    opened once here; publish finishes it, or, when publish did not (a selection without it, a
    failed step), the teardown computes its status from what reached history.
    """

    _con: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _run_id: str | None = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        run_id = context.run_id or flow.new_run_id("refresh")
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

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("the Warehouse resource is used outside a run")
        return self._con

    @property
    def run_id(self) -> str:
        return self._run_id


class RefreshSettings(dg.ConfigurableResource):
    """offline: use only the embedded defaults (no network), as `make run` does."""

    offline: bool = os.environ.get("COSTCURVE_OFFLINE", "") == "1"
