"""The `costcurve` command: refresh, ingest, sql, status."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from warehouse import db, meta
from warehouse.lock import AlreadyRunning, writer_lock

# Piped output (a file, a pager, a notebook cell) keeps whole rows instead of rich's 80-column default.
err = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 160)
out = Console(width=None if sys.stdout.isatty() else 160)


class CliError(Exception):
    """A failure the user can act on: the message says what failed and what to do."""


def _published(allow_files: bool = False):
    import duckdb

    path = db.published_path()
    if not path.exists():
        raise CliError(
            f"no published warehouse at {path}: run `costcurve refresh --offline` (or `make run`) first"
        )
    # Read-only, and no reading or writing of other files (read_csv, COPY, ATTACH) unless asked for;
    # lock_configuration stops a query from switching that back on.
    config = {} if allow_files else {"enable_external_access": False, "lock_configuration": True}
    return duckdb.connect(str(path), read_only=True, config=config)


def cmd_refresh(args) -> int:
    # The lock first: a second refresh is told at once, before seconds of importing Dagster.
    with writer_lock("refresh"):
        import dagster as dg

        from pipelines.definitions import defs
        from pipelines.resources import RefreshSettings, Warehouse

        err.print(
            f"[bold]costcurve refresh[/] ({'offline: embedded defaults' if args.offline else 'live'}) "
            f"into {db.home()}"
        )
        result = defs.resolve_job_def("daily_refresh").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            resources={"warehouse": Warehouse(), "settings": RefreshSettings(offline=args.offline)},
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            raise_on_error=False,
        )
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS":
            err.print(f"  [green]✓[/] {event.step_key}")
        elif event.event_type_value == "STEP_FAILURE":
            err.print(f"  [red]✗[/] {event.step_key}: {event.event_specific_data.error.message.strip()}")
    if not result.success:
        err.print(
            "[red]refresh failed[/]: the published warehouse was left as it was. "
            "Fix the error above and run `costcurve refresh` again."
        )
        return 1
    _summary()
    return 0


def _summary() -> None:
    con = _published()
    run = con.execute(
        "select run_id, status, summary from meta.runs order by started_at desc limit 1"
    ).fetchone()
    out.print(f"\n[bold]Published[/] {db.published_path()}  (run {run[0]}: {run[1]}, {run[2]})")
    out.print(_status_table(con))
    headline = con.execute(
        """
        with base as (
            select provider, canonical_model, model, input_usd_per_mtok, output_usd_per_mtok
            from marts.token_prices_current
            where source = 'genai_prices' and tier = 'base' and service_tier = 'standard' and not off_peak
              and mode = 'chat' and split_part(canonical_model, '/', 1) = provider
        )
        select provider,
               arg_min(model, input_usd_per_mtok + output_usd_per_mtok) as cheapest,
               min(input_usd_per_mtok + output_usd_per_mtok) as cheapest_in_plus_out,
               arg_max(model, input_usd_per_mtok + output_usd_per_mtok) as dearest,
               max(input_usd_per_mtok + output_usd_per_mtok) as dearest_in_plus_out
        from base group by provider having count(*) >= 3 order by provider
        """
    ).fetchall()
    table = Table(title="Cheapest and dearest current models per provider (USD per MTok, input + output)")
    for col in ("provider", "cheapest", "in+out", "dearest", "in+out"):
        table.add_column(col)
    for row in headline:
        table.add_row(row[0], row[1], f"{row[2]:.3f}", row[3], f"{row[4]:.3f}")
    out.print(table)
    from pipelines.changes import as_table, notable_today

    today = notable_today(con, datetime.now(UTC).date())
    if today.height:
        out.print(as_table(today, "Today's notable price changes"))
    else:
        out.print("No tracked price changed today.")
    out.print(f"Report: {db.published_dir() / 'report.html'}")
    out.print('Query it: costcurve sql "select * from marts.token_prices_current limit 5"')


def _status_table(con) -> Table:
    rows = con.execute(
        """
        select s.dataset, s.source, s.mode, s.status, s.rows_accepted, s.rows_rejected, s.versions_inserted,
               s.observed_at, coalesce(s.error, array_to_string(s.warnings, '; '))
        from meta.source_runs s
        where s.run_id = (select run_id from meta.runs where kind = 'refresh' order by started_at desc limit 1)
        order by s.dataset, s.source
        """
    ).fetchall()
    table = Table(title="Sources in the last refresh")
    for col in (
        "dataset",
        "source",
        "mode",
        "status",
        "accepted",
        "rejected",
        "new versions",
        "observed",
        "notes",
    ):
        table.add_column(col)
    for r in rows:
        style = {"failed": "red", "skipped": "dim"}.get(r[3], "")
        table.add_row(
            *(str(v) if v is not None else "" for v in (*r[:7], f"{r[7]:%Y-%m-%d %H:%M}", r[8])), style=style
        )
    return table


def cmd_status(args) -> int:
    con = _published()
    last = con.execute(
        "select run_id, kind, started_at, finished_at, status, summary from meta.runs order by started_at desc limit 1"
    ).fetchone()
    sources = con.execute(
        """
        select source, dataset, arg_max(mode, observed_at) as mode, arg_max(status, observed_at) as status,
               max(observed_at) filter (where status = 'success') as last_success,
               arg_max(rows_accepted, observed_at) as rows_accepted,
               arg_max(rows_rejected, observed_at) as rows_rejected,
               arg_max(error, observed_at) as error
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
    now = datetime.now(UTC)

    def stale(last_success) -> bool:
        return last_success is None or now - last_success > meta.STALE_AFTER

    if args.format == "json":
        print(
            json.dumps(
                {
                    "last_run": dict(
                        zip(
                            ("run_id", "kind", "started_at", "finished_at", "status", "summary"),
                            last,
                            strict=True,
                        )
                    )
                    if last
                    else None,
                    "sources": [
                        dict(
                            zip(
                                (
                                    "source",
                                    "dataset",
                                    "mode",
                                    "status",
                                    "last_success",
                                    "rows_accepted",
                                    "rows_rejected",
                                    "error",
                                ),
                                s,
                                strict=True,
                            )
                        )
                        | {
                            "age_hours": None
                            if s[4] is None
                            else round((now - s[4]).total_seconds() / 3600, 2)
                        }
                        for s in sources
                    ],
                    "history_rows": history,
                    "quarantined_rows": quarantined,
                },
                default=str,
                indent=2,
            )
        )
        return 0
    out.print(f"Last run: {last[0]} ({last[1]}) {last[4]} at {last[2]:%Y-%m-%d %H:%M} UTC — {last[5]}")
    table = Table(title="Sources")
    for col in (
        "dataset",
        "source",
        "mode",
        "status",
        "last success",
        "age",
        "accepted",
        "rejected",
        "error",
    ):
        table.add_column(col)
    for s in sources:
        age = "never" if s[4] is None else f"{(now - s[4]).total_seconds() / 3600:.1f} h"
        if stale(s[4]) and s[3] != "skipped":
            age += " STALE"
        table.add_row(
            s[1],
            s[0],
            s[2],
            s[3],
            "" if s[4] is None else f"{s[4]:%Y-%m-%d %H:%M}",
            age,
            str(s[5]),
            str(s[6]),
            s[7] or "",
            style="red" if s[3] == "failed" else "",
        )
    out.print(table)
    out.print(
        "History rows: "
        + ", ".join(f"{k} {v:,}" for k, v in history.items())
        + f"; quarantined rows: {quarantined:,}"
    )
    return 0


def cmd_sql(args) -> int:
    query = (
        Path(args.query).read_text()
        if args.query.endswith(".sql") and Path(args.query).is_file()
        else args.query
    )
    con = _published(allow_files=args.allow_files)
    try:
        rel = con.sql(query)
    except Exception as e:  # duckdb raises many error types; all are the user's query to fix
        raise CliError(f"query failed: {e}") from None
    if rel is None:
        return 0
    if args.format == "csv":
        import polars as pl

        frame = rel.pl()
        # CSV has no lists or structs: such a cell is written as its JSON text.
        nested = [c for c, t in frame.schema.items() if t.is_nested()]
        frame.with_columns(
            pl.col(c).map_elements(
                # polars hands a list cell over as a Series.
                lambda v: json.dumps(v.to_list() if isinstance(v, pl.Series) else v, default=str),
                return_dtype=pl.String,
            )
            for c in nested
        ).write_csv(sys.stdout)
    elif args.format == "json":
        print(json.dumps(rel.pl().to_dicts(), default=str, indent=2))
    else:
        frame = rel.pl()
        table = Table(*frame.columns)
        for row in frame.iter_rows():
            table.add_row(*("" if v is None else str(v) for v in row))
        out.print(table)
    return 0


def cmd_ingest(args) -> int:
    from pipelines import flow, registry
    from sources.http import Fetched

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    try:
        module = registry.module_for(args.dataset, args.source)
    except KeyError as e:
        raise CliError(str(e.args[0])) from None
    observed_at = (
        datetime.combine(date.fromisoformat(args.observed_at), datetime.min.time(), UTC)
        if args.observed_at
        else datetime.now(UTC)
    )
    dataset = registry.DATASET_ALIASES.get(args.dataset, args.dataset)
    run_id = flow.new_run_id("ingest")
    with writer_lock("ingest"), db.working() as con:
        flow.ensure(con)
        flow.begin_run(con, run_id, "ingest")
        outcome, frames = flow.stage_source(
            con,
            module,
            run_id=run_id,
            payloads=[Fetched(str(path.resolve()), path.read_bytes())],
            mode="file",
            observed_at=observed_at,
        )
        if outcome.status == "failed":
            flow.finish_run(con, run_id)
            raise CliError(f"{outcome.error} (the file was archived in raw.fetches; nothing reached history)")
        flow.write_staging(con, dataset, frames)
        validation = flow.validate_staged(con, dataset, run_id=run_id)
        if not validation.success:
            flow.finish_run(con, run_id)
            raise CliError(f"validation blocked the merge: {validation.summary}")
        inserted = flow.merge_staged(con, dataset, run_id=run_id)
        flow.build_models(con)
        flow.publish_all(con, run_id)
    err.print(
        f"{dataset} <- {path.name} ({module.NAME}): {outcome.rows_accepted} rows accepted, "
        f"{outcome.rows_rejected + len(validation.rejected)} rejected, {inserted} new history versions"
    )
    for w in outcome.warnings[:10]:
        err.print(f"  warning: {w}")
    return 0


def cmd_changes(args) -> int:
    from pipelines.changes import NoChangeFeed, as_table, changes

    try:
        since = date.fromisoformat(args.since)
    except ValueError:
        raise CliError(f"--since {args.since!r} is not a date: use YYYY-MM-DD") from None
    try:
        frame = changes(_published(), since)
    except NoChangeFeed as e:
        raise CliError(str(e)) from None
    if args.format == "csv":
        frame.write_csv(sys.stdout)
    elif args.format == "json":
        print(json.dumps(frame.to_dicts(), default=str, indent=2))
    else:
        out.print(as_table(frame, f"Price changes since {since} ({frame.height})"))
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
    from pipelines.rebuild import rebuild

    with writer_lock("rebuild"):
        try:
            path = rebuild(progress=lambda message: err.print(f"  {message}"))
        except FileNotFoundError as e:
            raise CliError(f"{e}: run `costcurve refresh` first") from None
    err.print(f"rebuilt {path} from its raw archive and published it")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="costcurve", description="AI inference economics warehouse")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("refresh", help="run the daily refresh in this process and publish")
    r.add_argument("--offline", action="store_true", help="use only the embedded defaults (no network)")
    r.set_defaults(func=cmd_refresh)
    s = sub.add_parser("sql", help="query the published warehouse (read-only)")
    s.add_argument("query", help="a SQL query, or a path to a .sql file")
    s.add_argument("--format", choices=("table", "csv", "json"), default="table")
    s.add_argument(
        "--allow-files",
        action="store_true",
        help="let the query read local files (read_csv, read_parquet); off by default",
    )
    s.set_defaults(func=cmd_sql)
    st = sub.add_parser("status", help="last run, and per source: mode, rows, freshness, errors")
    st.add_argument("--format", choices=("table", "json"), default="table")
    st.set_defaults(func=cmd_status)
    i = sub.add_parser("ingest", help="load a saved payload file through the same path as a live fetch")
    i.add_argument("dataset", help="token_prices, gpu_rates, accelerators or eval_results (evals)")
    i.add_argument("file")
    i.add_argument("--source", required=True, help="source format of the file, e.g. genai_prices, litellm")
    i.add_argument("--observed-at", help="date the payload was observed (YYYY-MM-DD); default now")
    i.set_defaults(func=cmd_ingest)
    c = sub.add_parser("changes", help="every tracked price change since a date")
    c.add_argument("--since", required=True, help="YYYY-MM-DD")
    c.add_argument("--format", choices=("table", "csv", "json"), default="table")
    c.set_defaults(func=cmd_changes)
    d = sub.add_parser("docs", help="regenerate the data dictionary from the published warehouse")
    d.add_argument("--output", default="docs/data_dictionary.md")
    d.set_defaults(func=cmd_docs)
    b = sub.add_parser("rebuild", help="replay the raw archive into a fresh warehouse (after a parser fix)")
    b.set_defaults(func=cmd_rebuild)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, AlreadyRunning) as e:
        err.print(f"[red]error:[/] {e}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
