"""Dagster assets: one per table, each a thin call into pipelines.flow.

Per dataset: ``staging/<dataset>`` (fetch, archive, parse all its sources) with a blocking GX
check, then ``history/<dataset>`` (SCD2 merge). One asset per SQL model file, then ``publish``.
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
        with warehouse.connect() as con:
            flow.begin_run(con, context.run_id, "refresh")
            outcomes = flow.stage_dataset(con, dataset_name, run_id=context.run_id, offline=settings.offline)
        for o in outcomes:
            if o.status == "failed":
                context.log.warning(f"{o.source}: {o.error}")
        return dg.MaterializeResult(
            metadata={
                "rows": sum(o.rows_accepted for o in outcomes),
                "rejected": sum(o.rows_rejected for o in outcomes),
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
        description="Great Expectations suite; failing rows go to quarantine, a broken batch blocks the merge.",
    )
    def gx_suite(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
        with warehouse.connect() as con:
            outcome = flow.validate_staged(con, dataset_name, run_id=context.run.run_id)
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=dg.AssetCheckSeverity.ERROR,
            description=outcome.summary,
            metadata={"rejected": len(outcome.rejected), "rows": outcome.passed.height},
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
    def history_asset(context: dg.AssetExecutionContext, warehouse: Warehouse):
        with warehouse.connect() as con:
            inserted = flow.merge_staged(con, dataset_name, run_id=context.run_id)
            total = con.execute(f"select count(*) from history.{dataset_name}").fetchone()[0]
            preview = _preview(con, f"history.{dataset_name}", order="last_seen_at desc")
        return dg.MaterializeResult(
            metadata={"versions_inserted": inserted, "rows": total, "preview": preview}
        )

    return history_asset


@dg.asset(
    key=["meta", "assumptions"],
    group_name="meta",
    kinds={"duckdb"},
    description="The assumption set (assumptions.toml or $COSTCURVE_ASSUMPTIONS) the marts read.",
)
def assumptions(warehouse: Warehouse):
    with warehouse.connect() as con:
        set_id = flow.write_assumptions(con)
    return dg.MaterializeResult(metadata={"assumption_set_id": set_id})


def _model(model: sql_models.Model):
    deps = [dg.AssetKey(t.split(".")) for t in sorted(model.depends_on)]
    deps += [dg.AssetKey(["history", d]) for d in DATASETS if f"history.{d}" in model.sql]
    if "meta." in model.sql:
        deps.append(assumptions.key)

    @dg.asset(
        key=[model.schema, model.name],
        deps=deps,
        group_name=model.schema,
        description=model.description,
        kinds={"duckdb", "sql"},
    )
    def model_asset(warehouse: Warehouse):
        with warehouse.connect() as con:
            flow.create_macros(con)
            rows = sql_models.build(con, model)
            preview = _preview(con, model.table)
        return dg.MaterializeResult(
            metadata={"rows": rows, "preview": preview, "sql": dg.MetadataValue.path(str(model.path))}
        )

    return model_asset


MODELS = sql_models.discover()
MART_KEYS = [dg.AssetKey([m.schema, m.name]) for m in MODELS]


@dg.asset(
    key=["publish"],
    deps=MART_KEYS + [dg.AssetKey(["history", d]) for d in DATASETS],
    group_name="publish",
    description="Read-only snapshot published/costcurve.duckdb (atomic rename) and Parquet per mart.",
)
def publish(context: dg.AssetExecutionContext, warehouse: Warehouse):
    with warehouse.connect() as con:
        path = flow.publish_all(con, context.run_id)
    return dg.MaterializeResult(metadata={"snapshot": dg.MetadataValue.path(str(path))})


STAGING = [a for d in DATASETS for a in _staging(d)]
ASSETS = [a for a in STAGING if isinstance(a, dg.AssetsDefinition)]
CHECKS = [a for a in STAGING if not isinstance(a, dg.AssetsDefinition)]
ASSETS += [_history(d) for d in DATASETS] + [assumptions] + [_model(m) for m in MODELS] + [publish]
