"""Dagster resources: the working warehouse and the refresh settings."""

import os
from contextlib import contextmanager

import dagster as dg

from pipelines import flow
from warehouse import db


class Warehouse(dg.ConfigurableResource):
    """The pipeline's working DuckDB file under $COSTCURVE_HOME (the only writer)."""

    @contextmanager
    def connect(self):
        with db.working() as con:
            flow.ensure(con)
            yield con


class RefreshSettings(dg.ConfigurableResource):
    """offline: use only the embedded defaults (no network), as `make run` does."""

    offline: bool = os.environ.get("COSTCURVE_OFFLINE", "") == "1"
