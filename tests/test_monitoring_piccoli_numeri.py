"""Issue 12, monitoring's part, end to end over HTTP with real tokens, planning's composition over Kafka.

- a small count (1 user of mental-health services in Tortorella, 482 residents) is suppressed in the
  Ambito's indicators (JSON and CSV) and a small count of another Ambito in the Region's view, with
  complementary suppression so that the published totals do not reveal it;
- the LEPS ratio and the State contribution per Ambito (L. 178/2020 art. 1 c. 797) for a staff list with
  mixed contracts and employers, with social workers of the whole Ambito (no Comune) counted;
- a decimal comma in an FTE gets a 422 naming the field and saying to use a point, and stores nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from ambiti_kit.testing.fixtures import Platform, wait_until
from tests.conftest import S09

A, B = "15-PNA", "15-PNB"
TORTORELLA, SAPRI, TORRACA = "065150", "065134", "065148"
RESIDENTI = sum(c["popolazione"] for c in S09["comuni"])  # 42,160


def _mese() -> str:
    oggi = date.today()
    return f"{oggi.year}-{oggi.month:02d}" if oggi.month == 1 else f"{oggi.year}-{oggi.month - 1:02d}"


def _call(method: str, url: str, headers: dict[str, str], expect: int, **kw: Any) -> Any:
    r = httpx.request(method, url, headers=headers, timeout=30, **kw)
    assert r.status_code == expect, (method, url, r.status_code, r.text)
    return r


def _registra_ambito(platform: Platform, tenant: str) -> None:
    coordinatore = platform.infra.auth(tenant, "coordinatore")
    _call("PUT", f"{platform.url('planning')}/ambito", coordinatore, 201, json={
        "nome": f"Ambito {tenant}", "capofila_istat": S09["ambito"]["capofila_istat"],
        "popolazione_al": S09["popolazione_al"], "comuni": S09["comuni"]})
    wait_until(lambda: httpx.get(f"{platform.url('monitoring')}/ambito/comuni", headers=coordinatore,
                                 timeout=10).status_code == 200, timeout=60, message=f"{tenant} in monitoring")


def _prestazione(platform: Platform, tenant: str, comune: str, utenti: dict) -> None:
    _call("POST", f"{platform.url('monitoring')}/prestazioni", platform.infra.auth(tenant, "coordinatore"), 201,
          json={"intervento": "SM1", "comune": comune, "mese": _mese(), "utenti": utenti, "accessi": 12,
                "ore": "10.00", "costo": "300.00", "note": "Centro Diurno, Casa Famiglia"})


def _protetta(celle: list[list[Any]], totali_riga: list[Any], totali_colonna: list[Any], totale: Any) -> None:
    """Every suppressed cell has, in its row and in its column, another suppressed entry (a cell or the
    line's total): no published total minus the visible cells gives it (the unit tests check the full
    property against a search of every consistent table)."""
    def nascosto(v: Any) -> bool:
        return not isinstance(v, int)

    for i, riga in enumerate(celle):
        for j, v in enumerate(riga):
            if nascosto(v):
                colonna = [r[j] for r in celle]
                assert sum(map(nascosto, riga)) + nascosto(totali_riga[i]) >= 2, (i, j, riga)
                assert sum(map(nascosto, colonna)) + nascosto(totali_colonna[j]) >= 2, (i, j, colonna)
    assert sum(map(nascosto, totali_colonna)) + nascosto(totale) != 1
    assert sum(map(nascosto, totali_riga)) + nascosto(totale) != 1


def test_small_counts_are_suppressed_per_comune_and_in_the_region_s_view(platform: Platform) -> None:
    mon = platform.url("monitoring")
    for tenant in (A, B):
        _registra_ambito(platform, tenant)
    _prestazione(platform, A, TORTORELLA, {"salute_mentale": {"18-64": 1}})
    _prestazione(platform, A, SAPRI, {"salute_mentale": {"18-64": 20}, "anziani": {"65+": 30}})
    _prestazione(platform, A, TORRACA, {"salute_mentale": {"18-64": 6}, "anziani": {"65+": 9}})
    _prestazione(platform, B, SAPRI, {"dipendenze": {"18-64": 2}, "anziani": {"65+": 40}})
    _prestazione(platform, B, TORRACA, {"anziani": {"65+": 12}})
    lettore = platform.infra.auth(A, "revisore")

    # -- the Ambito's indicators: Tortorella's 1 is "<3", and one more Comune hides its figure -------------
    vista = _call("GET", f"{mon}/indicatori", lettore, 200).json()
    per_comune = {c["istat"]: c for c in vista["comuni"]}
    assert per_comune[TORTORELLA]["utenze_mensili"] == "<3"
    assert per_comune[TORTORELLA]["utenze_mensili_per_mille"] == "<3"  # the rate would give it back
    assert "leps" not in per_comune[SAPRI]  # the LEPS is the Ambito's, never a Comune's
    nascosti = [c for c in vista["comuni"] if not isinstance(c["utenze_mensili"], int)]
    assert len(nascosti) >= 2, [c["utenze_mensili"] for c in vista["comuni"]]
    assert vista["ambito_indicatori"]["utenze_mensili"] == 1 + 50 + 15 and vista["soglia_riservatezza"] == 3

    # -- the indicators CSV: the same cell suppressed, and the totals do not reveal it -------------------
    testo = _call("GET", f"{mon}/indicatori/utenze_per_area.csv", lettore, 200).text
    righe = list(csv.reader(io.StringIO(testo)))
    testa, comuni, ambito = righe[0], righe[1:-1], righe[-1]
    aree = testa[4:-1]
    valore = lambda s: int(s) if s.isdigit() else s  # noqa: E731
    tortorella = next(r for r in comuni if r[1] == TORTORELLA)
    assert tortorella[testa.index("salute_mentale")] == "<3" and tortorella[-1] == "<3"
    assert ambito[0] == "ambito" and "1" not in ambito[4:] and "2" not in ambito[4:]
    _protetta([[valore(x) for x in r[4:-1]] for r in comuni], [valore(r[-1]) for r in comuni],
              [valore(x) for x in ambito[4:-1]], valore(ambito[-1]))
    assert len(aree) == 8
    testo = _call("GET", f"{mon}/indicatori/utenti_per_mille.csv", lettore, 200).text
    tortorella = next(r for r in csv.DictReader(io.StringIO(testo)) if r["codice"] == TORTORELLA)
    assert (tortorella["utenze_mensili"], tortorella["utenze_mensili_per_mille"]) == ("<3", "<3")

    # -- the Region's view: B's 2 users of addiction services are "<3", and its totals hide it -----------
    regione = platform.infra.auth(None, "regione", regione="15")
    vista = _call("GET", f"{mon}/regione/utenze", regione, 200).json()
    per_ambito = {a["ambito"]: a for a in vista["ambiti"]}
    assert per_ambito[B]["utenze"]["dipendenze"] == "<3"
    assert per_ambito[A]["utenze"]["salute_mentale"] == 27  # 1 + 20 + 6: the Ambito's figure is not small
    aree = vista["aree"]
    _protetta([[a["utenze"][x] for x in aree] for a in vista["ambiti"]], [a["totale"] for a in vista["ambiti"]],
              [vista["totale_per_area"][x] for x in aree], vista["totale"])
    assert TORTORELLA not in str(vista)  # no Comune ever reaches the Region


def test_leps_and_state_contribution_per_ambito_with_mixed_contracts_employers_and_ambito_level_staff(
        platform: Platform) -> None:
    tenant = "15-PNC"
    _registra_ambito(platform, tenant)
    mon, ufficio = platform.url("monitoring"), platform.infra.auth(tenant, "coordinatore")
    staff = [  # comune, profilo, contratto, datore, fte: counts?
        (SAPRI, "assistente_sociale", "tempo_indeterminato", "comune", "4.00"),  # yes
        (TORRACA, "assistente_sociale", "tempo_determinato", "comune", "1.00"),  # no: fixed term
        (None, "assistente_sociale", "tempo_indeterminato", "forma_associata", "2.50"),  # yes: whole Ambito
        (None, "assistente_sociale", "tempo_indeterminato", "asl_delegata", "1.00"),  # yes: delegated ASL
        (None, "assistente_sociale", "tempo_indeterminato", "altro_ente", "1.00"),  # no: a cooperative's
        (SAPRI, "educatore", "tempo_indeterminato", "comune", "3.00"),  # no: not a social worker
    ]
    for comune, profilo, contratto, datore, fte in staff:
        _call("PUT", f"{mon}/personale", ufficio, 200, json={
            "comune": comune, "profilo": profilo, "area": "multiutenza", "contratto": contratto,
            "datore_lavoro": datore, "fte": fte, "ore_settimanali_piano": "1.00"})
    elenco = _call("GET", f"{mon}/personale?livello=ambito", ufficio, 200).json()["elementi"]
    assert sorted((d["datore_lavoro"], d["conta_per_leps"]) for d in elenco) == [
        ("altro_ente", False), ("asl_delegata", True), ("forma_associata", True)]
    assert all(d["comune"] is None for d in elenco)

    leps = _call("GET", f"{mon}/personale/leps", ufficio, 200).json()["leps"]
    # eligible 4.00 + 2.50 + 1.00 = 7.50 FTE; 42,160 residents: 1:6,500 = 6.49 FTE, 1:5,000 = 8.43, 1:4,000 = 10.54
    assert (leps["fte_assistenti_sociali"], leps["fte_assistenti_sociali_non_conteggiati"]) == ("7.50", "2.00")
    assert (leps["residenti"], leps["residenti_per_assistente"]) == (RESIDENTI, "5621.33")
    assert (leps["fte_richiesti_1_6500"], leps["fte_richiesti_1_5000"], leps["fte_richiesti_1_4000"]) == (
        "6.49", "8.43", "10.54")
    assert (leps["soglia_1_6500_raggiunta"], leps["leps_1_5000_raggiunto"], leps["obiettivo_1_4000_raggiunto"]) == (
        True, False, False)
    # c. 797 lett. a: (7.50 − 42,160/6,500) FTE × 40,000 € = 1.013846… × 40,000 = 40,553.85 €; lett. b: none
    fascia_a = (Decimal("7.50") - Decimal(RESIDENTI) / 6500) * 40000
    atteso = str(fascia_a.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    assert atteso == "40553.85"
    assert leps["contributo_statale"] == {"fte_fascia_6500_5000": "1.0138", "importo_fascia_6500_5000": atteso,
                                          "fte_fascia_5000_4000": "0.0000", "importo_fascia_5000_4000": "0.00",
                                          "totale": atteso}
    assert "178/2020" in leps["fonte"] and "797" in leps["fonte"]

    # the same, per Ambito, in the Region's view; no per-Comune LEPS anywhere
    reg = _call("GET", f"{mon}/regione/indicatori", platform.infra.auth(None, "regione", regione="15"), 200).json()
    riga = next(a for a in reg["ambiti"] if a["ambito"] == tenant)
    assert riga["leps"]["contributo_statale"]["totale"] == atteso and riga["leps"]["fte_assistenti_sociali"] == "7.50"
    vista = _call("GET", f"{mon}/indicatori", ufficio, 200).json()
    assert vista["ambito_indicatori"]["leps"]["fte_assistenti_sociali"] == "7.50"
    assert not any("leps" in c for c in vista["comuni"])

    # a decimal comma: 422 naming the field, saying to use a point; nothing stored
    prima = _call("GET", f"{mon}/personale", ufficio, 200).json()["elementi"]
    r = _call("PUT", f"{mon}/personale", ufficio, 422, json={
        "comune": TORRACA, "profilo": "assistente_sociale", "area": "anziani", "fte": "0,5",
        "ore_settimanali_piano": "18.00"})
    problema = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (problema["rule"], problema["field"]) == ("personale.separatore_decimale", "fte")
    assert "\"0.5\"" in problema["detail"] and "punto" in problema["detail"]
    assert _call("GET", f"{mon}/personale", ufficio, 200).json()["elementi"] == prima


def test_a_comune_counts_from_its_legal_date_and_a_new_population_keeps_the_past_one(platform: Platform) -> None:
    tenant = "15-PND"
    planning, mon = platform.url("planning"), platform.url("monitoring")
    ufficio = platform.infra.auth(tenant, "coordinatore")
    anno = date.today().year
    legale = date(anno, 1, 1) if date.today().month > 1 else date(anno - 1, 12, 1)
    comuni = [{**c, "aderente_dal": legale.isoformat()} if c["istat"] == TORTORELLA else c for c in S09["comuni"]]
    corpo = {"nome": f"Ambito {tenant}", "capofila_istat": S09["ambito"]["capofila_istat"],
             "popolazione_al": f"{anno - 1}-01-01", "comuni": comuni}
    _call("PUT", f"{planning}/ambito", ufficio, 201, json=corpo)
    wait_until(lambda: httpx.get(f"{mon}/ambito/comuni", headers=ufficio, timeout=10).status_code == 200, timeout=60)
    tortorella = next(c for c in _call("GET", f"{mon}/ambito/comuni", ufficio, 200).json()["comuni"]
                      if c["istat"] == TORTORELLA)
    assert tortorella["aderente_dal"] == legale.isoformat()
    # a month before its legal date does not belong to this Ambito; the month of it does
    prima = date(legale.year - 1, 12, 1) if legale.month == 1 else date(legale.year, legale.month - 1, 1)
    corpo_p = {"intervento": "SAD", "comune": TORTORELLA, "utenti": {"anziani": {"65+": 4}}, "accessi": 4}
    r = _call("POST", f"{mon}/prestazioni", ufficio, 422, json={**corpo_p, "mese": prima.strftime("%Y-%m")})
    assert r.json()["rule"] == "prestazione.comune_fuori_ambito" and r.json()["field"] == "comune"
    _call("POST", f"{mon}/prestazioni", ufficio, 201, json={**corpo_p, "mese": legale.strftime("%Y-%m")})

    # a new population at a new date: the past one stays, and each year reads its own
    nuovi = [{**c, "popolazione": c["popolazione"] + 10} for c in comuni]
    _call("PUT", f"{planning}/ambito", ufficio, 200, json={**corpo, "popolazione_al": f"{anno}-01-01",
                                                           "comuni": nuovi})
    wait_until(lambda: len(_call("GET", f"{mon}/ambito/popolazioni", ufficio, 200).json()["popolazioni"])
               == 2 * len(S09["comuni"]), timeout=60, message="the second population in monitoring")
    storico = [(p["popolazione_al"], p["popolazione"]) for p in
               _call("GET", f"{mon}/ambito/popolazioni", ufficio, 200).json()["popolazioni"] if p["istat"] == TORTORELLA]
    assert storico == [(f"{anno - 1}-01-01", 482), (f"{anno}-01-01", 492)]
    precedente = _call("GET", f"{mon}/indicatori?anno={anno - 1}", ufficio, 200).json()
    corrente = _call("GET", f"{mon}/indicatori?anno={anno}", ufficio, 200).json()
    assert corrente["ambito_indicatori"]["residenti"] == RESIDENTI + 10 * len(S09["comuni"])
    # last year Tortorella was not yet a member (legal date this year): neither it nor its residents count
    if legale.year == anno:
        assert TORTORELLA not in {c["istat"] for c in precedente["comuni"]}
        assert precedente["ambito_indicatori"]["residenti"] == RESIDENTI - 482

    # a Comune's legal leaving date ends its membership there (issue 12: planning's comuni[].cessato_dal),
    # not on the day a composition is recorded: months from that date are no longer the Ambito's
    oggi = date.today()
    cessato = date(oggi.year, oggi.month, 1)
    mese_prima = date(cessato.year - 1, 12, 1) if cessato.month == 1 else date(cessato.year, cessato.month - 1, 1)
    uscita = [{**c, "cessato_dal": cessato.isoformat()} if c["istat"] == TORRACA else c for c in nuovi]
    _call("PUT", f"{planning}/ambito", ufficio, 200, json={**corpo, "popolazione_al": f"{anno}-01-01",
                                                           "comuni": uscita})
    corpo_t = {"intervento": "SAD", "comune": TORRACA, "utenti": {"anziani": {"65+": 3}}, "accessi": 3}
    wait_until(lambda: any(c["istat"] == TORRACA and c["cessato_dal"] == cessato.isoformat()
                           for c in _call("GET", f"{mon}/ambito/comuni", ufficio, 200).json()["comuni"]),
               timeout=60, message="Torraca's leaving date in monitoring")
    r = _call("POST", f"{mon}/prestazioni", ufficio, 422, json={**corpo_t, "mese": cessato.strftime("%Y-%m")})
    assert r.json()["rule"] == "prestazione.comune_fuori_ambito"
    _call("POST", f"{mon}/prestazioni", ufficio, 201, json={**corpo_t, "mese": mese_prima.strftime("%Y-%m")})
