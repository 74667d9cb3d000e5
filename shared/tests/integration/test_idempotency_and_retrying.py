"""The kit's concurrency helpers on the real PostgreSQL store, with a toy aggregate of its own.

``TenantApplication.retrying``: increments racing from threads through two application
instances (two pools, as two replicas) are never lost. ``run_once``: one key acts once,
even sent at the same time through both instances; another request under the same key is
refused; keys are the client's own.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Iterator

import pytest
from eventsourcing.domain import event

from ambiti_kit.errors import RuleViolation
from ambiti_kit.eventstore import open_event_store
from ambiti_kit.idempotency import run_once
from ambiti_kit.tenancy import TenantAggregate, TenantApplication, tenant_uuid
from ambiti_kit.testing.fixtures import Infra

TENANT = "15-KIT1"


class Contatore(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, nome: str) -> uuid.UUID:
        return tenant_uuid(tenant_id, "contatore", nome)

    @event("Creato")
    def __init__(self, tenant_id: str, nome: str) -> None:
        self.tenant_id = tenant_id
        self.valore = 0

    @event("Incrementato")
    def incrementa(self, di: int) -> None:
        self.valore += di


class Kit(TenantApplication):
    name = "kitprova"

    def incrementa(self, nome: str, di: int) -> int:
        cid = Contatore.create_id(TENANT, nome)

        def command() -> int:
            c = self.get_for_tenant(TENANT, cid, Contatore)
            c.incrementa(di=di)
            self.save(c)
            return c.valore

        return self.retrying(command, message="conteso", rule="prova.conteso", key=cid)

    def incrementa_una_volta(self, nome: str, di: int, chiave: str, chi: str = "cliente") -> tuple[dict, bool]:
        cid = Contatore.create_id(TENANT, nome)

        def command() -> tuple[list, dict]:
            c = self.get_for_tenant(TENANT, cid, Contatore)
            c.incrementa(di=di)
            return [c], {"valore": c.valore}

        return run_once(self, TENANT, "incremento", chiave, {"nome": nome, "di": di}, chi, command, lock_key=cid)


@pytest.fixture(scope="module")
def apps(infra: Infra) -> Iterator[tuple[Kit, Kit]]:
    settings = replace(infra, namespace=f"{infra.namespace}kit_").settings("kitprova")
    one, two = open_event_store(settings, Kit), open_event_store(settings, Kit)
    yield one, two
    one.close()
    two.close()


def nuovo(app: Kit) -> str:
    nome = uuid.uuid4().hex[:8]
    app.save(Contatore(tenant_id=TENANT, nome=nome))
    return nome


def test_no_increment_is_lost_between_two_replicas(apps) -> None:
    one, two = apps
    nome = nuovo(one)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: (one, two)[i % 2].incrementa(nome, 1), range(60)))
    c = two.get_for_tenant(TENANT, Contatore.create_id(TENANT, nome), Contatore)
    assert (c.valore, c.version) == (60, 61)


def test_one_key_acts_once_even_when_sent_through_both_replicas_at_once(apps) -> None:
    one, two = apps
    nome = nuovo(one)
    with ThreadPoolExecutor(8) as pool:
        esiti = list(pool.map(lambda i: (one, two)[i % 2].incrementa_una_volta(nome, 5, "chiave-0001"), range(16)))
    assert sum(1 for _, replayed in esiti if not replayed) == 1
    assert {r["valore"] for r, _ in esiti} == {5}
    assert one.get_for_tenant(TENANT, Contatore.create_id(TENANT, nome), Contatore).valore == 5


def test_a_key_is_for_one_request_of_one_client(apps) -> None:
    one, _ = apps
    nome = nuovo(one)
    one.incrementa_una_volta(nome, 1, "chiave-0002")
    with pytest.raises(RuleViolation) as err:
        one.incrementa_una_volta(nome, 2, "chiave-0002")  # another body under the same key
    assert (err.value.rule, err.value.field) == ("idempotenza.corpo_diverso", "Idempotency-Key")
    risultato, replayed = one.incrementa_una_volta(nome, 1, "chiave-0002", chi="altro-cliente")
    assert not replayed and risultato == {"valore": 2}  # another client's key is another key
    with pytest.raises(RuleViolation) as err:
        one.incrementa_una_volta(nome, 1, "corta")
    assert err.value.rule == "idempotenza.formato"
