"""Dagster assets: one per table, each a thin call into pipelines.flow.

Per dataset: ``staging/<dataset>`` (flow.stage: fetch, archive, parse, rules and GX validation of
all its sources) with one check per source (``source_<name>``: failed, fallen back, skipped or
landed in part shows on that source's row) and a blocking check that reads the verdict, then
``history/<dataset>`` (flow.merge, which itself refuses a blocked batch). One asset per SQL model
file, with one blocking check per test its header declares (warehouse.models), then ``publish``,
whose blocking ``run_status`` check fails the Dagster run when the run was not a clean success.
Every asset uses the run's connection, and takes its turn at what it writes where steps run at once
(pipelines.resources.Warehouse).
"""

from datetime import timedelta
from types import ModuleType

import dagster as dg
import duckdb

from pipelines import flow, registry
from pipelines.resources import RefreshSettings, Warehouse
from sources.schemas import DATASETS
from warehouse import manifest, meta
from warehouse import models as sql_models
from warehouse.lock import MODELS_TURN


def _preview(con, table: str, order: str | None = None, rows: int = 5) -> dg.MetadataValue:
    """The first rows of a table as a markdown table, for the asset's page in the UI."""
    result = con.execute(f"select * from {table} {f'order by {order}' if order else ''} limit {rows}")
    names = [d[0] for d in result.description]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in result.fetchall()]
    return dg.MetadataValue.md("\n".join(lines))


def _table_metadata(con: duckdb.DuckDBPyConnection, table: str, docs_from: str | None = None) -> dict:
    """``dagster/column_schema`` (names, types and the column comments the data dictionary prints) and
    ``dagster/row_count`` of ``table``. A column without a comment of its own takes the one of the
    same name in ``docs_from`` (staging tables are documented by their history table)."""
    schema, name = table.split(".")
    docs_schema, docs_name = (docs_from or table).split(".")
    columns = con.execute(
        """select c.column_name, c.data_type, coalesce(c.comment, d.comment)
           from duckdb_columns() c
           left join duckdb_columns() d
             on d.database_name = c.database_name and d.schema_name = ? and d.table_name = ?
            and d.column_name = c.column_name
           where c.database_name = current_database() and c.schema_name = ? and c.table_name = ?
           order by c.column_index""",
        [docs_schema, docs_name, schema, name],
    ).fetchall()
    return {
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(n, t, description=d) for n, t, d in columns]
        ),
        "dagster/row_count": con.execute(f"select count(*) from {table}").fetchone()[0],
    }


def _source_check(
    con: duckdb.DuckDBPyConnection,
    key: dg.AssetCheckKey,
    module: ModuleType,
    run_id: str | None,
    offline: bool,
) -> dg.AssetCheckResult:
    """One source's row in the UI, read from its meta.source_runs row of the run that staged the batch:
    ERROR when it failed, WARN when it gave no fresh data of its own (skipped, or its live feed failed
    and the embedded default stood in) or landed only in part."""
    dataset = key.asset_key.path[-1]
    row = con.execute(
        """select mode, status, rows_accepted, rows_rejected, error, warnings from meta.source_runs
           where run_id = ? and dataset = ? and source = ?""",
        [run_id, dataset, module.NAME],
    ).fetchone()
    last_success = con.execute(
        "select max(observed_at) from meta.source_runs where dataset = ? and source = ? and status = 'success'",
        [dataset, module.NAME],
    ).fetchone()[0]
    stale = last_success is None or meta.now() - last_success > meta.STALE_AFTER
    mode, status, accepted, rejected, error, warnings = row or (None, "not staged", 0, 0, None, [])
    notes = "; ".join(filter(None, [error, *(warnings or [])]))
    if status in ("failed", "not staged"):
        verdict, severity = (
            f"{status}: {error or 'no record of it in the staged batch'}",
            dg.AssetCheckSeverity.ERROR,
        )
    elif status == "partial":
        verdict, severity = f"landed in part: {notes}", dg.AssetCheckSeverity.WARN
    elif status == "skipped":
        verdict, severity = f"skipped, no data this run: {notes}", dg.AssetCheckSeverity.WARN
    elif not offline and mode == "embedded" and hasattr(module, "LIVE_URL"):
        verdict, severity = f"fell back to its embedded default: {notes}", dg.AssetCheckSeverity.WARN
    else:
        verdict, severity = f"{mode}: {accepted} rows landed", None
    seen = "never" if last_success is None else f"{last_success:%Y-%m-%d %H:%M} UTC"
    return dg.AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=severity is None,
        severity=severity or dg.AssetCheckSeverity.ERROR,
        description=f"{module.NAME} {verdict} (last success {seen}{', STALE' if stale else ''})",
        metadata={
            "mode": mode or "none",
            "status": status,
            "rows_accepted": accepted or 0,
            "rows_rejected": rejected or 0,
            "last_success": seen,
            "stale": stale,
        },
    )


def _staging(dataset_name: str):
    modules = {m.NAME: m for m in registry.modules(dataset_name)}
    key = dg.AssetKey(["staging", dataset_name])

    @dg.asset(
        key=key,
        group_name="ingest",
        description=f"{DATASETS[dataset_name].doc} Every source fetched, archived in raw, parsed and rule-checked.",
        kinds={"duckdb", "polars"},
        # Daily data: late after a missed run (26 h), stale after a missed retry window too.
        freshness_policy=dg.FreshnessPolicy.time_window(
            fail_window=meta.STALE_AFTER, warn_window=timedelta(hours=26)
        ),
    )
    def staging(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: RefreshSettings):
        with warehouse.turn(dataset_name):
            staged = flow.stage(
                warehouse.con,
                dataset_name,
                flow.feeds(dataset_name),
                run_id=warehouse.run_id,
                offline=settings.offline,
            )
        outcomes = staged.outcomes
        for o in outcomes:
            if o.status == "failed":
                context.log.warning(f"{o.source}: {o.error}")
            else:
                context.log.info(
                    f"{o.source} ({o.mode}): {o.status}, {o.rows_accepted:,} rows, {o.rows_rejected:,} rejected"
                )
        con = warehouse.con
        return dg.MaterializeResult(
            metadata=_table_metadata(con, flow.staging_table(dataset_name), f"history.{dataset_name}")
            | {
                "rows": sum(o.rows_accepted for o in outcomes),
                "rejected": sum(o.rows_rejected for o in outcomes),
                "validation": staged.verdict.summary,
                "sources": dg.MetadataValue.md(
                    "| source | mode | status | rows | rejected |\n|---|---|---|---|---|\n"
                    + "\n".join(
                        f"| {o.source} | {o.mode} | {o.status} | {o.rows_accepted} | {o.rows_rejected} |"
                        for o in outcomes
                    )
                ),
            },
        )

    @dg.multi_asset_check(
        name=f"source_checks_{dataset_name}",
        # Not blocking: one source failing never stops the others (publish's run_status says so).
        specs=[
            dg.AssetCheckSpec(
                f"source_{name}",
                asset=key,
                description=f"The {name} source in the staged batch: fails (ERROR) when it failed, warns "
                "when it was skipped, fell back to its embedded default or landed only in part.",
            )
            for name in modules
        ],
        can_subset=True,
    )
    def source_checks(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, settings: RefreshSettings
    ):
        verdict = flow.staged_verdict(warehouse.con, dataset_name)
        for check in sorted(context.selected_asset_check_keys, key=lambda k: k.name):
            module = modules[check.name.removeprefix("source_")]
            yield _source_check(warehouse.con, check, module, verdict and verdict.run_id, settings.offline)

    @dg.asset_check(
        asset=staging,
        name="gx_suite",
        blocking=True,
        description=(
            "What the Great Expectations suite decided while staging (meta.validations): failing rows "
            "went to quarantine, and a broken batch blocks the merge. Reads the verdict, changes nothing."
        ),
    )
    def gx_suite(warehouse: Warehouse):
        verdict = flow.staged_verdict(warehouse.con, dataset_name)
        if verdict is None:
            return dg.AssetCheckResult(passed=False, description=f"{dataset_name}: nothing was staged")
        return dg.AssetCheckResult(
            passed=verdict.success,
            severity=dg.AssetCheckSeverity.ERROR,
            description=verdict.summary,
            metadata={
                "run_id": verdict.run_id,
                "rows": verdict.rows,
                "rejected": verdict.rejected,
                "rejected_share": verdict.rejected / verdict.rows if verdict.rows else 0.0,
                "rules_broken": ", ".join(verdict.rules_broken) or "none",
            },
        )

    return staging, gx_suite, source_checks


def _history(dataset_name: str):
    @dg.asset(
        key=["history", dataset_name],
        deps=[dg.AssetKey(["staging", dataset_name])],
        group_name="history",
        description=f"Full SCD2 history. {DATASETS[dataset_name].doc}",
        kinds={"duckdb"},
    )
    def history_asset(warehouse: Warehouse):
        con = warehouse.con
        with warehouse.turn(dataset_name):
            stats = flow.merge(con, dataset_name, run_id=warehouse.run_id)
        total = con.execute(f"select count(*) from history.{dataset_name}").fetchone()[0]
        as_of = manifest.data_as_of(con).get(dataset_name)
        return dg.MaterializeResult(
            metadata={
                "versions_inserted": stats.inserted,
                "keys_closed": stats.closed,
                "keys_held_open": stats.held_open,
                "rows": total,
                # The newest day the data describes (warehouse.manifest.data_as_of), not the fetch time.
                "data_as_of": str(as_of) if as_of else "unknown",
                "preview": _preview(con, f"history.{dataset_name}", order="last_seen_at desc"),
            }
            | _table_metadata(con, f"history.{dataset_name}")
        )

    return history_asset


@dg.asset(
    key=["meta", "assumptions"],
    group_name="meta",
    kinds={"duckdb"},
    description="The assumption set (assumptions.toml or $COSTCURVE_ASSUMPTIONS) the marts read.",
)
def assumptions(warehouse: Warehouse):
    with warehouse.turn(MODELS_TURN), flow.step(warehouse.con, warehouse.run_id, "assumptions"):
        set_id = flow.write_assumptions(warehouse.con)
    return dg.MaterializeResult(metadata={"assumption_set_id": set_id})


def _model(model: sql_models.Model):
    deps = [dg.AssetKey(t.split(".")) for t in sorted(model.depends_on)]
    deps += [dg.AssetKey(["history", d]) for d in DATASETS if f"history.{d}" in model.sql]
    if "meta." in model.sql:
        deps.append(assumptions.key)

    key = dg.AssetKey([model.schema, model.name])

    @dg.asset(
        key=key,
        deps=deps,
        group_name=model.schema,
        description=model.description,
        kinds={"duckdb", "sql"},
        # Blocking: a failing test keeps every model that reads this one, and publish, from running.
        check_specs=[
            dg.AssetCheckSpec(
                test.name, asset=key, blocking=True, description=f"{test} (declared in {model.path.name})"
            )
            for test in model.tests
        ],
    )
    def model_asset(warehouse: Warehouse):
        with warehouse.turn(MODELS_TURN):
            rows = flow.build_model(warehouse.con, warehouse.run_id, model)
            checks = [
                dg.AssetCheckResult(
                    check_name=r.test.name,
                    passed=r.passed,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=f"{r.test}: passed" if r.passed else str(r),
                    metadata={"failing": r.failing},
                )
                for r in flow.run_model_tests(warehouse.con, warehouse.run_id, model)
            ]
        return dg.MaterializeResult(
            metadata={
                "rows": rows,
                "preview": _preview(warehouse.con, model.table),
                "sql": dg.MetadataValue.path(str(model.path)),
            }
            | _table_metadata(warehouse.con, model.table),
            check_results=checks,
        )

    return model_asset


MODELS = sql_models.discover()
MART_KEYS = [dg.AssetKey([m.schema, m.name]) for m in MODELS]


@dg.asset(
    key=["publish"],
    deps=MART_KEYS + [dg.AssetKey(["history", d]) for d in DATASETS],
    group_name="publish",
    description=(
        "Read-only snapshot published/costcurve.duckdb, Parquet per mart and history table, report, "
        "Data Docs and manifest, swapped in together."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "run_status",
            asset=["publish"],
            # Blocking, so a partial run fails in Dagster after publishing what landed: never a clean
            # success while meta.runs (and `costcurve status`) say otherwise.
            blocking=True,
            description="The run's status in meta.runs is success: every source landed and validated.",
        )
    ],
)
def publish(warehouse: Warehouse):
    con = warehouse.con
    with warehouse.turn(MODELS_TURN):
        path = flow.publish(con, warehouse.run_id)
    status, summary = con.execute(
        "select status, summary from meta.runs where run_id = ?", [warehouse.run_id]
    ).fetchone()
    written = manifest.read(path.parent)
    return dg.MaterializeResult(
        metadata={
            "snapshot": dg.MetadataValue.path(str(path)),
            "run_status": status,
            "price_changes_detected": written["price_changes"]["detected"],
            "tables_changed": ", ".join(t["name"] for t in written["tables"] if t["changed"]) or "none",
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="run_status",
                passed=status == "success",
                severity=dg.AssetCheckSeverity.ERROR,
                description=f"{status}: {summary}",
            )
        ],
    )


STAGING = [a for d in DATASETS for a in _staging(d)]
ASSETS = [a for a in STAGING if isinstance(a, dg.AssetsDefinition)]
CHECKS = [a for a in STAGING if not isinstance(a, dg.AssetsDefinition)]
ASSETS += [_history(d) for d in DATASETS] + [assumptions] + [_model(m) for m in MODELS] + [publish]
