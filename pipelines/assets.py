"""Dagster assets: one per table, each a thin call into pipelines.flow.

Per dataset: ``staging/<dataset>`` (flow.stage: fetch, archive, parse, rules and GX validation of
all its sources) with a blocking check that reads the verdict, then ``history/<dataset>``
(flow.merge, which itself refuses a blocked batch). One asset per SQL model file, with one blocking
check per test its header declares (warehouse.models), then ``publish``.
Every asset uses the run's one connection (pipelines.resources.Warehouse).
"""

from datetime import timedelta

import dagster as dg

from pipelines import flow
from pipelines.resources import RefreshSettings, Warehouse
from sources.schemas import DATASETS
from warehouse import meta
from warehouse import models as sql_models


def _preview(con, table: str, order: str | None = None, rows: int = 5) -> dg.MetadataValue:
    """The first rows of a table as a markdown table, for the asset's page in the UI."""
    result = con.execute(f"select * from {table} {f'order by {order}' if order else ''} limit {rows}")
    names = [d[0] for d in result.description]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in result.fetchall()]
    return dg.MetadataValue.md("\n".join(lines))


def _staging(dataset_name: str):
    @dg.asset(
        key=["staging", dataset_name],
        group_name="ingest",
        description=f"{DATASETS[dataset_name].doc} Every source fetched, archived in raw, parsed and rule-checked.",
        kinds={"duckdb", "polars"},
        # Daily data: late after a missed run (26 h), stale after a missed retry window too.
        freshness_policy=dg.FreshnessPolicy.time_window(
            fail_window=meta.STALE_AFTER, warn_window=timedelta(hours=26)
        ),
    )
    def staging(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: RefreshSettings):
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
        return dg.MaterializeResult(
            metadata={
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
            }
        )

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

    return staging, gx_suite


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
        stats = flow.merge(con, dataset_name, run_id=warehouse.run_id)
        total = con.execute(f"select count(*) from history.{dataset_name}").fetchone()[0]
        return dg.MaterializeResult(
            metadata={
                "versions_inserted": stats.inserted,
                "keys_closed": stats.closed,
                "keys_held_open": stats.held_open,
                "rows": total,
                "preview": _preview(con, f"history.{dataset_name}", order="last_seen_at desc"),
            }
        )

    return history_asset


@dg.asset(
    key=["meta", "assumptions"],
    group_name="meta",
    kinds={"duckdb"},
    description="The assumption set (assumptions.toml or $COSTCURVE_ASSUMPTIONS) the marts read.",
)
def assumptions(warehouse: Warehouse):
    with flow.step(warehouse.con, warehouse.run_id, "assumptions"):
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
            },
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
        "Read-only snapshot published/costcurve.duckdb, Parquet per mart, report, Data Docs and manifest, "
        "swapped in together."
    ),
)
def publish(warehouse: Warehouse):
    path = flow.publish(warehouse.con, warehouse.run_id)
    return dg.MaterializeResult(metadata={"snapshot": dg.MetadataValue.path(str(path))})


STAGING = [a for d in DATASETS for a in _staging(d)]
ASSETS = [a for a in STAGING if isinstance(a, dg.AssetsDefinition)]
CHECKS = [a for a in STAGING if not isinstance(a, dg.AssetsDefinition)]
ASSETS += [_history(d) for d in DATASETS] + [assumptions] + [_model(m) for m in MODELS] + [publish]
