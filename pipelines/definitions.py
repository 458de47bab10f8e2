"""The Dagster code location (workspace.yaml points here). Logic lives in pipelines.flow."""

import dagster as dg

from pipelines.assets import ASSETS, CHECKS
from pipelines.resources import RefreshSettings, Warehouse

# One DuckDB file has one writing process: every step of the refresh runs in this process.
daily_refresh = dg.define_asset_job(
    "daily_refresh", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor
)

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[daily_refresh],
    schedules=[dg.ScheduleDefinition(job=daily_refresh, cron_schedule="0 6 * * *", execution_timezone="UTC")],
    resources={"warehouse": Warehouse(), "settings": RefreshSettings()},
)
