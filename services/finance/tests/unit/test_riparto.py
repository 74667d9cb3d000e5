"""The riparto engine (``finance.domain.riparto``), its CSV reader and its command line.

Property tests check the engine against oracles written here independently: the exact share of
each recipient (Σ peso × indicatore / Σ indicatore), the published percentage rounded with
``Decimal.quantize`` at high precision (the engine rounds fractions with integer arithmetic), the
largest-remainder order, and, for floors funded by ``prelievo``, the "water-filling" form of the
result (every amount is ``max(minimo, λ × quota × totale)`` for one λ), found here by trying every
possible set of pinned recipients. Unit tests pin hand-computed figures and every validation rule.
"""

from __future__ import annotations

import io
import json
import math
import random
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings, strategies as st

from ambiti_kit.errors import RuleViolation
from finance.cli import euro_it, main
from finance.domain.riparto import (
    Arrotondamento,
    Criterio,
    Destinatario,
    ErroreDati,
    Minimo,
    Risultato,
    esegui,
    esegui_da_dict,
    leggi_dati_riferimento,
    parametri_come_dict,
)

pytestmark = pytest.mark.unit
PROPRIETA = settings(max_examples=200, deadline=None)
C = Decimal("0.01")
#: method (a) as the acts that pay rounded percentages summing to more than 100% declare it
A = Arrotondamento("quote_arrotondate", 2, eccedenza_ammessa=True)
B = Arrotondamento("resto_maggiore", 2)


# ---------------------------------------------------------------------------------- oracles


def quote_attese(destinatari, criteri) -> dict[str, Fraction]:
    """Σ_k peso_k × x_ik / Σ_j x_jk, straight from the definition."""
    out = {}
    for d in destinatari:
        q = Fraction(0)
        for c in criteri:
            somma = sum(Fraction(Decimal(x.indicatori[c.indicatore])) for x in destinatari)
            q += Fraction(c.peso) * Fraction(Decimal(d.indicatori[c.indicatore])) / somma
        out[d.id] = q
    return out


def arrotonda_oracolo(x: Fraction, decimali: int) -> Decimal:
    """ROUND_HALF_UP through Decimal at 120 digits (exact enough for any fraction used here)."""
    with localcontext() as ctx:
        ctx.prec = 120
        valore = Decimal(x.numerator) / Decimal(x.denominator)
        return valore.quantize(Decimal(1).scaleb(-decimali), rounding=ROUND_HALF_UP)


def riempimento(quote: dict[str, Fraction], totale: Fraction, minimo: Fraction) -> dict[str, Fraction]:
    """Exact amounts max(minimo, λ·q·T) adding up to T: the pinned ones are the k smallest shares."""
    ordine = sorted(quote, key=lambda i: quote[i])
    for k in range(len(ordine)):
        fissati, liberi = ordine[:k], ordine[k:]
        ql = sum(quote[i] for i in liberi)
        if ql == 0:
            continue
        lam = (totale - minimo * k) / ql
        if all(lam * quote[i] >= minimo for i in liberi) and all(lam * quote[i] <= minimo for i in fissati):
            return {**{i: minimo for i in fissati}, **{i: lam * quote[i] for i in liberi}}
    raise AssertionError("nessuna soluzione: il minimo non è raggiungibile")


def euro(centesimi: int) -> Decimal:
    return Decimal(centesimi).scaleb(-2)


# ---------------------------------------------------------------------------------- strategies

INDICATORI = ("nuclei_beneficiari", "popolazione", "anziani_75")
valore_indicatore = st.one_of(
    st.integers(0, 10**6).map(Decimal),
    st.decimals(min_value=0, max_value=10**4, places=2, allow_nan=False, allow_infinity=False).map(abs),
    st.just(Decimal(0)),
)
totale_centesimi = st.one_of(st.integers(1, 10_000), st.integers(1, 10**13))


@st.composite
def scenari(draw, max_destinatari: int = 12):
    n = draw(st.integers(1, max_destinatari))
    k = draw(st.integers(1, len(INDICATORI)))
    nomi = INDICATORI[:k]
    ids = draw(st.lists(st.text("0123456789", min_size=6, max_size=6), min_size=n, max_size=n, unique=True))
    righe = [{nome: draw(valore_indicatore) for nome in nomi} for _ in ids]
    for nome in nomi:  # every indicator must split something
        if all(r[nome] == 0 for r in righe):
            righe[draw(st.integers(0, n - 1))][nome] = Decimal(draw(st.integers(1, 1000)))
    destinatari = [Destinatario(i, r) for i, r in zip(ids, righe)]
    pesi = draw(st.lists(st.integers(1, 100), min_size=k, max_size=k))
    criteri = [Criterio(nome, Fraction(p, sum(pesi))) for nome, p in zip(nomi, pesi)]
    totale = euro(draw(totale_centesimi))
    return totale, destinatari, criteri


decimali = st.integers(0, 4)


# ---------------------------------------------------------------------------------- properties: method (b)


@PROPRIETA
@given(scenari(), decimali)
def test_resto_maggiore_somma_esatta_quote_e_resti(scenario, dec) -> None:
    totale, destinatari, criteri = scenario
    r = esegui(totale, destinatari, criteri, Arrotondamento("resto_maggiore", dec))
    attese = quote_attese(destinatari, criteri)
    assert sum(attese.values()) == 1
    assert sum(a.importo for a in r.assegnazioni) == totale == r.totale_ripartito == r.totale_da_ripartire
    assert r.residuo == 0 and r.totale_integrazioni == 0 and r.totale_prelievi == 0
    esatti = {}
    for a in r.assegnazioni:
        assert a.quota == attese[a.id]  # criteria weights honoured, exactly
        esatto = attese[a.id] * Fraction(totale)
        esatti[a.id] = esatto * 100
        assert abs(Fraction(a.importo) - esatto) < Fraction(1, 100)  # within one cent of share × total
        assert a.importo == a.importo.quantize(C) and a.importo >= 0
        assert a.importo_base == a.importo
        assert Decimal(a.percentuale) == arrotonda_oracolo(attese[a.id] * 100, dec)
    # the extra cents went to the largest remainders, ties to the smaller id
    con_extra = {a.id for a in r.assegnazioni if Fraction(a.importo) * 100 > math.floor(esatti[a.id])}
    resto = {i: esatti[i] - math.floor(esatti[i]) for i in esatti}
    for i in con_extra:
        for j in set(esatti) - con_extra:
            assert resto[i] > resto[j] or (resto[i] == resto[j] and i < j), (i, j)


@PROPRIETA
@given(scenari(), st.integers(1, 10**9))
def test_resto_maggiore_con_integrazione(scenario, minimo_c) -> None:
    totale, destinatari, criteri = scenario
    m = euro(minimo_c)
    senza = esegui(totale, destinatari, criteri, B)
    r = esegui(totale, destinatari, criteri, B, Minimo(m, "integrazione"))
    assert all(a.importo >= m for a in r.assegnazioni)
    assert r.totale_ripartito == sum(a.importo for a in r.assegnazioni) == totale + r.totale_integrazioni
    assert r.totale_da_ripartire == totale + r.totale_integrazioni and r.residuo == 0
    for a, b in zip(r.assegnazioni, senza.assegnazioni):
        assert a.importo_base == b.importo
        assert a.integrazione == max(Decimal(0), m - b.importo) and a.prelievo == 0
        assert a.importo == max(m, b.importo)


@PROPRIETA
@given(scenari(), st.data())
def test_resto_maggiore_con_prelievo(scenario, data) -> None:
    totale, destinatari, criteri = scenario
    n = len(destinatari)
    t_c = int(totale * 100)
    assume(t_c >= n)
    m = euro(data.draw(st.integers(1, t_c // n)))
    r = esegui(totale, destinatari, criteri, B, Minimo(m, "prelievo"))
    assert sum(a.importo for a in r.assegnazioni) == totale == r.totale_ripartito == r.totale_da_ripartire
    assert r.residuo == 0
    assert all(a.importo >= m for a in r.assegnazioni)
    assert r.totale_integrazioni == r.totale_prelievi
    atteso = riempimento(quote_attese(destinatari, criteri), Fraction(totale), Fraction(m))
    for a in r.assegnazioni:
        assert abs(Fraction(a.importo) - atteso[a.id]) < Fraction(1, 100)
        assert a.importo == a.importo_base + a.integrazione - a.prelievo
        assert a.integrazione == 0 or a.prelievo == 0


@PROPRIETA
@given(scenari())
def test_prelievo_irraggiungibile_se_minimo_per_destinatari_supera_il_totale(scenario) -> None:
    totale, destinatari, criteri = scenario
    n = len(destinatari)
    m = (totale / n).quantize(C, rounding="ROUND_FLOOR") + C  # one cent too much each
    assume(m * n > totale)
    with pytest.raises(RuleViolation) as exc:
        esegui(totale, destinatari, criteri, B, Minimo(m, "prelievo"))
    assert exc.value.rule == "riparto.minimo_irraggiungibile" and exc.value.field == "minimo.importo"
    # funded on top of the total instead, the same floor is always possible
    r = esegui(totale, destinatari, criteri, B, Minimo(m, "integrazione"))
    assert all(a.importo >= m for a in r.assegnazioni)


# ---------------------------------------------------------------------------------- properties: method (a)


@PROPRIETA
@given(scenari(), decimali)
def test_quote_arrotondate_percentuali_e_residuo(scenario, dec) -> None:
    totale, destinatari, criteri = scenario
    attese = quote_attese(destinatari, criteri)
    somma_oracolo = sum(arrotonda_oracolo(Fraction(arrotonda_oracolo(attese[d.id] * 100, dec)) / 100
                                          * Fraction(totale), 2) for d in destinatari)
    try:  # never above the total unless the act declares it
        esegui(totale, destinatari, criteri, Arrotondamento("quote_arrotondate", dec))
        assert somma_oracolo <= totale
    except RuleViolation as exc:
        assert exc.rule == "riparto.eccedenza" and exc.field == "arrotondamento.metodo"
        assert somma_oracolo > totale
    r = esegui(totale, destinatari, criteri, Arrotondamento("quote_arrotondate", dec, eccedenza_ammessa=True))
    for a in r.assegnazioni:
        p = arrotonda_oracolo(attese[a.id] * 100, dec)
        assert a.percentuale == format(p, "f")  # rounded as declared, with exactly `dec` decimals
        assert len(a.percentuale.partition(".")[2]) == dec
        assert a.importo == arrotonda_oracolo(Fraction(p) / 100 * Fraction(totale), 2)
        assert a.quota == attese[a.id]
    assert r.residuo == totale - sum(a.importo for a in r.assegnazioni)  # reported exactly
    assert r.totale_ripartito + r.residuo == totale == r.totale_da_ripartire


@PROPRIETA
@given(scenari(), st.sampled_from(["integrazione", "prelievo"]), st.data())
def test_quote_arrotondate_con_minimo(scenario, modalita, data) -> None:
    totale, destinatari, criteri = scenario
    n = len(destinatari)
    t_c = int(totale * 100)
    assume(t_c >= n)
    m = euro(data.draw(st.integers(1, t_c // n)))
    senza = esegui(totale, destinatari, criteri, A)
    try:
        r = esegui(totale, destinatari, criteri, A, Minimo(m, modalita))
    except RuleViolation as exc:
        # only possible when the rounded shares add up to less than n floors
        assert modalita == "prelievo" and exc.rule == "riparto.minimo_irraggiungibile"
        assert m * n > senza.totale_ripartito
        return
    assert all(a.importo >= m for a in r.assegnazioni)
    assert [a.importo_base for a in r.assegnazioni] == [a.importo for a in senza.assegnazioni]
    assert [a.percentuale for a in r.assegnazioni] == [a.percentuale for a in senza.assegnazioni]
    if modalita == "integrazione":
        assert r.totale_ripartito == senza.totale_ripartito + r.totale_integrazioni
        assert r.residuo == senza.residuo == totale - senza.totale_ripartito
    else:
        assert r.totale_ripartito + r.residuo == totale
        assert abs(r.totale_ripartito - senza.totale_ripartito) <= C * n


# ---------------------------------------------------------------------------------- determinism and storage


@st.composite
def riparti(draw):
    totale, destinatari, criteri = draw(scenari(max_destinatari=8))
    arr = Arrotondamento(draw(st.sampled_from(["quote_arrotondate", "resto_maggiore"])), draw(decimali))
    minimo = None
    if draw(st.booleans()):
        limite = max(1, int(totale * 100) // len(destinatari))
        minimo = Minimo(euro(draw(st.integers(1, limite))), draw(st.sampled_from(["integrazione", "prelievo"])))
    return totale, destinatari, criteri, arr, minimo


def esegui_o_niente(totale, destinatari, criteri, arr, minimo):
    try:
        return esegui(totale, destinatari, criteri, arr, minimo)
    except RuleViolation as exc:
        assert exc.rule in ("riparto.minimo_irraggiungibile", "riparto.eccedenza")
        return None


@PROPRIETA
@given(riparti(), st.randoms(use_true_random=False))
def test_deterministico_e_indipendente_dall_ordine(params, rnd) -> None:
    totale, destinatari, criteri, arr, minimo = params
    r = esegui_o_niente(totale, destinatari, criteri, arr, minimo)
    assume(r is not None)
    assert esegui(totale, destinatari, criteri, arr, minimo) == r
    mescolati = list(destinatari)
    rnd.shuffle(mescolati)
    r2 = esegui(totale, mescolati, list(reversed(criteri)), arr, minimo)
    assert r2.importi() == r.importi()
    assert {a.id: a.percentuale for a in r2.assegnazioni} == {a.id: a.percentuale for a in r.assegnazioni}
    assert r2.residuo == r.residuo


@PROPRIETA
@given(riparti())
def test_come_dict_json_e_riesecuzione(params) -> None:
    r = esegui_o_niente(*params)
    assume(r is not None)
    d = r.come_dict()
    testo = json.dumps(d)  # JSON-safe: no Decimal, no Fraction, no float
    letto = json.loads(testo)
    numeri = [*(v for x in letto["input"]["destinatari"] for v in x["indicatori"].values()),
              *(v for a in letto["risultato"]["assegnazioni"] for k, v in a.items() if k not in ("id", "quota", "parti")),
              *(p["importo"] for a in letto["risultato"]["assegnazioni"] for p in a["parti"]),
              *letto["risultato"]["totali"].values(), letto["input"]["totale"]]
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", v) for v in numeri), numeri  # plain decimals, no exponent
    assert all(re.fullmatch(r"\d+(/\d+)?", a["quota"]) for a in letto["risultato"]["assegnazioni"])
    assert letto == d
    assert Risultato.da_dict(letto) == r
    assert Risultato.da_dict(letto).riesegui() == r
    assert esegui_da_dict(letto["input"]) == r
    assert Risultato.da_dict(letto).come_dict() == d
    for a in letto["risultato"]["assegnazioni"]:
        assert all(isinstance(v, str) for k, v in a.items() if k != "parti")
        assert all(isinstance(v, str) for p in a["parti"] for v in p.values())


# ---------------------------------------------------------------------------------- hand-computed examples


def comuni():
    """Three Comuni of an Ambito: nuclei beneficiari and resident population at 1 January."""
    return [
        Destinatario("065001", {"nuclei_beneficiari": Decimal(30), "popolazione": Decimal(6000)}),
        Destinatario("065002", {"nuclei_beneficiari": Decimal(10), "popolazione": Decimal(3000)}),
        Destinatario("065003", {"nuclei_beneficiari": Decimal(0), "popolazione": Decimal(1000)}),
    ]


CRITERI_60_40 = [Criterio("nuclei_beneficiari", Fraction(3, 5)), Criterio("popolazione", Fraction(2, 5))]


def test_sessanta_nuclei_quaranta_popolazione_a_mano() -> None:
    # 065001: 0.6 × 30/40 + 0.4 × 6000/10000 = 0.45 + 0.24 = 0.69
    # 065002: 0.6 × 10/40 + 0.4 × 3000/10000 = 0.15 + 0.12 = 0.27
    # 065003: 0.6 × 0     + 0.4 × 1000/10000 = 0.04
    r = esegui(Decimal("100000.00"), comuni(), CRITERI_60_40, B)
    assert [a.quota for a in r.assegnazioni] == [Fraction(69, 100), Fraction(27, 100), Fraction(4, 100)]
    assert [a.percentuale for a in r.assegnazioni] == ["69.00", "27.00", "4.00"]
    assert r.importi() == {"065001": Decimal("69000.00"), "065002": Decimal("27000.00"),
                           "065003": Decimal("4000.00")}


def test_minimo_con_integrazione_a_mano() -> None:
    r = esegui(Decimal("10000.00"), comuni(), CRITERI_60_40, B, Minimo(Decimal("600.00"), "integrazione"))
    c = r.assegnazione("065003")
    assert (c.importo_base, c.integrazione, c.prelievo, c.importo) == (
        Decimal("400.00"), Decimal("200.00"), Decimal("0.00"), Decimal("600.00"))
    assert r.importi() == {"065001": Decimal("6900.00"), "065002": Decimal("2700.00"), "065003": Decimal("600.00")}
    assert r.totale_da_ripartire == r.totale_ripartito == Decimal("10200.00")
    assert r.totale_integrazioni == Decimal("200.00") and r.totale_prelievi == 0 and r.residuo == 0


def test_minimo_con_prelievo_a_mano() -> None:
    # 065003 is 200.00 short; taken from the others in proportion to their shares 0.69 : 0.27
    # 065001: 6900 − 200 × 69/96 = 6756.25; 065002: 2700 − 200 × 27/96 = 2643.75
    r = esegui(Decimal("10000.00"), comuni(), CRITERI_60_40, B, Minimo(Decimal("600.00"), "prelievo"))
    assert r.importi() == {"065001": Decimal("6756.25"), "065002": Decimal("2643.75"), "065003": Decimal("600.00")}
    assert r.assegnazione("065001").prelievo == Decimal("143.75")
    assert r.assegnazione("065002").prelievo == Decimal("56.25")
    assert r.assegnazione("065003").integrazione == Decimal("200.00")
    assert r.totale_ripartito == r.totale_da_ripartire == Decimal("10000.00")


def test_prelievo_itera_finche_nessuno_resta_sotto_il_minimo() -> None:
    # shares 5%, 19%, 76% of 1000.00 with a floor of 200.00:
    # round 1: A pinned (150 short): B loses 150 × 19/95 = 30 → 160, under the floor;
    # round 2: A and B pinned (150 + 10 short): C = 760 − 160 = 600.
    dest = [Destinatario("A", {"x": 5}), Destinatario("B", {"x": 19}), Destinatario("C", {"x": 76})]
    for arr in (A, B):
        r = esegui(Decimal("1000.00"), dest, [Criterio("x", Fraction(1))], arr, Minimo(Decimal("200"), "prelievo"))
        assert r.importi() == {"A": Decimal("200.00"), "B": Decimal("200.00"), "C": Decimal("600.00")}
        assert [(a.integrazione, a.prelievo) for a in r.assegnazioni] == [
            (Decimal("150.00"), 0), (Decimal("10.00"), 0), (0, Decimal("160.00"))]


def test_minimo_esattamente_raggiungibile() -> None:
    dest = [Destinatario(i, {"x": v}) for i, v in (("A", 1), ("B", 1), ("C", 98))]
    r = esegui(Decimal("300.00"), dest, [Criterio("x", Fraction(1))], B, Minimo(Decimal("100.00"), "prelievo"))
    assert set(r.importi().values()) == {Decimal("100.00")}


def test_resto_maggiore_pareggio_al_codice_minore() -> None:
    dest = [Destinatario(i, {"x": 1}) for i in ("065003", "065001", "065002")]
    r = esegui(Decimal("100.00"), dest, [Criterio("x", Fraction(1))], B)
    assert r.importi() == {"065003": Decimal("33.33"), "065001": Decimal("33.34"), "065002": Decimal("33.33")}
    assert [a.percentuale for a in r.assegnazioni] == ["33.33"] * 3


def test_quote_arrotondate_residuo_positivo_e_negativo() -> None:
    tre = [Destinatario(i, {"x": 1}) for i in "ABC"]
    r = esegui(Decimal("100.00"), tre, [Criterio("x", Fraction(1))], A)
    assert set(r.importi().values()) == {Decimal("33.33")}
    assert r.residuo == Decimal("0.01") and r.totale_ripartito == Decimal("99.99")
    # 1/6, 1/6, 2/3 → 16.67% + 16.67% + 66.67% = 100.01%: 10 cents too many on 1,000.00
    sesti = [Destinatario("A", {"x": 1}), Destinatario("B", {"x": 1}), Destinatario("C", {"x": 4})]
    r = esegui(Decimal("1000.00"), sesti, [Criterio("x", Fraction(1))], A)
    assert [a.percentuale for a in r.assegnazioni] == ["16.67", "16.67", "66.67"]
    assert r.importi() == {"A": Decimal("166.70"), "B": Decimal("166.70"), "C": Decimal("666.70")}
    assert r.residuo == Decimal("-0.10")
    # to three decimals of a percent: 16.667% → 166.67
    with pytest.raises(RuleViolation) as e:  # not declared by the act: refused
        esegui(Decimal("1000.00"), sesti, [Criterio("x", Fraction(1))], Arrotondamento("quote_arrotondate", 3))
    assert e.value.rule == "riparto.eccedenza" and e.value.field == "arrotondamento.metodo"
    assert "0.01 € più di 1000.00 €" in e.value.detail
    r = esegui(Decimal("1000.00"), sesti, [Criterio("x", Fraction(1))],
               Arrotondamento("quote_arrotondate", 3, eccedenza_ammessa=True))
    assert [a.percentuale for a in r.assegnazioni] == ["16.667", "16.667", "66.667"]
    assert r.importi() == {"A": Decimal("166.67"), "B": Decimal("166.67"), "C": Decimal("666.67")}
    assert r.residuo == Decimal("-0.01")


def test_quote_arrotondate_arrotonda_il_mezzo_per_eccesso() -> None:
    # 1/8 = 12.5% → to 0 decimals 13%; 3/8 = 37.5% → 38%; 1/2 → 50%: 101%, residuo −1%
    dest = [Destinatario("A", {"x": 1}), Destinatario("B", {"x": 3}), Destinatario("C", {"x": 4})]
    r = esegui(Decimal("200.00"), dest, [Criterio("x", Fraction(1))],
               Arrotondamento("quote_arrotondate", 0, eccedenza_ammessa=True))
    assert [a.percentuale for a in r.assegnazioni] == ["13", "38", "50"]
    assert r.importi() == {"A": Decimal("26.00"), "B": Decimal("76.00"), "C": Decimal("100.00")}
    assert r.residuo == Decimal("-2.00")


def test_destinatario_con_quota_zero() -> None:
    dest = [Destinatario("A", {"x": 0}), Destinatario("B", {"x": 7})]
    r = esegui(Decimal("10.00"), dest, [Criterio("x", Fraction(1))], B)
    assert r.importi() == {"A": Decimal("0.00"), "B": Decimal("10.00")}
    assert r.assegnazione("A").percentuale == "0.00"


def test_come_dict_forma() -> None:
    r = esegui(Decimal("10000"), comuni(), [Criterio("nuclei_beneficiari", "0.6"), Criterio("popolazione", "2/5")],
               Arrotondamento("resto_maggiore", 2), Minimo("600", "prelievo"))
    d = r.come_dict()
    assert d["versione"] == 2
    assert d["input"] == {
        "totale": "10000.00",
        "destinatari": [
            {"id": "065001", "indicatori": {"nuclei_beneficiari": "30", "popolazione": "6000"}},
            {"id": "065002", "indicatori": {"nuclei_beneficiari": "10", "popolazione": "3000"}},
            {"id": "065003", "indicatori": {"nuclei_beneficiari": "0", "popolazione": "1000"}},
        ],
        "criteri": [{"indicatore": "nuclei_beneficiari", "peso": "3/5"}, {"indicatore": "popolazione", "peso": "2/5"}],
        "arrotondamento": {"metodo": "resto_maggiore", "decimali_percentuale": 2, "eccedenza_ammessa": False},
        "minimo": {"importo": "600.00", "modalita": "prelievo"},
        "massimo": None,
    }
    assert d["risultato"]["assegnazioni"][0] == {
        "id": "065001", "quota": "69/100", "percentuale": "69.00", "importo_base": "6900.00",
        "integrazione": "0.00", "prelievo": "143.75", "importo": "6756.25",
        "parti": [{"quota": "unica", "frazione": "69/100", "percentuale": "69.00", "importo": "6900.00"}]}
    assert d["risultato"]["quote"] == [{"nome": "unica", "peso": "1", "importo": "10000.00", "ripartito": "10000.00",
                                        "residuo": "0.00", "scarto_massimo": "0.01"}]
    assert d["risultato"]["totali"] == {"totale": "10000.00", "da_ripartire": "10000.00", "ripartito": "10000.00",
                                         "integrazioni": "200.00", "prelievi": "200.00", "economie": "0.00",
                                         "residuo": "0.00"}
    assert parametri_come_dict(**r.parametri()) == d["input"]


def test_un_riparto_alterato_non_coincide_con_la_riesecuzione() -> None:
    r = esegui(Decimal("10000.00"), comuni(), CRITERI_60_40, B)
    d = r.come_dict()
    d["risultato"]["assegnazioni"][0]["importo"] = "6900.01"
    letto = Risultato.da_dict(d)
    assert letto != r and letto.riesegui() == r


def test_da_dict_illeggibile() -> None:
    for rotto in ({}, {"versione": 2}, {"versione": 1, "input": {}, "risultato": {}}):
        with pytest.raises(RuleViolation) as exc:
            Risultato.da_dict(rotto)
        assert exc.value.rule in ("riparto.formato",)


# ---------------------------------------------------------------------------------- validation errors

D2 = [Destinatario("A", {"x": Decimal(1)}), Destinatario("B", {"x": Decimal(3)})]
X = [Criterio("x", Fraction(1))]


@pytest.mark.parametrize(("kwargs", "regola", "campo"), [
    ({"totale": Decimal("0")}, "importo.positivo", "totale"),
    ({"totale": Decimal("-5.00")}, "importo.positivo", "totale"),
    ({"totale": Decimal("10.001")}, "importo.centesimi", "totale"),
    ({"totale": 10.5}, "importo.formato", "totale"),
    ({"totale": "dieci"}, "importo.formato", "totale"),
    ({"totale": Decimal("NaN")}, "importo.formato", "totale"),
    ({"totale": Decimal("1e12")}, "importo.massimo", "totale"),
    ({"criteri": []}, "riparto.criteri_presenti", "criteri"),
    ({"criteri": [Criterio("x", Fraction(1, 2)), Criterio("y", Fraction(1, 3))]}, "riparto.pesi_somma_uno", "criteri"),
    ({"criteri": [Criterio("x", Fraction(3, 5)), Criterio("y", Fraction(0))]}, "riparto.peso_positivo",
     "criteri.1.peso"),
    ({"criteri": [Criterio("x", Fraction(3, 2)), Criterio("y", Fraction(-1, 2))]}, "riparto.peso_positivo",
     "criteri.0.peso"),
    ({"criteri": [Criterio("x", 0.6), Criterio("y", Fraction(2, 5))]}, "riparto.peso_non_valido", "criteri.0.peso"),
    ({"criteri": [Criterio("x", Fraction(3, 5)), Criterio("y", "due quinti")]}, "riparto.peso_non_valido",
     "criteri.1.peso"),
    ({"criteri": [Criterio("x", Fraction(1, 2)), Criterio("x", Fraction(1, 2))]}, "riparto.criteri_unici",
     "criteri.1.indicatore"),
    ({"criteri": [Criterio(" ", Fraction(1))]}, "riparto.criterio_indicatore", "criteri.0.indicatore"),
    ({"criteri": [Criterio("x", Fraction(3, 5)), Criterio("popolazione", Fraction(2, 5))]},
     "riparto.indicatore_mancante", "destinatari.0.indicatori.popolazione"),
    ({"destinatari": []}, "riparto.destinatari_presenti", "destinatari"),
    ({"destinatari": [*D2, Destinatario("A", {"x": Decimal(2)})]}, "riparto.destinatari_unici", "destinatari.2.id"),
    ({"destinatari": [*D2, Destinatario("", {"x": Decimal(2)})]}, "riparto.destinatario_id", "destinatari.2.id"),
    ({"destinatari": [*D2, Destinatario("C", {"x": Decimal(-2)})]}, "riparto.indicatore_negativo",
     "destinatari.2.indicatori.x"),
    ({"destinatari": [*D2, Destinatario("C", {"x": 2.5})]}, "riparto.indicatore_non_valido",
     "destinatari.2.indicatori.x"),
    ({"destinatari": [*D2, Destinatario("C", {"x": "molti"})]}, "riparto.indicatore_non_valido",
     "destinatari.2.indicatori.x"),
    ({"destinatari": [*D2, Destinatario("C", {"y": Decimal(1)})]}, "riparto.indicatore_mancante",
     "destinatari.2.indicatori.x"),
    ({"destinatari": [Destinatario("A", {"x": 0}), Destinatario("B", {"x": "0.00"})]},
     "riparto.totale_indicatore_zero", "criteri.0.indicatore"),
    ({"arrotondamento": Arrotondamento("a_occhio")}, "riparto.metodo_arrotondamento", "arrotondamento.metodo"),
    ({"arrotondamento": Arrotondamento("resto_maggiore", -1)}, "riparto.decimali_percentuale",
     "arrotondamento.decimali_percentuale"),
    ({"arrotondamento": Arrotondamento("resto_maggiore", 11)}, "riparto.decimali_percentuale",
     "arrotondamento.decimali_percentuale"),
    ({"minimo": Minimo(Decimal("10"), "a_carico_di_chi")}, "riparto.modalita_minimo", "minimo.modalita"),
    ({"minimo": Minimo(Decimal("0"), "prelievo")}, "importo.positivo", "minimo.importo"),
    ({"minimo": Minimo(Decimal("1.005"), "prelievo")}, "importo.centesimi", "minimo.importo"),
    ({"minimo": Minimo(Decimal("50.01"), "prelievo")}, "riparto.minimo_irraggiungibile", "minimo.importo"),
])
def test_errori_con_regola_e_campo(kwargs, regola, campo) -> None:
    params = {"totale": Decimal("100.00"), "destinatari": D2, "criteri": X, "arrotondamento": B, **kwargs}
    with pytest.raises(RuleViolation) as exc:
        esegui(**params)
    assert (exc.value.rule, exc.value.field) == (regola, campo)
    assert exc.value.status == 422 and exc.value.detail  # an Italian message for the problem+json


def test_minimo_al_limite_e_integrazione_oltre_il_limite() -> None:
    r = esegui(Decimal("100.00"), D2, X, B, Minimo(Decimal("50.00"), "prelievo"))
    assert r.importi() == {"A": Decimal("50.00"), "B": Decimal("50.00")}
    r = esegui(Decimal("100.00"), D2, X, B, Minimo(Decimal("80.00"), "integrazione"))
    assert r.importi() == {"A": Decimal("80.00"), "B": Decimal("80.00")}
    assert r.totale_da_ripartire == Decimal("160.00") and r.totale_integrazioni == Decimal("60.00")


def test_quote_arrotondate_minimo_irraggiungibile_sulla_somma_arrotondata() -> None:
    # 33.33% × 3 of 100.00 = 99.99: three floors of 33.33 still fit the rounded shares;
    # 33% × 3 of 100.02 = 3 × 33.01 = 99.03: three floors of 33.34 fit the total, not the rounded shares
    tre = [Destinatario(i, {"x": 1}) for i in "ABC"]
    r = esegui(Decimal("100.00"), tre, X, A, Minimo(Decimal("33.33"), "prelievo"))
    assert set(r.importi().values()) == {Decimal("33.33")}
    with pytest.raises(RuleViolation) as exc:
        esegui(Decimal("100.02"), tre, X, Arrotondamento("quote_arrotondate", 0), Minimo(Decimal("33.34"), "prelievo"))
    assert exc.value.rule == "riparto.minimo_irraggiungibile"


def test_esegui_da_dict_nomina_il_campo_del_corpo_json() -> None:
    corpo = {
        "totale": "1000.00",
        "destinatari": [{"id": "065001", "indicatori": {"popolazione": "100"}},
                        {"id": "065002", "indicatori": {"popolazione": "-1"}}],
        "criteri": [{"indicatore": "popolazione", "peso": "1"}],
        "arrotondamento": {"metodo": "resto_maggiore"},
    }
    with pytest.raises(RuleViolation) as exc:
        esegui_da_dict(corpo)
    assert (exc.value.rule, exc.value.field) == ("riparto.indicatore_negativo", "destinatari.1.indicatori.popolazione")
    corpo["destinatari"][1]["indicatori"]["popolazione"] = "300"
    r = esegui_da_dict(corpo)
    assert r.importi() == {"065001": Decimal("250.00"), "065002": Decimal("750.00")}
    del corpo["criteri"][0]["peso"]
    with pytest.raises(RuleViolation) as exc:
        esegui_da_dict(corpo)
    assert (exc.value.rule, exc.value.field) == ("riparto.formato", "criteri.0.peso")


# ---------------------------------------------------------------------------------- CSV reference data


def test_csv_valido() -> None:
    testo = "\ufeffistat,popolazione,nuclei\n065001, 12000 ,120\n\n065002,800,3.5\n"
    righe, errori = leggi_dati_riferimento(testo, ["popolazione"])
    assert errori == []
    assert righe == [Destinatario("065001", {"popolazione": Decimal(12000), "nuclei": Decimal(120)}),
                     Destinatario("065002", {"popolazione": Decimal(800), "nuclei": Decimal("3.5")})]


def test_csv_con_punto_e_virgola() -> None:
    righe, errori = leggi_dati_riferimento("istat;popolazione\n065001;10\n065002;30\n")
    assert errori == [] and [r.id for r in righe] == ["065001", "065002"]


def test_csv_riporta_tutti_gli_errori_con_riga_e_colonna() -> None:
    testo = (
        "istat,popolazione,nuclei\n"      # 1
        "065001,12000,120\n"              # 2 ok
        "065002,-5,3\n"                   # 3 negative
        "065003,1.234,abc\n"              # 4 "abc" not a number (1.234 is a valid decimal)
        ",10,\n"                          # 5 empty id and empty value
        "065001,7,7\n"                    # 6 duplicate id
        "065007,7\n"                      # 7 missing a column
        "065008,1e3,NaN\n"                # 8 no exponent, no NaN
        "065009,\"1.000,5\",2\n"          # 9 Italian thousands/decimal separators
    )
    righe, errori = leggi_dati_riferimento(testo, ["popolazione", "anziani"])
    assert [(e.riga, e.colonna, e.regola) for e in errori] == [
        (1, "anziani", "dati.colonna_mancante"),
        (3, "popolazione", "dati.valore_negativo"),
        (4, "nuclei", "dati.numero_non_valido"),
        (5, "istat", "dati.valore_vuoto"),
        (5, "nuclei", "dati.valore_vuoto"),
        (6, "istat", "dati.id_duplicato"),
        (7, None, "dati.numero_colonne"),
        (8, "popolazione", "dati.numero_non_valido"),
        (8, "nuclei", "dati.numero_non_valido"),
        (9, "popolazione", "dati.numero_non_valido"),
    ]
    assert [r.id for r in righe] == ["065001"]  # only the good rows, usable only if errori is empty
    assert "riga 2" in errori[5].messaggio
    assert str(errori[1]) == ("riga 3, colonna «popolazione»: Il valore -5 è negativo: gli indicatori sono ≥ 0. "
                              "[dati.valore_negativo]")
    assert errori[1].come_dict() == {"riga": 3, "colonna": "popolazione", "regola": "dati.valore_negativo",
                                     "messaggio": errori[1].messaggio}


@pytest.mark.parametrize(("testo", "attesi"), [
    ("", [(1, None, "dati.vuoto")]),
    ("   \n\n", [(1, None, "dati.vuoto")]),
    ("istat\n065001\n", [(1, None, "dati.colonne_richieste")]),
    ("istat,popolazione,popolazione\n065001,1,2\n", [(1, "popolazione", "dati.colonne_duplicate")]),
    ("istat,,nuclei\n065001,1,2\n", [(1, "#2", "dati.intestazione_vuota")]),
    ("istat,popolazione\n", [(1, None, "dati.vuoto")]),
    ("\n\nistat,popolazione\n\n065001,x\n", [(5, "popolazione", "dati.numero_non_valido")]),
])
def test_csv_intestazione_e_casi_limite(testo, attesi) -> None:
    righe, errori = leggi_dati_riferimento(testo)
    assert [(e.riga, e.colonna, e.regola) for e in errori] == attesi
    assert all(isinstance(e, ErroreDati) for e in errori)


@PROPRIETA
@given(scenari())
def test_csv_riletto_da_gli_stessi_destinatari(scenario) -> None:
    _, destinatari, _ = scenario
    nomi = list(destinatari[0].indicatori)
    testo = "istat," + ",".join(nomi) + "\n" + "".join(
        d.id + "," + ",".join(format(d.indicatori[n], "f") for n in nomi) + "\n" for d in destinatari)
    righe, errori = leggi_dati_riferimento(testo, nomi)
    assert errori == [] and righe == destinatari


# ---------------------------------------------------------------------------------- command line


@pytest.fixture
def dati_csv(tmp_path):
    p = tmp_path / "dati.csv"
    p.write_text("istat,popolazione,nuclei\n065001,6000,30\n065002,3000,10\n065003,1000,0\n", encoding="utf-8")
    return p


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    codice = main(list(argv), stdout=out, stderr=err)
    return codice, out.getvalue(), err.getvalue()


def test_cli_tabella(dati_csv) -> None:
    codice, out, err = cli("riparto", "--dati", str(dati_csv), "--totale", "10000.00", "--criterio", "popolazione=0.4",
                           "--criterio", "nuclei=0.6", "--minimo", "600.00", "--modalita", "prelievo",
                           "--metodo", "resto_maggiore")
    assert codice == 0 and err == ""
    assert "Destinatario" in out and "Importo base" in out and "Integrazione" in out and "Prelievo" in out
    assert "065001" in out and "6.756,25" in out and "600,00" in out
    assert "Totale da ripartire: 10.000,00 €" in out and "Residuo:             0,00 €" in out
    assert "Criteri: popolazione 40%, nuclei 60%" in out


def test_cli_json(dati_csv) -> None:
    codice, out, _ = cli("riparto", "--dati", str(dati_csv), "--totale", "10000.00", "--criterio", "popolazione=2/5",
                         "--criterio", "nuclei=3/5", "--minimo", "600", "--modalita", "integrazione",
                         "--metodo", "quote_arrotondate", "--decimali", "1", "--json")
    assert codice == 0
    d = json.loads(out)
    r = Risultato.da_dict(d)
    assert r.riesegui() == r
    assert r.importi() == {"065001": Decimal("6900.00"), "065002": Decimal("2700.00"), "065003": Decimal("600.00")}
    assert d["input"]["arrotondamento"] == {"metodo": "quote_arrotondate", "decimali_percentuale": 1,
                                            "eccedenza_ammessa": False}
    assert d["risultato"]["totali"]["da_ripartire"] == "10200.00"


def test_cli_stdin() -> None:
    out, err = io.StringIO(), io.StringIO()
    codice = main(["riparto", "--dati", "-", "--totale", "10.00", "--criterio", "x=1", "--metodo", "resto_maggiore",
                   "--json"], stdin=io.StringIO("id,x\nA,1\nB,2\n"), stdout=out, stderr=err)
    assert codice == 0 and json.loads(out.getvalue())["risultato"]["totali"]["ripartito"] == "10.00"


def test_cli_errori_csv_escono_con_2(tmp_path) -> None:
    p = tmp_path / "rotto.csv"
    p.write_text("istat,popolazione\n065001,-3\n065002,abc\n065001,4\n", encoding="utf-8")
    codice, out, err = cli("riparto", "--dati", str(p), "--totale", "100.00", "--criterio", "popolazione=1",
                           "--metodo", "resto_maggiore")
    assert codice == 2 and out == ""
    assert "riga 2, colonna «popolazione»" in err and "[dati.valore_negativo]" in err
    assert "riga 3, colonna «popolazione»" in err and "riga 4, colonna «istat»" in err


@pytest.mark.parametrize(("argv", "nel_messaggio"), [
    (["--criterio", "popolazione=0.4", "--criterio", "nuclei=0.5"], "riparto.pesi_somma_uno"),
    (["--criterio", "popolazione"], "INDICATORE=PESO"),
    (["--criterio", "popolazione=1", "--minimo", "600"], "--minimo e --modalita"),
    (["--criterio", "popolazione=1", "--minimo", "6000", "--modalita", "prelievo"], "riparto.minimo_irraggiungibile"),
    (["--criterio", "anziani=1"], "dati.colonna_mancante"),
    (["--criterio", "popolazione=1", "--decimali", "12"], "riparto.decimali_percentuale"),
])
def test_cli_errori_di_dominio_escono_con_2(dati_csv, argv, nel_messaggio) -> None:
    codice, out, err = cli("riparto", "--dati", str(dati_csv), "--totale", "10000.00", "--metodo", "resto_maggiore",
                           *argv)
    assert codice == 2 and out == "" and nel_messaggio in err


def test_cli_file_mancante_e_argomenti_errati(tmp_path, capsys) -> None:
    codice, _, err = cli("riparto", "--dati", str(tmp_path / "non_esiste.csv"), "--totale", "1.00",
                         "--criterio", "x=1", "--metodo", "resto_maggiore")
    assert codice == 2 and "impossibile leggere" in err
    with pytest.raises(SystemExit) as exc:  # argparse: unknown method
        main(["riparto", "--dati", "x.csv", "--totale", "1", "--criterio", "x=1", "--metodo", "a_occhio"])
    assert exc.value.code == 2


def test_cli_come_modulo(dati_csv) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "finance.cli", "riparto", "--dati", str(dati_csv), "--totale", "1000000.00",
         "--criterio", "popolazione=0.4", "--criterio", "nuclei=0.6", "--metodo", "resto_maggiore", "--json"],
        capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["risultato"]["totali"]["ripartito"] == "1000000.00"
    proc = subprocess.run([sys.executable, "-m", "finance.cli", "riparto", "--dati", str(dati_csv), "--totale", "0",
                           "--criterio", "popolazione=1", "--metodo", "resto_maggiore"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "importo.positivo" in proc.stderr


def test_euro_it() -> None:
    assert euro_it(Decimal("1234567.8")) == "1.234.567,80"
    assert euro_it(Decimal("0")) == "0,00"
    assert euro_it(Decimal("-0.10")) == "-0,10"


def test_ordine_casuale_non_cambia_nulla() -> None:
    dest = [Destinatario(f"{i:06d}", {"x": i % 7, "y": (i * 13) % 11 + 1}) for i in range(40)]
    crit = [Criterio("x", Fraction(1, 3)), Criterio("y", Fraction(2, 3))]
    base = esegui(Decimal("12345.67"), dest, crit, B, Minimo(Decimal("150.00"), "prelievo"))
    rnd = random.Random(4)
    for _ in range(5):
        mescolati = dest[:]
        rnd.shuffle(mescolati)
        assert esegui(Decimal("12345.67"), mescolati, crit, B, Minimo(Decimal("150.00"), "prelievo")).importi() \
            == base.importi()


@pytest.mark.parametrize("indicatore, peso, rule", [
    ("1e5000", "1", "riparto.numero_fuori_scala"),       # would make a 5,000-digit fraction
    ("1e9999999", "1", "riparto.numero_fuori_scala"),     # nine characters, minutes of arithmetic
    ("12", "1e-5000", "riparto.peso_non_valido"),
    ("12", "1/10000000000", "riparto.peso_non_valido"),
])
def test_numbers_out_of_any_real_scale_are_refused_at_once(indicatore: str, peso: str, rule: str) -> None:
    with pytest.raises(RuleViolation) as err:
        esegui(Decimal("1000.00"), [Destinatario("065134", {"x": indicatore}), Destinatario("065156", {"x": "3"})],
               [Criterio("x", peso)], Arrotondamento("resto_maggiore"))
    assert err.value.rule == rule


def test_a_csv_value_beyond_sixteen_digits_is_a_row_error() -> None:
    righe, errori = leggi_dati_riferimento("istat,popolazione\n065134," + "9" * 5000 + "\n065156,3204\n")
    assert [e.riga for e in errori] == [2] and [d.id for d in righe] == ["065156"]


# ---------------------------------------------------------------------------------- warnings (avvisi)


def test_avvisi_residuo_e_destinatari_a_zero() -> None:
    tre = [Destinatario(i, {"popolazione": Decimal(1)}) for i in ("A", "B", "C")]
    r = esegui(Decimal("100.00"), tre, [Criterio("popolazione", Fraction(1))], Arrotondamento("quote_arrotondate", 2))
    assert r.residuo == Decimal("0.01")
    assert r.avvisi() == [{"regola": "riparto.residuo", "importo": "0.01", "messaggio": r.avvisi()[0]["messaggio"]}]
    assert "residuo non ripartito" in r.avvisi()[0]["messaggio"]
    # the warnings come from the result alone: a stored riparto read back gives the same ones
    assert Risultato.da_dict(r.come_dict()).avvisi() == r.avvisi()

    con_zero = [*tre, Destinatario("D", {"popolazione": Decimal(0)})]
    esatto = esegui(Decimal("90.00"), con_zero, [Criterio("popolazione", Fraction(1))], Arrotondamento("resto_maggiore"))
    assert [a["regola"] for a in esatto.avvisi()] == ["riparto.destinatari_a_zero"]
    assert "1 destinatari non ricevono nulla: D." == esatto.avvisi()[0]["messaggio"]


def test_avvisi_del_minimo() -> None:
    dest = [Destinatario("A", {"p": Decimal(99)}), Destinatario("B", {"p": Decimal(1)})]
    r = esegui(Decimal("1000.00"), dest, [Criterio("p", Fraction(1))], Arrotondamento("resto_maggiore"),
               Minimo(Decimal("100.00"), "integrazione"))
    assert [(a["regola"], a["importo"]) for a in r.avvisi()] == [("riparto.integrazioni", "90.00")]
    r = esegui(Decimal("1000.00"), dest, [Criterio("p", Fraction(1))], Arrotondamento("resto_maggiore"),
               Minimo(Decimal("100.00"), "prelievo"))
    assert [(a["regola"], a["importo"]) for a in r.avvisi()] == [("riparto.prelievi", "90.00")]
