"""The `costcurve` command: refresh, ingest, sql, status, changes and the rest (`costcurve --help`)."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipelines import terminal
from warehouse import db, meta
from warehouse.lock import MODELS_TURN, REFRESH_TURN, RUNS_TURN, AlreadyRunning, writer_lock

# Piped output (a file, a pager, a notebook cell) keeps whole rows instead of rich's 80-column default.
err = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 160)
out = Console(width=None if sys.stdout.isatty() else 160)


class CliError(Exception):
    """A failure the user can act on: the message says what failed and what to do."""


def _published(allow_files: bool = False, run_id: str | None = None, as_of: datetime | None = None):
    from pipelines import sandbox
    from warehouse import readers
    from warehouse.lake import StorageError

    # Read-only, no file access unless asked for, no extension, settings locked: see pipelines/sandbox.py.
    # The local file or the DuckLake, at the last published run or the one asked for (warehouse/readers.py).
    try:
        return readers.published(sandbox.config(allow_files), run_id=run_id, as_of=as_of)
    except StorageError as e:
        raise CliError(str(e)) from None


def _execute_refresh(dagster, settings, loggers: dict, parallel: bool):
    """Run the daily refresh job: in this process, or with each step in a process of its own."""
    from pipelines.definitions import defs, refresh_job
    from pipelines.resources import Warehouse

    if not parallel:
        return defs.resolve_job_def("daily_refresh").execute_in_process(
            instance=dagster,
            resources={"warehouse": Warehouse(), "settings": settings},
            run_config={"loggers": loggers},
            raise_on_error=False,
        )
    import dagster as dg

    run_config = {"loggers": loggers, "resources": {"settings": {"config": {"offline": settings.offline}}}}
    with dg.execute_job(dg.reconstructable(refresh_job), dagster, run_config=run_config) as result:
        return result


def cmd_refresh(args) -> int:
    # The lock first: a second refresh is told at once, before seconds of importing Dagster. Where
    # steps run at once (a lake with a PostgreSQL catalog), they take their own turns (warehouse/lock.py).
    parallel = db.concurrent_writers()
    with writer_lock("refresh", REFRESH_TURN if parallel else None):
        from pipelines import flow, progress
        from pipelines.resources import RefreshSettings, instance

        # COSTCURVE_OFFLINE=1 makes offline the default here as in the Dagster UI's launchpad.
        settings = RefreshSettings(offline=args.offline or RefreshSettings().offline)
        err.print(
            f"[bold]costcurve refresh[/] ({'offline: embedded defaults' if settings.offline else 'live'}) "
            f"into {db.home()}"
        )
        # The instance `make dev` opens: the run, its checks and materializations show in the UI.
        # Each step and source is printed as it ends (pipelines/progress.py), not after the run.
        loggers = {"console": {"config": {"log_level": "WARNING"}}, "progress": {}}
        with instance() as dagster, progress.printing_to(err.print):
            result = _execute_refresh(dagster, settings, loggers, parallel)
        with writer_lock("refresh", RUNS_TURN, wait=True), db.working() as con:
            flow.close_run(con, result.run_id)  # in processes of their own, steps leave that to the launcher
            status, summary = con.execute(
                "select status, summary from meta.runs where run_id = ?", [result.run_id]
            ).fetchone()
        published = any(e.asset_key.path == ["publish"] for e in result.get_asset_materialization_events())
        if not published:
            err.print(
                f"[red]refresh {status}[/]: {summary}. Fix the error above and run `costcurve refresh` again."
            )
            return 1
    _summary()
    if status != "success":
        # Published, but not whole (Dagster shows the run failed by publish's run_status check): exits 1,
        # so a cron job notices, as `costcurve status` would.
        err.print(f"[yellow]refresh {status}[/]: {summary}. `costcurve status` shows each source.")
        return 1
    return 0


def _summary() -> None:
    con = _published()
    run = con.execute(
        "select run_id, status, summary from meta.runs order by started_at desc limit 1"
    ).fetchone()
    out.print(f"\n[bold]Published[/] {db.published_path()}  (run {run[0]}: {run[1]}, {run[2]})")
    terminal.show(out, _status_table(con))
    # The cheapest and dearest text model of each creator with three or more: marts.headline_prices ranks them.
    headline = con.execute(
        """
        select creator,
               arg_min(canonical_model, rank_in_creator), min(blended_usd_per_mtok),
               arg_max(canonical_model, rank_in_creator), max(blended_usd_per_mtok)
        from marts.headline_prices
        where text_generation and creator_text_models >= 3
        group by creator order by creator
        """
    ).fetchall()
    table = Table(
        title="Cheapest and dearest current models per creator (USD per MTok, blended 3:1, list price of record)"
    )
    for col in ("creator", "cheapest", "blended", "dearest", "blended"):
        table.add_column(col)
    for row in headline:
        table.add_row(row[0], row[1], f"{row[2]:.3f}", row[3], f"{row[4]:.3f}")
    terminal.show(out, table)
    from pipelines.changes import as_table, notable_today

    today = notable_today(con, datetime.now(UTC).date())
    if today.height:
        terminal.show(out, as_table(today, "Today's notable price changes"))
    else:
        out.print("No tracked price changed today.")
    out.print(f"Report: {db.published_dir() / 'report.html'}")
    out.print('Query it: costcurve sql "select * from marts.token_prices_current limit 5"')


def _status_table(con) -> Table:
    rows = con.execute(
        """
        select s.dataset, s.source, s.mode, s.status, s.rows_accepted, s.rows_rejected, s.versions_inserted,
               s.keys_closed, s.keys_held_open, s.observed_at,
               concat_ws('; ', s.error, array_to_string(s.warnings, '; '))
        from meta.source_runs s
        where s.run_id = (select run_id from meta.runs where kind = 'refresh' order by started_at desc limit 1)
        order by s.dataset, s.source
        """
    ).fetchall()
    table = Table(title="Sources in the last refresh")
    # Which source of which dataset is never cut; the notes fold into what room is left.
    table.add_column("dataset", no_wrap=True)
    table.add_column("source", no_wrap=True)
    for col in (
        "mode",
        "status",
        "accepted",
        "rejected",
        "new versions",
        "closed",
        "held open by rejects",
        "observed",
    ):
        table.add_column(col)
    table.add_column("notes", overflow="fold")
    for r in rows:
        table.add_row(
            *(str(v) if v is not None else "" for v in (*r[:9], f"{r[9]:%Y-%m-%d %H:%M}", r[10])),
            style=_SOURCE_STYLE.get(r[3], ""),
        )
    return table


_SOURCE_STYLE = {"failed": "red", "partial": "yellow", "skipped": "dim"}
# `costcurve status` exits with: 0 the last run succeeded and every source is fresh; 1 it was
# partial, or a source is stale; 2 it failed or died (and 2 for any error, as every command).
_EXIT = {"success": 0, "partial": 1}
_SOURCE_COLUMNS = (
    "source",
    "dataset",
    "mode",
    "status",
    "last_success",
    "rows_accepted",
    "rows_rejected",
    "keys_closed",
    "keys_held_open",
    "error",
    "warnings",
)


def _status_source(stack: ExitStack):
    """Where run records are true: the working warehouse, read under the writer lock (a failed run
    that published nothing is there too). While a writer holds it, the published snapshot, said so.
    A DuckLake is read as it is now, without the lock: its readers never block or see a half commit."""
    from warehouse import readers

    if db.storage() is not None:
        con = readers.working()
        stack.callback(con.close)
        return con, None
    if not db.working_path().exists():
        return _published(), None
    try:
        stack.enter_context(writer_lock("status"))
    except AlreadyRunning as e:
        return _published(), f"{e}; showing the last published run"
    con = readers.working()
    stack.callback(con.close)
    return con, None


def cmd_status(args) -> int:
    with ExitStack() as stack:
        con, note = _status_source(stack)
        return _status(con, note, args.format, args.wide)


def _status(con, note: str | None, fmt: str, wide: bool) -> int:
    last = con.execute(
        "select run_id, kind, started_at, finished_at, status, summary from meta.runs order by started_at desc limit 1"
    ).fetchone()
    if last is None:
        raise CliError("no run yet: run `costcurve refresh --offline` (or `make run`) first")
    if last[4] == "running" and note is None:
        # Read under the writer lock: no process is running it any more.
        last = (*last[:4], "died", "its process ended before the run finished")
    sources = con.execute(
        """
        select source, dataset, arg_max(mode, observed_at) as mode, arg_max(status, observed_at) as status,
               max(observed_at) filter (where status = 'success') as last_success,
               arg_max(rows_accepted, observed_at), arg_max(rows_rejected, observed_at),
               arg_max(keys_closed, observed_at), arg_max(keys_held_open, observed_at),
               arg_max(error, observed_at), arg_max(warnings, observed_at)
        from meta.source_runs group by source, dataset order by dataset, source
        """
    ).fetchall()
    history = {
        d: con.execute(f"select count(*) from history.{d}").fetchone()[0]
        for (d,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'history' order by 1"
        ).fetchall()
    }
    quarantined = con.execute("select count(*) from quarantine.rejected_rows").fetchone()[0]
    from warehouse.manifest import data_as_of

    # How old each dataset's data is (data_as_of), beside when a source of it last landed.
    as_of = data_as_of(con)
    fetched = dict(
        con.execute(
            "select dataset, max(observed_at) from meta.source_runs where status in ('success', 'partial') "
            "group by dataset"
        ).fetchall()
    )
    datasets = {
        d: {"data_as_of": as_of.get(d), "last_fetched": fetched.get(d), "history_rows": n}
        for d, n in history.items()
    }
    coverage = _accelerator_coverage(con)
    now = datetime.now(UTC)
    stale = [s for s in sources if s[3] != "skipped" and (s[4] is None or now - s[4] > meta.STALE_AFTER)]
    code = max(_EXIT.get(last[4], 2), 1 if stale else 0)
    if fmt == "json":
        run = dict(
            zip(("run_id", "kind", "started_at", "finished_at", "status", "summary"), last, strict=True)
        )
        listed = [
            dict(zip(_SOURCE_COLUMNS, s, strict=True))
            | {
                "age_hours": None if s[4] is None else round((now - s[4]).total_seconds() / 3600, 2),
                "stale": s in stale,
            }
            for s in sources
        ]
        status = {
            "last_run": run,
            "note": note,
            "sources": listed,
            "history_rows": history,
            "datasets": datasets,
            "unmapped_accelerators": coverage,
            "quarantined_rows": quarantined,
            "exit_code": code,
        }
        from pipelines import export

        print(export.json_text(status))
        return code
    if note:
        err.print(f"[yellow]{note}[/]")
    style = {0: "green", 1: "yellow"}.get(_EXIT.get(last[4], 2), "red")
    out.print(
        f"Last run: {last[0]} ({last[1]}) [{style}]{last[4]}[/] at {last[2]:%Y-%m-%d %H:%M} UTC — {last[5]}"
    )
    table = Table(title="Sources")
    # Which source of which dataset is never cut; the error and warnings fold into what room is left.
    # Mode goes with status and age with the last success, so the grid fits a 120-column terminal.
    table.add_column("dataset", no_wrap=True)
    table.add_column("source", no_wrap=True)
    for col in ("status", "last success", "accepted", "rejected", "closed", "held open by rejects"):
        table.add_column(col)
    table.add_column("error / warnings", overflow="fold")
    for s in sources:
        seen = (
            "never"
            if s[4] is None
            else f"{s[4]:%Y-%m-%d %H:%M}, {(now - s[4]).total_seconds() / 3600:.1f} h ago"
        )
        notes = "; ".join(filter(None, [s[9], *(s[10] or [])]))
        table.add_row(
            s[1],
            s[0],
            s[3] if s[2] == s[3] else f"{s[3]}, {s[2]}",
            seen + (" STALE" if s in stale else ""),
            *(str(v) if v is not None else "" for v in s[5:9]),
            notes,
            style=_SOURCE_STYLE.get(s[3], ""),
        )
    terminal.show(out, table, wide)
    ages = Table(title="Datasets")
    for col in ("dataset", "data as of", "last fetched", "history rows"):
        ages.add_column(col, no_wrap=True)
    for d, facts in datasets.items():
        day, seen = facts["data_as_of"], facts["last_fetched"]
        ages.add_row(
            d,
            "unknown" if day is None else f"{day} ({(now.date() - day).days} d old)",
            "never" if seen is None else f"{seen:%Y-%m-%d %H:%M}",
            f"{facts['history_rows']:,}",
        )
    terminal.show(out, ages, wide)
    if coverage:
        mapped = Table(
            title="GPU offers without a canonical accelerator (marts.unmapped_accelerators names them)"
        )
        for col in ("source", "offers", "unmapped", "share"):
            mapped.add_column(col, no_wrap=True)
        for row in coverage:
            mapped.add_row(row["source"], f"{row['offers']:,}", f"{row['unmapped']:,}", f"{row['share']:.1%}")
        terminal.show(out, mapped, wide)
    out.print(f"Quarantined rows: {quarantined:,}")
    return code


def _accelerator_coverage(con) -> list[dict]:
    """Per source, the current GPU offers and the share whose accelerator maps to nothing."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name = 'accelerator_coverage'"
    ).fetchone()[0]
    if not exists:  # a warehouse published before the mart existed
        return []
    rows = con.execute(
        "select source, sum(n_offers)::bigint, sum(n_unmapped)::bigint from marts.accelerator_coverage "
        "group by source order by source"
    ).fetchall()
    return [
        {"source": source, "offers": offers, "unmapped": unmapped, "share": round(unmapped / offers, 4)}
        for source, offers, unmapped in rows
    ]


def cmd_sql(args) -> int:
    import polars as pl

    from pipelines import export, sandbox

    query = args.query
    # A query never ends in ".sql" (a quoted name ends in a quote), a script's path always does.
    if query.strip().endswith(".sql"):
        path = Path(query.strip())
        try:
            query = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CliError(
                f"{path}: no such file: give the path of a .sql file, or the query itself"
            ) from None
        except OSError as e:
            raise CliError(f"{path}: {e.strerror}: give the path of a readable .sql file") from None
        except UnicodeDecodeError:
            raise CliError(f"{path}: not UTF-8 text: save the script as UTF-8") from None
    con = _published(allow_files=args.allow_files, run_id=args.as_of_run, as_of=_timestamp(args.as_of))
    try:
        frame = sandbox.run(con, query, timeout_s=args.timeout)
    except sandbox.QueryError as e:
        raise CliError(str(e)) from None
    finally:
        con.close()
    with export.piped():
        if args.format == "csv":
            try:
                export.write_csv(frame, sys.stdout)
            except pl.exceptions.PolarsError as e:
                raise CliError(sandbox.failure(e)) from None
        elif args.format == "json":
            print(export.json_text(frame.to_dicts()))
        else:
            shown = frame.head(args.limit) if args.limit else frame
            table = Table(*frame.columns)
            for row in shown.iter_rows():
                table.add_row(*map(terminal.cell, row))
            terminal.show(out, table, args.wide)
            if frame.height > shown.height:
                err.print(f"{frame.height - shown.height} more rows: use --limit or --format csv")
    return 0


def cmd_ingest(args) -> int:
    import duckdb

    from pipelines import flow, registry
    from sources.http import Fetched
    from warehouse.models import ModelTestsFailed

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    try:
        module = registry.module_for(args.dataset, args.source)
    except KeyError as e:
        raise CliError(str(e.args[0])) from None
    observed_at = _observed_at(args.observed_at)
    dataset = registry.DATASET_ALIASES.get(args.dataset, args.dataset)
    body, origin = path.read_bytes(), path.resolve()
    if body[:2] == _GZIP_MAGIC:  # a catalog saved compressed (anycloud's *.csv.gz) reads as its content
        import gzip

        try:
            body, origin = gzip.decompress(body), origin.with_suffix("")
        except (OSError, EOFError) as e:
            raise CliError(f"{path}: not a readable gzip file ({e})") from None
    feed = flow.Feed(module, [Fetched(str(origin), body)], "file", observed_at)
    run_id = flow.new_run_id("ingest")
    # On a DuckLake, ingests of different datasets run at once (warehouse/lock.py).
    with writer_lock("ingest", dataset), db.working() as con:
        flow.ensure(con)
        flow.begin_run(con, run_id, "ingest")
        try:
            staged, stats = flow.run(con, dataset, [feed], run_id=run_id)
            (outcome,) = staged.outcomes
            if outcome.status == "failed" or stats is None:
                flow.finish_run(con, run_id)
                cause = outcome.error if outcome.status == "failed" else staged.verdict.summary
                raise CliError(
                    f"{'validation blocked the merge: ' if stats is None else ''}{cause} "
                    "(the file was archived in raw.fetches; nothing reached history)"
                )
            # The models and the publish replace shared tables: one writer at a time, on a lake too.
            with writer_lock("ingest", MODELS_TURN, wait=True):
                selection = flow.build_models(con, run_id)
                flow.publish(con, run_id)
        except (OSError, duckdb.Error, ModelTestsFailed) as e:
            flow.close_run(con, run_id)
            raise CliError(
                f"ingest failed: {type(e).__name__}: {e}. The published warehouse was left as it was; "
                "`costcurve status` shows the run"
            ) from None
    err.print(
        f"{dataset} <- {path.name} ({module.NAME}): {outcome.rows_accepted} rows stored, "
        f"{outcome.rows_rejected} rejected, {stats.inserted} new history versions, {stats.closed} keys closed, "
        f"{stats.held_open} held open by rejects"
    )
    err.print(f"  models: {selection.describe()}")
    shown = outcome.warnings if args.verbose else outcome.warnings[:10]
    for w in shown:
        err.print(f"  [yellow]warning:[/] {escape(w)}")
    if len(outcome.warnings) > len(shown):
        err.print(
            f"  ... and {len(outcome.warnings) - len(shown)} more warnings (--verbose prints them all; "
            f"meta.source_runs.warnings of run {run_id})"
        )
    return 0


_GZIP_MAGIC = b"\x1f\x8b"


def _observed_at(text: str | None) -> datetime:
    """--observed-at as midnight UTC of that day, read like every date a source gives; default now."""
    from sources.base import BadRecord, read_date

    if not text:
        return datetime.now(UTC)
    try:
        day = read_date(text, field="--observed-at")
    except BadRecord as e:
        raise CliError(f"{e.reason}: give the day the file was observed as YYYY-MM-DD") from None
    return datetime.combine(day, datetime.min.time(), UTC)


def _timestamp(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"--as-of {text!r} is not a timestamp: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_migrate(args) -> int:
    from pipelines import migrate
    from warehouse.lake import StorageError

    try:
        with writer_lock("migrate"):
            report = migrate.run(args.to, catalog=args.catalog, data=args.data, file=args.file)
    except (StorageError, migrate.MigrationError) as e:
        raise CliError(str(e)) from None
    table = Table(title=f"Copied into {report.target}")
    for col in ("table", "rows", "content hash"):
        table.add_column(col)
    for check in report.tables:
        table.add_row(check.table, f"{check.rows:,}", check.digest[:16])
    terminal.show(out, table)
    out.print(f"Every table matches its source (row count and content hash). Use it: {report.use}")
    return 0


def cmd_changes(args) -> int:
    from pipelines import export
    from pipelines.changes import NoChangeFeed, as_table, changes

    today = datetime.now(UTC).date()
    try:
        since = date.fromisoformat(args.since) if args.since else today - CHANGES_WINDOW
    except ValueError:
        raise CliError(f"--since {args.since!r} is not a date: use YYYY-MM-DD") from None
    con = _published()
    try:
        frame = changes(con, since, today)
    except NoChangeFeed as e:
        raise CliError(str(e)) from None
    finally:
        con.close()
    with export.piped():
        if args.format == "csv":
            export.write_csv(frame, sys.stdout)
        elif args.format == "json":
            print(export.json_text(frame.to_dicts()))
        else:
            terminal.show(out, as_table(frame, f"Price changes since {since} ({frame.height})"), args.wide)
    return 0


# `costcurve changes` without --since: the last week, what a weekly look at the feed wants.
CHANGES_WINDOW = timedelta(days=7)


def cmd_serve(args) -> int:
    from pipelines.explorer.server import serve
    from pipelines.explorer.snapshot import NothingPublished

    try:
        serve(args.host, args.port, open_browser=not args.no_browser)
    except NothingPublished as e:
        raise CliError(str(e)) from None
    return 0


def cmd_docs(args) -> int:
    from pipelines import dictionary

    try:
        path = dictionary.write(Path(args.output))
    except FileNotFoundError as e:
        raise CliError(str(e)) from None
    err.print(f"wrote {path}")
    return 0


def cmd_rebuild(args) -> int:
    import duckdb

    from pipelines.rebuild import rebuild
    from warehouse.models import ModelTestsFailed

    with writer_lock("rebuild"):
        try:
            path = rebuild(progress=lambda message: err.print(f"  {message}"))
        except FileNotFoundError as e:
            raise CliError(f"{e}: run `costcurve refresh` first") from None
        except (OSError, duckdb.Error, ModelTestsFailed) as e:
            raise CliError(
                f"rebuild failed: {type(e).__name__}: {e}. The working warehouse was left as it was"
            ) from None
    err.print(f"rebuilt {path} from its raw archive and published it")
    return 0


def cmd_backfill(args) -> int:
    import duckdb

    from pipelines import backfill, flow, registry
    from sources.base import BadRecord, read_date
    from warehouse.models import ModelTestsFailed

    module = registry.module_for("gpu_rates", args.source)
    try:
        since = read_date(args.since, field="--since")
        until = read_date(args.until, field="--until")
    except BadRecord as e:
        raise CliError(f"{e.reason}: give the day as YYYY-MM-DD") from None
    try:
        with backfill.opened(args.repo) as git_dir:
            chosen = backfill.versions(git_dir, args.paths, since=since, until=until, every=args.every)
            if not chosen:
                raise CliError(
                    f"no commit of {args.repo} changed {args.paths} from {since} to {until or 'now'}: "
                    "check --since, --until and --paths"
                )
            err.print(
                f"[bold]costcurve backfill[/] {len(chosen)} catalog versions of "
                f"{len({v.cloud for v in chosen})} clouds from {escape(args.repo)}"
            )
            run_id = flow.new_run_id("backfill")
            with writer_lock("backfill"), db.working() as con:
                flow.ensure(con)
                flow.begin_run(con, run_id, "backfill")
                try:
                    done = backfill.ingest(
                        con, module, args.repo, git_dir, chosen, run_id=run_id,
                        progress=lambda file: err.print(f"  {escape(backfill.describe(file))}"),
                    )  # fmt: skip
                    if not done.landed:
                        flow.finish_run(con, run_id)
                        raise CliError(
                            "no catalog version landed (each was archived in raw.fetches; nothing reached "
                            f"history): `costcurve status` shows why (run {run_id})"
                        )
                    flow.build_models(con, run_id)
                    flow.publish(con, run_id)
                except (OSError, duckdb.Error, ModelTestsFailed) as e:
                    flow.close_run(con, run_id)
                    raise CliError(
                        f"backfill failed: {type(e).__name__}: {e}. The published warehouse was left as it "
                        "was; what merged before stays in the working warehouse, and running backfill "
                        "again is safe"
                    ) from None
    except backfill.GitError as e:
        raise CliError(str(e)) from None
    failed = len(done.files) - len(done.landed)
    err.print(
        f"backfilled gpu_rates ({module.NAME}) from {len(done.landed)} of {len(done.files)} catalog versions: "
        f"{done.total('inserted')} new history versions, {done.total('closed')} keys closed"
        + (f"; {failed} did not land (listed above; meta.source_runs of run {run_id})" if failed else "")
    )
    return 1 if failed else 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="costcurve", description="AI inference economics warehouse")
    p.add_argument("--version", action="version", version=f"%(prog)s {metadata.version('costcurve')}")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("refresh", help="run the daily refresh in this process and publish")
    r.add_argument("--offline", action="store_true", help="use only the embedded defaults (no network)")
    r.set_defaults(func=cmd_refresh)
    from pipelines.sandbox import DEFAULT_TIMEOUT_S

    s = sub.add_parser(
        "sql",
        help="query the published warehouse (read statements only)",
        description="Run read statements (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) on the published "
        "warehouse. Writes, COPY, EXPORT, ATTACH, INSTALL/LOAD, SET and PRAGMA settings are refused.",
        epilog='example: costcurve sql "select * from marts.token_prices_current limit 5"',
    )
    s.add_argument("query", help="a SQL query, or a path ending in .sql")
    s.add_argument("--format", choices=("table", "csv", "json"), default="table")
    s.add_argument(
        "--limit",
        type=int,
        default=200,
        metavar="N",
        help="rows the table shows (default 200; 0 = all); csv and json write every row",
    )
    s.add_argument("--wide", action="store_true", help=_WIDE_HELP)
    s.add_argument(
        "--allow-files",
        action="store_true",
        help="let the query read local files (read_csv, read_parquet, read_json, read_duckdb); "
        "it still cannot write one. Off by default",
    )
    s.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"stop a query that runs longer (default {DEFAULT_TIMEOUT_S:g}; 0 = no limit)",
    )
    when = s.add_mutually_exclusive_group()
    when.add_argument(
        "--as-of-run",
        metavar="RUN_ID",
        help="read the warehouse as run RUN_ID published it (every run on a DuckLake; on a local file, "
        "the last run and the one before)",
    )
    when.add_argument(
        "--as-of",
        metavar="TIMESTAMP",
        help="read the warehouse as it was published at TIMESTAMP (YYYY-MM-DD[THH:MM[:SS]], UTC unless "
        "it gives an offset); DuckLake only",
    )
    s.set_defaults(func=cmd_sql)
    st = sub.add_parser(
        "status",
        help="last run, and per source: mode, rows, freshness, errors; exits 0 ok, 1 partial or stale, 2 failed",
        epilog="example: costcurve status --format json   # for a script: exit_code and every source",
    )
    st.add_argument("--format", choices=("table", "json"), default="table")
    st.add_argument("--wide", action="store_true", help=_WIDE_HELP)
    st.set_defaults(func=cmd_status)
    i = sub.add_parser("ingest", help="load a saved payload file through the same path as a live fetch")
    i.add_argument(
        "dataset",
        help="token_prices, gpu_rates, accelerators, eval_results (evals) or throughput_measurements (throughput)",
    )
    i.add_argument("file")
    i.add_argument("--source", required=True, help="source format of the file, e.g. genai_prices, litellm")
    i.add_argument("--observed-at", help="date the payload was observed (YYYY-MM-DD); default now")
    i.add_argument("--verbose", action="store_true", help="print every warning, not only the first 10")
    i.set_defaults(func=cmd_ingest)
    c = sub.add_parser(
        "changes",
        help="every tracked price change since a date; a change dated after today is marked scheduled",
        epilog="example: costcurve changes --since 2025-01-01 --format csv",
    )
    c.add_argument("--since", help=f"YYYY-MM-DD (default {CHANGES_WINDOW.days} days ago)")
    c.add_argument("--format", choices=("table", "csv", "json"), default="table")
    c.add_argument("--wide", action="store_true", help=_WIDE_HELP)
    c.set_defaults(func=cmd_changes)
    sv = sub.add_parser(
        "serve",
        help="the explorer: a local web app over the published warehouse (prices, GPUs, MCI, what-if)",
        epilog="example: costcurve serve --port 8050 --no-browser   # then open http://127.0.0.1:8050/",
    )
    sv.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)"
    )
    sv.add_argument("--port", type=int, default=8050, help="port (default 8050; 0 = any free port)")
    sv.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    sv.set_defaults(func=cmd_serve)
    d = sub.add_parser("docs", help="regenerate the data dictionary from the published warehouse")
    d.add_argument("--output", default="docs/data_dictionary.md")
    d.set_defaults(func=cmd_docs)
    b = sub.add_parser("rebuild", help="replay the raw archive into a fresh warehouse (after a parser fix)")
    b.set_defaults(func=cmd_rebuild)
    from pipelines.backfill import DEFAULT_PATHS, PERIODS

    bf = sub.add_parser(
        "backfill",
        help="GPU rate history from a catalog repository's git history (SkyPilot's, or one in its format)",
        description="Ingest one version per period and cloud (the last commit of each) of every vms.csv "
        "the repository's history changed, observed at its commit time, as `costcurve ingest` does. "
        "Running it again adds nothing.",
    )
    bf.add_argument("source", choices=("skypilot",), help="source format of the catalog files")
    bf.add_argument("--repo", required=True, help="a git URL (cloned without blobs) or a local repository")
    bf.add_argument("--since", required=True, help="first commit day to ingest (YYYY-MM-DD, UTC)")
    bf.add_argument("--until", help="last commit day to ingest (YYYY-MM-DD, UTC); default the newest")
    bf.add_argument(
        "--every", choices=tuple(PERIODS), default="1d", help="one version per day or week (default 1d)"
    )
    bf.add_argument(
        "--paths",
        default=DEFAULT_PATHS,
        help=f"glob of the catalog files in the repository (default {DEFAULT_PATHS}; anycloud: '*/vms.csv')",
    )
    bf.set_defaults(func=cmd_backfill)
    m = sub.add_parser(
        "migrate",
        help="copy this warehouse, history included, into a DuckLake or back into a local file, verified",
        description="Copies every table of the local warehouse file into a DuckLake (--to ducklake) or of "
        "the configured DuckLake into a local file (--to file), then checks row counts and a content hash "
        "per table. The source is not changed; point COSTCURVE_WAREHOUSE at the copy to use it.",
        epilog="example: costcurve migrate --to ducklake --catalog lake/catalog.ducklake --data lake/data",
    )
    m.add_argument("--to", choices=("ducklake", "file"), required=True)
    m.add_argument(
        "--catalog",
        help="--to ducklake: the lake's catalog, a .ducklake file or postgres:dbname=... host=... "
        "(default: COSTCURVE_WAREHOUSE)",
    )
    m.add_argument("--data", help="--to ducklake: the lake's data path (default: COSTCURVE_LAKE_DATA)")
    m.add_argument(
        "--file",
        type=Path,
        help="--to file: the DuckDB file to write (default: the working file under COSTCURVE_HOME)",
    )
    m.set_defaults(func=cmd_migrate)
    return p


_WIDE_HELP = (
    "a grid as wide as its longest cells even past the terminal (default: records when it is too wide)"
)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, AlreadyRunning) as e:
        # The message quotes the user's query and values: a "[/x]" in them is text, not rich markup.
        err.print(f"[red]error:[/] {escape(str(e))}")
        return 2
    except OSError as e:
        # The machine said no (a read-only or missing home, a full disk): one line, and what to do.
        where = f" ({e.filename})" if e.filename else ""
        err.print(
            f"[red]error:[/] {escape(e.strerror or str(e))}{escape(where)}. costcurve writes under "
            f"COSTCURVE_HOME={escape(str(db.home()))}: point it at a writable folder with free space"
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
