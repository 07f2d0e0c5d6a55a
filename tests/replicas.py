"""Hub replicas behind a real load balancer: N `assistant serve` processes on one PostgreSQL store and
Debian's HAProxy in front, round-robin, no sticky sessions. Used by tests/hub/test_replicas.py and
bench/replicas.py."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.postgres import free_port

REPO = Path(__file__).resolve().parent.parent


def _wait_healthy(base: str, proc: subprocess.Popen, seconds: float, failure: str) -> None:
    """Until ``base``/healthz answers; RuntimeError(``failure``) if ``proc`` ends or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(failure) from None
            time.sleep(0.2)


class Replica:
    """One `assistant serve` on its own port and data directory, on the shared store."""

    def __init__(self, name: str, data_dir: Path, url: str, extra: tuple[str, ...] = ()) -> None:
        self.name = name
        self.extra = extra
        self.port = free_port()
        self.data_dir = data_dir
        self.url = url
        self.proc: subprocess.Popen | None = None

    def start(self) -> Replica:
        env = {**os.environ, "ASSISTANT_STORE_URL": self.url}
        self.log = open(self.data_dir.parent / f"{self.name}.log", "a")  # noqa: SIM115 - kept for the process's life
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir),
             *self.extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=REPO, env=env,
        )  # fmt: skip
        line = self.proc.stdout.readline()
        if not re.search(r"http://127\.0\.0\.1:\d+/", line):
            raise RuntimeError(f"replica {self.name} did not start: {line!r}; see {self.log.name}")
        self.base = f"http://127.0.0.1:{self.port}"
        _wait_healthy(self.base, self.proc, 120, f"replica {self.name} is not answering; see {self.log.name}")
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(Exception):
            self.log.close()


class Balancer:
    """HAProxy, round-robin over the replicas, each request balanced on its own (no stickiness); the
    replica that answered is named in the reply's X-Replica header."""

    def __init__(self, folder: Path, replicas: list[Replica]) -> None:
        self.folder = folder
        self.port = free_port()
        self.replicas = replicas
        self.proc: subprocess.Popen | None = None

    def start(self) -> Balancer:
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not os.access(haproxy, os.X_OK):
            raise RuntimeError("haproxy not found: install Debian's haproxy (scripts/setup.sh --test does)")
        # a replica is down after 3 failed checks a second apart (a busy one still answers /healthz in
        # time); a connection refused goes to the other replica (the request was never sent)
        servers = "\n".join(f"    server {r.name} 127.0.0.1:{r.port} check inter 1s fall 3 rise 1" for r in self.replicas)
        config = self.folder / "haproxy.cfg"
        config.write_text(
            f"""global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout tunnel 1h
    timeout check 10s
    option http-server-close
    option redispatch
    retries 1
frontend hub
    bind 127.0.0.1:{self.port}
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /healthz
    http-response set-header X-Replica %s
{servers}
"""
        )
        self.proc = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.base = f"http://127.0.0.1:{self.port}"
        _wait_healthy(self.base, self.proc, 30, "haproxy did not start")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@contextlib.contextmanager
def replicated(url: str, count: int = 2, extra: tuple[str, ...] = ()) -> Iterator[tuple[Balancer, list[Replica]]]:
    """``count`` replicas on the store at ``url`` behind HAProxy; everything stopped after."""
    folder = Path(tempfile.mkdtemp(prefix="shopper-replicas-"))
    replicas = [Replica(f"r{i + 1}", folder / f"r{i + 1}", url, extra) for i in range(count)]
    balancer = None
    try:
        for replica in replicas:
            replica.start()
        balancer = Balancer(folder, replicas).start()
        yield balancer, replicas
    finally:
        if balancer:
            balancer.stop()
        for replica in replicas:
            replica.stop()
        shutil.rmtree(folder, ignore_errors=True)
