"""`ambiti run` (what `make run` calls) on a fresh data directory, then the README's first request.

No DATABASE_URL or KAFKA_BOOTSTRAP_SERVERS: the launcher must start its own PostgreSQL and
Tansu, create the database and topics, start the four services and the console, answer the README's
first request, and stop everything on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from ambiti_cli.infra import port_is_free
from ambiti_kit.testing.fixtures import free_port, wait_until


def test_run_starts_everything_from_nothing_serves_the_first_request_and_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "AMBITI_NAMESPACE")}
    env["AMBITI_VAR_DIR"] = str(tmp_path / "var")
    pg_port, kafka_port, console_port = free_port(), free_port(), free_port()
    base = 20000 + (os.getpid() % 2000) * 4
    ambiti = str(Path(sys.executable).with_name("ambiti"))
    out = open(tmp_path / "run.out", "w+")
    run = subprocess.Popen([ambiti, "run", "--pg-port", str(pg_port), "--kafka-port", str(kafka_port),
                            "--port-base", str(base), "--console-port", str(console_port)], env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: "Piattaforma avviata" in (tmp_path / "run.out").read_text() or run.poll() is not None,
                   timeout=180, interval=0.5, message="the platform to start")
        assert run.poll() is None, (tmp_path / "run.out").read_text()
        printed = (tmp_path / "run.out").read_text()
        for i, name in enumerate(("planning", "finance", "partnership", "monitoring")):
            assert f"http://127.0.0.1:{base + i}" in printed and name in printed
        assert (tmp_path / "var" / "pg" / "PG_VERSION").exists(), "PostgreSQL data lives under var/"
        assert f"console      http://127.0.0.1:{console_port}" in printed, printed
        login = httpx.get(f"http://127.0.0.1:{console_port}/accesso")
        assert login.status_code == 200 and "Accesso di sviluppo" in login.text

        # The README's first request: a token from the CLI, then a plan, then its projection.
        token = subprocess.run([ambiti, "token", "--tenant", "15-S09", "--role", "coordinatore"], env=env,
                               capture_output=True, text=True, check=True).stdout.strip()
        auth = {"Authorization": f"Bearer {token}"}
        r = httpx.post(f"http://127.0.0.1:{base}/piani", headers=auth,
                       json={"titolo": "Piano Sociale di Zona 2025–2027", "anno_inizio": 2025, "anno_fine": 2027})
        assert r.status_code == 201, r.text
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{base + 3}/piani", headers=auth).json(),
                   message="the plan in monitoring")
    finally:
        run.send_signal(signal.SIGTERM)
        code = run.wait(60)
        out.close()
    assert code == 0, (tmp_path / "run.out").read_text()
    assert "Fermato." in (tmp_path / "run.out").read_text()
    for port in (pg_port, kafka_port, console_port, base, base + 1, base + 2, base + 3):
        assert port_is_free(port), f"port {port} still in use after the launcher stopped"


def test_run_restarts_a_killed_service_and_the_broker_while_the_others_keep_serving(tmp_path: Path) -> None:
    """Supervision: SIGKILL of monitoring, then of the broker. Each is started again (logged, shown by
    `ambiti status`), and requests to planning succeed all along."""
    import json
    import threading

    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "AMBITI_NAMESPACE")}
    env["AMBITI_VAR_DIR"] = str(tmp_path / "var")
    pg_port, kafka_port, console_port = free_port(), free_port(), free_port()
    base = 24000 + (os.getpid() % 2000) * 4
    ambiti = str(Path(sys.executable).with_name("ambiti"))
    log = tmp_path / "run.out"
    out = open(log, "w+")
    run = subprocess.Popen([ambiti, "run", "--pg-port", str(pg_port), "--kafka-port", str(kafka_port),
                            "--port-base", str(base), "--console-port", str(console_port)],
                           env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    state_path = tmp_path / "var" / "run" / "state.json"

    def child(name: str) -> dict:
        return next(c for c in json.loads(state_path.read_text())["children"] if c["name"] == name)

    def status() -> subprocess.CompletedProcess:
        return subprocess.run([ambiti, "status"], env=env, capture_output=True, text=True, timeout=30)

    token = subprocess.run([ambiti, "token", "--tenant", "15-S09", "--role", "coordinatore"], env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    calls = {"n": 0}
    stop = threading.Event()

    def keep_reading_planning() -> None:
        while not stop.is_set():
            try:
                r = httpx.get(f"http://127.0.0.1:{base}/piani", headers=auth, timeout=10)
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text[:200]}")
            except httpx.HTTPError as exc:
                failures.append(repr(exc))
            calls["n"] += 1
            stop.wait(0.2)

    reader = threading.Thread(target=keep_reading_planning, daemon=True)
    try:
        wait_until(lambda: "Piattaforma avviata" in log.read_text() or run.poll() is not None,
                   timeout=180, interval=0.5, message="the platform to start")
        assert run.poll() is None, log.read_text()
        first = status()
        assert first.returncode == 0, first.stdout
        assert "monitoring" in first.stdout and "in esecuzione, pronto" in first.stdout
        reader.start()

        monitoring_pid = child("monitoring")["pid"]
        os.kill(monitoring_pid, signal.SIGKILL)
        wait_until(lambda: child("monitoring")["restarts"] == 1 and child("monitoring")["pid"] != monitoring_pid,
                   timeout=90, interval=0.5, message="monitoring restarted")
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{base + 3}/health", timeout=3).status_code == 200,
                   timeout=60, message="monitoring answering again")
        assert "monitoring si è fermato" in log.read_text() and "monitoring riavviato" in log.read_text()

        broker_pid = child("broker")["pid"]
        os.kill(broker_pid, signal.SIGKILL)
        wait_until(lambda: child("broker")["restarts"] == 1 and child("broker")["pid"] != broker_pid,
                   timeout=90, interval=0.5, message="the broker restarted")
        assert "broker si è fermato" in log.read_text()

        # A write after the broker came back reaches monitoring over the new broker.
        r = httpx.post(f"http://127.0.0.1:{base}/piani", headers=auth, timeout=30,
                       json={"titolo": "Piano Sociale di Zona 2025–2027", "anno_inizio": 2025, "anno_fine": 2027})
        assert r.status_code == 201, r.text
        wait_until(lambda: any(p["id"] == r.json()["id"] for p in httpx.get(
            f"http://127.0.0.1:{base + 3}/piani", headers=auth).json()["elementi"]),
            timeout=120, interval=0.5, message="the plan in monitoring after the broker restart")
        stop.set()
        reader.join(15)
        assert calls["n"] > 10 and failures == [], failures[:5]
        after = status()
        assert after.returncode == 0, after.stdout
    finally:
        stop.set()
        run.send_signal(signal.SIGTERM)
        code = run.wait(90)
        out.close()
    assert code == 0, log.read_text()
    assert not state_path.exists()
    assert subprocess.run([ambiti, "status"], env=env, capture_output=True, text=True).returncode == 3
