"""A dashboard in a loop: open the published snapshot, run one query, close; report what it saw.

    python reader.py SNAPSHOT STOP_FILE MAX_QUERIES MAX_SECONDS

Each query reads two tables written by the same publish, history and meta: the count of
history.token_prices and the versions meta.source_runs credits for it (inserted less superseded) must agree, and the latest run
in meta.runs must have its source runs. A reader that saw half of one publish and half of another
would see them disagree. Prints one JSON object: queries, errors, inconsistencies, runs seen.
"""

import json
import sys
import time
from pathlib import Path

import duckdb

QUERY = """
with latest as (select run_id from meta.runs order by started_at desc limit 1)
select (select run_id from latest),
       (select count(*) from history.token_prices),
       (select coalesce(sum(versions_inserted), 0) - coalesce(sum(versions_superseded), 0)
        from meta.source_runs where dataset = 'token_prices'),
       (select count(*) from meta.source_runs where run_id = (select run_id from latest))
"""

snapshot, stop, max_queries, max_seconds = (
    sys.argv[1],
    Path(sys.argv[2]),
    int(sys.argv[3]),
    float(sys.argv[4]),
)
deadline = time.monotonic() + max_seconds
queries, errors, inconsistent, runs = 0, [], [], {}
while queries < max_queries and time.monotonic() < deadline and not stop.exists():
    queries += 1
    try:
        with duckdb.connect(snapshot, read_only=True) as con:
            run_id, history_rows, credited, source_runs = con.execute(QUERY).fetchone()
    except Exception as e:  # every error is a failure of the guarantee under test: report, go on
        errors.append(f"{type(e).__name__}: {e}")
        continue
    runs[run_id] = runs.get(run_id, 0) + 1
    if history_rows != credited or source_runs == 0:
        inconsistent.append([run_id, history_rows, credited, source_runs])
    time.sleep(0.25)
print(json.dumps({"queries": queries, "errors": errors, "inconsistent": inconsistent, "runs": runs}))
