"""Dagster resources: the working warehouse and the refresh settings."""

import os
from contextlib import contextmanager

import dagster as dg

from pipelines import flow
from warehouse import db
from warehouse.lock import writer_lock


class Warehouse(dg.ConfigurableResource):
    """The pipeline's working DuckDB file under $COSTCURVE_HOME (the only writer)."""

    @contextmanager
    def connect(self):
        # A scheduled run takes the same lock as the CLI, so neither can write under the other.
        with writer_lock("dagster run"), db.working() as con:
            flow.ensure(con)
            yield con


class RefreshSettings(dg.ConfigurableResource):
    """offline: use only the embedded defaults (no network), as `make run` does."""

    offline: bool = os.environ.get("COSTCURVE_OFFLINE", "") == "1"
