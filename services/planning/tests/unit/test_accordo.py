"""The Accordo di Programma: signatories, signatures, perfezionamento, adhesions (no I/O)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from ambiti_kit.errors import Conflict, Forbidden, RuleViolation
from planning.domain.accordo import AccordoDiProgramma

SAPRI, VIBONATI, TORRE_ORSAIA = "065134", "065156", "065149"
COMUNI_S09 = {SAPRI, VIBONATI, TORRE_ORSAIA, "065059", "065077", "065150"}
PIANO_ID = uuid.UUID("5b0c8d4e-2f1a-5c3b-9d7e-1a2b3c4d5e6f")


def accordo(firmatari: tuple[str, ...] = (SAPRI, VIBONATI, "ASL")) -> AccordoDiProgramma:
    return AccordoDiProgramma.predisponi("15-S09", PIANO_ID, list(firmatari), COMUNI_S09, "coordinatore@15-S09")


@pytest.mark.parametrize("firmatari, rule", [
    ([], "accordo.firmatari"),
    ([SAPRI, "ASL", SAPRI], "accordo.firmatari_unici"),
    ([SAPRI, "065116"], "accordo.firmatari_ambito"),  # Salerno is not in S09
    ([SAPRI, "PROVINCIA"], "accordo.firmatari_ambito"),  # only the ASL signs besides the Comuni
])
def test_predisponi_validation(firmatari: list[str], rule: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        accordo(firmatari)
    assert (caught.value.rule, caught.value.field) == (rule, "firmatari")


def test_the_last_required_signature_perfects_the_accordo() -> None:
    a = accordo()
    [predisposto] = a.collect_events()
    assert isinstance(predisposto, AccordoDiProgramma.Predisposto) and predisposto.piano_id == PIANO_ID
    assert (a.id, a.mancanti) == (AccordoDiProgramma.create_id("15-S09", PIANO_ID), [SAPRI, VIBONATI, "ASL"])
    assert a.firma(SAPRI, "sindaco@065134", date(2026, 4, 20)) is False
    assert a.firma("ASL", "direttore@asl-salerno", date(2026, 4, 22)) is False
    assert a.mancanti == [VIBONATI] and a.perfezionato_il is None
    assert a.firma(VIBONATI, "sindaco@065156", date(2026, 4, 28)) is True
    assert (a.mancanti, a.perfezionato_il) == ([], date(2026, 4, 28))
    *firme, perfezionato = a.collect_events()
    assert [e.firmatario for e in firme] == [SAPRI, "ASL", VIBONATI]
    assert isinstance(perfezionato, AccordoDiProgramma.Perfezionato) and perfezionato.data == date(2026, 4, 28)


def test_each_signatory_signs_once_and_only_signatories_sign() -> None:
    a = accordo()
    a.firma(SAPRI, "sindaco@065134", date(2026, 4, 20))
    with pytest.raises(Conflict) as caught:
        a.firma(SAPRI, "vicesindaco@065134", date(2026, 4, 21))
    assert caught.value.rule == "accordo.firma_unica"
    with pytest.raises(Forbidden) as caught:
        a.firma(TORRE_ORSAIA, "sindaco@065149", date(2026, 4, 21))  # in the Ambito, not a required signatory
    assert caught.value.rule == "accordo.firmatario"
    assert list(a.firme) == [SAPRI] and a.firme[SAPRI]["firmato_da"] == "sindaco@065134"


def test_a_third_sector_body_adheres_once_with_a_valid_codice_fiscale() -> None:
    a = accordo()
    a.aderisci("00743110157", "Cooperativa sociale Il Golfo", "coordinatore@15-S09")
    adesione = a.collect_events()[-1]
    assert isinstance(adesione, AccordoDiProgramma.AdesioneRegistrata)
    assert a.adesioni == {"00743110157": {"denominazione": "Cooperativa sociale Il Golfo",
                                          "registrata_da": "coordinatore@15-S09"}}
    with pytest.raises(Conflict) as caught:
        a.aderisci("00743110157", "Cooperativa sociale Il Golfo", "x")
    assert caught.value.rule == "accordo.adesione_unica"
    assert a.mancanti == [SAPRI, VIBONATI, "ASL"]  # adhering is not signing


@pytest.mark.parametrize("codice_fiscale", ["00743110158", "0074311015", "007431101570", "0074311015A", ""])
def test_an_invalid_codice_fiscale_is_refused(codice_fiscale: str) -> None:
    a = accordo()
    with pytest.raises(RuleViolation) as caught:
        a.aderisci(codice_fiscale, "Associazione di volontariato", "x")
    assert (caught.value.rule, caught.value.field) == ("ente.codice_fiscale", "codice_fiscale")
    assert a.adesioni == {}
