"""The kit's ``@idempotent`` use cases on the real PostgreSQL store, with a toy aggregate of its own.

A use case takes the request's ``Once`` and a typed command, loads, decides and saves its
aggregate with ``once.record(result)``: one key acts once, even sent at the same time through
two application instances (two pools, as two replicas); the same key on another command is
refused; a lost race is decided again; a use case that forgets its record is a bug, not a
silent non-idempotent move.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Iterator

import pytest
from eventsourcing.domain import event

from ambiti_kit.errors import RuleViolation
from ambiti_kit.eventstore import open_event_store
from ambiti_kit.idempotency import Once, idempotent
from ambiti_kit.tenancy import TenantAggregate, TenantApplication, tenant_uuid
from ambiti_kit.testing.fixtures import Infra

TENANT = "15-KIT2"


class Salvadanaio(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, nome: str) -> uuid.UUID:
        return tenant_uuid(tenant_id, "salvadanaio", nome)

    @event("Aperto")
    def __init__(self, tenant_id: str, nome: str) -> None:
        self.tenant_id = tenant_id
        self.saldo = 0

    @event("Versato")
    def versa(self, di: int) -> None:
        self.saldo += di


@dataclass(frozen=True)
class Versamento:
    nome: str
    di: int


class Banca(TenantApplication):
    name = "kitbanca"

    @idempotent("versamento", lock=lambda once, c: Salvadanaio.create_id(once.tenant_id, c.nome),
                conflict_rule="prova.conteso")
    def versa(self, once: Once, c: Versamento, nota: str = "") -> dict:
        s = self.get_for_tenant(once.tenant_id, Salvadanaio.create_id(once.tenant_id, c.nome), Salvadanaio)
        s.versa(di=c.di)
        risultato = {"saldo": s.saldo, "nota": nota}
        self.save(s, once.record(risultato))
        return risultato

    @idempotent("dimenticato")
    def dimentica(self, once: Once, c: Versamento) -> dict:
        s = self.get_for_tenant(once.tenant_id, Salvadanaio.create_id(once.tenant_id, c.nome), Salvadanaio)
        s.versa(di=c.di)
        self.save(s)  # without its record: a repeat would act again
        return {"saldo": s.saldo}


@pytest.fixture(scope="module")
def banche(infra: Infra) -> Iterator[tuple[Banca, Banca]]:
    settings = replace(infra, namespace=f"{infra.namespace}kitb_").settings("kitbanca")
    one, two = open_event_store(settings, Banca), open_event_store(settings, Banca)
    yield one, two
    one.close()
    two.close()


def nuovo(app: Banca) -> str:
    nome = uuid.uuid4().hex[:8]
    app.save(Salvadanaio(tenant_id=TENANT, nome=nome))
    return nome


def test_one_key_acts_once_even_through_two_replicas_at_once(banche) -> None:
    one, two = banche
    nome = nuovo(one)
    once = Once(TENANT, "cliente", "chiave-0001")
    with ThreadPoolExecutor(8) as pool:
        esiti = list(pool.map(lambda i: (one, two)[i % 2].versa(once, Versamento(nome, 5)), range(16)))
    assert sum(1 for _, replayed in esiti if not replayed) == 1
    assert {r["saldo"] for r, _ in esiti} == {5}
    assert one.get_for_tenant(TENANT, Salvadanaio.create_id(TENANT, nome), Salvadanaio).saldo == 5


def test_lost_races_are_decided_again_and_no_move_is_lost(banche) -> None:
    one, two = banche
    nome = nuovo(one)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: (one, two)[i % 2].versa(Once(TENANT, "cliente", f"chiave-{i:04d}-{nome}"),
                                                        Versamento(nome, 1)), range(40)))
    assert two.get_for_tenant(TENANT, Salvadanaio.create_id(TENANT, nome), Salvadanaio).saldo == 40


def test_a_key_is_for_one_command_of_one_client(banche) -> None:
    one, _ = banche
    nome = nuovo(one)
    once = Once(TENANT, "cliente", "chiave-0002")
    assert one.versa(once, Versamento(nome, 1), nota="prima") == ({"saldo": 1, "nota": "prima"}, False)
    # the other arguments are not the request: a repeat answers the first result
    assert one.versa(once, Versamento(nome, 1), nota="dopo") == ({"saldo": 1, "nota": "prima"}, True)
    with pytest.raises(RuleViolation) as err:
        one.versa(once, Versamento(nome, 2))
    assert (err.value.rule, err.value.field) == ("idempotenza.corpo_diverso", "Idempotency-Key")
    risultato, replayed = one.versa(Once(TENANT, "altro-cliente", "chiave-0002"), Versamento(nome, 1))
    assert not replayed and risultato["saldo"] == 2
    with pytest.raises(RuleViolation) as err:
        one.versa(Once(TENANT, "cliente", "corta"), Versamento(nome, 1))
    assert err.value.rule == "idempotenza.formato"


def test_a_use_case_that_does_not_save_its_record_is_a_bug(banche) -> None:
    one, _ = banche
    with pytest.raises(TypeError, match="once.record"):
        one.dimentica(Once(TENANT, "cliente", "chiave-0003"), Versamento(nuovo(one), 1))
    with pytest.raises(TypeError, match="@idempotent"):
        Once(TENANT, "cliente", "chiave-0004").record({})
