"""A real Postgres for the tests: one throwaway cluster per session, a fresh database per test.

The cluster lives in a temp dir, listens on a free loopback port (and a unix socket in the same dir)
and runs with fsync off: its data is thrown away. ``initdb`` refuses root, so as root the server runs
as the ``postgres`` user. Without PostgreSQL installed the Postgres tests are skipped, except under
``CI=true``, where they must run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

START_TIMEOUT_S = 30.0


def find_bindir() -> Path | None:
    """Where initdb and postgres are: ``pg_config --bindir``, else the Debian layout."""
    candidates: list[str] = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)  # noqa: S607
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "postgres").exists():
            return Path(folder)
    return None


def unavailable(reason: str) -> None:
    """Skip, or fail under CI where the Postgres tests are required."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Postgres tests are required under CI=true: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgCluster:
    root: Path
    port: int
    process: subprocess.Popen[bytes]
    _count: int = field(default=0)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, template: str = "template0") -> str:
        """A fresh database (copied from ``template``); its URL."""
        self._count += 1
        name = f"t{os.getpid()}_{self._count}"
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def psql(self, sql: str, database: str = "postgres") -> str:
        out = subprocess.run(  # noqa: S603
            [str(self.root / "bin" / "psql"), "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, check=False, timeout=START_TIMEOUT_S,
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return out.stdout


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def running_cluster() -> Iterator[PgCluster]:
    bindir = find_bindir()
    if bindir is None:
        unavailable("PostgreSQL is not installed (apt-get install postgresql)")
        raise AssertionError("unreachable")
    root = Path(tempfile.mkdtemp(prefix="modbot-pg-"))
    data = root / "data"
    (root / "bin").symlink_to(bindir)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    process: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(  # noqa: S603
            _as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                          "--no-sync", "-E", "UTF8", "--locale=C"]),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        port = _free_port()
        process = subprocess.Popen(  # noqa: S603
            _as_postgres([str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
                          "-k", str(root), "-c", "fsync=off", "-c", "synchronous_commit=off",
                          "-c", "full_page_writes=off", "-c", "max_connections=200"]),
            stdout=subprocess.DEVNULL, stderr=(root / "server.log").open("wb"),
        )  # fmt: skip
        cluster = PgCluster(root, port, process)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                cluster.psql("SELECT 1")
                break
            except RuntimeError as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"postgres did not start: {(root / 'server.log').read_text()[-2000:]}"
                    ) from exc
                time.sleep(0.05)
        yield cluster
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(root, ignore_errors=True)
