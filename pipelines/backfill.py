"""`costcurve backfill`: GPU rate history from a catalog repository's git history.

SkyPilot's catalog repository (and anycloud's, in the same format) commits every refresh of each
cloud's ``vms.csv``, so its git history holds years of rates the daily refresh never saw. Backfill
walks the commits that changed those files and feeds one version per period and cloud (the last
one of the period) through the one flow, observed at its commit time, as
``costcurve ingest gpu_rates FILE --source skypilot --observed-at DAY`` feeds a file. The history merge is
order-independent and merging a payload again changes nothing, so a backfill may run after the
daily refreshes, be run again, or overlap an earlier one.

Versions go in commit order all the same: the rules compare a row with the history before it.
The git command line does the reading (no library): a URL is cloned bare with
``--filter=blob:none``, so only the blobs of the chosen versions are downloaded.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import TYPE_CHECKING

from warehouse import meta

# flow and sources.http load polars, httpx and every parser, and `costcurve` reads this module's
# options for any command: they load when a backfill runs.
if TYPE_CHECKING:
    import duckdb

    from pipelines import flow
    from warehouse import history

DATASET = "gpu_rates"
# SkyPilot's current catalog schema; anycloud keeps ``<cloud>/vms.csv`` at its root (--paths '*/vms.csv').
# Older SkyPilot schemas (catalogs/v5..v7) are left out by default: two schemas of one cloud observed
# in turn would make its rates flip between them.
DEFAULT_PATHS = "catalogs/v8/*/vms.csv"
# The period a version stands for: backfill keeps the last commit of each period and cloud.
PERIODS: dict[str, Callable[[date], object]] = {
    "1d": lambda day: day,
    "1w": lambda day: day.isocalendar()[:2],
}
# A clone never waits on a credential prompt, and paths print unquoted.
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0"}
_GIT = ("git", "-c", "core.quotePath=false")
# Each commit of the log starts with a NUL byte (git's %x00), which no path or header contains.
_COMMIT = "\x00"


class GitError(Exception):
    """git could not open, clone or read the repository; the message says which and why."""


@dataclass(frozen=True)
class CatalogVersion:
    """One cloud's ``vms.csv`` as one commit left it."""

    path: str
    sha: str
    committed_at: datetime

    @property
    def cloud(self) -> str:
        return PurePosixPath(self.path).parent.name

    def origin(self, repo: str) -> str:
        # The parser reads the cloud from the origin's ``<cloud>/vms.csv``, and anycloud from its name.
        return f"git:{repo}@{self.sha}:{self.path}"


@dataclass(frozen=True)
class Ingested:
    """What one version did: its source outcome, its merge (None when nothing was merged) and, when
    validation refused the batch, the verdict in words."""

    version: CatalogVersion
    outcome: flow.SourceOutcome
    stats: history.MergeStats | None
    blocked: str | None = None

    @property
    def landed(self) -> bool:
        return self.stats is not None and self.outcome.status != "failed"

    @property
    def problem(self) -> str | None:
        """Why the version did not land whole, in words; None when it did."""
        if self.outcome.status == "failed":
            return self.outcome.error
        if self.blocked:
            return f"validation blocked it ({self.blocked})"
        if self.outcome.status == "partial":
            return self.outcome.error or "; ".join(self.outcome.warnings)
        return None


@dataclass
class Backfilled:
    files: list[Ingested] = field(default_factory=list)

    @property
    def landed(self) -> list[Ingested]:
        return [f for f in self.files if f.landed]

    def total(self, name: str) -> int:
        return sum(getattr(f.stats, name) for f in self.landed)


def _git(*args: str, cwd: Path | None = None) -> bytes:
    try:
        done = subprocess.run(
            [*_GIT, *args], cwd=cwd, capture_output=True, check=True, env=os.environ | _GIT_ENV
        )
    except FileNotFoundError:
        raise GitError("git is not installed: install git and run backfill again") from None
    except subprocess.CalledProcessError as e:
        message = e.stderr.decode(errors="replace").strip() or f"exit status {e.returncode}"
        raise GitError(f"git {args[0]} failed: {message}") from None
    return done.stdout


@contextmanager
def opened(repo: str) -> Iterator[Path]:
    """The git directory of ``repo``: a local repository as it is, a URL cloned into a temporary
    directory (removed afterwards) without blobs, which are fetched as versions are read."""
    local = Path(repo)
    if local.is_dir():
        try:
            yield Path(_git("rev-parse", "--absolute-git-dir", cwd=local).decode().strip())
        except GitError as e:
            raise GitError(f"{repo} is not a git repository ({e})") from None
        return
    with tempfile.TemporaryDirectory(prefix="costcurve-backfill-") as tmp:
        clone = Path(tmp) / "catalog.git"
        # "--" keeps a repo argument starting with "-" from reading as an option.
        _git("clone", "--quiet", "--bare", "--filter=blob:none", "--", repo, str(clone))
        yield clone


def versions(
    git_dir: Path, paths: str, *, since: date, until: date | None = None, every: str = "1d"
) -> list[CatalogVersion]:
    """The last commit of each period and cloud that changed a file matching ``paths`` (a glob; ``*``
    stays within one folder) between ``since`` and ``until`` (UTC days, both included), in commit
    order. A commit that deleted the file is no catalog version and is skipped."""
    period = PERIODS[every]
    # No rename detection: it compares contents, which would fetch every blob of a partial clone.
    log = _git(
        f"--git-dir={git_dir}", "log", "--no-renames", "--diff-filter=AM", "--name-only",
        "--format=%x00%H %ct", "HEAD", "--", f":(glob){paths}",
    ).decode()  # fmt: skip
    last: dict[tuple[str, object], CatalogVersion] = {}
    for entry in log.split(_COMMIT)[1:]:
        header, *changed = entry.strip().splitlines()
        sha, timestamp = header.split()
        committed_at = datetime.fromtimestamp(int(timestamp), UTC)
        day = committed_at.date()
        if day < since or (until is not None and day > until):
            continue
        for path in filter(None, changed):
            version = CatalogVersion(path, sha, committed_at)
            slot = (path, period(day))
            # The latest commit time wins; on a tie the first listed (git log lists newest first).
            if slot not in last or committed_at > last[slot].committed_at:
                last[slot] = version
    return sorted(last.values(), key=lambda v: (v.committed_at, v.path))


def ingest(
    con: duckdb.DuckDBPyConnection,
    module: ModuleType,
    repo: str,
    git_dir: Path,
    chosen: list[CatalogVersion],
    *,
    run_id: str,
    progress: Callable[[Ingested], None],
) -> Backfilled:
    """Run each version through the one flow under ``run_id``, as `costcurve ingest` runs a file;
    a version that cannot be read or validated fails alone. The run's source-run row then sums
    them all (each flow.run replaces the previous one's)."""
    from pipelines import flow
    from sources.http import Fetched

    done = Backfilled()
    for version in chosen:
        origin = version.origin(repo)
        try:
            body = _git(f"--git-dir={git_dir}", "cat-file", "blob", f"{version.sha}:{version.path}")
        except GitError as e:
            failed = flow.SourceOutcome(
                module.NAME, DATASET, "file", "failed", observed_at=version.committed_at,
                error=f"{module.NAME}: could not read {origin}: {e}",
            )  # fmt: skip
            done.files.append(Ingested(version, failed, None))
        else:
            feed = flow.Feed(module, [Fetched(origin, body)], "file", version.committed_at)
            staged, stats = flow.run(con, DATASET, [feed], run_id=run_id)
            (outcome,) = staged.outcomes
            blocked = None if staged.verdict.success else staged.verdict.summary
            done.files.append(Ingested(version, outcome, stats, blocked))
        progress(done.files[-1])
    meta.record_source_run(con, run_id=run_id, **vars(_summed(module, done)))
    return done


def _summed(module: ModuleType, done: Backfilled) -> flow.SourceOutcome:
    """One outcome for the whole backfill: failed when no version landed, partial when some did
    not land whole, and every problem named with its version."""
    from pipelines import flow

    outcomes = [f.outcome for f in done.files]
    problems = [f"{_label(f.version)}: {f.problem}" for f in done.files if f.problem]
    landed = done.landed
    return flow.SourceOutcome(
        module.NAME,
        DATASET,
        "file",
        status="failed" if not landed else "partial" if problems else "success",
        rows_in=sum(o.rows_in for o in outcomes),
        rows_accepted=sum(o.rows_accepted for o in outcomes),
        rows_rejected=sum(o.rows_rejected for o in outcomes),
        versions_inserted=done.total("inserted"),
        versions_superseded=done.total("superseded"),
        keys_closed=done.total("closed"),
        keys_held_open=done.total("held_open"),
        duration_s=sum(o.duration_s for o in outcomes),
        observed_at=max(f.version.committed_at for f in done.files),
        error="; ".join(problems) or None,
        warnings=[f"{_label(f.version)}: {w}" for f in done.files for w in f.outcome.warnings],
    )


def _label(version: CatalogVersion) -> str:
    return f"{version.cloud} {version.committed_at:%Y-%m-%d %H:%M} ({version.sha[:10]})"


def describe(file: Ingested) -> str:
    """One progress line: the cloud, the commit, the rows and what history gained."""
    o = file.outcome
    if not file.landed:
        return f"{_label(file.version)}: not ingested: {file.problem}"
    return (
        f"{_label(file.version)}: {o.rows_accepted} rows, {o.rows_rejected} rejected, "
        f"{file.stats.inserted} new versions, {file.stats.closed} keys closed"
    )
