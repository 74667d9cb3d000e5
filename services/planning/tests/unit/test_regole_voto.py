"""The Comitato Istituzionale's quorum and voting rules (``planning.domain.regole_voto``).

Property tests compare the engine with an independent oracle written here in plain integer
arithmetic: a share ``num/den`` of ``totale`` is reached when ``parte*den > num*totale``
(strict) or ``parte*den >= num*totale``. The oracle does not use the engine's ``Soglia`` or
``aventi_diritto``. Unit tests pin the edge cases with hand-computed figures, most of them on an
Ambito S09 (Sapri) style Comitato.
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from planning.domain.regole_voto import Componente, Quorum, Regola, Soglia, esito, verifica_quorum

pytestmark = pytest.mark.unit
PROPRIETA = settings(max_examples=300, deadline=None)
FAV, CON, AST = "favorevole", "contrario", "astenuto"

# ---------------------------------------------------------------- oracle and strategies
# A threshold is (num, den, stretta); a scenario is a dict of plain values.
DEFAULT_QUORUM = {1: ((1, 2, True), (1, 3, False)), 2: ((3, 10, False), (1, 4, False))}


def supera(parte: int, totale: int, soglia: tuple[int, int, bool]) -> bool:
    num, den, stretta = soglia
    return parte * den > num * totale if stretta else parte * den >= num * totale


def contano(s: dict) -> list[tuple]:
    return [m for m in s["membri"] if s["consultivi_contano"] or not m[2]]


def oracolo_quorum(s: dict) -> tuple[bool, int, int, int, int]:
    pesi_soglia, membri_soglia = (s["quorum"] or DEFAULT_QUORUM)[s["convocazione"]]
    tutti = contano(s)
    qui = [m for m in tutti if m[3]]
    n, p, n_tot, p_tot = len(qui), sum(m[1] for m in qui), len(tutti), sum(m[1] for m in tutti)
    ok = n > 0 and (membri_soglia is None or supera(n, n_tot, membri_soglia)) \
        and (pesi_soglia is None or supera(p, p_tot, pesi_soglia))
    return ok, n, n_tot, p, p_tot


def oracolo_conteggio(s: dict, peso) -> tuple[int, int, int, int, int, bool]:
    qui = [m for m in contano(s) if m[3]]
    fav, con, ast = (sum(peso(m) for m in qui if m[4] == v) for v in (FAV, CON, AST))
    nv = sum(peso(m) for m in qui if m[4] is None)
    base = sum(peso(m) for m in qui) if s["base"] == "presenti" else fav + con
    return fav, con, ast, nv, base, base > 0 and supera(fav, base, s["maggioranza"])


def oracolo_approvata(s: dict) -> bool:
    teste, pesi = oracolo_conteggio(s, lambda m: 1)[-1], oracolo_conteggio(s, lambda m: m[1])[-1]
    return {"per_testa": teste, "ponderata": pesi, "doppia_maggioranza": teste and pesi}[s["famiglia"]]


def soglia(t: tuple[int, int, bool] | None) -> Soglia | None:
    return None if t is None else Soglia(Fraction(t[0], t[1]), t[2])


def regola_di(s: dict) -> Regola:
    extra = {} if s["quorum"] is None else {
        "quorum": {k: Quorum(soglia(p), soglia(m)) for k, (p, m) in s["quorum"].items()}}
    return Regola(s["famiglia"], s["base"], s["consultivi_contano"], maggioranza=soglia(s["maggioranza"]), **extra)


def costruisci(s: dict):
    componenti = [Componente(m[0], m[1], m[2]) for m in s["membri"]]
    presenti = [m[0] for m in s["membri"] if m[3]] + ["intruso"]  # unknown ids are ignored
    voti = {m[0]: m[4] for m in s["membri"] if m[4] is not None}  # absent members' votes too
    voti["fantasma"] = FAV
    return regola_di(s), componenti, presenti, voti


soglie = st.one_of(
    st.sampled_from([(1, 2, True), (1, 2, False), (2, 3, False), (3, 10, False), (1, 4, False), (1, 3, False),
                     (0, 1, False), (0, 1, True), (1, 1, False), (1, 1, True)]),
    st.integers(1, 20).flatmap(lambda d: st.tuples(st.integers(0, d), st.just(d), st.booleans())))
soglie_opzionali = st.one_of(st.none(), soglie)
quorum_di_chiamata = st.tuples(soglie_opzionali, soglie_opzionali)
quorum_custom = st.one_of(
    st.none(),
    st.builds(lambda q1, q2: {1: q1} if q2 is None else {1: q1, 2: q2}, quorum_di_chiamata,
              st.one_of(st.none(), quorum_di_chiamata)))
pesi = st.one_of(st.integers(0, 3_000_000), st.sampled_from([0, 0, 500, 1000, 2000]))
voto = st.sampled_from([FAV, CON, AST, None])


@st.composite
def scenari(draw) -> dict:
    n = draw(st.integers(2, 60))
    membri = []
    for i in range(n):
        consultivo = draw(st.booleans()) and draw(st.booleans())  # about a quarter are advisory
        peso = draw(st.one_of(st.just(0), pesi)) if consultivo else draw(pesi)
        membri.append((f"c{i}", peso, consultivo, draw(st.booleans()), draw(voto)))
    return {"membri": membri, "famiglia": draw(st.sampled_from(["per_testa", "ponderata", "doppia_maggioranza"])),
            "base": draw(st.sampled_from(["presenti", "votanti"])), "consultivi_contano": draw(st.booleans()),
            "maggioranza": draw(soglie), "quorum": draw(quorum_custom), "convocazione": draw(st.sampled_from([1, 2]))}


def conteggio(c) -> tuple:
    return c.favorevoli, c.contrari, c.astenuti, c.non_votanti, c.base, c.maggioranza


# ---------------------------------------------------------------- properties
@PROPRIETA
@given(scenari())
def test_esito_matches_the_integer_oracle(s: dict) -> None:
    e = esito(*costruisci(s))
    assert conteggio(e.per_testa) == oracolo_conteggio(s, lambda m: 1)
    assert conteggio(e.ponderato) == oracolo_conteggio(s, lambda m: m[1])
    assert (e.approvata, e.famiglia) == (oracolo_approvata(s), s["famiglia"])
    assert e.motivazione.startswith("Approvata" if e.approvata else "Respinta")


@PROPRIETA
@given(scenari())
def test_verifica_quorum_matches_the_integer_oracle(s: dict) -> None:
    regola, componenti, presenti, _ = costruisci(s)
    if s["convocazione"] not in (s["quorum"] or DEFAULT_QUORUM):
        with pytest.raises(ValueError):
            verifica_quorum(regola, componenti, presenti, s["convocazione"])
        return
    v = verifica_quorum(regola, componenti, presenti, s["convocazione"])
    assert (v.raggiunto, v.presenti, v.membri, v.pesi_presenti, v.pesi_totali) == oracolo_quorum(s)


@PROPRIETA
@given(scenari())
def test_regola_round_trips_through_a_json_dict(s: dict) -> None:
    regola = regola_di(s)
    assert Regola.da_dict(json.loads(json.dumps(regola.come_dict()))) == regola


@PROPRIETA
@given(scenari(), st.integers(0, 59))
def test_turning_one_contrario_into_favorevole_never_loses_an_approval(s: dict, i: int) -> None:
    i %= len(s["membri"])
    prima, dopo = ({**s, "membri": [m[:4] + (v,) if j == i else m for j, m in enumerate(s["membri"])]}
                   for v in (CON, FAV))
    e_prima, e_dopo = esito(*costruisci(prima)), esito(*costruisci(dopo))
    assert not e_prima.approvata or e_dopo.approvata
    assert e_dopo.per_testa.favorevoli >= e_prima.per_testa.favorevoli


@PROPRIETA
@given(scenari(), st.lists(pesi, min_size=60, max_size=60))
def test_per_testa_ignores_populations(s: dict, nuovi_pesi: list[int]) -> None:
    s = {**s, "famiglia": "per_testa"}
    altra = {**s, "membri": [(m[0], p) + m[2:] for m, p in zip(s["membri"], nuovi_pesi)]}
    e, e_altra = esito(*costruisci(s)), esito(*costruisci(altra))
    assert e.approvata == e_altra.approvata and e.per_testa == e_altra.per_testa


@PROPRIETA
@given(scenari())
def test_doppia_maggioranza_is_per_testa_and_ponderata(s: dict) -> None:
    teste, pop, doppia = (esito(*costruisci({**s, "famiglia": f})).approvata
                          for f in ("per_testa", "ponderata", "doppia_maggioranza"))
    assert doppia == (teste and pop)


# ---------------------------------------------------------------- Ambito S09 (populations partly invented)
# Sapri 6373 + Vibonati 3263 + Santa Marina 3124 + Torre Orsaia 2078 + Casaletto Spartano 1307
# + Ispani 1002 + Morigerati 641 + Tortorella 512 = 18300; ASL and Provincia advisory, weight 0.
S09 = {"sapri": 6373, "vibonati": 3263, "santa_marina": 3124, "torre_orsaia": 2078,
       "casaletto": 1307, "ispani": 1002, "morigerati": 641, "tortorella": 512}
COMITATO_S09 = [Componente(k, p) for k, p in S09.items()] + [
    Componente("asl_salerno", 0, consultivo=True), Componente("provincia", 0, consultivo=True)]
assert sum(S09.values()) == 18300


def vota(famiglia: str, favorevoli: set[str], **regola) -> object:
    voti = {k: FAV if k in favorevoli else CON for k in S09}
    return esito(Regola(famiglia, **regola), COMITATO_S09, S09, voti)


def test_s09_first_call_needs_more_than_9150_inhabitants_and_3_of_8_comuni() -> None:
    regola = Regola("ponderata")
    assert not verifica_quorum(regola, COMITATO_S09, ["sapri", "vibonati"], 1).raggiunto  # 9636 ok, 2 < 8/3
    v = verifica_quorum(regola, COMITATO_S09, ["sapri", "vibonati", "tortorella", "asl_salerno"], 1)
    assert (v.raggiunto, v.presenti, v.membri, v.pesi_presenti, v.pesi_totali) == (True, 3, 8, 10148, 18300)
    # the six smaller Comuni: 6 members but 8664 <= 9150 inhabitants
    assert not verifica_quorum(regola, COMITATO_S09, set(S09) - {"sapri", "vibonati"}, 1).raggiunto


def test_s09_doppia_maggioranza_5_of_8_comuni_and_11791_of_18300_inhabitants_approves() -> None:
    e = vota("doppia_maggioranza", {"sapri", "vibonati", "ispani", "morigerati", "tortorella"})
    assert e.approvata and conteggio(e.per_testa) == (5, 3, 0, 0, 8, True)
    assert conteggio(e.ponderato) == (11791, 6509, 0, 0, 18300, True)
    assert e.motivazione == ("Approvata: componenti favorevoli 5 su 8 dei presenti (soglia > 1/2): raggiunta; "
                             "popolazione favorevole 11791 su 18300 dei presenti (soglia > 1/2): raggiunta.")


def test_s09_doppia_maggioranza_fails_on_heads_4_of_8_despite_14838_inhabitants() -> None:
    e = vota("doppia_maggioranza", {"sapri", "vibonati", "santa_marina", "torre_orsaia"})
    assert (e.approvata, e.per_testa.maggioranza, e.ponderato.maggioranza) == (False, False, True)
    assert "componenti favorevoli 4 su 8" in e.motivazione and "popolazione favorevole 14838 su 18300" in e.motivazione


def test_s09_doppia_maggioranza_fails_on_weights_5_small_comuni_are_only_5540_inhabitants() -> None:
    e = vota("doppia_maggioranza", {"torre_orsaia", "casaletto", "ispani", "morigerati", "tortorella"})
    assert (e.approvata, e.per_testa.maggioranza, e.ponderato.maggioranza) == (False, True, False)
    assert e.ponderato.favorevoli == 5540 and e.motivazione.startswith("Respinta")


def test_s09_advisory_members_not_counting_change_neither_quorum_nor_outcome() -> None:
    presenti = ["sapri", "vibonati", "santa_marina", "asl_salerno", "provincia"]
    voti = {"sapri": FAV, "vibonati": CON, "santa_marina": CON, "asl_salerno": FAV, "provincia": FAV}
    regola = Regola("per_testa")
    v = verifica_quorum(regola, COMITATO_S09, presenti, 2)
    assert (v.raggiunto, v.presenti, v.membri) == (True, 3, 8)
    e = esito(regola, COMITATO_S09, presenti, voti)
    assert not e.approvata and conteggio(e.per_testa) == (1, 2, 0, 0, 3, False)  # 1 of 3
    assert esito(regola, COMITATO_S09, presenti[:3], voti) == e  # same as if they had stayed home


def test_s09_advisory_members_counting_change_quorum_and_outcome() -> None:
    regola = Regola("per_testa", consultivi_contano=True)
    # 2nd call, 2 of 8 Comuni = 1/4: reached; counting ASL and Provincia 2 of 10 < 1/4: not
    assert verifica_quorum(Regola("per_testa"), COMITATO_S09, ["sapri", "vibonati"], 2).raggiunto
    assert not verifica_quorum(regola, COMITATO_S09, ["sapri", "vibonati"], 2).raggiunto
    assert verifica_quorum(regola, COMITATO_S09, ["sapri", "vibonati", "asl_salerno"], 2).raggiunto  # 3 of 10
    voti = {"sapri": FAV, "vibonati": CON, "santa_marina": CON, "asl_salerno": FAV, "provincia": FAV}
    e = esito(regola, COMITATO_S09, list(voti), voti)
    assert e.approvata and conteggio(e.per_testa) == (3, 2, 0, 0, 5, True)  # 3 of 5
    # weight 0: ponderata still 6373 against 3263 + 3124 = 6387
    assert conteggio(e.ponderato) == (6373, 6387, 0, 0, 12760, False)


# ---------------------------------------------------------------- synthetic edge cases
def comitato(*pesi: int) -> list[Componente]:
    return [Componente(f"c{i}", p) for i, p in enumerate(pesi)]


OTTO = comitato(150, 150, 100, 100, 100, 100, 150, 150)  # 1000 weight, 8 members


def test_second_call_exactly_3_10_of_weights_and_exactly_1_4_of_members_is_reached() -> None:
    v = verifica_quorum(Regola("per_testa"), OTTO, ["c0", "c1"], 2)  # 2 of 8, 300 of 1000
    assert (v.raggiunto, v.presenti, v.pesi_presenti, v.soglia_pesi, v.soglia_membri) == (True, 2, 300, "≥ 3/10", "≥ 1/4")


def test_second_call_one_member_less_or_one_weight_short_is_not_reached() -> None:
    assert not verifica_quorum(Regola("per_testa"), OTTO, ["c0"], 2).raggiunto  # 1 of 8, 150
    assert not verifica_quorum(Regola("per_testa"), OTTO, ["c0", "c2"], 2).raggiunto  # 2 of 8, 250 < 300
    assert verifica_quorum(Regola("per_testa"), OTTO, ["c2", "c3", "c4"], 2).raggiunto  # 3 of 8, 300


def test_first_call_exactly_half_of_the_weights_is_not_reached_because_strict() -> None:
    quattro = comitato(250, 250, 250, 250)
    assert not verifica_quorum(Regola("ponderata"), quattro, ["c0", "c1"], 1).raggiunto  # 500 = 1/2
    assert verifica_quorum(Regola("ponderata"), quattro, ["c0", "c1", "c2"], 1).raggiunto  # 750


def test_quorum_with_nobody_present_is_never_reached_even_without_thresholds() -> None:
    regola = Regola("per_testa", quorum={1: Quorum(None, None)})
    assert verifica_quorum(regola, OTTO, ["c0"], 1).raggiunto
    assert not verifica_quorum(regola, OTTO, [], 1).raggiunto


def test_exact_tie_2_for_2_against_is_rejected_under_strict_majority() -> None:
    e = esito(Regola("doppia_maggioranza"), comitato(100, 100, 100, 100), ["c0", "c1", "c2", "c3"],
              {"c0": FAV, "c1": FAV, "c2": CON, "c3": CON})
    assert not e.approvata and (e.per_testa.favorevoli, e.per_testa.base) == (2, 4)
    assert (e.ponderato.favorevoli, e.ponderato.base) == (200, 400) and not e.ponderato.maggioranza
    tie_ok = esito(Regola("per_testa", maggioranza=Soglia(Fraction(1, 2))), comitato(1, 1), ["c0", "c1"],
                   {"c0": FAV, "c1": CON})
    assert tie_ok.approvata  # the same tie passes under a non-strict "at least half"


def test_all_abstaining_is_rejected_with_either_base() -> None:
    astenuti = {f"c{i}": AST for i in range(8)}
    votanti = esito(Regola("per_testa", "votanti", maggioranza=Soglia(Fraction(0))), OTTO, astenuti, astenuti)
    assert not votanti.approvata and conteggio(votanti.per_testa) == (0, 0, 8, 0, 0, False)  # base 0
    presenti = esito(Regola("ponderata", "presenti"), OTTO, astenuti, astenuti)
    assert not presenti.approvata and conteggio(presenti.ponderato) == (0, 0, 1000, 0, 1000, False)


def test_base_presenti_counts_abstentions_and_silence_base_votanti_does_not() -> None:
    presenti, voti = ["c0", "c1", "c2", "c3", "c4"], {"c0": FAV, "c1": FAV, "c2": CON, "c3": AST}
    su_presenti = esito(Regola("per_testa", "presenti"), OTTO, presenti, voti)
    su_votanti = esito(Regola("per_testa", "votanti"), OTTO, presenti, voti)
    assert not su_presenti.approvata and conteggio(su_presenti.per_testa) == (2, 1, 1, 1, 5, False)  # 2 of 5
    assert su_votanti.approvata and conteggio(su_votanti.per_testa) == (2, 1, 1, 1, 3, True)  # 2 of 3
    assert "dei votanti" in su_votanti.motivazione and "2 su 3" in su_votanti.motivazione


CITTA_E_PAESI = comitato(50_000, 2000, 2000, 2000, 2000)  # 58000 inhabitants, 5 Comuni


@pytest.mark.parametrize("favorevoli, per_testa, ponderata", [
    ({"c0"}, False, True),  # 1 of 5 heads, 50000 of 58000 inhabitants
    ({"c1", "c2", "c3", "c4"}, True, False),  # 4 of 5 heads, 8000 of 58000 inhabitants
])
def test_big_comune_against_many_small_ones(favorevoli: set[str], per_testa: bool, ponderata: bool) -> None:
    ids = [c.id for c in CITTA_E_PAESI]
    voti = {i: FAV if i in favorevoli else CON for i in ids}
    assert esito(Regola("per_testa"), CITTA_E_PAESI, ids, voti).approvata is per_testa
    assert esito(Regola("ponderata"), CITTA_E_PAESI, ids, voti).approvata is ponderata
    assert esito(Regola("doppia_maggioranza"), CITTA_E_PAESI, ids, voti).approvata is False


def test_invalid_input_is_refused() -> None:
    with pytest.raises(ValueError, match="voti non ammessi"):
        esito(Regola("per_testa"), OTTO, ["c0"], {"c0": "favorevolissimo"})
    with pytest.raises(ValueError, match="3ª convocazione"):
        verifica_quorum(Regola("per_testa"), OTTO, ["c0"], 3)
    with pytest.raises(ValueError, match="2ª convocazione"):
        verifica_quorum(Regola("per_testa", quorum={1: Quorum(None, None)}), OTTO, ["c0"], 2)
    with pytest.raises(ValueError, match="famiglia"):
        Regola("maggioranza_assoluta")
    with pytest.raises(ValueError, match="base"):
        Regola("per_testa", base="aventi_diritto")
    with pytest.raises(ValueError, match="quorum"):
        Regola("per_testa", quorum={2: Quorum(None, None)})


def test_a_member_listed_twice_is_refused_rather_than_counted_twice() -> None:
    doppio = [Componente("065134", 100), Componente("065134", 100), Componente("065157", 100)]
    with pytest.raises(ValueError, match="una sola volta"):
        esito(Regola("per_testa"), doppio, ["065134", "065157"], {"065134": "favorevole", "065157": "contrario"})
    with pytest.raises(ValueError):
        Soglia.da_dict({"frazione": "1/2", "stretta": "false"})
