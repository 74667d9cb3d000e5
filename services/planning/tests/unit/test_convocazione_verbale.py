"""The convocation document, the verbale's hash at closing, its approval by vote, and the evolution of
the seduta's events (no I/O)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from fractions import Fraction

import pytest
from eventsourcing.persistence import StoredEvent

from ambiti_kit.errors import Conflict, RuleViolation
from ambiti_kit.tenancy import TenantApplication
from planning.domain.comitato import componenti_da_ambito
from planning.domain.convocazione import convocazione, impronta, punto_alla_convocazione, punto_da_proposta
from planning.domain.deliberazione import Deliberazione
from planning.domain.regole_voto import Regola, Quorum, Soglia
from planning.domain.seduta import Seduta, Votante

COMUNI = [{"istat": "065134", "nome": "Sapri", "popolazione": 6373},
          {"istat": "065156", "nome": "Vibonati", "popolazione": 3204},
          {"istat": "065149", "nome": "Torre Orsaia", "popolazione": 1985}]
MEMBRI = componenti_da_ambito(COMUNI, [])
PER_TESTA = Regola("per_testa").come_dict()
PRIMA = datetime(2026, 3, 2, 8, 30, tzinfo=timezone.utc)


def proposta(tipo: str = "libera", **riferimenti: str) -> Deliberazione:
    return Deliberazione.proponi("15-S09", tipo, "Comunicazioni del Presidente", "Il Comitato prende atto.",
                                 riferimenti, "coordinatore@15-S09")


def documento(punti: list[dict], seconda: datetime | None = None, regola: dict = PER_TESTA) -> str:
    return convocazione("15-S09", "Seduta ordinaria", "Sala consiliare, Sapri", PRIMA, seconda, MEMBRI, regola,
                        "coordinatore@15-S09", punti)


def test_the_convocation_is_generated_from_the_data_the_same_every_time() -> None:
    d = proposta("nomina_coordinatore", nominativo="Dott.ssa Anna Verdi", dal="2026-04-01")
    d.allega("a" * 64, 1200, "application/pdf", "curriculum.pdf", "coordinatore@15-S09")
    punti = [punto_da_proposta(d.tipo, d.oggetto, d.testo, d.riferimenti, d.allegati)]
    regola = Regola("per_testa", quorum={1: Quorum(None, Soglia(Fraction(1, 2), True)),
                                         2: Quorum(None, Soglia(Fraction(1, 3), False))}).come_dict()
    testo = documento(punti, PRIMA + timedelta(days=1), regola)
    assert testo == documento(punti, PRIMA + timedelta(days=1), regola)
    assert impronta(testo) == impronta(documento(punti, PRIMA + timedelta(days=1), regola))
    # the hour in Rome, both calls with their numero legale, each member, the proposal, who convenes
    assert "in 1ª convocazione il 02/03/2026 alle ore 09:30, presso Sala consiliare, Sapri" in testo
    assert "più di 1/2 dei componenti con diritto di voto" in testo
    assert "in 2ª convocazione il 03/03/2026 alle ore 09:30" in testo and "almeno 1/3 dei componenti" in testo
    assert "- 065149 Torre Orsaia (peso 1985)" in testo
    assert "### 1. Comunicazioni del Presidente" in testo and "Tipo di deliberazione: nomina_coordinatore." in testo
    assert "- nominativo: Dott.ssa Anna Verdi" in testo
    assert f"- curriculum.pdf (1200 byte, SHA-256 {'a' * 64})" in testo
    assert testo.endswith("Convoca: coordinatore@15-S09.\n")
    # any change of the data is another document
    assert impronta(documento(punti)) != impronta(testo)
    assert "non prevede qui una 2ª convocazione" in documento(punti)


def test_the_agenda_item_is_the_proposal_as_it_was_when_put_on_the_agenda() -> None:
    d = proposta()
    d.allega("b" * 64, 10, "text/plain", "prima.txt", "x")
    seduta_id = uuid.uuid4()
    d.iscrivi(seduta_id)
    d.allega("c" * 64, 20, "text/plain", "dopo.txt", "x")  # added after the convocation
    eventi = d.collect_events()
    punto = punto_alla_convocazione(eventi, seduta_id)
    assert [a["nome"] for a in punto["allegati"]] == ["prima.txt"]
    assert punto == punto_da_proposta("libera", d.oggetto, d.testo, {}, d.allegati[:1])


def _seduta(ordine: list[uuid.UUID], prima: datetime = PRIMA) -> Seduta:
    s = Seduta.convoca("15-S09", "Seduta", "Sapri", prima, None, ordine, MEMBRI, PER_TESTA, "x", "d" * 64)
    for c in COMUNI:
        s.registra_presenza(c["istat"], True, None, None, "x")
    s.apri(1, "x", prima)
    return s


def _vota(s: Seduta, p: uuid.UUID, voti: list[str]) -> dict:
    s.apri_votazione(p, "x")
    for c, v in zip(COMUNI, voti):
        s.vota(p, c["istat"], v, Votante("x", c["istat"]))
    return s.chiudi_votazione(p, "x", "approvazione_verbale")


def test_a_verbale_is_approved_only_by_a_favourable_outcome_of_the_vote() -> None:
    precedente = _seduta([uuid.uuid4()], PRIMA - timedelta(days=30))
    precedente.chiudi("x")
    precedente.redigi_verbale("e" * 64, "x")
    with pytest.raises(Conflict):
        precedente.redigi_verbale("e" * 64, "x")
    p, q = uuid.uuid4(), uuid.uuid4()
    s = _seduta([p, q])
    # 1 in favour, 2 against: the rule engine rejects it, and nothing can record the approval
    assert _vota(s, p, ["favorevole", "contrario", "contrario"])["approvata"] is False
    with pytest.raises(Conflict) as caught:
        s.approva_verbale_di(precedente, "e" * 64, "e" * 64, p, None, {}, "x")
    assert caught.value.rule == "verbale.votazione" and precedente.verbale_approvato is None
    assert _vota(s, q, ["favorevole", "favorevole", "astenuto"])["approvata"] is True
    with pytest.raises(RuleViolation) as wrong:
        s.approva_verbale_di(precedente, "0" * 64, "e" * 64, q, "3/2026", {}, "x")
    assert (wrong.value.rule, wrong.value.field) == ("verbale.impronta", "riferimenti.sha256")
    s.approva_verbale_di(precedente, "e" * 64, "e" * 64, q, "3/2026", {"raggiunto": True}, "x")
    assert precedente.verbale_approvato == {"nella_seduta": str(s.id), "sha256": "e" * 64,
                                            "deliberazione_id": str(q), "deliberazione": "3/2026"}
    assert s.verbali_approvati == {str(precedente.id): "e" * 64}
    with pytest.raises(Conflict) as again:
        s.approva_verbale_di(precedente, "e" * 64, "e" * 64, q, "3/2026", {}, "x")
    assert again.value.rule == "verbale.gia_approvato"


def test_a_verbale_is_approved_at_a_later_seduta_only() -> None:
    s = _seduta([uuid.uuid4()])
    precedente = _seduta([uuid.uuid4()], PRIMA + timedelta(days=1))
    precedente.chiudi("x")
    with pytest.raises(RuleViolation) as caught:
        s.verifica_verbale_da_approvare(precedente, "e" * 64, "e" * 64, "ordine_del_giorno.0")
    assert (caught.value.rule, caught.value.field) == ("verbale.seduta_successiva", "ordine_del_giorno.0")


def test_an_approvazione_verbale_proposal_names_a_seduta_and_a_sha256() -> None:
    with pytest.raises(RuleViolation) as caught:
        proposta("approvazione_verbale", seduta_id=str(uuid.uuid4()), sha256="XYZ")
    assert (caught.value.rule, caught.value.field) == ("deliberazione.riferimenti", "riferimenti.sha256")
    with pytest.raises(RuleViolation) as caught:
        proposta("approvazione_verbale", seduta_id="ieri", sha256="e" * 64)
    assert caught.value.field == "riferimenti.seduta_id"
    with pytest.raises(RuleViolation) as caught:
        proposta("approvazione_verbale", sha256="e" * 64)
    assert caught.value.field == "riferimenti.seduta_id"


def test_seduta_events_stored_before_version_2_still_load() -> None:
    """v1 Convocata (no document hash) and v1 verbale approvals (recorded without a vote) are upcast."""
    app = TenantApplication()  # in memory, with the platform's transcodings
    precedente = _seduta([uuid.uuid4()], PRIMA - timedelta(days=30))
    precedente.chiudi("x")
    p = uuid.uuid4()
    s = _seduta([p])
    _vota(s, p, ["favorevole"] * 3)
    s.approva_verbale_di(precedente, "e" * 64, "e" * 64, p, "1/2026", {}, "x")
    eventi = [e for e in [*s.collect_events(), *precedente.collect_events()]
              if type(e).__name__ in ("Convocata", "VerbaleDiAltraSedutaApprovato", "VerbaleApprovato")]
    assert len(eventi) == 4
    for e in eventi:
        stored = app.mapper.to_stored_event(e)
        state = json.loads(stored.state)
        assert state.pop("class_version") == 2
        for campo in ("convocazione_sha256", "deliberazione_id", "deliberazione"):
            state.pop(campo, None)
        old = app.mapper.to_domain_event(StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                                                     json.dumps(state).encode()))
        if type(e).__name__ == "Convocata":
            assert old.convocazione_sha256 is None and old.componenti == e.componenti
        else:
            assert (old.deliberazione_id, old.deliberazione, old.sha256) == (None, None, "e" * 64)
