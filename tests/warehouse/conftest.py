"""Storage kinds for the warehouse tests: the local DuckDB file, a DuckLake with a local ``.ducklake``
catalog, and a DuckLake with its catalog in a real PostgreSQL server that these fixtures start.

The PostgreSQL server refuses to run as root, so as root the throwaway cluster belongs to an
unprivileged user (``postgres`` where Debian's package made one, else one created here); it lives in
a temporary directory, listens on a Unix socket only and is stopped when the session ends.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

STORAGE_KINDS = ("file", "ducklake-file", "ducklake-postgres")
LAKE_KINDS = ("ducklake-file", "ducklake-postgres")
CLUSTER_USER = "costcurve"  # the cluster's superuser role (trust authentication on its socket)
PORT = 54329  # a Unix socket only (no TCP), so the number just names the socket file


@dataclass(frozen=True)
class Postgres:
    socket_dir: Path
    bin_dir: Path

    def dsn(self, dbname: str) -> str:
        return f"dbname={dbname} host={self.socket_dir} port={PORT} user={CLUSTER_USER}"

    def create_database(self) -> str:
        name = f"lake_{uuid.uuid4().hex[:12]}"
        subprocess.run(
            [self.bin_dir / "createdb", "-h", self.socket_dir, "-p", str(PORT), "-U", CLUSTER_USER, name],
            check=True,
            capture_output=True,
        )
        return name


def _postgres_bin() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _server_user() -> str | None:
    """Whom the server runs as: None (this user) unless root, which the server refuses."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "costcurve-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "costcurve-pg"], check=True)
    return "costcurve-pg"


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip(
            "no PostgreSQL server binaries (Debian's postgresql): `make install` installs them as root"
        )
    user = _server_user()
    as_user = ["runuser", "-u", user, "--"] if user else []
    root = Path(tempfile.mkdtemp(prefix="costcurve-pg-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    data = root / "data"
    subprocess.run(
        [
            *as_user,
            bin_dir / "initdb",
            "-D",
            data,
            "-U",
            CLUSTER_USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {PORT} -k {root} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        [*as_user, bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", root / "server.log", "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield Postgres(root, bin_dir)
    finally:
        subprocess.run(
            [*as_user, bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


def lake_setting(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, str] | None:
    """(COSTCURVE_WAREHOUSE, COSTCURVE_LAKE_DATA) for a fresh warehouse of ``kind``; None for the file."""
    if kind == "file":
        return None
    if kind == "ducklake-file":
        return f"ducklake:{tmp_path / 'lake' / 'catalog.ducklake'}", str(tmp_path / "lake" / "data")
    server: Postgres = request.getfixturevalue("postgres")
    return f"ducklake:postgres:{server.dsn(server.create_database())}", str(tmp_path / "lake" / "data")


def use_storage(kind: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch) -> str:
    setting = lake_setting(kind, tmp_path, request)
    if setting is None:
        monkeypatch.delenv("COSTCURVE_WAREHOUSE", raising=False)
        monkeypatch.delenv("COSTCURVE_LAKE_DATA", raising=False)
    else:
        monkeypatch.setenv("COSTCURVE_WAREHOUSE", setting[0])
        monkeypatch.setenv("COSTCURVE_LAKE_DATA", setting[1])
    return kind


@pytest.fixture(params=STORAGE_KINDS)
def storage(request, tmp_path, monkeypatch) -> str:
    """Each test using it runs once per storage kind, with COSTCURVE_WAREHOUSE set accordingly."""
    return use_storage(request.param, tmp_path, request, monkeypatch)


@pytest.fixture(params=LAKE_KINDS)
def lake_storage(request, tmp_path, monkeypatch) -> str:
    """The DuckLake kinds only: for what exists only on a lake (snapshots, time travel)."""
    return use_storage(request.param, tmp_path, request, monkeypatch)


def pytest_generate_tests(metafunc):
    """A test that takes ``warehouse_kind`` runs on the local file and on a ``.ducklake`` lake, and on a
    PostgreSQL-catalog lake too when its module names it in ``ON_POSTGRES`` (a representative subset:
    each PostgreSQL catalog costs seconds to create and attach)."""
    if "warehouse_kind" in metafunc.fixturenames:
        on_postgres = metafunc.function.__name__ in getattr(metafunc.module, "ON_POSTGRES", ())
        metafunc.parametrize("warehouse_kind", STORAGE_KINDS if on_postgres else ("file", "ducklake-file"))


@pytest.fixture
def any_storage(warehouse_kind, request, tmp_path, monkeypatch) -> str:
    """COSTCURVE_WAREHOUSE set for ``warehouse_kind`` (see pytest_generate_tests)."""
    return use_storage(warehouse_kind, tmp_path, request, monkeypatch)


@pytest.fixture
def con(any_storage):
    """The working warehouse of ``warehouse_kind``, open for the test (modules with an in-memory
    database of their own define their own ``con``)."""
    from warehouse import db

    with db.working() as con:
        yield con
