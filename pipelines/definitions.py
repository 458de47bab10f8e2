"""The Dagster code location (workspace.yaml points here). Logic lives in pipelines.flow."""

import dagster as dg

from pipelines.assets import ASSETS, CHECKS
from pipelines.progress import progress
from pipelines.resources import RefreshSettings, Warehouse
from warehouse import db, meta
from warehouse.lock import RUNS_TURN, writer_lock


def executor() -> dg.ExecutorDefinition:
    """One DuckDB file (or .ducklake catalog) has one writing process: every step of the refresh runs
    in one process. A lake with a PostgreSQL catalog takes writers at once: each step runs in a process
    of its own, so the datasets' staging and history steps run in parallel
    (pipelines.resources.Warehouse)."""
    return dg.multiprocess_executor if db.concurrent_writers() else dg.in_process_executor


# The UI's code location reads the deployment's storage setting when it loads.
daily_refresh = dg.define_asset_job(
    "daily_refresh", selection=dg.AssetSelection.all(), executor_def=executor()
)


@dg.run_failure_sensor(monitored_jobs=[daily_refresh], default_status=dg.DefaultSensorStatus.RUNNING)
def record_failed_refresh(context: dg.RunFailureSensorContext):
    """A scheduled run that dies leaves meta.runs saying so, for `costcurve status` and dashboards.
    Under the writer lock, like every writer; a run that already recorded its failure keeps its words,
    and a partial run (failed in Dagster by publish's run_status check) stays partial."""
    with writer_lock("run-failure sensor", RUNS_TURN, wait=True), db.working() as con:
        meta.ensure(con)
        run_id = context.dagster_run.run_id
        status = con.execute("select status from meta.runs where run_id = ?", [run_id]).fetchone()
        if status != ("partial",):
            meta.fail_run(con, run_id, context.failure_event.message or "run failed")


defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[daily_refresh],
    schedules=[
        # On from the start: the daily refresh is the point. Stop it in the UI (Automation, or the job's
        # Schedules tab); the instance under $COSTCURVE_HOME/dagster keeps that choice across restarts.
        dg.ScheduleDefinition(
            job=daily_refresh,
            cron_schedule="0 6 * * *",
            execution_timezone="UTC",
            default_status=dg.DefaultScheduleStatus.RUNNING,
        )
    ],
    sensors=[record_failed_refresh],
    resources={"warehouse": Warehouse(), "settings": RefreshSettings()},
    # Dagster's console logger stays the default; `costcurve refresh` adds `progress` in its run config.
    loggers={"console": dg.colored_console_logger, "progress": progress},
)


def refresh_job() -> dg.JobDefinition:
    """The daily refresh with its resources, for ``dg.reconstructable``: the multiprocess executor's
    step processes load the job from here."""
    return defs.resolve_job_def("daily_refresh").with_executor_def(executor())
