"""An example consumer for a trusted party reading the platform's Kafka topics directly (a Region's data
warehouse): self-contained (kafka-python and the standard library only), runnable, tested by the platform
(tests/test_consumatore_esempio.py).

    python consumatore_esempio.py --bootstrap kafka:9092 --topic planning.events.v1 --gruppo dwh-regione \
        --stato stato.sqlite --uscita eventi.jsonl

What it does, which is all the recovery protocol asks (contracts/README.md):

1. Effects once. Every event is applied in one SQLite transaction together with its ``ce_id`` (the
   deduplication key: stable across republication; events of a restored store carry a ``ce_incarnation``
   and ids of their own). A redelivered or republished event finds its id and is skipped.
2. A broker that lost its data. About once a second it lists the topics and takes the highest marker
   ``_epoch.<topic>.<id>``. When it differs from the epoch recorded in SQLite, the topic was emptied and
   republished from the start: every partition assigned now is sought to the beginning, and a partition
   assigned later (during a rebalance, when nothing is assigned) too, because the new epoch is recorded
   only once every partition has been sought. Never ask for a marker by name (a broker that auto-creates
   topics would create it).
3. Kafka offsets are only a hint: committed after each batch is applied; the SQLite ids decide.

Here "applying" an event appends it to a JSON-lines file; a real consumer writes its warehouse in the same
transaction as the id.
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import sys
import time

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer

EPOCH_PREFIX = "_epoch."


class Stato:
    """The consumer's durable state: ids applied, and the epoch of each topic it has caught up with."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS applicati (ce_id TEXT PRIMARY KEY, tipo TEXT, sequenza TEXT)")
        self.db.execute("CREATE TABLE IF NOT EXISTS epoche (topic TEXT PRIMARY KEY, epoca TEXT)")
        self.db.commit()

    def epoca(self, topic: str) -> str | None:
        row = self.db.execute("SELECT epoca FROM epoche WHERE topic = ?", (topic,)).fetchone()
        return row[0] if row else None

    def segna_epoca(self, topic: str, epoca: str) -> None:
        with self.db:
            self.db.execute("INSERT INTO epoche VALUES (?, ?) ON CONFLICT (topic) DO UPDATE SET epoca = excluded.epoca",
                            (topic, epoca))

    def applica(self, headers: dict[str, str], value: bytes, uscita) -> bool:
        """Apply once: False if this ``ce_id`` was applied already."""
        try:
            with self.db:
                self.db.execute("INSERT INTO applicati VALUES (?, ?, ?)",
                                (headers["ce_id"], headers["ce_type"], headers["ce_sequence"]))
                uscita.write(json.dumps({"ce_id": headers["ce_id"], "type": headers["ce_type"],
                                         "subject": headers.get("ce_subject"), "tenantid": headers["ce_tenantid"],
                                         "sequence": int(headers["ce_sequence"]),
                                         "incarnation": headers.get("ce_incarnation"),
                                         "data": json.loads(value)}, ensure_ascii=False) + "\n")
                uscita.flush()
            return True
        except sqlite3.IntegrityError:
            return False


def epoca_corrente(admin: KafkaAdminClient, topic: str) -> str | None:
    prefix = f"{EPOCH_PREFIX}{topic}."
    marks = sorted(name[len(prefix):] for name in admin.list_topics() if name.startswith(prefix))
    return marks[-1] if marks else None


class Riposiziona(ConsumerRebalanceListener):
    """Partitions assigned while a new epoch is pending are read from the beginning."""

    def __init__(self, consumatore: "Consumatore") -> None:
        self.c = consumatore

    def on_partitions_revoked(self, revoked) -> None:
        pass

    def on_partitions_assigned(self, assigned) -> None:
        if self.c.epoca_in_attesa is not None and assigned:
            self.c.client.seek_to_beginning(*assigned)
            self.c.riletture += 1


class Consumatore:
    def __init__(self, bootstrap: str, topic: str, gruppo: str, stato: Stato, uscita) -> None:
        self.topic, self.stato, self.uscita = topic, stato, uscita
        self.client = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=gruppo, enable_auto_commit=False,
                                    auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=500)
        self.client.subscribe([topic], listener=Riposiziona(self))
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
        self.epoca_in_attesa: str | None = None
        self.controllata_il = 0.0
        self.consegnati = self.applicati = self.riletture = 0

    def controlla_epoca(self) -> None:
        if time.monotonic() - self.controllata_il < 1.0:
            return
        self.controllata_il = time.monotonic()
        epoca = epoca_corrente(self.admin, self.topic)
        if epoca is None or epoca == self.stato.epoca(self.topic):
            return
        if self.stato.epoca(self.topic) is None and self.epoca_in_attesa is None and self.consegnati == 0:
            self.stato.segna_epoca(self.topic, epoca)  # the first start: reading from the beginning anyway
            return
        self.epoca_in_attesa = epoca
        assigned = self.client.assignment()
        if assigned:
            self.client.seek_to_beginning(*assigned)
            self.riletture += 1
            self.stato.segna_epoca(self.topic, epoca)  # every partition it holds now reads the new epoch
            self.epoca_in_attesa = None

    def giro(self) -> None:
        batches = self.client.poll(timeout_ms=500)
        for messages in batches.values():
            for message in messages:
                headers = {k: v.decode() for k, v in (message.headers or [])}
                if "ce_id" not in headers:
                    continue
                self.consegnati += 1
                self.applicati += self.stato.applica(headers, message.value, self.uscita)
        if batches:
            self.client.commit()
        if self.epoca_in_attesa is not None and self.client.assignment():
            self.stato.segna_epoca(self.topic, self.epoca_in_attesa)  # sought at assignment (Riposiziona)
            self.epoca_in_attesa = None
        self.controlla_epoca()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--gruppo", required=True)
    p.add_argument("--stato", required=True, help="file SQLite dello stato (id applicati, epoche)")
    p.add_argument("--uscita", required=True, help="file JSON lines degli eventi applicati")
    args = p.parse_args(argv)
    fermo = []
    signal.signal(signal.SIGTERM, lambda *_: fermo.append(True))
    with open(args.uscita, "a", encoding="utf-8") as uscita:
        c = Consumatore(args.bootstrap, args.topic, args.gruppo, Stato(args.stato), uscita)
        while not fermo:
            try:
                c.giro()
            except Exception as exc:  # noqa: BLE001 - a broker away: retry, as any consumer must
                print(f"giro non riuscito ({exc!r}): riprovo", file=sys.stderr, flush=True)
                time.sleep(1)
        print(json.dumps({"consegnati": c.consegnati, "applicati": c.applicati, "riletture": c.riletture}), flush=True)
        c.client.close()
        c.admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
