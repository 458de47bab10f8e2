"""The one flow every run takes: refresh (the Dagster assets), `ingest`, `rebuild` and the tests.

    fetch -> archive raw -> parse -> rules -> GX validation -> staging -> merge into history

``stage`` takes a dataset's feeds as far as staging and records the validation verdict in
``meta.validations``; ``merge`` takes the staged batch into history; ``run`` is both. Dagster calls
the halves from its staging and history assets, and its asset check only reads the verdict. The
failure rules, all here:

- One source failing never stops the others: its error is recorded in ``meta.source_runs`` in
  words and the rest of the dataset still lands. A payload that cannot be read fails alone.
- A record the parser, a rule or the GX suite refuses goes to quarantine with its natural key and
  the payload it came from, and never reaches history; history keeps that key as it was (held).
- A batch the suite judges unusable (wrong structure, most rows rejected) is blocked: it is staged,
  so it can be looked at, and the merge refuses it.
- A payload cut short or mostly rejected closes no key in history, and its source warns so.
- A step that fails (merge, models, publish) is recorded with its cause in ``meta.run_failures``,
  and a run's status is computed from what reached history and what was published.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import astuple, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import duckdb
import polars as pl

from pipelines import registry, rules
from sources.base import Dataset, ParseResult, Reject, SourceError
from sources.http import Fetched, FetchError, Http, redact
from sources.schemas import DATASETS
from warehouse import db, history, meta, quarantine, raw
from warehouse import publish as published

NOT_PUBLISHED = "nothing published: the published warehouse is still the previous one"
STAGING_EXTRA = {"payload_sha256": pl.Utf8, "observed_at": pl.Datetime("us", "UTC")}
PAYLOADS = "staging.payloads"
_PAYLOAD = "_payload"


@dataclass(frozen=True)
class Feed:
    """One source's input: fetched now (``payloads`` None: live, else its embedded default), or given
    (a file for `ingest`, the archive for `rebuild`) with its mode and observation time."""

    module: ModuleType
    payloads: list[Fetched] | None = None
    mode: str | None = None
    observed_at: datetime | None = None
    # Each given payload's ``module.parse`` (with ``observed_at`` and the payload's redacted URL) made
    # ahead of time elsewhere (pipelines.readahead): its result, the exception it raised, or None to
    # parse it here.
    parsed: list[ParseResult | Exception | None] | None = None


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
    versions_superseded: int = 0
    keys_closed: int = 0
    keys_held_open: int = 0
    duration_s: float = 0.0
    observed_at: datetime | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    origin: str | None = None
    licence: str | None = None


@dataclass
class _Payload:
    """One payload a parser could read, as far as the flow took it."""

    source: str
    url: str
    sha256: str
    observed_at: datetime
    records: int  # rows the parser produced plus the records it rejected
    cut_short: bool
    rows: pl.DataFrame
    rejects: list[Reject]
    rejected_records: int

    @property
    def complete(self) -> bool:
        """A whole snapshot, which may close keys: not cut short, and not mostly rejected (then a
        missing key is more likely a rejected one than one gone)."""
        return not self.cut_short and self.rejected_records * 2 <= self.records

    def incomplete_warning(self) -> str:
        why = (
            "was cut short"
            if self.cut_short
            else f"had {self.rejected_records} of its {self.records} records rejected"
        )
        return f"payload {self.url} {why}: it closes no key in history"

    def held(self) -> list[dict]:
        """The natural keys of its rejected records. A reject that names no key holds nothing (see
        docs/reliability.md): holding every key for it would let one unidentifiable record keep a
        whole feed from ever closing."""
        keys = {json.dumps(r.key, default=str, sort_keys=True) for r in self.rejects if r.key is not None}
        return [json.loads(k) for k in sorted(keys)]


@dataclass(frozen=True)
class Verdict:
    """What validation decided about one dataset's staged batch (a row of meta.validations)."""

    run_id: str
    dataset: str
    success: bool
    rows: int
    rejected: int
    rules_broken: list[str]
    summary: str


@dataclass(frozen=True)
class Staged:
    outcomes: list[SourceOutcome]
    verdict: Verdict


class BlockedBatch(Exception):
    """The staged batch's validation verdict is blocked: it never merges."""


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
    # Two writers opening a new DuckLake at once both create its tables: the loser's commit is retried.
    db.retrying("create the warehouse's tables", lambda: _create(con))
    if path:
        _ENSURED.add(path)


def _create(con: duckdb.DuckDBPyConnection) -> None:
    raw.ensure(con)
    meta.ensure(con)
    for dataset in DATASETS.values():
        history.ensure(con, dataset)
    con.execute(
        f"""create table if not exists {PAYLOADS} (
                dataset varchar not null, payload_sha256 varchar not null,
                observed_at timestamptz not null, source varchar not null,
                complete boolean not null, held json not null)"""
    )


@contextmanager
def step(con: duckdb.DuckDBPyConnection, run_id: str, name: str) -> Iterator[None]:
    """Record a failure of the block in meta.run_failures with its cause, then let it propagate."""
    try:
        yield
    except Exception as e:
        # Recording must never hide the cause: a database that cannot take the row (disk full) is
        # left to the run-failure sensor.
        with suppress(duckdb.Error):
            meta.record_failure(con, run_id, name, e)
        raise


def feeds(dataset_name: str) -> list[Feed]:
    """Every source of the dataset, fetched now."""
    return [Feed(module) for module in registry.modules(dataset_name)]


def run(
    con: duckdb.DuckDBPyConnection,
    dataset_name: str,
    sources: list[Feed],
    *,
    run_id: str,
    offline: bool = False,
    http: Http | None = None,
) -> tuple[Staged, history.MergeStats | None]:
    """Stage, validate and, unless validation blocked the batch, merge; the stats are None then."""
    staged = stage(con, dataset_name, sources, run_id=run_id, offline=offline, http=http)
    if not staged.verdict.success:
        return staged, None
    return staged, merge(con, dataset_name, run_id=run_id)


def stage(
    con: duckdb.DuckDBPyConnection,
    dataset_name: str,
    sources: list[Feed],
    *,
    run_id: str,
    offline: bool = False,
    http: Http | None = None,
) -> Staged:
    """Fetch, archive, parse and rule-check every feed, validate the dataset's rows with the GX
    suite, then in one transaction: quarantine every reject, replace the staged batch, record each
    source's outcome and the verdict."""
    dataset = DATASETS[dataset_name]
    read = [_read_source(con, dataset, feed, run_id=run_id, offline=offline, http=http) for feed in sources]
    payloads = [p for _, batch in read for p in batch]
    verdict = _validate(dataset, run_id, payloads)
    outcomes = [_settle(outcome, batch) for outcome, batch in read]
    with db.transaction(con):
        for p in payloads:
            quarantine.write(
                con, run_id=run_id, dataset=dataset.name, rejects=p.rejects, payload_sha256=p.sha256
            )
        _write_staging(con, dataset, payloads)
        for outcome in outcomes:
            meta.record_source_run(con, run_id=run_id, **vars(outcome))
        db.upsert(con, "meta.validations", ["run_id", "dataset"], dict(
            run_id=run_id, dataset=dataset.name, validated_at=meta.now(), success=verdict.success,
            rows=verdict.rows, rejected=verdict.rejected, rules_broken=verdict.rules_broken,
            summary=verdict.summary, merged_at=None,
        ))  # fmt: skip
    return Staged(outcomes, verdict)


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


def _read_source(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    feed: Feed,
    *,
    run_id: str,
    offline: bool,
    http: Http | None,
) -> tuple[SourceOutcome, list[_Payload]]:
    """Fetch (unless the feed holds its payloads), archive, parse and rule-check one source.

    Each payload stands alone: one that cannot be read (a SourceError, or a parser bug) is marked
    failed on its raw.fetches row and the source's other payloads still land.
    """
    module = feed.module
    observed_at = feed.observed_at or datetime.now(UTC)
    started = time.perf_counter()
    outcome = SourceOutcome(module.NAME, dataset.name, feed.mode or "live", observed_at=observed_at)
    payloads: list[_Payload] = []
    errors: list[str] = []
    fetched_payloads = feed.payloads
    try:
        if fetched_payloads is None:
            outcome.mode, fetched_payloads, notes = _payloads(module, offline=offline, http=http)
            outcome.warnings += notes
    except (FetchError, SourceError) as e:
        errors.append(_named(module, e))
        raw.record_failure(
            con, run_id=run_id, source=module.NAME, dataset=dataset.name, mode=outcome.mode,
            url=redact(getattr(module, "LIVE_URL", module.NAME)), observed_at=observed_at, error=errors[-1],
        )  # fmt: skip
        fetched_payloads = []
    _note_provenance(outcome, fetched_payloads)
    for i, fetched in enumerate(fetched_payloads):
        url = redact(fetched.url)
        # An embedded snapshot is observed on its upstream's date, so that an offline run after a
        # live one adds the snapshot's past to history instead of rolling the present back to it.
        observed_at = (None if feed.observed_at else fetched.observed_at) or outcome.observed_at
        archived = raw.archive(
            con, run_id=run_id, source=module.NAME, dataset=dataset.name, mode=outcome.mode,
            url=url, body=fetched.body, observed_at=observed_at,
        )  # fmt: skip
        ahead = feed.parsed[i] if feed.parsed else None
        try:
            if isinstance(ahead, Exception):
                raise ahead
            result = (
                module.parse(fetched.body, observed_at=observed_at, origin=url) if ahead is None else ahead
            )
            passed, rule_rejects = rules.apply(con, dataset.name, result.rows)
        except SourceError as e:
            errors.append(_named(module, e))
            raw.mark_failed(con, archived.fetch_id, errors[-1])
            continue
        except Exception as e:  # a parser bug must fail its source, never the dataset's other sources
            errors.append(f"{module.NAME}: could not read {url}: {type(e).__name__}: {e}")
            raw.mark_failed(con, archived.fetch_id, errors[-1])
            continue
        outcome.warnings += result.warnings
        # A rule judges a normalized row: its key is the row's key columns.
        rule_rejects = [_with_row_key(dataset, r) for r in rule_rejects]
        payloads.append(
            _Payload(
                source=module.NAME,
                url=url,
                sha256=archived.sha256,
                observed_at=observed_at,
                records=result.rows.height + len(result.rejects),
                cut_short=not result.complete,
                rows=passed.with_columns(
                    pl.lit(archived.sha256).alias("payload_sha256"),
                    pl.lit(observed_at).cast(STAGING_EXTRA["observed_at"]).alias("observed_at"),
                ),
                rejects=[*result.rejects, *rule_rejects],
                rejected_records=len(result.rejects) + len(rule_rejects),
            )
        )
    if errors:
        outcome.error = "; ".join(errors)
    outcome.duration_s = time.perf_counter() - started
    return outcome, payloads


def _note_provenance(outcome: SourceOutcome, fetched: list[Fetched]) -> None:
    """An embedded snapshot's origin and licence on its source's meta.source_runs row (whose
    observed_at stays the run's: the source ran now, on data of the snapshot's date)."""
    for name in ("origin", "licence"):
        values = list(dict.fromkeys(v for f in fetched if (v := getattr(f, name))))
        setattr(outcome, name, "; ".join(values) or None)


def _with_row_key(dataset: Dataset, reject: Reject) -> Reject:
    if reject.key is not None:
        return reject
    key = {k: reject.record[k] for k in dataset.key if k in reject.record}
    return Reject(reject.source, reject.rule, reject.reason, reject.record, reject.field, reject.value, key)


def _validate(dataset: Dataset, run_id: str, payloads: list[_Payload]) -> Verdict:
    """Run the GX suite on the dataset's rows; a failing row leaves its payload's rows for its rejects."""
    from pipelines.validation import validate

    schema = {**dataset.schema, **STAGING_EXTRA}
    frames = [
        p.rows.select(list(schema)).with_columns(pl.lit(i).alias(_PAYLOAD)) for i, p in enumerate(payloads)
    ]
    frame = pl.concat(frames) if frames else pl.DataFrame(schema={**schema, _PAYLOAD: pl.Int32})
    outcome = validate(dataset, frame)
    broken = set(outcome.structural)
    for item in outcome.rejected:
        row = {k: v for k, v in item["row"].items() if k not in STAGING_EXTRA and k != _PAYLOAD}
        payload = payloads[item["row"][_PAYLOAD]]
        payload.rejected_records += 1
        for failure in item["failures"]:
            rule, column, value = failure.split("|", 2)
            broken.add(f"{rule}({column})")
            reason = f"{row['source']}: {dataset.name} row {_row_label(dataset, row)} fails {rule[3:]} on {column} = {value}"
            payload.rejects.append(
                Reject(row["source"], rule, reason, row, column, value, {k: row[k] for k in dataset.key})
            )
    for i, p in enumerate(payloads):
        p.rows = outcome.passed.filter(pl.col(_PAYLOAD) == i).drop(_PAYLOAD)
    return Verdict(
        run_id,
        dataset.name,
        outcome.success,
        frame.height,
        len(outcome.rejected),
        sorted(broken),
        outcome.summary,
    )


def _settle(outcome: SourceOutcome, payloads: list[_Payload]) -> SourceOutcome:
    """The source's counts after validation, and its status: failed when nothing could be fetched,
    no payload could be read, or every record was rejected; partial when some payload failed, was
    cut short or was mostly rejected."""
    outcome.rows_in = sum(p.records for p in payloads)
    outcome.rows_accepted = sum(p.rows.height for p in payloads)
    outcome.rows_rejected = sum(p.rejected_records for p in payloads)
    outcome.warnings += [p.incomplete_warning() for p in payloads if not p.complete]
    if outcome.mode == "skipped":
        outcome.status = "skipped"
    elif outcome.error and not payloads:
        outcome.status = "failed"
    elif outcome.rows_accepted == 0 and outcome.rows_rejected:
        first = next(r.reason for p in payloads for r in p.rejects)
        outcome.status = "failed"
        outcome.error = (
            f"{outcome.source}: every record was rejected ({outcome.rows_rejected}); first: {first}"
        )
    elif outcome.error or any(not p.complete for p in payloads):
        # A payload cut short or mostly rejected landed only in part and closes nothing: not a success.
        outcome.status = "partial"
    return outcome


def _named(module: ModuleType, error: Exception) -> str:
    """The error in words, starting with the source's name (a FetchError names only its URL)."""
    text = str(error)
    return text if text.startswith(module.NAME) else f"{module.NAME}: {text}"


def _row_label(dataset: Dataset, row: dict) -> str:
    return "/".join(str(row.get(k)) for k in dataset.key if k != "source")


def staging_table(dataset_name: str) -> str:
    return f"staging.{dataset_name}"


def _write_staging(con: duckdb.DuckDBPyConnection, dataset: Dataset, payloads: list[_Payload]) -> None:
    schema = {**dataset.schema, **STAGING_EXTRA}
    staged = (  # noqa: F841 - read by DuckDB
        pl.concat([p.rows.select(list(schema)) for p in payloads])
        if payloads
        else pl.DataFrame(schema=schema)
    )
    con.execute(f"create or replace table {staging_table(dataset.name)} as select * from staged")
    listing = pl.DataFrame(  # noqa: F841 - read by DuckDB
        [
            (dataset.name, p.sha256, p.observed_at, p.source, p.complete, json.dumps(p.held(), default=str))
            for p in payloads
        ],
        schema={
            "dataset": pl.Utf8, "payload_sha256": pl.Utf8, "observed_at": STAGING_EXTRA["observed_at"],
            "source": pl.Utf8, "complete": pl.Boolean, "held": pl.Utf8,
        },
        orient="row",
    )  # fmt: skip
    con.execute(f"delete from {PAYLOADS} where dataset = ?", [dataset.name])
    con.execute(f"insert into {PAYLOADS} by name select * from listing")


def staged_verdict(con: duckdb.DuckDBPyConnection, dataset_name: str) -> Verdict | None:
    """The verdict on the batch now in staging (the dataset's latest), or None if none was staged."""
    row = con.execute(
        """select run_id, dataset, success, rows, rejected, rules_broken, summary from meta.validations
           where dataset = ? order by validated_at desc limit 1""",
        [dataset_name],
    ).fetchone()
    return None if row is None else Verdict(*row)


def merge(con: duckdb.DuckDBPyConnection, dataset_name: str, *, run_id: str) -> history.MergeStats:
    """Merge each payload of the staged batch into history (in any order: the merge is
    order-independent), with the scope its source declares, the keys its rejects hold, and whether
    it is complete. Refuses a batch validation blocked."""
    totals = history.MergeStats(0, 0, 0, 0, 0)
    with step(con, run_id, f"merge {dataset_name}"):
        verdict = staged_verdict(con, dataset_name)
        if verdict is None:  # nothing was ever staged
            return totals
        if not verdict.success:
            raise BlockedBatch(
                f"{dataset_name}: validation blocked the batch staged by run {verdict.run_id}, so it is not "
                f"merged ({verdict.summary}); fix the source and run again"
            )
        for payload in _staged_payloads(con, dataset_name):
            stats = _merge_payload(con, DATASETS[dataset_name], verdict.run_id, *payload)
            totals = history.MergeStats(
                *(a + b for a, b in zip(astuple(totals), astuple(stats), strict=True))
            )
        con.execute(
            "update meta.validations set merged_at = ? where run_id = ? and dataset = ?",
            [meta.now(), verdict.run_id, dataset_name],
        )
    return totals


def _staged_payloads(con: duckdb.DuckDBPyConnection, dataset_name: str):
    """(sha256, observed_at, source, complete, held, rows) per staged payload; two fetches of one
    body at one time (two clouds sending the same catalog) are one payload."""
    listing = con.execute(
        f"""select payload_sha256, observed_at, any_value(source), bool_and(complete), list(held)
            from {PAYLOADS} where dataset = ? group by all""",
        [dataset_name],
    ).fetchall()
    staged = con.execute(f"select * from {staging_table(dataset_name)}").pl()
    for sha, observed_at, source, complete, held in listing:
        rows = staged.filter((pl.col("payload_sha256") == sha) & (pl.col("observed_at") == observed_at))
        if rows.height:
            yield sha, observed_at, source, complete, [k for h in held for k in json.loads(h)], rows


def _merge_payload(con, dataset: Dataset, batch_run: str, sha, observed_at, source, complete, held, rows):
    module = registry.module_for(dataset.name, source)
    stats = history.merge(
        con, dataset, rows, observed_at=observed_at, payload_sha256=sha,
        scope=module.SNAPSHOT_SCOPE, held=held, complete=complete,
    )  # fmt: skip
    con.execute(
        """update meta.source_runs set versions_inserted = coalesce(versions_inserted, 0) + ?,
                  versions_superseded = coalesce(versions_superseded, 0) + ?,
                  keys_closed = coalesce(keys_closed, 0) + ?, keys_held_open = coalesce(keys_held_open, 0) + ?
           where run_id = ? and dataset = ? and source = ?""",
        [stats.inserted, stats.superseded, stats.closed, stats.held_open, batch_run, dataset.name, source],
    )
    return stats


def new_run_id(kind: str) -> str:
    return f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"


def macro_sql() -> list[str]:
    """Every macro the warehouse and the snapshot carry: core formulas, then table macros."""
    from core.macros import macro_statements
    from warehouse.models import macro_files

    as_known = [history.as_known_macro(d) for d in DATASETS.values()]
    return [*macro_statements(), *(p.read_text() for p in macro_files()), *as_known]


def write_assumptions(con: duckdb.DuckDBPyConnection) -> str:
    from pipelines import assumptions
    from warehouse import assumptions as stored

    return stored.write(con, assumptions.load())


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The formula and table macros the models call (once per database file and process)."""
    path = _path(con)
    if path and path in _MACROS_CREATED:
        return
    db.create_macros(con, macro_sql())
    # On a lake they are the connection's own (temporary), so each new connection creates them again.
    if path and not db.on_lake(con):
        _MACROS_CREATED.add(path)


def build_models(con: duckdb.DuckDBPyConnection, run_id: str):
    """Build the models whose inputs changed since their last build (every one in a fresh warehouse;
    after an ingest, those downstream of its dataset: warehouse/lineage.py). Returns the selection."""
    from warehouse import lineage, models

    with step(con, run_id, "models"):
        write_assumptions(con)
        create_macros(con)
        found = models.discover()
        prints = lineage.fingerprints(con, found, macro_sql())
        selection = lineage.stale(con, found, prints)
        for m in selection.build:
            models.build(con, m)
            # Before anything reads it: a model failing its tests stops the step, so nothing is published.
            models.check(con, m)
            lineage.record(con, m, prints[m.table], run_id)
        return selection


def build_model(con: duckdb.DuckDBPyConnection, run_id: str, model) -> int:
    from warehouse import models

    with step(con, run_id, f"model {model.table}"):
        create_macros(con)
        return models.build(con, model)


def run_model_tests(con: duckdb.DuckDBPyConnection, run_id: str, model) -> list:
    """Run a built model's declared tests (Dagster's asset checks); a failure is recorded in
    meta.run_failures like a failed step, so the run's status says why nothing was published."""
    from warehouse import lineage, models

    results = models.run_tests(con, model)
    failed = [r for r in results if not r.passed]
    if failed:
        with suppress(duckdb.Error):  # as in step: the failing rows, not a second error, must surface
            meta.record_failure(con, run_id, f"tests {model.table}", models.ModelTestsFailed(failed))
    else:  # a refresh's build counts too: the next ingest reruns only what it changes
        prints = lineage.fingerprints(con, models.discover(), macro_sql())
        lineage.record(con, model, prints[model.table], run_id)
    return results


def begin_run(con: duckdb.DuckDBPyConnection, run_id: str, kind: str) -> None:
    """Open a run. A caller holding the warehouse's lock alone knows a run still marked running was
    killed; an ingest on a DuckLake (its dataset's lock only) may run beside another, so it marks none."""
    from warehouse.lock import holds_warehouse

    if holds_warehouse():
        con.execute(
            "update meta.runs set status = 'died', finished_at = ?, "
            "summary = 'its process ended before the run finished' where status = 'running' and run_id <> ?",
            [meta.now(), run_id],
        )
    db.upsert(
        con,
        "meta.runs",
        ["run_id"],
        dict(run_id=run_id, kind=kind, started_at=meta.now(), status="running"),
        update=False,
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, *, published: bool = False) -> str:
    """Close the run with the status what reached history earns; returns it.

    failed: a step failed (merge, models, publish), or something failed and nothing of the run
    reached history. partial: a source failed or validation blocked a dataset, and the rest landed.
    success: every source landed. The summary names each cause, and says when nothing was published.
    """
    failures = _strings(
        con, "select step || ': ' || error from meta.run_failures where run_id = ? order by failed_at", run_id
    )
    blocked = _strings(
        con, "select summary from meta.validations where run_id = ? and not success order by dataset", run_id
    )
    failed_sources, partial_sources = (
        _strings(
            con,
            "select source || ' (' || dataset || ')' from meta.source_runs "
            "where run_id = ? and status = ? order by dataset, source",
            run_id,
            status,
        )
        for status in ("failed", "partial")
    )
    sources = failed_sources + partial_sources
    # Rows of the run reached history: a batch with rows left after validation was merged.
    merged = con.execute(
        "select count(*) from meta.validations where run_id = ? and merged_at is not null and rows > rejected",
        [run_id],
    ).fetchone()[0]
    parts = [f"failed {f}" for f in failures]
    parts += [f"validation blocked {b}" for b in blocked]
    parts += [f"failed sources: {', '.join(failed_sources)}"] if failed_sources else []
    parts += [f"sources that landed in part: {', '.join(partial_sources)}"] if partial_sources else []
    if failures or ((blocked or sources) and not merged):
        status = "failed"
    elif blocked or sources:
        status = "partial"
    else:
        status = "success"
    summary = "; ".join(parts) or "all sources landed"
    if not published:
        summary += f"; {NOT_PUBLISHED}"
    meta.finish_run(con, run_id, status, summary)
    return status


def _strings(con: duckdb.DuckDBPyConnection, sql: str, *params) -> list[str]:
    return [r for (r,) in con.execute(sql, list(params)).fetchall()]


def close_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Finish a run that publish did not finish (a selection without publish, or a failed step)."""
    status = con.execute("select status from meta.runs where run_id = ?", [run_id]).fetchone()
    if status == ("running",):
        finish_run(con, run_id)


def publish(con: duckdb.DuckDBPyConnection, run_id: str) -> Path:
    """Finish the run (the snapshot carries its status), write everything it publishes into a new
    generation and swap it in. On failure the published files stay as they were, the generation is
    removed and the run is failed with the cause."""
    finish_run(con, run_id, published=True)
    try:
        with step(con, run_id, "publish"):
            generation = published.new_generation(run_id)
            try:
                _write_generation(con, generation, run_id)
            except BaseException:
                shutil.rmtree(generation, ignore_errors=True)
                raise
            published.swap(generation)
    except Exception:
        with suppress(duckdb.Error):  # as in step: the cause, not a second error, must surface
            finish_run(con, run_id)
        raise
    return db.published_path()


def _write_generation(con: duckdb.DuckDBPyConnection, directory: Path, run_id: str) -> None:
    from pipelines import report, validation_docs
    from warehouse import manifest

    published.publish(con, macro_sql(), directory / "costcurve.duckdb", run_id)
    published.export_parquet(con, directory / "parquet")
    # Every run's validations, from the warehouse's own tables: complete whichever process publishes.
    validation_docs.write(con, directory / "data_docs")
    report.write(con, directory / "report.html")
    # Last: a poller that sees the new manifest finds everything it lists.
    manifest.write(con, directory, run_id)
