"""Dead letters are not a dead end: `ambiti dead-letters list | replay | discard`, with the reasons kept.

The operator's command line runs as its own process against the service's database; the replay
itself is done by the worker that owns the message (here monitoring's consumer, run in this test's
process), with the same exactly-once guarantee as normal delivery.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from dataclasses import replace

import psycopg
import pytest
from eventsourcing.utils import register_topic
from psycopg import sql

from ambiti_kit import kafka
from ambiti_kit.consumer import Projecting
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.service import build_runtime
from ambiti_kit.testing.fixtures import Infra, wait_until
from monitoring.application import Monitoring
from monitoring.integration import inbound
from monitoring.integration.outbound import to_integration_event as no_events
from monitoring.projections import SCHEMA
from planning.application import Planning
from planning.domain.piano import PianoDiZona
from planning.integration.outbound import to_integration_event
from planning.projections import SCHEMA as PLANNING_SCHEMA

from tests.test_poison_message import piano_creato


def cli(ns: Infra, *args: str, wait: bool = True) -> subprocess.Popen | subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ambiti_cli.main", "dead-letters", *args]
    if not wait:
        return subprocess.Popen(command, env=ns.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, env=ns.env(), capture_output=True, text=True, timeout=60)


def letters(ns: Infra, *extra: str) -> dict[str, dict]:
    done = cli(ns, "list", "--service", "monitoring", "--json", *extra)
    assert done.returncode == 0, done.stderr
    return {x["ref"]: x for x in json.loads(done.stdout)}


def test_replay_after_a_fix_applies_once_and_a_discard_keeps_its_reason(infra: Infra) -> None:
    ns = replace(infra, namespace=f"{infra.namespace}dl_")
    topic = f"{ns.namespace}planning.events.v1"
    admin = kafka.admin(ns.kafka_bootstrap)
    kafka.ensure_topics(admin, {topic: 1})
    admin.close()
    producer = kafka.producer(ns.kafka_bootstrap)
    for event in (piano_creato(1, "15-DL1"), piano_creato(2, "15-DL1", anno_fine=None),
                  piano_creato(3, "16-DL2", titolo="Piano\x00nullo")):
        key, value, headers = event.to_kafka()
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()

    monitoring = build_runtime(ns.settings("monitoring"), Monitoring, SCHEMA, no_events, consumers=inbound.consumers)
    consumer = monitoring.consumers[0]
    schema = sql.Identifier(f"{ns.namespace}monitoring")

    def piani() -> list[tuple[str, int]]:
        with ns.connect() as conn:
            return conn.execute(sql.SQL("SELECT tenant_id, anno_fine FROM {}.piani ORDER BY 1, 2").format(
                schema)).fetchall()

    def poll_until(predicate, message: str) -> None:
        wait_until(lambda: consumer.poll_once(timeout_ms=100) >= 0 and predicate(), timeout=60, interval=0,
                   message=message)
    try:
        poll_until(lambda: monitoring.tracker.count("planning") == 3, "three messages tracked")
        aperte = letters(ns)
        assert set(aperte) == {"planning/2", "planning/3"}
        assert aperte["planning/2"]["stato"] == "aperto" and "ValidationError" in aperte["planning/2"]["errore"]
        assert aperte["planning/3"]["ambito"] == "16-DL2" and "DataError" in aperte["planning/3"]["errore"]
        assert monitoring.tracker.letters().count_open() == 2

        # the fix: a release whose projection reads a plan without anno_fine as a one-year plan
        handler: Projecting = consumer.handlers["planning.piano_di_zona.creato"]  # type: ignore[assignment]
        project = handler.project

        def fixed(curs, event: CloudEvent) -> None:
            data = dict(event.data)
            data.setdefault("anno_fine", data["anno_inizio"])
            project(curs, replace(event, data=data))
        handler.project = fixed

        asked = cli(ns, "replay", "monitoring", "planning/2", "--motivo", "proiezione corretta (anno_fine assente)",
                    "--da-chi", "operatore.test", "--attendi", "60", wait=False)
        poll_until(lambda: asked.poll() is not None, "the CLI to see the replay's outcome")
        out, err = asked.communicate()
        assert asked.returncode == 0, out + err
        assert "riapplicato" in out and "proiezione corretta" in out
        assert piani() == [("15-DL1", 2025), ("15-DL1", 2027)]

        # still refused: the letter is open again with the new reason, nothing half-written
        again = cli(ns, "replay", "monitoring", "planning/3", "--motivo", "secondo tentativo", "--attendi", "60",
                    "--da-chi", "operatore.test", wait=False)
        poll_until(lambda: again.poll() is not None, "the CLI to see the second replay's outcome")
        out, err = again.communicate()
        assert again.returncode == 1, out + err
        assert "ancora_rifiutato" in out and "DataError" in out
        assert letters(ns)["planning/3"]["stato"] == "aperto"

        refused = cli(ns, "discard", "monitoring", "planning/3", "--motivo", "   ")
        assert refused.returncode == 2 and "motivo: obbligatorio" in refused.stderr
        gone = cli(ns, "discard", "monitoring", "planning/3", "--motivo", "titolo corrotto alla fonte: "
                   "corretto in planning con una nuova versione", "--da-chi", "operatore.test")
        assert gone.returncode == 0, gone.stderr
        twice = cli(ns, "replay", "monitoring", "planning/2", "--motivo", "di nuovo")
        assert twice.returncode == 2 and "si può riprovare o scartare solo una lettera aperta" in twice.stderr

        assert letters(ns) == {}
        tutte = letters(ns, "--tutte")
        assert tutte["planning/2"]["stato"] == "riapplicato" and tutte["planning/3"]["stato"] == "scartato"
        assert [a["azione"] for a in tutte["planning/2"]["azioni"]] == [
            "riprova_richiesta", "riprova_in_corso", "riapplicato"]
        assert [(a["azione"], a["da_chi"]) for a in tutte["planning/3"]["azioni"]] == [
            ("riprova_richiesta", "operatore.test"),
            ("riprova_in_corso", consumer.group_id), ("ancora_rifiutato", consumer.group_id),
            ("scartato", "operatore.test")]
        assert tutte["planning/3"]["motivo"].startswith("titolo corrotto alla fonte")
        assert monitoring.tracker.letters().count_open() == 0
    finally:
        consumer.close()
        monitoring.app.close()

    # applied exactly once: the replayed plan is there once, the discarded one never
    assert piani() == [("15-DL1", 2025), ("15-DL1", 2027)]
    with ns.connect() as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql.SQL("UPDATE {}.dead_letter_actions SET motivo = 'riscritto'").format(schema))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql.SQL("DELETE FROM {}.dead_letters").format(schema))


class EventoRipristinato(PianoDiZona.Event):
    """A stand-in for an event class a release removed and the next one restored."""


def test_an_undecodable_event_replayed_after_the_fix_is_republished_in_order(infra: Infra) -> None:
    ns = replace(infra, namespace=f"{infra.namespace}dlr_")
    planning = build_runtime(ns.settings("planning"), Planning, PLANNING_SCHEMA, to_integration_event)
    relay, schema = planning.relay, sql.Identifier(f"{ns.namespace}planning")
    lost_topic = f"tests.scomparso_{uuid.uuid4().hex[:8]}:EventoRimosso"
    try:
        with ns.connect() as conn:
            bad = conn.execute(sql.SQL(
                "INSERT INTO {}.planning_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, 1, %s, %s) RETURNING notification_id").format(schema),
                (uuid.uuid4(), lost_topic, json.dumps({"tenant_id": "15-DLR", "timestamp": {
                    "_type_": "datetime_iso", "_data_": "2026-01-01T00:00:00+00:00"}}).encode())).fetchone()[0]
        wait_until(lambda: relay.run_once() >= 0 and relay.position()[0] >= bad, timeout=60, interval=0,
                   message="the relay past the undecodable event")
        epoch_before = relay.position()[1]
        letter = f"planning:relay/{bad}"
        assert planning.tracker.letters().get(letter).stato == "aperto"

        asked = planning.tracker.letters().request_replay(letter, "prima della correzione", "operatore.test")
        assert asked.stato == "da_riprovare"
        wait_until(lambda: relay.run_once() >= 0 and planning.tracker.letters().get(letter).stato == "aperto",
                   timeout=30, interval=0.2, message="the replay refused while the class is still missing")
        history = planning.tracker.letters().history("planning:relay", bad)
        assert history[-1]["azione"] == "ancora_rifiutato" and "non decodificabile" in history[-1]["motivo"]

        register_topic(lost_topic, EventoRipristinato)  # the fix: the class is back under its old topic
        planning.tracker.letters().request_replay(letter, "classe ripristinata nella 1.5", "operatore.test")
        wait_until(lambda: relay.run_once() >= 0 and planning.tracker.letters().get(letter).stato == "riapplicato",
                   timeout=30, interval=0.2, message="the replay applied")
        # the whole log republished in a new epoch, so the event took its place in order
        wait_until(lambda: relay.run_once() >= 0 and relay.position()[1] not in (epoch_before, "pending")
                   and not relay.position()[1].endswith("!"), timeout=60, interval=0.2,
                   message="a new, complete epoch")
        assert relay.position()[0] >= bad
    finally:
        relay.close()
        planning.app.close()
