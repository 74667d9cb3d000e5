"""Accreditamento (validity, tariffs, renewal, revocation) and affidamenti (no I/O)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from ambiti_kit.errors import Conflict, RuleViolation
from partnership.domain.accreditamenti import Accreditamento, Affidamento

FARO = {"ente_id": "e1", "codice_fiscale": "00743110157", "denominazione": "Coop Il Faro"}
TARIFFE = [{"prestazione": "Assistenza domiciliare", "unita": "ora", "importo": "21.50"}]
ATTO = {"tipo": "determina", "numero": "88", "data": date(2026, 1, 10)}
PIANO = uuid.uuid4()


def accreditamento(**kw: object) -> Accreditamento:
    args = {"intervento": "A1.2", "servizio": {"sistema": "nomenclatore", "codice": "C1"},
            "valido_dal": date(2026, 1, 1), "valido_al": date(2026, 12, 31), "tariffe": TARIFFE, "atto": ATTO, **kw}
    return Accreditamento.rilascia("15-S09", FARO, autore="amm", **args)  # type: ignore[arg-type]


@pytest.mark.parametrize("kw, rule, field", [
    ({"intervento": None, "servizio": None}, "accreditamento.servizio", "servizio"),
    ({"servizio": {"sistema": "fnps_macrolivello", "codice": "9"}}, "nomenclatura.macro_livello", "servizio.codice"),
    ({"valido_al": date(2025, 12, 31)}, "accreditamento.periodo", "valido_al"),
    ({"tariffe": []}, "accreditamento.tariffe", "tariffe"),
    ({"tariffe": [{**TARIFFE[0], "unita": "anno"}]}, "tariffa.unita", "tariffe.0.unita"),
    ({"tariffe": [{**TARIFFE[0], "importo": "-1"}]}, "importo.positivo", "tariffe.0.importo"),
    ({"tariffe": [{**TARIFFE[0], "importo": "21.505"}]}, "importo.centesimi", "tariffe.0.importo"),
    ({"tariffe": [{**TARIFFE[0], "importo": 21.5}]}, "importo.formato", "tariffe.0.importo"),
    ({"tariffe": TARIFFE * 2}, "tariffa.unica", "tariffe.1"),
])
def test_rilascio_rules(kw: dict, rule: str, field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        accreditamento(**kw)
    assert (caught.value.rule, caught.value.field) == (rule, field)


def test_state_over_time_renewal_and_revocation() -> None:
    a = accreditamento()
    assert a.tariffe[0]["importo"] == Decimal("21.50")
    assert [a.stato(d) for d in (date(2025, 12, 31), date(2026, 6, 1), date(2027, 1, 1))] == [
        "non_ancora_valido", "valido", "scaduto"]
    with pytest.raises(RuleViolation) as caught:
        a.rinnova(date(2026, 12, 31), ATTO, "amm")
    assert (caught.value.rule, caught.value.field) == ("accreditamento.rinnovo_estende", "valido_al")
    a.rinnova(date(2027, 12, 31), ATTO, "amm")
    assert a.stato(date(2027, 1, 1)) == "valido"
    with pytest.raises(RuleViolation) as caught:
        a.revoca(date(2026, 9, 1), "no", ATTO, "amm")
    assert (caught.value.rule, caught.value.field) == ("accreditamento.motivo_revoca", "motivo")
    a.revoca(date(2026, 9, 1), "Gravi inadempienze contrattuali", ATTO, "amm")
    assert (a.stato(date(2026, 8, 31)), a.stato(date(2026, 9, 1))) == ("valido", "revocato")
    with pytest.raises(Conflict) as caught:
        a.rinnova(date(2028, 12, 31), ATTO, "amm")
    assert caught.value.rule == "accreditamento.revocato"
    with pytest.raises(Conflict) as caught:
        a.revoca(date(2026, 10, 1), "Ancora inadempienze", ATTO, "amm")
    assert caught.value.rule == "accreditamento.revocato"
    assert [type(e).__name__ for e in a.collect_events()] == ["Rilasciato", "Rinnovato", "Revocato"]


def aggiudica(**kw: object) -> Affidamento:
    args = {"ente": FARO, "piano_id": PIANO, "intervento": "A1.2", "importo": Decimal("50000.00"), "cig": "ZA12345678",
            "valido_dal": date(2026, 2, 1), "valido_al": date(2026, 11, 30), "modalita": "gara", "atto": ATTO,
            "autore": "amm", **kw}
    return Affidamento.aggiudica("15-S09", **args)  # type: ignore[arg-type]


@pytest.mark.parametrize("kw, rule, field", [
    ({"importo": Decimal("0")}, "importo.positivo", "importo"),
    ({"cig": "Z123"}, "codice.cig", "cig"),
    ({"valido_al": date(2026, 1, 1)}, "affidamento.periodo", "valido_al"),
    ({"modalita": "proroga"}, "affidamento.modalita", "modalita"),
    ({"modalita": "accreditamento"}, "affidamento.accreditamento_richiesto", "accreditamento_id"),
    ({"modalita": "convenzione"}, "affidamento.convenzione_richiesta", "procedura_id"),
    ({"cig": None}, "affidamento.cig", "cig"),
    ({"cig": None, "modalita": "affidamento_diretto"}, "affidamento.cig", "cig"),
])
def test_affidamento_rules(kw: dict, rule: str, field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        aggiudica(**kw)
    assert (caught.value.rule, caught.value.field) == (rule, field)


def test_an_award_through_an_accreditation_needs_it_to_cover_the_ente_the_service_and_the_period() -> None:
    a = accreditamento()
    ok = aggiudica(modalita="accreditamento", accreditamento=a, cig=None)
    assert (ok.accreditamento_id, ok.importo, ok.cig) == (a.id, Decimal("50000.00"), None)
    for kw in ({"intervento": "B2"}, {"valido_al": date(2027, 1, 31)},
               {"ente": {**FARO, "codice_fiscale": "80012170157"}}):
        with pytest.raises(RuleViolation) as caught:
            aggiudica(modalita="accreditamento", accreditamento=a, **kw)
        assert caught.value.rule == "affidamento.accreditamento_valido"
    a.revoca(date(2026, 6, 1), "Gravi inadempienze", ATTO, "amm")
    with pytest.raises(RuleViolation) as caught:
        aggiudica(modalita="accreditamento", accreditamento=a)
    assert caught.value.rule == "affidamento.accreditamento_valido"
