"""A throwaway PostgreSQL server for the tests and benches: initdb + pg_ctl in a temporary folder, on a
free loopback port, stopped at the end. Debian's postgresql package provides the programs."""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg


def _bin(name: str) -> str:
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install Debian's postgresql package (scripts/setup.sh --test does)")
    return found


def installed() -> bool:
    """Debian's postgresql is here (and, as root, its postgres account to run the cluster as)."""
    try:
        _bin("initdb")
        if os.geteuid() == 0:
            pwd.getpwnam("postgres")
    except (RuntimeError, KeyError):
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One cluster; ``database()`` hands out a new, empty database for each caller."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.port = free_port()
        self._names = itertools.count(1)
        # PostgreSQL refuses to run as root: as root, the cluster is the postgres account's
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            self.folder.mkdir(parents=True, exist_ok=True)
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()[-500:]}")

    def start(self) -> PostgresServer:
        if not (self.data / "PG_VERSION").exists():
            self._run(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(RuntimeError):
            self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """The URL of a new, empty database."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def running() -> Iterator[PostgresServer]:
    """A server in a new folder of /tmp (a folder the postgres account can reach), removed after."""
    folder = Path(tempfile.mkdtemp(prefix="shopper-pg-"))
    server = PostgresServer(folder)
    try:
        yield server.start()
    finally:
        server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
