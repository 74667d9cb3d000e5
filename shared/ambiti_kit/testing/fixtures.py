"""pytest fixtures shared by every test tier (loaded by the root conftest.py).

One PostgreSQL server and one Kafka-protocol broker per test run: the ones named by
``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` if set (checked, and the run fails loudly
if they do not answer), else an embedded PostgreSQL and a Tansu broker started here on
free ports. Each run works in its own namespace (schema, topic and group prefix),
dropped at the end.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import psycopg
import pytest
from psycopg import sql

from ambiti_kit.auth import issue_token
from ambiti_kit.settings import PlatformSettings, ServiceSettings

SERVICES = ("planning", "finance", "partnership", "monitoring")
#: the Ed25519 seed that signs chain heads in the tests (in production each service has its own secret one)
TEST_CHAIN_KEY = base64.b64encode(hashlib.sha256(b"ambiti: chiave di prova delle teste della catena").digest()).decode()
ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1,
               message: str = "condition") -> Any:
    """Poll ``predicate`` until it returns a truthy value (bounded; no bare sleeps in tests)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (httpx.HTTPError, psycopg.Error, AssertionError) as exc:
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}" +
                         (f" (last error: {last_error!r})" if last_error else ""))


@dataclass
class Infra:
    database_url: str
    kafka_bootstrap: str
    namespace: str
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.database_url, "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "AMBITI_NAMESPACE": self.namespace, "AMBITI_ENVIRONMENT": "test",
            "AMBITI_CHAIN_SIGNING_KEY": TEST_CHAIN_KEY,
        })
        env.update(extra)
        return env

    def settings(self, service: str, **overrides: Any) -> ServiceSettings:
        values = {"DATABASE_URL": self.database_url, "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
                  "AMBITI_NAMESPACE": self.namespace, "AMBITI_ENVIRONMENT": "test",
                  "AMBITI_CHAIN_SIGNING_KEY": TEST_CHAIN_KEY, **overrides}
        return ServiceSettings(service=service, **values)

    def platform_settings(self) -> PlatformSettings:
        return PlatformSettings(DATABASE_URL=self.database_url, KAFKA_BOOTSTRAP_SERVERS=self.kafka_bootstrap,
                                AMBITI_NAMESPACE=self.namespace, AMBITI_ENVIRONMENT="test")

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.database_url, autocommit=True)

    def token(self, tenant: str | None = None, *roles: str, regione: str | None = None,
              comune: str | None = None, ttl_seconds: int = 3600) -> str:
        return issue_token(self.platform_settings(), roles=roles or ("coordinatore",), tenant=tenant,
                           regione=regione, comune=comune, ttl_seconds=ttl_seconds)

    def auth(self, tenant: str | None = None, *roles: str, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(tenant, *roles, **kw)}"}


def _check_external(database_url: str, bootstrap: str) -> None:
    try:
        psycopg.connect(database_url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.exit(f"DATABASE_URL={database_url!r} does not answer ({exc}). Start PostgreSQL there, or unset "
                    "DATABASE_URL to let the tests start the embedded one.", returncode=3)
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        pytest.exit(f"KAFKA_BOOTSTRAP_SERVERS={bootstrap!r} does not answer ({exc}). Start the broker there, or "
                    "unset KAFKA_BOOTSTRAP_SERVERS to let the tests start the embedded Tansu.", returncode=3)


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    from ambiti_cli.infra import EmbeddedPostgres, TansuBroker, ensure_database, wipe

    namespace = f"t{uuid.uuid4().hex[:6]}_"
    database_url = os.environ.get("DATABASE_URL")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    cleanups: list[Callable[[], None]] = []
    var = ROOT / "var" / "test"
    var.mkdir(parents=True, exist_ok=True)
    if database_url and bootstrap:
        _check_external(database_url, bootstrap)
    if not database_url:
        # One data directory per run, so that concurrent runs never share a server.
        # A folder without a running server is left by a run that died; one younger than an
        # hour may be another run still starting or stopping its server: left alone.
        for stale in var.glob("pg-*"):
            if not (stale / "postmaster.pid").exists() and time.time() - stale.stat().st_mtime > 3600:
                wipe(stale)
        pg = EmbeddedPostgres(var / f"pg-{namespace.rstrip('_')}", port=free_port())
        pg.start()
        cleanups.append(lambda: (pg.stop(), wipe(pg.data_dir)))
        database_url = ensure_database(pg.url, "ambiti_test")
    if not bootstrap:
        broker = TansuBroker(port=free_port(), log_file=var / f"tansu-{namespace.rstrip('_')}.log")
        broker.start()
        cleanups.append(broker.stop)
        bootstrap = broker.bootstrap
    infra = Infra(database_url, bootstrap, namespace, cleanups=cleanups)
    try:
        yield infra
    finally:
        with infra.connect() as conn:
            schemas = [r[0] for r in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (namespace + "%",))]
            for schema in schemas:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        for cleanup in reversed(infra.cleanups):
            cleanup()


@dataclass
class ServiceProcess:
    name: str
    url: str
    process: subprocess.Popen
    log: Path

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


@dataclass
class Platform:
    infra: Infra
    services: dict[str, ServiceProcess]

    def url(self, service: str) -> str:
        return self.services[service].url

    def stop(self) -> None:
        from ambiti_cli.main import stop_processes
        stop_processes([s.process for s in self.services.values()])


def start_platform(infra: Infra, *, names: tuple[str, ...] = SERVICES, log_tag: str = "e2e",
                   **env_extra: str) -> Platform:
    """Start services as separate uvicorn processes in ``infra``'s namespace."""
    from ambiti_cli.main import start_services

    log_dir = ROOT / "var" / "test" / "log" / f"{infra.namespace.rstrip('_')}-{log_tag}"
    log_dir.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in names}
    started = start_services(infra.env(**env_extra), ports=ports, log_dir=log_dir)
    return Platform(infra, {name: ServiceProcess(name, url, proc, log_dir / f"{name}.log")
                            for name, (url, proc) in started.items()})


@pytest.fixture(scope="session")
def platform(infra: Infra) -> Iterator[Platform]:
    """The four services running as processes (end-to-end tests). Long polls of ``GET /eventi`` are cut to
    a second: the OpenAPI fuzzer asks for waits of up to 30 s (tests/test_feed_eventi.py tests the wait)."""
    platform = start_platform(infra, AMBITI_FEED_MAX_WAIT="1")
    try:
        yield platform
    finally:
        platform.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier from where it lives: unit/, integration/ or tests/ (e2e)."""
    for item in items:
        path = str(item.path)
        if "/unit/" in path:
            item.add_marker(pytest.mark.unit)
        elif "/integration/" in path:
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.e2e)
