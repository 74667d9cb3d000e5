"""The rule families a regolamento can hold (issue 12, item 5), against independent computations.

- majority bases of those present, of those voting and of all members assigned (heads) or the
  total weight, separately for heads and weights, with separate thresholds;
- qualified majorities (2/3, unanimity) chosen per deliberation type;
- the Presidente's casting vote on a tie under the simple majority;
- weights capped at a share of the total, the excess shared among the others.

The oracles are written here in plain integer arithmetic (``parte * den > num * totale``) and,
for the cap, as the classic iterative redistribution with fractions; they use nothing of the
engine but its output.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given, settings, strategies as st

from planning.domain.comitato import componenti_da_ambito
from planning.domain.deliberazione import MAGGIORANZE_PREDEFINITE, TIPI
from planning.domain.regole_voto import (Componente, Maggioranza, Ponderazione, Regola, Soglia, esito,
                                         pesi_con_tetto)

pytestmark = pytest.mark.unit
PROPRIETA = settings(max_examples=400, deadline=None)
FAV, CON, AST = "favorevole", "contrario", "astenuto"
SEMPLICE = (1, 2, True)


# ---------------------------------------------------------------- oracle
def supera(parte: int, totale: int, soglia: tuple[int, int, bool]) -> bool:
    num, den, stretta = soglia
    return parte * den > num * totale if stretta else parte * den >= num * totale


def oracolo(s: dict) -> dict:
    """Outcome per measure and overall, computed from the scenario's plain values."""
    aventi = [m for m in s["membri"] if s["consultivi_contano"] or not m["consultivo"]]
    qui = [m for m in aventi if m["presente"]]
    misure = {}
    for nome, peso, soglia, base_di in (("per_testa", lambda m: 1, s["soglia_teste"], s["base_teste"]),
                                        ("ponderato", lambda m: m["peso"], s["soglia_pesi"], s["base_pesi"])):
        fav = sum(peso(m) for m in qui if m["voto"] == FAV)
        con = sum(peso(m) for m in qui if m["voto"] == CON)
        base = {"presenti": sum(peso(m) for m in qui), "votanti": fav + con,
                "assegnati": sum(peso(m) for m in aventi)}[base_di]
        ok = base > 0 and supera(fav, base, soglia)
        decisivo = False
        presidente = next((m for m in qui if m["id"] == s["presidente"]), None)
        if (not ok and base > 0 and fav * 2 == base and soglia == SEMPLICE and s["decisivo"]
                and presidente is not None and presidente["voto"] == FAV):
            ok = decisivo = True
        misure[nome] = (fav, con, base, ok, decisivo)
    contano = {"per_testa": ["per_testa"], "ponderata": ["ponderato"],
               "doppia_maggioranza": ["per_testa", "ponderato"]}[s["famiglia"]]
    return {"approvata": all(misure[n][3] for n in contano), "misure": misure,
            "decisivi": [n for n in contano if misure[n][4]]}


# ---------------------------------------------------------------- strategies
maggioranze = st.sampled_from([SEMPLICE, (1, 2, False), (2, 3, False), (3, 5, False), (3, 4, True), (1, 1, False)])
basi = st.sampled_from(["presenti", "votanti", "assegnati"])


@st.composite
def scenari(draw) -> dict:
    n = draw(st.integers(1, 25))
    membri = []
    for i in range(n):
        consultivo = draw(st.integers(0, 5)) == 0
        membri.append({"id": f"c{i}", "peso": draw(st.sampled_from([0, 1, 2, 500, 1000]) | st.integers(0, 10**6)),
                       "consultivo": consultivo, "presente": draw(st.booleans()),
                       "voto": draw(st.sampled_from([FAV, CON, AST, None]))})
    presidente = draw(st.sampled_from([m["id"] for m in membri] + [None]))
    return {"membri": membri, "famiglia": draw(st.sampled_from(["per_testa", "ponderata", "doppia_maggioranza"])),
            "consultivi_contano": draw(st.booleans()), "base_teste": draw(basi), "base_pesi": draw(basi),
            "soglia_teste": draw(maggioranze), "soglia_pesi": draw(maggioranze), "presidente": presidente,
            "decisivo": presidente is not None and draw(st.booleans()), "qualificata": draw(st.booleans())}


def soglia(t: tuple[int, int, bool]) -> Soglia:
    return Soglia(Fraction(t[0], t[1]), t[2])


def motore(s: dict):
    """The same scenario through the engine: as the ordinary majority, or as a qualified one for a type."""
    richiesta = Maggioranza(soglia(s["soglia_teste"]), soglia(s["soglia_pesi"]), s["base_teste"], s["base_pesi"])
    comune = dict(famiglia=s["famiglia"], consultivi_contano=s["consultivi_contano"], presidente=s["presidente"],
                  voto_decisivo_presidente=s["decisivo"])
    if s["qualificata"]:  # the ordinary majority is something else; the type's qualified one applies
        regola = Regola(**comune, qualificate={"convenzione": richiesta})
        richiesta = regola.maggioranza_per("convenzione", MAGGIORANZE_PREDEFINITE)
    else:
        regola = Regola(**comune, maggioranza=richiesta.teste, maggioranza_pesi=richiesta.pesi,
                        base_teste=richiesta.base_teste, base_pesi=richiesta.base_pesi)
        assert regola.maggioranza_per("libera", MAGGIORANZE_PREDEFINITE) == regola.ordinaria == richiesta
    componenti = [Componente(m["id"], m["peso"], m["consultivo"]) for m in s["membri"]]
    presenti = [m["id"] for m in s["membri"] if m["presente"]]
    voti = {m["id"]: m["voto"] for m in s["membri"] if m["voto"] is not None}
    return esito(regola, componenti, presenti, voti, richiesta)


# ---------------------------------------------------------------- properties
@PROPRIETA
@given(scenari())
def test_bases_thresholds_qualified_majorities_and_casting_vote_match_the_oracle(s: dict) -> None:
    e, o = motore(s), oracolo(s)
    for nome, conteggio in (("per_testa", e.per_testa), ("ponderato", e.ponderato)):
        fav, con, base, ok, _ = o["misure"][nome]
        assert (conteggio.favorevoli, conteggio.contrari, conteggio.base, conteggio.maggioranza) == (fav, con, base, ok)
    assert e.approvata == o["approvata"]
    assert list(e.voto_decisivo) == o["decisivi"]
    assert e.come_dict()["maggioranza_richiesta"]["base_teste"] == s["base_teste"]


@PROPRIETA
@given(scenari())
def test_unanimity_needs_every_member_of_the_base_in_favour(s: dict) -> None:
    s = {**s, "soglia_teste": (1, 1, False), "famiglia": "per_testa"}
    e = motore(s)
    aventi = [m for m in s["membri"] if s["consultivi_contano"] or not m["consultivo"]]
    qui = [m for m in aventi if m["presente"]]
    insieme = {"presenti": qui, "votanti": [m for m in qui if m["voto"] in (FAV, CON)], "assegnati": aventi}
    base = insieme[s["base_teste"]]
    assert e.approvata == (bool(base) and all(m["presente"] and m["voto"] == FAV for m in base))


def redistribuzione(pesi: dict[str, int], tetto: Fraction) -> dict[str, Fraction]:
    """The iterative computation: cap every share above the cap, share what is left among the others
    in proportion to their weights, repeat until no share is above the cap."""
    quote = {m: Fraction(w, sum(pesi.values())) for m, w in pesi.items()}
    bloccati: set[str] = set()
    while True:
        sopra = {m for m, q in quote.items() if q > tetto and m not in bloccati}
        if not sopra:
            return quote
        bloccati |= sopra
        liberi = [m for m in pesi if m not in bloccati]
        resto = 1 - tetto * len(bloccati)
        somma = sum(pesi[m] for m in liberi)
        quote = {m: tetto if m in bloccati else (resto * pesi[m] / somma if somma else Fraction(0)) for m in pesi}


@PROPRIETA
@given(st.lists(st.integers(0, 3_000_000), min_size=1, max_size=40),
       st.integers(1, 99).map(lambda p: Fraction(p, 100)))
def test_a_cap_gives_the_shares_of_the_iterative_redistribution(valori: list[int], tetto: Fraction) -> None:
    pesi = {f"c{i}": w for i, w in enumerate(valori)}
    positivi = sum(1 for w in valori if w > 0)
    assume(positivi > 0)
    if tetto * positivi < 1:
        with pytest.raises(ValueError):
            pesi_con_tetto(pesi, tetto)
        return
    capped, scala = pesi_con_tetto(pesi, tetto)
    assert all(isinstance(w, int) and w >= 0 for w in capped.values()) and scala >= 1
    totale = sum(capped.values())
    attese = redistribuzione(pesi, tetto)
    assert {m: Fraction(w, totale) for m, w in capped.items()} == attese
    assert max(Fraction(w, totale) for w in capped.values()) <= tetto
    assert all(capped[m] == 0 for m, w in pesi.items() if w == 0)


def test_a_cap_no_member_exceeds_changes_nothing() -> None:
    assert pesi_con_tetto({"a": 30, "b": 30, "c": 40}, Fraction(2, 5)) == ({"a": 30, "b": 30, "c": 40}, 1)


def test_population_weights_capped_at_forty_percent() -> None:
    """Sapri holds 6373 of 8558 residents (74.5%): capped at 40%, the others share the rest in proportion."""
    comuni = [{"istat": "065134", "nome": "Sapri", "popolazione": 6373},
              {"istat": "065156", "nome": "Vibonati", "popolazione": 1215},
              {"istat": "065059", "nome": "Ispani", "popolazione": 970}]
    membri = componenti_da_ambito(comuni, [{"id": "ASL", "nome": "ASL", "peso": 0}],
                                  Ponderazione(tetto=Fraction(2, 5)))
    pesi = {m["id"]: m["peso"] for m in membri}
    # others: 2185 = 3/5 of the total; Sapri = 2/5 = 2185 × 2/3, so every weight ×3: 4370, 3645, 2910
    assert pesi == {"065134": 4370, "065156": 3645, "065059": 2910, "ASL": 0}


def test_reference_data_every_type_has_a_source_and_the_regolamento_needs_two_thirds() -> None:
    assert set(TIPI) >= {"approvazione_piano", "approvazione_aggiornamento", "approvazione_bilancio",
                         "criteri_riparto_costi", "nomina_coordinatore", "rettifica", "atto_di_indirizzo",
                         "regolamento_udp", "regolamento_comitato", "convenzione", "conto_consuntivo", "parere",
                         "libera"}
    assert MAGGIORANZE_PREDEFINITE["regolamento_comitato"] == Maggioranza(
        Soglia(Fraction(2, 3)), Soglia(Fraction(2, 3)), "assegnati", "assegnati")
    # the regolamento's own qualified majority prevails over the reference data's default
    propria = Maggioranza(Soglia(Fraction(3, 4)), Soglia(Fraction(3, 4)), "presenti", "presenti")
    regola = Regola("per_testa", qualificate={"regolamento_comitato": propria})
    assert regola.maggioranza_per("regolamento_comitato", MAGGIORANZE_PREDEFINITE) == propria
    assert Regola("per_testa").maggioranza_per("regolamento_comitato", MAGGIORANZE_PREDEFINITE) == \
        MAGGIORANZE_PREDEFINITE["regolamento_comitato"]


def test_casting_vote_never_reaches_a_qualified_majority() -> None:
    regola = Regola("per_testa", presidente="a", voto_decisivo_presidente=True)
    componenti = [Componente(x, 1) for x in "abcd"]
    voti = {"a": FAV, "b": FAV, "c": CON, "d": CON}
    assert esito(regola, componenti, "abcd", voti).approvata is True
    due_terzi = Maggioranza(Soglia(Fraction(1, 2)), Soglia(Fraction(1, 2)), "presenti", "presenti")  # ≥ 1/2
    assert esito(regola, componenti, "abcd", voti, due_terzi).voto_decisivo == ()  # reached without it
    piu_di_due_terzi = Maggioranza(Soglia(Fraction(2, 3)), Soglia(Fraction(2, 3)), "presenti", "presenti")
    assert esito(regola, componenti, "abcd", voti, piu_di_due_terzi).approvata is False
    # without the clause a tie is a rejection
    assert esito(Regola("per_testa"), componenti, "abcd", voti).approvata is False
