"""Conformance run on whole real upstream files, by hand (a user's clone has no ../shared, so this is
not part of the test suite):

    .venv/bin/python -m bench.real_files ../shared/real [--work DIR]

1. One offline refresh (the embedded defaults, observed now) is the starting warehouse.
2. Each real file is ingested with `costcurve ingest` into a copy of it twice: as a late file
   (`--observed-at` its own date, older than the refresh) and as the newest payload (tomorrow).
   Per run it prints rows read, accepted, rejected, keys closed, keys held open by rejects, the
   source's names no mapping knows (marts.unmapped_*) and the bytes archived, verbatim and stored.
3. Order independence on real data: genai-prices' August file and the December package, and a GCP
   catalog with a later snapshot made from it (every 10th row dropped, every 25th price raised 10%),
   ingested in both orders into fresh warehouses; the histories must be equal row for row.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

CLI = [sys.executable, "-m", "pipelines.cli"]
FILES = {
    "token_prices/litellm_1.110.2_model_prices_backup.json": ("token_prices", "litellm"),
    "token_prices/openrouter_models_all_2026-08-19.json": ("token_prices", "openrouter"),
    "token_prices/genai_prices_v2_data_47df840_2026-08-21.json": ("token_prices", "genai_prices"),
    "gpu_rates/anycloud_azure_vms_2026-05-20.csv.gz": ("gpu_rates", "skypilot"),
    "gpu_rates/anycloud_gcp_vms_2026-05-20.csv.gz": ("gpu_rates", "skypilot"),
    "gpu_rates/anycloud_lambda_vms_2026-05-20.csv.gz": ("gpu_rates", "skypilot"),
    "gpu_rates/anycloud_vast_vms_2026-05-20.csv.gz": ("gpu_rates", "skypilot"),
    "gpu_rates/skypilot_v8_cudo_vms_excerpt.csv": ("gpu_rates", "skypilot"),
    "gpu_rates/skypilot_v8_oci_vms_excerpt.csv": ("gpu_rates", "skypilot"),
}
COUNTS = """
    select coalesce(sum(rows_in), 0), coalesce(sum(rows_accepted), 0), coalesce(sum(rows_rejected), 0),
           coalesce(sum(versions_inserted), 0), coalesce(sum(keys_closed), 0), coalesce(sum(keys_held_open), 0),
           string_agg(distinct status, ',')
    from meta.source_runs where run_id = (select max(run_id) from meta.runs where kind = 'ingest')
"""
# What the ingest archived (verbatim and stored bytes) and the names of its source no mapping knows.
ARCHIVED = """
    select coalesce(sum(size), 0), coalesce(sum(octet_length(body)), 0) from raw.payloads
    where sha256 in (select sha256 from raw.fetches
                     where run_id = (select max(run_id) from meta.runs where kind = 'ingest'))
"""
UNMAPPED = {
    "token_prices": "select count(*) from marts.unmapped_models where source = ?",
    "gpu_rates": "select count(*) from marts.unmapped_accelerators where source = ?",
}


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COSTCURVE_HOME": str(home)}
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, check=False)


def plain(path: Path, work: Path) -> Path:
    """A .gz file unpacked beside the work folder, keeping the name the parser reads the cloud from."""
    if path.suffix != ".gz":
        return path
    out = work / "files" / path.stem
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.decompress(path.read_bytes()))
    return out


def file_date(name: str) -> date:
    found = re.search(r"(\d{4}-\d{2}-\d{2})", name)
    return date.fromisoformat(found.group(1)) if found else date(2026, 5, 20)


def ingest(home: Path, dataset: str, source: str, path: Path, day: date) -> tuple:
    start = time.perf_counter()
    done = cli(home, "ingest", dataset, str(path), "--source", source, "--observed-at", day.isoformat())
    seconds = time.perf_counter() - start
    with duckdb.connect(str(home / "costcurve.duckdb"), read_only=True) as con:
        counts = con.execute(COUNTS).fetchone()
        verbatim, stored = con.execute(ARCHIVED).fetchone()
        (unmapped,) = con.execute(UNMAPPED[dataset], [source]).fetchone()
    note = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["?"])[-1][:100]
    archived = f"{verbatim / 1e6:.2f} -> {stored / 1e6:.2f} MB"
    return (*counts, unmapped, archived, f"{seconds:.1f}s", note)


def history_rows(home: Path, table: str, where: str = "") -> list[tuple]:
    with duckdb.connect(str(home / "costcurve.duckdb"), read_only=True) as con:
        columns = [
            c
            for (c,) in con.execute(
                "select column_name from duckdb_columns() where schema_name = 'history' and table_name = ? "
                "and column_name not in ('first_seen_at', 'last_seen_at', 'payload_sha256', 'recorded_at')",
                [table],
            ).fetchall()
        ]
        return con.execute(
            f"select {', '.join(columns)} from history.{table} {where} order by all"
        ).fetchall()


def later_snapshot(path: Path, out: Path) -> Path:
    """A plausible next snapshot of a catalog: every 10th offer gone, every 25th price up 10%."""
    rows = list(csv.reader(io.StringIO(path.read_text())))
    header, body = rows[0], rows[1:]
    price = header.index("Price")
    kept = []
    for n, row in enumerate(body):
        if n % 10 == 9:
            continue
        if n % 25 == 0 and len(row) > price and row[price]:
            row = [*row[:price], f"{float(row[price]) * 1.1:.4f}", *row[price + 1 :]]
        kept.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *kept])
    out.write_text(buffer.getvalue())
    return out


def orders_agree(
    work: Path, dataset: str, source: str, first: tuple[Path, date], second: tuple[Path, date]
) -> str:
    homes = []
    for n, order in enumerate(((first, second), (second, first))):
        home = work / f"order-{source}-{n}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        for path, day in order:
            rows, accepted, rejected, inserted, closed, held, status, *_, error = ingest(
                home, dataset, source, path, day
            )
            if error:
                return f"ingest failed: {error}"
            print(
                f"    {'in date order' if n == 0 else 'out of order'}: {path.name} as of {day}: {rows} rows, "
                f"{accepted} accepted, {rejected} rejected, {inserted} new versions, {closed} keys closed, "
                f"{held} held open ({status})"
            )
        homes.append(home)
    a, b = (history_rows(h, dataset) for h in homes)
    return f"{len(a):,} versions in date order, {len(b):,} out of order: " + (
        "identical" if a == b else f"DIFFERENT ({len(set(a) ^ set(b))} rows differ)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("real", type=Path, help="the shared/real folder")
    parser.add_argument("--work", type=Path, default=Path("data/real_files"))
    args = parser.parse_args()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    base = work / "base"
    base.mkdir(parents=True)
    print("offline refresh (the starting warehouse) ...", flush=True)
    done = cli(base, "refresh", "--offline")
    if done.returncode:
        sys.exit(done.stderr)
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    header = (
        "file",
        "as",
        "rows",
        "accepted",
        "rejected",
        "new versions",
        "closed",
        "held open",
        "status",
        "unmapped names (source, all files)",
        "archived (verbatim -> stored)",
        "time",
        "error",
    )
    print(" | ".join(header))
    for name, (dataset, source) in FILES.items():
        path = plain(args.real / name, work)
        for label, day in (("late", file_date(name)), ("newest", tomorrow)):
            home = work / f"{Path(name).stem}-{label}"
            shutil.copytree(base, home)
            row = ingest(home, dataset, source, path, day)
            print(" | ".join(str(v) for v in (Path(name).name, f"{label} {day}", *row)), flush=True)
            shutil.rmtree(home)
    print("\norder independence on real files:")
    from sources import genai_prices

    package = work / "files" / "genai_prices_package.json"
    package.write_bytes(genai_prices.embedded()[0].body)
    august = args.real / "token_prices/genai_prices_v2_data_47df840_2026-08-21.json"
    print(
        "  genai-prices Aug file + Dec package:",
        orders_agree(
            work, "token_prices", "genai_prices", (august, date(2026, 8, 21)), (package, date(2026, 12, 1))
        ),
    )
    gcp = plain(args.real / "gpu_rates/anycloud_gcp_vms_2026-05-20.csv.gz", work)
    later = later_snapshot(gcp, work / "files" / "anycloud_gcp_vms_later.csv")
    print(
        "  GCP catalog + a later snapshot of it:",
        orders_agree(work, "gpu_rates", "skypilot", (gcp, date(2026, 5, 20)), (later, date(2026, 6, 20))),
    )


if __name__ == "__main__":
    main()
