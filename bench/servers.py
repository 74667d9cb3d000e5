"""The servers a benchmark runs on: those of DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS if set, else an
embedded PostgreSQL and a Tansu broker started here (on free ports, data under var/bench, removed after)."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator

from ambiti_cli.infra import EmbeddedPostgres, TansuBroker, ensure_database, wipe
from ambiti_kit.testing.fixtures import ROOT, Infra, free_port


@contextmanager
def bench_infra() -> Iterator[Infra]:
    database_url = os.environ.get("DATABASE_URL")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    pg = broker = None
    try:
        if not database_url:
            pg = EmbeddedPostgres(var / f"pg-{uuid.uuid4().hex[:6]}", port=free_port())
            pg.start()
            database_url = ensure_database(pg.url, "ambiti_bench")
        if not bootstrap:
            broker = TansuBroker(port=free_port(), log_file=var / "tansu.log")
            broker.start()
            bootstrap = broker.bootstrap
        yield Infra(database_url, bootstrap, f"b{uuid.uuid4().hex[:6]}_")
    finally:
        if broker is not None:
            broker.stop()
        if pg is not None:
            pg.stop()
            wipe(pg.data_dir)
