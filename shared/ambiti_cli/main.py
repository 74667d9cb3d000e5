"""`ambiti`: the launcher and operator's command line of the platform.

    ambiti run                      start PostgreSQL, the broker, the four services and the console
    ambiti infra                    start only PostgreSQL and the broker (for development)
    ambiti status                   what `ambiti run` started, restarts, and whether each part answers
    ambiti token --tenant 15-S09 --role coordinatore
    ambiti token --regione 15 --role regione
    ambiti seed-demo                a demo Ambito (S09 Sapri) with its Piano di Zona
    ambiti audit verify --tenant 15-S09 [--service planning]
    ambiti dead-letters list [--service monitoring] [--tutte]
    ambiti dead-letters replay monitoring planning/42 --motivo "proiezione corretta nella 1.4"
    ambiti dead-letters discard monitoring planning/42 --motivo "dato errato, corretto alla fonte"
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import httpx

from ambiti_cli.supervisor import Child, Supervisor, write_state
from ambiti_kit.auth import issue_token
from ambiti_kit.settings import PlatformSettings, ServiceSettings

SERVICES = {"planning": 8101, "finance": 8102, "partnership": 8103, "monitoring": 8104}
CONSOLE_PORT = 8100
DEFAULT_DB = "ambiti"


def var_dir() -> Path:
    return Path(os.environ.get("AMBITI_VAR_DIR", Path.cwd() / "var"))


def start_infrastructure(env: dict[str, str], cleanups: list[Callable[[], None]], *,
                         pg_port: int = 54329, kafka_port: int = 19092,
                         children: list[Child] | None = None) -> None:
    """Start what ``env`` does not point at; set DATABASE_URL/KAFKA_BOOTSTRAP_SERVERS in it.
    With ``children``, each server started here is added to it for the supervisor."""
    from ambiti_cli.infra import EmbeddedPostgres, TansuBroker, ensure_database

    if env.get("DATABASE_URL"):
        print(f"PostgreSQL: esterno ({env['DATABASE_URL']})")
    else:
        pg = EmbeddedPostgres(var_dir() / "pg", port=pg_port)
        pg.start()
        cleanups.append(pg.stop)
        env["DATABASE_URL"] = ensure_database(pg.url, DEFAULT_DB)
        print(f"PostgreSQL: embedded, {env['DATABASE_URL']} (dati in {pg.data_dir})")
        if children is not None:
            children.append(Child("postgresql", start=pg.start, alive=pg.alive, stop=pg.stop, pid=pg.pid,
                                  url=env["DATABASE_URL"], note="stessi dati: nessun evento perso"))
    if env.get("KAFKA_BOOTSTRAP_SERVERS"):
        print(f"Kafka: esterno ({env['KAFKA_BOOTSTRAP_SERVERS']})")
    else:
        var_dir().mkdir(parents=True, exist_ok=True)
        broker = TansuBroker(port=kafka_port, log_file=var_dir() / "tansu.log")
        broker.start()
        cleanups.append(broker.stop)
        env["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
        print(f"Kafka: Tansu embedded, {broker.bootstrap}")
        if children is not None:
            children.append(Child(
                "broker", start=broker.start, alive=lambda: broker.process is not None and broker.process.poll() is None,
                stop=broker.stop, pid=lambda: broker.process.pid if broker.process else None, url=broker.bootstrap,
                note="il broker riparte vuoto: le relay ripubblicano ogni evento dal primo"))


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90.0, path: str = "/health") -> None:
    """Wait until ``url`` answers 200 on ``path`` (``/health``: ready, caught up with its heads)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url}{path} not 200 after {timeout}s")


def spawn_service(name: str, port: int, env: dict[str, str], host: str = "127.0.0.1",
                  log_dir: Path | None = None) -> subprocess.Popen:
    """One service (or the console) as its own uvicorn process, its output appended to its log."""
    out = open(log_dir / f"{name}.log", "ab") if log_dir else None
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", f"{name}.main:app", "--host", host, "--port", str(port),
         "--no-access-log", "--timeout-graceful-shutdown", "5"],
        env=env, stdout=out, stderr=subprocess.STDOUT if out else None)


def start_services(env: dict[str, str], host: str = "127.0.0.1", ports: dict[str, int] | None = None,
                   log_dir: Path | None = None) -> dict[str, tuple[str, subprocess.Popen]]:
    """Start each service as its own uvicorn process; return name -> (url, process)."""
    started = {name: (f"http://{host}:{port}", spawn_service(name, port, env, host, log_dir))
               for name, port in (ports or SERVICES).items()}
    for name, (url, process) in started.items():
        wait_healthy(url, process)
    return started


def supervised_process(name: str, url: str, process: subprocess.Popen, env: dict[str, str],
                       log_dir: Path | None) -> Child:
    """A :class:`Child` for a service process: restarted on the same port with the same environment."""
    port = int(url.rsplit(":", 1)[1])
    holder = {"process": process}

    def start() -> None:
        # Serving again is enough: readiness may wait for a broker that is itself coming back.
        holder["process"] = spawn_service(name, port, env, log_dir=log_dir)
        try:
            wait_healthy(url, holder["process"], path="/health/live")
        except (RuntimeError, TimeoutError):
            stop_processes([holder["process"]])
            raise

    def stop() -> None:
        stop_processes([holder["process"]])

    return Child(name, start=start, alive=lambda: holder["process"].poll() is None, stop=stop,
                 pid=lambda: holder["process"].pid, url=url)


def console_env(env: dict[str, str], urls: dict[str, str]) -> dict[str, str]:
    """The console's environment: the platform's, plus where each service answers."""
    return {**env, **{f"AMBITI_{name.upper()}_URL": url for name, url in urls.items()}}


def start_console(env: dict[str, str], urls: dict[str, str], port: int = CONSOLE_PORT, host: str = "127.0.0.1",
                  log_dir: Path | None = None) -> tuple[str, subprocess.Popen]:
    """Start the web console (a fifth process) in front of the services at ``urls``."""
    return start_services(console_env(env, urls), host=host, ports={"console": port}, log_dir=log_dir)["console"]


def stop_processes(processes: list[subprocess.Popen], timeout: float = 15.0) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def _serve_until_signal(check: Callable[[], str | None]) -> None:
    stopping = {"now": False}

    def on_signal(signum: int, _frame: object) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stopping["now"]:
        problem = check()
        if problem:
            print(problem, file=sys.stderr)
            break
        time.sleep(0.5)


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def state_file() -> Path:
    return var_dir() / "run" / "state.json"


def cmd_run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    cleanups: list[Callable[[], None]] = []
    children: list[Child] = []
    services: dict[str, tuple[str, subprocess.Popen]] = {}
    supervisor: Supervisor | None = None
    try:
        start_infrastructure(env, cleanups, pg_port=args.pg_port, kafka_port=args.kafka_port, children=children)
        log_dir = var_dir() / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        ports = {name: args.port_base + i for i, name in enumerate(SERVICES)}
        # every service serves the contracts; their $ids and the events' dataschema name planning's copy
        env.setdefault("AMBITI_CONTRACTS_BASE_URL", f"http://127.0.0.1:{ports['planning']}/contratti")
        services = start_services(env, ports=ports, log_dir=log_dir)
        urls = {name: url for name, (url, _) in services.items()}
        services["console"] = start_console(env, urls, port=args.console_port, log_dir=log_dir)
        for name, (url, process) in services.items():
            children.append(supervised_process(name, url, process, console_env(env, urls) if name == "console"
                                               else env, log_dir))
        supervisor = Supervisor(children, _say, on_change=lambda sup: write_state(state_file(), sup))
        supervisor.started()
        print("\nPiattaforma avviata:")
        print(f"  {'console':<12} {services['console'][0]}   (console web in italiano; accesso di sviluppo)")
        for name in SERVICES:
            print(f"  {name:<12} {urls[name]}   (API: {urls[name]}/docs)")
        print(f"  {'contratti':<12} {env['AMBITI_CONTRACTS_BASE_URL']}   (eventi: schemi, esempi, AsyncAPI)")
        print(f"Log dei servizi in {log_dir}; stato con `ambiti status`. Un processo che si ferma viene "
              "riavviato. Ctrl-C per fermare tutto.\n", flush=True)

        def check() -> str | None:
            supervisor.tick()
            return None

        _serve_until_signal(check)
        return 0
    finally:
        print("Arresto in corso…", flush=True)
        if supervisor is not None:
            supervisor.stop_all()
        else:
            stop_processes([p for _, p in services.values()])
        for cleanup in reversed(cleanups):
            cleanup()
        state_file().unlink(missing_ok=True)
        print("Fermato.")


def cmd_status(args: argparse.Namespace) -> int:
    """What `ambiti run` started, and whether each part answers now."""
    import psutil

    try:
        state = json.loads(state_file().read_text())
    except FileNotFoundError:
        print("La piattaforma non è in esecuzione (nessun `ambiti run` attivo in questa cartella).")
        return 3
    if not psutil.pid_exists(state["launcher_pid"]):
        print(f"Il launcher (pid {state['launcher_pid']}) non è più in esecuzione: stato non aggiornato.")
        return 3
    failed = False
    print(f"{'processo':<12} {'pid':>7}  {'stato':<34} {'riavvii':>7}  indirizzo")
    for child in state["children"]:
        stato = child["state"]
        url = child.get("url") or ""
        if stato == "in esecuzione" and url.startswith("http"):
            try:
                ready = httpx.get(f"{url}/health/ready", timeout=5)
                stato = "in esecuzione, pronto" if ready.status_code == 200 else "in esecuzione, non pronto"
                motivi = ready.json().get("motivi") if ready.status_code == 503 else None
            except (httpx.HTTPError, ValueError):
                stato, motivi = "in esecuzione, non risponde", None
        else:
            motivi = None
        failed |= stato not in ("in esecuzione", "in esecuzione, pronto")
        print(f"{child['name']:<12} {child.get('pid') or '':>7}  {stato:<34} {child['restarts']:>7}  {url}")
        if child.get("last_error"):
            print(f"{'':<12} ultimo errore: {child['last_error']}")
        for motivo in motivi or []:
            print(f"{'':<12} {motivo}")
    return 1 if failed else 0


def cmd_infra(args: argparse.Namespace) -> int:
    env: dict[str, str] = {k: v for k, v in os.environ.items() if k in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    cleanups: list[Callable[[], None]] = []
    try:
        start_infrastructure(env, cleanups, pg_port=args.pg_port, kafka_port=args.kafka_port)
        print(f"\nexport DATABASE_URL='{env['DATABASE_URL']}'\n"
              f"export KAFKA_BOOTSTRAP_SERVERS='{env['KAFKA_BOOTSTRAP_SERVERS']}'\n", flush=True)
        _serve_until_signal(lambda: None)
        return 0
    finally:
        for cleanup in reversed(cleanups):
            cleanup()


def cmd_token(args: argparse.Namespace) -> int:
    settings = PlatformSettings()
    try:
        print(issue_token(settings, roles=args.role, tenant=args.tenant, regione=args.regione,
                          comune=args.comune, subject=args.subject, ttl_seconds=args.ttl))
    except ValueError as exc:
        print(f"errore: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from ambiti_cli.demo import seed_demo
    return seed_demo(planning_url=args.planning_url, monitoring_url=args.monitoring_url)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from ambiti_kit.audit import AuditChain, external_witness
    from eventsourcing.postgres import PostgresDatastore

    failed = False
    for service in args.service or list(SERVICES):
        settings = ServiceSettings(service=service, AMBITI_DB_SCHEMA=None)  # each service's own schema
        witness, esterno = None, {"confrontato": False, "motivo": "senza --against-kafka"}
        if args.against_kafka:
            witness, esterno = external_witness(settings, args.tenant)
        env = settings.eventsourcing_env
        datastore = PostgresDatastore(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"], schema=settings.db_schema, pool_size=1)
        try:
            report = AuditChain(datastore, settings.db_schema, service).verify(args.tenant, witness)
        finally:
            datastore.close()
        failed |= not report.ok
        if args.json:
            print(json.dumps({**report.as_dict(), "testimone": esterno}, ensure_ascii=False))
        else:
            esito = "INTEGRA" if report.ok else "ALTERATA"
            print(f"{service:<12} catena {esito}: {report.events_verified} eventi verificati, testa {report.head}")
            if esterno["confrontato"]:
                print(f"{'':<12} confrontata con la testa pubblicata su Kafka (notifica {esterno['notification_id']},"
                      f" lunghezza {esterno['lunghezza']})")
            else:
                print(f"{'':<12} solo la catena nel database ({esterno['motivo']}): una catena accorciata insieme "
                      "ai suoi eventi si vede solo con il testimone esterno")
            for p in report.problems:
                print(f"    notifica {p.notification_id} (aggregato {p.originator_id} v{p.originator_version}): "
                      f"{p.problem}")
    return 1 if failed else 0


def _letters(service: str):
    """The dead letters of ``service``'s own schema, through a short-lived connection of the CLI."""
    from contextlib import contextmanager

    import psycopg
    from psycopg.rows import dict_row

    from ambiti_kit.deadletters import DeadLetters

    settings = ServiceSettings(service=service, AMBITI_DB_SCHEMA=None)
    conn = psycopg.connect(settings.service_database_url, connect_timeout=5, autocommit=True, **settings.libpq_tls())

    @contextmanager
    def transaction():
        with conn.transaction(), conn.cursor(row_factory=dict_row) as curs:
            yield curs
    return conn, DeadLetters(transaction, settings.db_schema)


def _print_letter(service: str, letter, history: list[dict] | None = None) -> None:
    print(f"{service:<12} {letter.ref:<24} {letter.stato:<13} {letter.ce_type}  Ambito {letter.tenant_id}"
          f"  dal {letter.recorded_at:%d/%m/%Y %H:%M}")
    print(f"{'':<12}   motivo del rifiuto: {letter.error}")
    for step in history or []:
        print(f"{'':<12}   {step['registrata_il']:%d/%m/%Y %H:%M:%S} {step['azione']} ({step['da_chi']}): "
              f"{step['motivo']}")


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from ambiti_kit.deadletters import OPEN_STATES, DeadLetterError

    if args.dl_command == "list":
        found = []
        for service in args.service or list(SERVICES):
            conn, letters = _letters(service)
            with conn:
                for letter in letters.list(states=None if args.tutte else OPEN_STATES, tenant=args.tenant):
                    history = letters.history(letter.application_name, letter.notification_id)
                    found.append((service, letter, history))
        if args.json:
            print(json.dumps([{"servizio": s, **x.as_dict(), "azioni": [{**h, "registrata_il": str(h["registrata_il"])}
                                                                       for h in hist]}
                              for s, x, hist in found], ensure_ascii=False, indent=1))
        elif not found:
            print("nessuna lettera non recapitata" + ("" if args.tutte else " aperta"))
        for service, letter, history in [] if args.json else found:
            _print_letter(service, letter, history)
        return 0
    da_chi = args.da_chi or os.environ.get("USER") or "operatore"
    conn, letters = _letters(args.service)
    with conn:
        try:
            if args.dl_command == "discard":
                letter = letters.discard(args.ref, args.motivo, da_chi)
                _print_letter(args.service, letter)
                return 0
            letter = letters.request_replay(args.ref, args.motivo, da_chi)
        except DeadLetterError as exc:
            print(f"ambiti dead-letters: {exc}", file=sys.stderr)
            return 2
        print(f"riprova richiesta: la esegue il servizio {args.service} (entro pochi secondi, se è in esecuzione)")
        deadline = time.monotonic() + args.attendi
        while letter.stato in ("da_riprovare", "in_riprova") and time.monotonic() < deadline:
            time.sleep(0.5)
            letter = letters.get(args.ref)
        _print_letter(args.service, letter, letters.history(letter.application_name, letter.notification_id))
        if letter.stato == "riapplicato":
            return 0
        if letter.stato == "aperto":
            return 1  # refused again: the new reason is in the history
        print(f"ancora «{letter.stato}» dopo {args.attendi:.0f} s: il servizio è in esecuzione?", file=sys.stderr)
        return 3


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ambiti", description="Piattaforma degli Uffici di Piano")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="avvia PostgreSQL, il broker, i quattro servizi e la console")
    infra = sub.add_parser("infra", help="avvia solo PostgreSQL e il broker")
    for sp, fn in ((run, cmd_run), (infra, cmd_infra)):
        sp.add_argument("--pg-port", type=int, default=54329)
        sp.add_argument("--kafka-port", type=int, default=19092)
        sp.set_defaults(fn=fn)
    run.add_argument("--port-base", type=int, default=8101, help="porta del primo servizio (poi +1, +2, +3)")
    run.add_argument("--console-port", type=int, default=CONSOLE_PORT, help="porta della console web")

    status = sub.add_parser("status", help="mostra i processi avviati da `ambiti run` e se rispondono")
    status.set_defaults(fn=cmd_status)

    token = sub.add_parser("token", help="emette un JWT di sviluppo firmato")
    token.add_argument("--tenant", help="l'Ambito, es. 15-S09")
    token.add_argument("--regione", help="codice ISTAT della Regione (ruolo regione)")
    token.add_argument("--role", action="append", required=True, help="ruolo (ripetibile)")
    token.add_argument("--comune", help="codice ISTAT del Comune (6 cifre)")
    token.add_argument("--subject", help="chi è (sub)")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="validità in secondi")
    token.set_defaults(fn=cmd_token)

    seed = sub.add_parser("seed-demo", help="crea l'Ambito dimostrativo S09 Sapri")
    seed.add_argument("--planning-url", default="http://127.0.0.1:8101")
    seed.add_argument("--monitoring-url", default="http://127.0.0.1:8104")
    seed.set_defaults(fn=cmd_seed_demo)

    audit = sub.add_parser("audit", help="verifiche di integrità")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="verifica le catene hash di un Ambito")
    verify.add_argument("--tenant", required=True)
    verify.add_argument("--service", action="append", choices=list(SERVICES))
    verify.add_argument("--json", action="store_true")
    verify.add_argument("--against-kafka", action="store_true",
                        help="confronta anche con l'ultima testa pubblicata su Kafka (testimone esterno)")
    verify.set_defaults(fn=cmd_audit_verify)

    dl = sub.add_parser("dead-letters", help="messaggi che un servizio non ha potuto applicare: elenco, riprova, scarto")
    dl_sub = dl.add_subparsers(dest="dl_command", required=True)
    dl_list = dl_sub.add_parser("list", help="le lettere aperte (o tutte), con il motivo e le azioni")
    dl_list.add_argument("--service", action="append", choices=list(SERVICES))
    dl_list.add_argument("--tenant", help="solo quelle di un Ambito")
    dl_list.add_argument("--tutte", action="store_true", help="anche quelle riapplicate o scartate")
    dl_list.add_argument("--json", action="store_true")
    for name, text in (("replay", "riapplica una lettera dopo una correzione (la esegue il servizio)"),
                       ("discard", "scarta una lettera, con il motivo")):
        sp = dl_sub.add_parser(name, help=text)
        sp.add_argument("service", choices=list(SERVICES))
        sp.add_argument("ref", help="<applicazione>/<notifica>, come la mostra `list` (es. planning/42)")
        sp.add_argument("--motivo", required=True, help="perché: resta nel registro delle azioni")
        sp.add_argument("--da-chi", help="chi agisce (predefinito: l'utente del sistema)")
        if name == "replay":
            sp.add_argument("--attendi", type=float, default=30.0, help="secondi di attesa dell'esito")
    dl.set_defaults(fn=cmd_dead_letters)
    return p


def main(argv: list[str] | None = None) -> int:
    # The CLI and the launcher are a developer's tools: unless told otherwise, they and the processes
    # they start run in development (services started any other way default to production).
    os.environ.setdefault("AMBITI_ENVIRONMENT", "development")
    args = parser().parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
