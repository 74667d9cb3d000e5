"""Concurrent commands on the real PostgreSQL store: two application instances (two pools,
as two service replicas would have) race on the same seduta and the same yearly register.

Votes are never lost or counted twice, and deliberation numbers stay unique and gapless:
each command that loses an optimistic-concurrency race reloads and re-checks its rules.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from ambiti_kit.errors import Conflict
from ambiti_kit.eventstore import open_event_store
from ambiti_kit.testing.fixtures import Infra
from planning.application import Planning, oggi
from planning.domain.seduta import Votante

TENANT = "15-CONC"
COMUNI = [{"istat": f"0651{i:02d}", "nome": f"Comune {i}", "popolazione": 1000 + 37 * i} for i in range(30)]
REGOLA = {"famiglia": "doppia_maggioranza", "base": "presenti", "consultivi_contano": False,
          "maggioranza": {"frazione": "1/2", "stretta": True},
          "quorum": {"1": {"pesi": {"frazione": "1/2", "stretta": True}, "membri": {"frazione": "1/3", "stretta": False}}}}


@pytest.fixture(scope="module")
def apps(infra: Infra) -> tuple[Planning, Planning]:
    settings = replace(infra, namespace=f"{infra.namespace}pconc_").settings("planning")
    one, two = open_event_store(settings, Planning), open_event_store(settings, Planning)
    one.registra_ambito(TENANT, "Ambito di prova", COMUNI[0]["istat"], date(2025, 1, 1), COMUNI)
    one.configura_comitato(TENANT, [], REGOLA, "coordinatore")
    yield one, two
    one.close()
    two.close()


def seduta_in_voto(app: Planning, proposte: int) -> tuple:
    ids = [app.proponi_deliberazione(TENANT, "approvazione_bilancio", f"Bilancio {n}", "Testo.", {"anno": 2026},
                                     "coordinatore").id for n in range(proposte)]
    now = datetime.now(timezone.utc)
    seduta = app.convoca_seduta(TENANT, "Seduta", "Sede", now, None, ids, "coordinatore")
    for c in COMUNI:
        app.registra_presenza(TENANT, seduta.id, c["istat"], True, None, None, "coordinatore")
    app.apri_seduta(TENANT, seduta.id, 1, "coordinatore")
    return seduta.id, ids


def test_thirty_members_vote_at_once_through_two_replicas_and_each_counts_once(apps) -> None:
    one, two = apps
    seduta_id, [proposta] = seduta_in_voto(one, 1)
    one.apri_votazione(TENANT, seduta_id, proposta, "coordinatore")

    def vote(i: int) -> str:
        app = (one, two)[i % 2]
        c = COMUNI[i % len(COMUNI)]
        try:
            app.vota(TENANT, seduta_id, proposta, c["istat"], "favorevole" if i % 3 else "contrario",
                     Votante(f"sindaco-{c['istat']}", c["istat"]))
            return "ok"
        except Conflict as exc:
            return exc.rule

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(vote, range(60)))  # every member tries twice
    assert outcomes.count("ok") == 30 and outcomes.count("voto.una_volta") == 30, outcomes
    seduta = two.seduta(TENANT, seduta_id)
    assert sorted(seduta.voti[proposta]) == sorted(c["istat"] for c in COMUNI)
    assert seduta.version == 1 + 30 + 1 + 1 + 30  # convocata, presenze, aperta, votazione aperta, voti


def test_deliberations_closed_at_once_in_two_sedute_get_unique_gapless_numbers(apps) -> None:
    one, two = apps
    sedute = [seduta_in_voto(one, 3) for _ in range(2)]
    for seduta_id, proposte in sedute:
        for proposta in proposte:
            one.apri_votazione(TENANT, seduta_id, proposta, "coordinatore")
            for c in COMUNI:
                one.vota(TENANT, seduta_id, proposta, c["istat"], "favorevole", Votante("s", c["istat"]))
            break  # one open vote per seduta at a time: close them concurrently below, then the rest

    def close_all(app: Planning, seduta_id, proposte) -> list[str]:
        numbers = [app.chiudi_votazione(TENANT, seduta_id, proposte[0], "coordinatore").numero]
        for proposta in proposte[1:]:
            app.apri_votazione(TENANT, seduta_id, proposta, "coordinatore")
            for c in COMUNI:
                app.vota(TENANT, seduta_id, proposta, c["istat"], "favorevole", Votante("s", c["istat"]))
            numbers.append(app.chiudi_votazione(TENANT, seduta_id, proposta, "coordinatore").numero)
        return numbers

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda args: close_all(*args), [(one, *sedute[0]), (two, *sedute[1])])
    anno = oggi().year
    already = sorted(int(n.split("/")[0]) for n in a + b)
    assert len(set(a + b)) == 6 and all(n.endswith(f"/{anno}") for n in a + b)
    assert already == list(range(already[0], already[0] + 6)), already  # gapless, in any interleaving
