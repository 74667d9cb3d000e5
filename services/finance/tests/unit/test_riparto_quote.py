"""Riparti in quotas (``finance.domain.riparto``): the invariants of issue 12, against independent oracles.

- never above the total unless the act declares it (``eccedenza_ammessa``);
- floors and ceilings on the recipient's total across quotas, never on one quota alone;
- largest remainder exact (every quota and the whole add up to the cent);
- each quota rounded as declared (``per_importo``, ``quote_arrotondate``, ``resto_maggiore``);
- the bounds financed from the pot follow the "water filling" form ``clamp(v + μ·quota, min, max)``,
  found here by bisection (the engine solves it exactly over its breakpoints).

The oracles below compute from the definitions with ``Decimal.quantize`` at high precision and
bisection, not with the engine's integer-cent code.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings, strategies as st

from ambiti_kit.errors import RuleViolation
from finance.domain.riparto import (
    Arrotondamento,
    Criterio,
    Destinatario,
    Massimo,
    Minimo,
    Quota,
    Risultato,
    esegui,
    esegui_da_dict,
)

pytestmark = pytest.mark.unit
PROPRIETA = settings(max_examples=60, deadline=None)
C = Decimal("0.01")


# ---------------------------------------------------------------------------------- oracles


def q(x: Fraction, decimali: int, rounding=ROUND_HALF_UP) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 120
        return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal(1).scaleb(-decimali),
                                                                         rounding=rounding)


def frazioni(destinatari, criteri) -> dict[str, Fraction]:
    out = {}
    for d in destinatari:
        out[d.id] = sum((Fraction(c.peso) * Fraction(d.indicatori[c.indicatore])
                         / sum(Fraction(x.indicatori[c.indicatore]) for x in destinatari) for c in criteri),
                        Fraction(0))
    return out


def importi_quote(totale: Decimal, quote) -> dict[str, Decimal]:
    """The quotas' amounts: peso × totale, largest remainder to the cent (ties to the smaller name)."""
    esatti = {x.nome: Fraction(x.peso) * Fraction(totale) for x in quote}
    giu = {k: q(v, 2, ROUND_FLOOR) for k, v in esatti.items()}
    mancano = int((totale - sum(giu.values())) / C)
    for k in sorted(esatti, key=lambda k: (-(esatti[k] - Fraction(giu[k])), k))[:mancano]:
        giu[k] += C
    return giu


def parti_attese(destinatari, quota, importo: Decimal) -> dict[str, Decimal] | None:
    """A quota's parts by its declared rounding (None for largest remainder: checked by its properties)."""
    s = frazioni(destinatari, quota.criteri)
    arr = quota.arrotondamento
    if arr.metodo == "per_importo":
        return {i: q(s[i] * Fraction(importo), 2) for i in s}
    if arr.metodo == "quote_arrotondate":
        return {i: q(Fraction(q(s[i] * 100, arr.decimali_percentuale)) / 100 * Fraction(importo), 2) for i in s}
    return None


def livello(v: dict[str, Fraction], w: dict[str, Fraction], lo, hi, somma: Fraction) -> dict[str, Fraction]:
    """clamp(v + μ·w, lo, hi) adding up to ``somma``, μ by bisection (160 halvings: far below a cent)."""
    def clamp(x):
        if lo is not None and x < lo:
            return Fraction(lo)
        if hi is not None and x > hi:
            return Fraction(hi)
        return x

    def f(mu):
        return sum(clamp(v[i] + mu * w[i]) for i in v)

    ampiezza = Fraction(10**17)
    a, b = -ampiezza, ampiezza
    for _ in range(160):
        m = (a + b) / 2
        if f(m) < somma:
            a = m
        else:
            b = m
    return {i: clamp(v[i] + b * w[i]) for i in v}


# ---------------------------------------------------------------------------------- strategies

INDICATORI = ("popolazione", "scarto_reddito", "anziani")
valore = st.one_of(st.integers(0, 10**6).map(Decimal), st.just(Decimal(0)),
                   st.decimals(min_value=0, max_value=10**4, places=2, allow_nan=False, allow_infinity=False))
metodo = st.sampled_from(["per_importo", "quote_arrotondate", "resto_maggiore"])


@st.composite
def riparti(draw, max_destinatari: int = 10, metodi=metodo):
    n = draw(st.integers(1, max_destinatari))
    ids = [f"{k:06d}" for k in draw(st.lists(st.integers(1, 999999), min_size=n, max_size=n, unique=True))]
    righe = [{nome: draw(valore) for nome in INDICATORI} for _ in ids]
    for nome in INDICATORI:
        if all(r[nome] == 0 for r in righe):
            righe[draw(st.integers(0, n - 1))][nome] = Decimal(draw(st.integers(1, 1000)))
    destinatari = [Destinatario(i, r) for i, r in zip(ids, righe)]
    k = draw(st.integers(1, 3))
    pesi = draw(st.lists(st.integers(1, 100), min_size=k, max_size=k))
    quote = []
    for j in range(k):
        nomi = draw(st.lists(st.sampled_from(INDICATORI), min_size=1, max_size=3, unique=True))
        pc = draw(st.lists(st.integers(1, 10), min_size=len(nomi), max_size=len(nomi)))
        quote.append(Quota(f"q{j}", Fraction(pesi[j], sum(pesi)),
                           tuple(Criterio(x, Fraction(p, sum(pc))) for x, p in zip(nomi, pc)),
                           Arrotondamento(draw(metodi), draw(st.integers(0, 4)))))
    totale = Decimal(draw(st.one_of(st.integers(1, 10**6), st.integers(1, 10**13)))).scaleb(-2)
    return totale, destinatari, quote


def consentita(quote):
    return [Quota(x.nome, x.peso, x.criteri, Arrotondamento(x.arrotondamento.metodo,
                                                           x.arrotondamento.decimali_percentuale, True))
            for x in quote]


# ---------------------------------------------------------------------------------- properties


@PROPRIETA
@given(riparti())
def test_mai_oltre_il_totale_se_l_atto_non_lo_dichiara(params) -> None:
    totale, destinatari, quote = params
    importi = importi_quote(totale, quote)
    attese = {x.nome: parti_attese(destinatari, x, importi[x.nome]) for x in quote}
    oltre = [x.nome for x in quote if attese[x.nome] is not None and sum(attese[x.nome].values()) > importi[x.nome]]
    try:
        r = esegui(totale, destinatari, quote=quote)
    except RuleViolation as exc:
        assert exc.rule == "riparto.eccedenza" and oltre, exc
        assert exc.field == f"quote.{[x.nome for x in quote].index(oltre[0])}.arrotondamento.metodo"
        r = esegui(totale, destinatari, quote=consentita(quote))  # declared: accepted, and shown per quota
        assert {e.nome for e in r.esiti_quote if e.residuo < 0} == set(oltre)
        assert r.residuo == sum(e.residuo for e in r.esiti_quote)
        assert (r.residuo < 0) == any(a["regola"] == "riparto.eccedenza" for a in r.avvisi())
        return
    assert not oltre
    assert r.totale_ripartito <= totale == r.totale_da_ripartire
    assert r.residuo == totale - r.totale_ripartito >= 0
    assert sum(e.residuo for e in r.esiti_quote) == r.residuo


@PROPRIETA
@given(riparti(metodi=metodo))
def test_ogni_quota_arrotondata_come_dichiarato(params) -> None:
    totale, destinatari, quote = params
    r = esegui(totale, destinatari, quote=consentita(quote))
    importi = importi_quote(totale, quote)
    assert {e.nome: e.importo for e in r.esiti_quote} == importi
    assert sum(importi.values()) == totale
    for k, x in enumerate(quote):
        s = frazioni(destinatari, x.criteri)
        parti = {a.id: a.parti[k] for a in r.assegnazioni}
        assert all(p.quota == x.nome and p.frazione == s[i] for i, p in parti.items())
        attese = parti_attese(destinatari, x, importi[x.nome])
        if attese is not None:
            assert {i: p.importo for i, p in parti.items()} == attese
        else:  # largest remainder: the quota to the cent, each part within a cent of its exact amount
            assert sum(p.importo for p in parti.values()) == importi[x.nome]
            assert all(abs(Fraction(p.importo) - s[i] * Fraction(importi[x.nome])) < Fraction(1, 100)
                       for i, p in parti.items())
        assert all(p.importo >= 0 for p in parti.values())
    for a in r.assegnazioni:
        assert a.importo_base == sum(p.importo for p in a.parti) == a.importo
        assert a.quota == sum(Fraction(x.peso) * p.frazione for x, p in zip(quote, a.parti))
    assert sum(a.quota for a in r.assegnazioni) == 1


@PROPRIETA
@given(riparti(metodi=st.just("resto_maggiore")))
def test_resto_maggiore_esatto_su_ogni_quota_e_sul_totale(params) -> None:
    totale, destinatari, quote = params
    r = esegui(totale, destinatari, quote=quote)
    assert r.totale_ripartito == totale == r.totale_da_ripartire and r.residuo == 0
    assert all(e.residuo == 0 and e.ripartito == e.importo for e in r.esiti_quote)


@PROPRIETA
@given(riparti(), st.sampled_from(["integrazione", "prelievo"]), st.data())
def test_minimo_sul_totale_del_destinatario(params, modalita, data) -> None:
    totale, destinatari, quote = params
    quote = consentita(quote)
    senza = esegui(totale, destinatari, quote=quote)
    n = len(destinatari)
    limite = max(1, int(senza.totale_ripartito / C) // n)
    m = Decimal(data.draw(st.integers(1, limite))).scaleb(-2)
    try:
        r = esegui(totale, destinatari, quote=quote, minimo=Minimo(m, modalita))
    except RuleViolation as exc:
        assert modalita == "prelievo" and exc.rule == "riparto.minimo_irraggiungibile"
        assert m * n > senza.totale_ripartito or m * n > totale
        return
    base = {a.id: a.importo for a in senza.assegnazioni}
    assert all(a.importo >= m for a in r.assegnazioni)  # the floor holds on every total
    assert {a.id: a.importo_base for a in r.assegnazioni} == base
    if modalita == "integrazione":
        # only a total below the floor is topped up, whatever its parts in the single quotas
        assert all(a.integrazione == max(Decimal("0.00"), m - base[a.id]) and a.prelievo == 0
                   for a in r.assegnazioni)
        assert r.totale_da_ripartire == totale + r.totale_integrazioni
    else:
        assert r.totale_ripartito == senza.totale_ripartito and r.totale_integrazioni == r.totale_prelievi
        sopra = [a for a in r.assegnazioni if base[a.id] >= m]
        assert all(a.integrazione <= C for a in sopra if a.importo > m)  # the others only give


@PROPRIETA
@given(riparti(max_destinatari=7), st.data())
def test_minimo_e_massimo_dal_fondo_nella_forma_del_riempimento(params, data) -> None:
    totale, destinatari, quote = params
    quote = consentita(quote)
    senza = esegui(totale, destinatari, quote=quote)
    n = len(destinatari)
    somma = int(senza.totale_ripartito / C)
    assume(somma >= n)
    lo = data.draw(st.integers(1, somma // n))
    hi = data.draw(st.integers(-(-somma // n), max(-(-somma // n), somma)))
    assume(lo <= hi)
    zero = sum(1 for a in senza.assegnazioni if a.quota == 0)
    try:
        r = esegui(totale, destinatari, quote=quote, minimo=Minimo(Decimal(lo).scaleb(-2), "prelievo"),
                   massimo=Massimo(Decimal(hi).scaleb(-2), "redistribuzione"))
    except RuleViolation as exc:
        if exc.rule == "riparto.minimo_irraggiungibile":  # the parts (with a declared excess) beyond the total
            assert lo * n > int(totale / C)
            return
        # recipients with no share sit at the floor: the others cannot take it all
        assert exc.rule == "riparto.massimo_irraggiungibile" and zero
        assert (n - zero) * hi + zero * lo < somma
        return
    assert r.totale_ripartito == senza.totale_ripartito
    assert all(Decimal(lo).scaleb(-2) <= a.importo <= Decimal(hi).scaleb(-2) for a in r.assegnazioni)
    v = {a.id: Fraction(a.importo_base) * 100 for a in senza.assegnazioni}
    if len(quote) == 1 and quote[0].arrotondamento.metodo == "resto_maggiore":
        v = {a.id: a.quota * Fraction(totale) * 100 for a in senza.assegnazioni}
    w = {a.id: a.quota for a in senza.assegnazioni}
    atteso = livello(v, w, lo, hi, Fraction(somma))
    for a in r.assegnazioni:  # the water-filling amount, to within the cent of the final rounding
        assert abs(Fraction(a.importo) * 100 - atteso[a.id]) < 1 + Fraction(1, 10**6), a.id


@PROPRIETA
@given(riparti(), st.sampled_from(["economia", "redistribuzione"]), st.data())
def test_massimo_sul_totale(params, modalita, data) -> None:
    totale, destinatari, quote = params
    quote = consentita(quote)
    senza = esegui(totale, destinatari, quote=quote)
    n = len(destinatari)
    t = int(totale / C)
    M = Decimal(data.draw(st.integers(1, t))).scaleb(-2)
    try:
        r = esegui(totale, destinatari, quote=quote, massimo=Massimo(M, modalita))
    except RuleViolation as exc:
        assert modalita == "redistribuzione" and exc.rule == "riparto.massimo_irraggiungibile"
        con_quota = sum(1 for a in senza.assegnazioni if a.quota > 0)  # those with no share get nothing
        assert M * con_quota < senza.totale_ripartito
        return
    assert all(a.importo <= M for a in r.assegnazioni)
    if modalita == "economia":
        tagliato = sum(max(Decimal("0.00"), a.importo - M) for a in senza.assegnazioni)
        assert r.totale_economie == tagliato and r.residuo == senza.residuo + tagliato
    else:
        assert r.totale_ripartito == senza.totale_ripartito and r.totale_economie == 0


@PROPRIETA
@given(riparti())
def test_memorizzato_e_rieseguito(params) -> None:
    totale, destinatari, quote = params
    r = esegui(totale, destinatari, quote=consentita(quote), minimo=Minimo(C, "integrazione"))
    d = r.come_dict()
    assert Risultato.da_dict(d) == r and Risultato.da_dict(d).riesegui() == r
    assert esegui_da_dict(d["input"]) == r
    assert not r.esprimibile_v1()


# ---------------------------------------------------------------------------------- worked examples


def comuni():
    return [Destinatario("065001", {"popolazione": Decimal(8000), "scarto_reddito": Decimal(0)}),
            Destinatario("065002", {"popolazione": Decimal(1500), "scarto_reddito": Decimal(3)}),
            Destinatario("065003", {"popolazione": Decimal(500), "scarto_reddito": Decimal(1)})]


OTTANTA_VENTI = [Quota("popolazione", Fraction(4, 5), (Criterio("popolazione", Fraction(1)),),
                       Arrotondamento("per_importo")),
                 Quota("scarto_reddito", Fraction(1, 5), (Criterio("scarto_reddito", Fraction(1)),),
                       Arrotondamento("per_importo"))]


def test_ottanta_per_cento_popolazione_venti_scarto_di_reddito_a_mano() -> None:
    # 100,000.00: 80,000.00 by population (8000/1500/500 of 10000) and 20,000.00 by the gap (0/3/1 of 4)
    r = esegui(Decimal("100000.00"), comuni(), quote=OTTANTA_VENTI)
    assert [(p.quota, p.importo) for p in r.assegnazione("065002").parti] == [
        ("popolazione", Decimal("12000.00")), ("scarto_reddito", Decimal("15000.00"))]
    assert r.importi() == {"065001": Decimal("64000.00"), "065002": Decimal("27000.00"),
                           "065003": Decimal("9000.00")}
    assert r.assegnazione("065003").quota == Fraction(4, 5) * Fraction(1, 20) + Fraction(1, 5) * Fraction(1, 4)
    assert [e.importo for e in r.esiti_quote] == [Decimal("80000.00"), Decimal("20000.00")]


def test_il_minimo_vale_sul_totale_non_sulla_singola_quota() -> None:
    # 065003 has 4,000.00 by population (below a 5,000.00 floor) but 9,000.00 in total: nothing to add.
    # 065001 has nothing in the second quota but 64,000.00 in total. Nobody is below the floor.
    r = esegui(Decimal("100000.00"), comuni(), quote=OTTANTA_VENTI, minimo=Minimo(Decimal("5000.00"), "integrazione"))
    assert r.totale_integrazioni == 0 and r.importi()["065003"] == Decimal("9000.00")
    # a 10,000.00 floor: only 065003's total (9,000.00) is below it
    r = esegui(Decimal("100000.00"), comuni(), quote=OTTANTA_VENTI,
               minimo=Minimo(Decimal("10000.00"), "integrazione"))
    assert {a.id: a.integrazione for a in r.assegnazioni} == {
        "065001": Decimal("0.00"), "065002": Decimal("0.00"), "065003": Decimal("1000.00")}
    assert r.totale_da_ripartire == Decimal("101000.00") == r.totale_ripartito


def test_per_importo_dichiara_il_residuo() -> None:
    tre = [Destinatario(i, {"x": Decimal(1)}) for i in "ABC"]
    r = esegui(Decimal("100.00"), tre, [Criterio("x", Fraction(1))], Arrotondamento("per_importo"))
    assert set(r.importi().values()) == {Decimal("33.33")}
    assert r.residuo == Decimal("0.01") and r.avvisi()[0]["regola"] == "riparto.residuo"
    # 2/3 of 0.02 = 0.0133 → 0.01, 1/3 → 0.0067 → 0.01: the parts add up, nothing left
    # 1/3 of 0.05 (0.0167 → 0.02) three times is 0.06 > 0.05: refused unless declared
    with pytest.raises(RuleViolation) as e:
        esegui(Decimal("0.05"), tre, [Criterio("x", Fraction(1))], Arrotondamento("per_importo"))
    assert e.value.rule == "riparto.eccedenza" and e.value.field == "arrotondamento.metodo"


def test_la_ripartizione_nazionale_con_residuo_negativo_e_rifiutata_o_esatta() -> None:
    """The split stored with residuo −64,000.00: shares 1/6, 1/6, 2/3 of € 6,400,000.00 published to
    0 decimals of a percent (17% + 17% + 67% = 101%). Refused now; exact by largest remainder; paid as
    published only where the act declares it, and then shown as an excess."""
    regioni = [Destinatario("A", {"x": Decimal(1)}), Destinatario("B", {"x": Decimal(1)}),
               Destinatario("C", {"x": Decimal(4)})]
    with pytest.raises(RuleViolation) as e:
        esegui(Decimal("6400000.00"), regioni, [Criterio("x", Fraction(1))], Arrotondamento("quote_arrotondate", 0))
    assert e.value.rule == "riparto.eccedenza" and "64000.00 € più di 6400000.00 €" in e.value.detail
    assert "almeno 7 decimali" in e.value.detail
    esatto = esegui(Decimal("6400000.00"), regioni, [Criterio("x", Fraction(1))], Arrotondamento("resto_maggiore", 0))
    assert esatto.totale_ripartito == Decimal("6400000.00") and esatto.residuo == 0
    dichiarato = esegui(Decimal("6400000.00"), regioni, [Criterio("x", Fraction(1))],
                        Arrotondamento("quote_arrotondate", 0, eccedenza_ammessa=True))
    assert dichiarato.residuo == Decimal("-64000.00")
    assert dichiarato.avvisi()[0] == {"regola": "riparto.eccedenza", "importo": "64000.00",
                                      "messaggio": dichiarato.avvisi()[0]["messaggio"]}
    # the precision is documented in the result: 0.5% of 6.4 million, plus half a cent, per recipient
    assert dichiarato.esiti_quote[0].scarto_massimo == Decimal("32000.01")


def test_un_riparto_memorizzato_nella_prima_forma_si_rilegge() -> None:
    """A riparto stored by the first version (``versione`` 1, no parts, no quotas) still loads and re-runs."""
    v1 = {"versione": 1,
          "input": {"totale": "100.00", "destinatari": [{"id": "A", "indicatori": {"x": "1"}},
                                                        {"id": "B", "indicatori": {"x": "3"}}],
                    "criteri": [{"indicatore": "x", "peso": "1"}],
                    "arrotondamento": {"metodo": "resto_maggiore", "decimali_percentuale": 2}, "minimo": None},
          "risultato": {"assegnazioni": [
              {"id": "A", "quota": "1/4", "percentuale": "25.00", "importo_base": "25.00", "integrazione": "0.00",
               "prelievo": "0.00", "importo": "25.00"},
              {"id": "B", "quota": "3/4", "percentuale": "75.00", "importo_base": "75.00", "integrazione": "0.00",
               "prelievo": "0.00", "importo": "75.00"}],
              "totali": {"da_ripartire": "100.00", "ripartito": "100.00", "integrazioni": "0.00",
                         "prelievi": "0.00", "residuo": "0.00"}}}
    letto = Risultato.da_dict(v1)
    assert letto.semplice and letto.riesegui() == letto and letto.esprimibile_v1()
    assert letto.come_dict()["versione"] == 2


@pytest.mark.parametrize("kwargs, regola, campo", [
    ({"quote": []}, "riparto.quote_presenti", "quote"),
    ({"quote": [Quota("a", Fraction(1, 2), (Criterio("x", Fraction(1)),), Arrotondamento("per_importo"))]},
     "riparto.pesi_quote_somma_uno", "quote"),
    ({"quote": [Quota("A b", Fraction(1), (Criterio("x", Fraction(1)),), Arrotondamento("per_importo"))]},
     "riparto.nome_quota", "quote.0.nome"),
    ({"quote": [Quota("a", Fraction(1, 2), (Criterio("x", Fraction(1)),), Arrotondamento("per_importo")),
                Quota("a", Fraction(1, 2), (Criterio("x", Fraction(1)),), Arrotondamento("per_importo"))]},
     "riparto.quote_uniche", "quote.1.nome"),
    ({"quote": [Quota("a", Fraction(1), (Criterio("x", Fraction(1, 2)),), Arrotondamento("per_importo"))]},
     "riparto.pesi_somma_uno", "quote.0.criteri"),
    ({"quote": [Quota("a", Fraction(1), (Criterio("x", Fraction(1)),), Arrotondamento("a_occhio"))]},
     "riparto.metodo_arrotondamento", "quote.0.arrotondamento.metodo"),
    ({"quote": [Quota("a", Fraction(1), (Criterio("y", Fraction(1)),), Arrotondamento("per_importo"))]},
     "riparto.indicatore_mancante", "destinatari.0.indicatori.y"),
    ({"criteri": [Criterio("x", Fraction(1))], "arrotondamento": Arrotondamento("per_importo"),
      "quote": [Quota("a", Fraction(1), (Criterio("x", Fraction(1)),), Arrotondamento("per_importo"))]},
     "riparto.criteri_o_quote", "quote"),
    ({"criteri": [Criterio("x", Fraction(1))], "arrotondamento": Arrotondamento("per_importo"),
      "minimo": Minimo(Decimal("10"), "prelievo"), "massimo": Massimo(Decimal("5"), "economia")},
     "riparto.minimo_massimo", "massimo.importo"),
    ({"criteri": [Criterio("x", Fraction(1))], "arrotondamento": Arrotondamento("per_importo"),
      "massimo": Massimo(Decimal("5"), "a_caso")}, "riparto.modalita_massimo", "massimo.modalita"),
    ({"criteri": [Criterio("x", Fraction(1))], "arrotondamento": Arrotondamento("per_importo"),
      "massimo": Massimo(Decimal("40.00"), "redistribuzione")}, "riparto.massimo_irraggiungibile", "massimo.importo"),
])
def test_errori_delle_quote_con_regola_e_campo(kwargs, regola, campo) -> None:
    due = [Destinatario("A", {"x": Decimal(1)}), Destinatario("B", {"x": Decimal(2)})]
    with pytest.raises(RuleViolation) as e:
        esegui(Decimal("100.00"), due, **kwargs)
    assert (e.value.rule, e.value.field) == (regola, campo)


def test_contributi_dei_comuni_dal_risultato_di_un_riparto() -> None:
    """The Comuni's contributions can be a stored riparto's result (a deliberated split): the quotas are the
    riparto's amounts and the event names the riparto; a stored v1 ``Determinati`` (without it) still loads."""
    import uuid
    from datetime import date

    from finance.domain.contributi import ContributiComunali

    r = esegui(Decimal("30000.00"), comuni(), quote=[
        Quota("meta_a", Fraction(1, 2), (Criterio("popolazione", Fraction(1)),), Arrotondamento("resto_maggiore")),
        Quota("meta_b", Fraction(1, 2), (Criterio("scarto_reddito", Fraction(1)),), Arrotondamento("resto_maggiore"))])
    elenco = [{"istat": d.id, "nome": f"Comune {d.id}", "popolazione": int(d.indicatori["popolazione"])}
              for d in comuni()]
    riparto_id = uuid.uuid4()
    c = ContributiComunali.determina("15-S09", 2026, elenco, [{"data": date(2026, 6, 30), "percentuale": Decimal(100)}],
                                     "amministrativo@15-S09",
                                     riparto=[{"istat": a.id, "importo": a.importo} for a in r.assegnazioni],
                                     deliberazione_id=uuid.uuid4(), deliberazione_numero="3/2026",
                                     comuni_ambito={d.id for d in comuni()}, riparto_id=riparto_id)
    evento = c.collect_events()[0]
    assert evento.riparto_id == riparto_id and evento.metodo == "deliberato"
    assert {q["istat"]: q["quota"] for q in evento.quote} == r.importi()
    stato: dict = {}
    ContributiComunali.Determinati.upcast_v1_v2(stato)
    assert stato == {"riparto_id": None}
    with pytest.raises(RuleViolation) as e:  # per capita quotas are not a riparto's
        ContributiComunali.determina("15-S09", 2026, elenco, [{"data": date(2026, 6, 30), "percentuale": Decimal(100)}],
                                     "amministrativo@15-S09", quota_pro_capite=Decimal("2"),
                                     popolazione_al=date(2026, 1, 1), riparto_id=riparto_id)
    assert (e.value.rule, e.value.field) == ("contributi.metodo", "riparto_id")
