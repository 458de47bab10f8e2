"""The daily flow as plain functions (Dagster assets, `ingest` and `rebuild` all call these):
fetch -> archive raw -> parse -> stage -> validate -> merge into history.

One source failing never stops the others: its error is recorded in ``meta.source_runs`` in
words and the rest of the dataset still lands.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import duckdb
import polars as pl

from pipelines import registry, rules
from sources.base import Reject, SourceError
from sources.http import Fetched, FetchError, Http, redact
from sources.schemas import DATASETS
from warehouse import history, meta, quarantine, raw

STAGING_EXTRA = {"payload_sha256": pl.Utf8, "observed_at": pl.Datetime("us", "UTC")}
HISTORY_SCOPE = ("source", "provider")


@dataclass
class SourceOutcome:
    source: str
    dataset: str
    mode: str
    status: str = "success"
    rows_in: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    versions_inserted: int = 0
    duration_s: float = 0.0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


# Per process and database file: every asset of a refresh opens the warehouse, and creating tables,
# comments and macros each time is most of a small asset's cost. An in-memory database has no file
# and is never remembered.
_ENSURED: set[str] = set()
_MACROS_CREATED: set[str] = set()


def _path(con: duckdb.DuckDBPyConnection) -> str | None:
    return con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()[0]


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create the warehouse's tables and comments (once per database file and process)."""
    path = _path(con)
    if path and path in _ENSURED:
        return
    raw.ensure(con)
    meta.ensure(con)
    for dataset in DATASETS.values():
        history.ensure(con, dataset)
    if path:
        _ENSURED.add(path)


def _payloads(
    module: ModuleType, *, offline: bool, http: Http | None
) -> tuple[str, list[Fetched], list[str]]:
    """The mode used and the payloads; a live failure falls back to the embedded default, loudly."""
    if not offline:
        try:
            live = module.fetch_live(http or Http())
        except (FetchError, SourceError) as e:
            if not module.embedded():
                raise
            return "embedded", module.embedded(), [f"live fetch failed ({e}); used the embedded default"]
        if live:
            return "live", live, []
    # Offline, or a source with no live feed (the curated catalogs): the embedded default.
    payloads = module.embedded()
    return ("embedded", payloads, []) if payloads else ("skipped", [], ["offline and no embedded default"])


def stage_source(
    con: duckdb.DuckDBPyConnection,
    module: ModuleType,
    *,
    run_id: str,
    payloads: list[Fetched] | None = None,
    mode: str | None = None,
    offline: bool = False,
    http: Http | None = None,
    observed_at: datetime | None = None,
) -> tuple[SourceOutcome, list[pl.DataFrame]]:
    """Fetch (unless ``payloads`` are given), archive, parse and rule-check one source.

    Each payload stands alone: one that cannot be read (a SourceError, or a parser bug) is marked
    failed on its raw.fetches row and the source's other payloads still land. The source fails when
    nothing could be fetched, when no payload could be read, or when every record was rejected.
    """
    dataset = DATASETS[module.DATASET]
    observed_at = observed_at or datetime.now(UTC)
    started = time.perf_counter()
    outcome = SourceOutcome(module.NAME, dataset.name, mode or "live")
    frames: list[pl.DataFrame] = []
    errors: list[str] = []
    first_reject: str | None = None
    try:
        if payloads is None:
            outcome.mode, payloads, notes = _payloads(module, offline=offline, http=http)
            outcome.warnings += notes
    except (FetchError, SourceError) as e:
        errors.append(_named(module, e))
        raw.record_failure(
            con, run_id=run_id, source=module.NAME, dataset=dataset.name, mode=outcome.mode,
            url=redact(getattr(module, "LIVE_URL", module.NAME)), observed_at=observed_at, error=errors[-1],
        )  # fmt: skip
        payloads = []
    for fetched in payloads:
        url = redact(fetched.url)
        archived = raw.archive(
            con, run_id=run_id, source=module.NAME, dataset=dataset.name, mode=outcome.mode,
            url=url, body=fetched.body, observed_at=observed_at,
        )  # fmt: skip
        try:
            result = module.parse(fetched.body, observed_at=observed_at, origin=url)
            passed, rule_rejects = rules.apply(con, dataset.name, result.rows)
        except SourceError as e:
            errors.append(_named(module, e))
            raw.mark_failed(con, archived.fetch_id, errors[-1])
            continue
        except Exception as e:  # a parser bug must fail its source, never the dataset's other sources
            errors.append(f"{module.NAME}: could not read {url}: {type(e).__name__}: {e}")
            raw.mark_failed(con, archived.fetch_id, errors[-1])
            continue
        rejects = [*result.rejects, *rule_rejects]
        first_reject = first_reject or (rejects[0].reason if rejects else None)
        outcome.warnings += result.warnings
        outcome.rows_in += result.rows.height + len(result.rejects)
        outcome.rows_rejected += quarantine.write(
            con, run_id=run_id, dataset=dataset.name, rejects=rejects, payload_sha256=archived.sha256
        )
        frames.append(
            passed.with_columns(
                pl.lit(archived.sha256).alias("payload_sha256"),
                pl.lit(observed_at).cast(STAGING_EXTRA["observed_at"]).alias("observed_at"),
            )
        )
    outcome.rows_accepted = sum(f.height for f in frames)
    if errors:
        outcome.error = "; ".join(errors)
    if outcome.mode == "skipped":
        outcome.status = "skipped"
    elif errors and not frames:
        outcome.status = "failed"
    elif outcome.rows_accepted == 0 and outcome.rows_rejected:
        outcome.status = "failed"
        outcome.error = (
            f"{module.NAME}: every record was rejected ({outcome.rows_rejected}); first: {first_reject}"
        )
    elif errors:
        outcome.status = "partial"
    outcome.duration_s = time.perf_counter() - started
    meta.record_source_run(con, run_id=run_id, observed_at=observed_at, **vars(outcome))
    return outcome, frames


def _named(module: ModuleType, error: Exception) -> str:
    """The error in words, starting with the source's name (a FetchError names only its URL)."""
    text = str(error)
    return text if text.startswith(module.NAME) else f"{module.NAME}: {text}"


def staging_table(dataset_name: str) -> str:
    return f"staging.{dataset_name}"


def write_staging(con: duckdb.DuckDBPyConnection, dataset_name: str, frames: list[pl.DataFrame]) -> int:
    dataset = DATASETS[dataset_name]
    schema = {**dataset.schema, **STAGING_EXTRA}
    staged = pl.concat([f.select(list(schema)) for f in frames]) if frames else pl.DataFrame(schema=schema)
    con.execute(f"create or replace table {staging_table(dataset_name)} as select * from staged")
    return staged.height


def stage_dataset(
    con: duckdb.DuckDBPyConnection, dataset_name: str, *, run_id: str, offline: bool, http: Http | None = None
) -> list[SourceOutcome]:
    outcomes, frames = [], []
    for module in registry.modules(dataset_name):
        outcome, source_frames = stage_source(con, module, run_id=run_id, offline=offline, http=http)
        outcomes.append(outcome)
        frames += source_frames
    write_staging(con, dataset_name, frames)
    return outcomes


def validate_staged(con: duckdb.DuckDBPyConnection, dataset_name: str, *, run_id: str):
    """Run the GX suite on staging; failing rows move to quarantine and leave staging."""
    from pipelines.validation import validate

    dataset = DATASETS[dataset_name]
    staged = con.execute(f"select * from {staging_table(dataset_name)}").pl()
    outcome = validate(dataset, staged)
    by_payload: dict[str, list[Reject]] = {}
    for item in outcome.rejected:
        row = item["row"]
        for failure in item["failures"]:
            rule, column, value = failure.split("|", 2)
            reason = f"{row['source']}: {dataset_name} row {_row_label(dataset, row)} fails {rule[3:]} on {column} = {value}"
            by_payload.setdefault(row["payload_sha256"], []).append(
                Reject(row["source"], rule, reason, row, column, value)
            )
    for sha, rejects in by_payload.items():
        quarantine.write(con, run_id=run_id, dataset=dataset_name, rejects=rejects, payload_sha256=sha)
        n = len({id(r.record) for r in rejects})
        _credit(con, run_id, dataset_name, sha, rows_rejected=n, rows_accepted=-n)
    if outcome.rejected:
        write_staging(con, dataset_name, [outcome.passed])
    return outcome


def _credit(con: duckdb.DuckDBPyConnection, run_id: str, dataset_name: str, sha: str, **deltas: int) -> None:
    """Add to a payload's counts in meta.source_runs. Counts belong to the module that fetched the
    payload: a row's source column may name its upstream more precisely (anycloud rows read by the
    skypilot module, eval rows naming who measured them)."""
    sets = ", ".join(f"{column} = coalesce({column}, 0) + ?" for column in deltas)
    con.execute(
        f"""update meta.source_runs set {sets}
            where run_id = ? and dataset = ?
              and source = (select any_value(source) from raw.fetches where sha256 = ?)""",
        [*deltas.values(), run_id, dataset_name, sha],
    )


def _row_label(dataset, row: dict) -> str:
    return "/".join(str(row.get(k)) for k in dataset.key if k != "source")


def merge_staged(con: duckdb.DuckDBPyConnection, dataset_name: str, *, run_id: str) -> int:
    """Merge each staged payload into history in observation order; returns versions inserted."""
    dataset = DATASETS[dataset_name]
    staged = con.execute(f"select * from {staging_table(dataset_name)} order by observed_at").pl()
    total = 0
    for (sha, observed_at), frame in staged.group_by(["payload_sha256", "observed_at"], maintain_order=True):
        rejected = con.execute(
            "select count(*) from quarantine.rejected_rows where run_id = ? and payload_sha256 = ?",
            [run_id, sha],
        ).fetchone()[0]
        stats = history.merge(
            con,
            dataset,
            frame,
            observed_at=observed_at,
            payload_sha256=sha,
            scope=HISTORY_SCOPE,
            close_missing=rejected == 0,
        )
        total += stats.inserted
        _credit(con, run_id, dataset_name, sha, versions_inserted=stats.inserted)
    return total


def new_run_id(kind: str) -> str:
    return f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"


def macro_sql() -> list[str]:
    """Every macro the warehouse and the snapshot carry: core formulas, then table macros."""
    from core.macros import macro_statements
    from warehouse.models import macro_files

    return [*macro_statements(), *(p.read_text() for p in macro_files())]


def write_assumptions(con: duckdb.DuckDBPyConnection) -> str:
    from pipelines import assumptions
    from warehouse import assumptions as stored

    return stored.write(con, assumptions.load())


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The formula and table macros the models call (once per database file and process)."""
    path = _path(con)
    if path and path in _MACROS_CREATED:
        return
    for statement in macro_sql():
        con.execute(statement)
    if path:
        _MACROS_CREATED.add(path)


def build_models(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    from warehouse import models

    write_assumptions(con)
    create_macros(con)
    return {m.table: models.build(con, m) for m in models.discover()}


def begin_run(con: duckdb.DuckDBPyConnection, run_id: str, kind: str) -> None:
    """Open a run. The caller holds the writer lock, so a run still marked running was killed."""
    con.execute(
        "update meta.runs set status = 'died', finished_at = ?, "
        "summary = 'its process ended before the run finished' where status = 'running' and run_id <> ?",
        [meta.now(), run_id],
    )
    con.execute(
        "insert into meta.runs values (?, ?, ?, null, 'running', null) on conflict do nothing",
        [run_id, kind, meta.now()],
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    """Close the run as success, or partial when a source failed; returns the status."""
    failed = con.execute(
        "select list(source || ' (' || dataset || ')') from meta.source_runs "
        "where run_id = ? and status in ('failed', 'partial')",
        [run_id],
    ).fetchone()[0]
    status = "partial" if failed else "success"
    summary = f"failed sources: {', '.join(failed)}" if failed else "all sources landed"
    meta.finish_run(con, run_id, status, summary)
    return status


def publish_all(con: duckdb.DuckDBPyConnection, run_id: str) -> Path:
    from pipelines import report
    from pipelines.validation import write_docs
    from warehouse import manifest, publish

    finish_run(con, run_id)
    path = publish.publish(con, macro_sql())
    publish.export_parquet(con)
    write_docs(path.parent / "data_docs")
    report.write(con, path.parent / "report.html")
    # Last: a poller that sees the new manifest finds everything it lists.
    manifest.write(con, path.parent, run_id)
    return path
