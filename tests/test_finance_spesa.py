"""The spending chain end to end, over HTTP with real tokens, on the real platform.

Ambito 15-FIN1 (the 17 Comuni of S09 – Sapri) drafts its Piano in planning and the Comitato
approves it one head one vote; finance receives the approved budget lines over Kafka. The
Ufficio di Piano then registers the FNPS 2025 decree, allocates it to the Piano's line, commits
it to a cooperative (impegno), liquidates an invoice, pays it (mandato) and records an economia;
the balances reconcile at every level (stanziamento, budget line, fund). A repeated request with
the same ``Idempotency-Key`` returns the first answer and moves nothing. Then every refusal:
bad amounts, identifiers, unknown funds and lines, overspending at each step, keys misused,
wrong roles, another Ambito — each a 4xx problem+json naming its rule, and nothing stored in
finance's event store.
"""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
from psycopg import sql

from ambiti_kit.testing.fixtures import Infra, Platform, wait_until

ROOT = Path(__file__).resolve().parents[1]
S09 = json.loads((ROOT / "shared" / "ambiti_cli" / "demo_s09.json").read_text())
COMUNI = S09["comuni"]
SAPRI, MILANO = "065134", "015146"
TENANT, OTHER = "15-FIN1", "15-FIN2"
AREE = [{"codice": "A", "titolo": "Domiciliarità e non autosufficienza", "obiettivi": [{
    "codice": "A.1", "titolo": "Sostenere la permanenza a domicilio degli anziani", "interventi": [{
        "codice": "A.1.1", "titolo": "Servizio di assistenza domiciliare anziani",
        "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
        "comuni": [c["istat"] for c in COMUNI], "utenti_attesi": 140,
        "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "182500.00"},
                         {"fondo": "FNA", "anno": 2026, "importo": "96000.50"}]}]}]}]
DECRETO = {"tipo": "decreto", "numero": "312", "data": "2024-11-14",
           "ente": "Ministero del Lavoro e delle Politiche Sociali"}
COOP = {"denominazione": "Cooperativa Sociale Il Faro", "codice_fiscale": "00743110157"}
DETERMINA = {"tipo": "determina", "numero": "12/2026", "data": "2026-02-03"}


# -- finance ----------------------------------------------------------------------------------

class Finanza:
    """One tenant's finance calls: the amministrativo keeps the books."""

    def __init__(self, platform: Platform, tenant: str) -> None:
        self.url, self.tenant = platform.url("finance"), tenant
        infra = platform.infra
        self.contabile = infra.auth(tenant, "amministrativo")
        self.coordinatore = infra.auth(tenant, "coordinatore")
        self.revisore = infra.auth(tenant, "revisore")
        self.sindaco = infra.auth(tenant, "componente_comitato", comune=SAPRI)

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, expect: int | None = 200,
             key: str | None = None, **kw: Any) -> httpx.Response:
        headers = dict(self.contabile if headers is None else headers)
        if key is not None:
            headers["Idempotency-Key"] = key
        response = httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kw)
        if expect is not None:
            assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response

    def muovi(self, path: str, body: dict[str, Any], key: str | None = None, expect: int | None = 201,
              headers: dict[str, str] | None = None) -> httpx.Response:
        """A money-moving POST with a fresh Idempotency-Key (or ``key``)."""
        return self.call("POST", path, headers=headers, expect=expect, key=key or f"k-{uuid.uuid4()}", json=body)

    def impegno(self, sid: str, importo: str, **extra: Any) -> dict[str, Any]:
        return {"importo": importo, "beneficiario": COOP, "cig": "ZA12B3C4D5", "atto": DETERMINA,
                "oggetto": "Servizio di assistenza domiciliare 2025", **extra}

    def stanziamento(self, sid: str) -> dict[str, Any]:
        return self.call("GET", f"/stanziamenti/{sid}").json()

    def saldi(self, sid: str) -> dict[str, str]:
        s = self.stanziamento(sid)
        return {k: s[k] for k in ("stanziato", "impegnato", "liquidato", "pagato", "disponibile")}


def finance_events(infra: Infra) -> int:
    table = sql.SQL("{}.finance_events").format(sql.Identifier(f"{infra.namespace}finance"))
    with infra.connect() as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]


def finance_idle(infra: Infra) -> None:
    """Wait until finance's consumers have nothing left to store (the counts below are of the whole table)."""
    seen: list[int] = []

    def unchanged() -> bool:
        seen.append(finance_events(infra))
        return len(seen) > 1 and seen[-1] == seen[-2]

    wait_until(unchanged, timeout=60, interval=0.5, message="finance to consume what planning published")


@contextmanager
def nothing_stored(infra: Infra) -> Iterator[None]:
    before = finance_events(infra)
    yield
    assert finance_events(infra) == before, "a refused request stored events in finance"


def assert_problem(response: httpx.Response, status: int, rule: str, field: str | None = None) -> dict[str, Any]:
    """A problem+json with ``status`` naming ``rule`` (and ``field``): on the problem itself, or, for a
    request that does not even fit the schema, in its ``errors``."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    named = [(body.get("rule"), body.get("field"))] + [(e["rule"], e["field"]) for e in body.get("errors") or []]
    if field is None:
        assert rule in [r for r, _ in named], body
    else:
        assert (rule, field) in named or (rule, f"body.{field}") in named, body
    return body


def assert_no_float(value: Any, path: str = "$") -> None:
    """Money is never a JSON number with a fraction: every amount travels as a decimal string."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert_no_float(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            assert_no_float(v, f"{path}[{i}]")
    else:
        assert not isinstance(value, float), f"{path} is a float: {value!r}"


def cents(s: str) -> Decimal:
    d = Decimal(s)
    assert d.as_tuple().exponent == -2, s  # two decimals on the wire
    return d


@pytest.fixture(scope="module")
def fin1(platform: Platform, approva_piano: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """15-FIN1 with an approved Piano in finance, FNPS 2025 registered and 150,000 € allocated to A.1.1."""
    piano_id = approva_piano(TENANT, AREE)["piano_id"]
    f = Finanza(platform, TENANT)

    def budget() -> dict[str, Any] | None:
        response = f.call("GET", f"/budget/{piano_id}", headers=f.coordinatore, expect=None)
        return response.json() if response.status_code == 200 and response.json()["versione_piano"] == 1 else None

    quadro = wait_until(budget, timeout=60, message="the approved Piano's lines in finance")
    finance_idle(platform.infra)
    assegnazione = f.call("POST", "/assegnazioni", expect=201, json={
        "fondo": "FNPS", "annualita": 2025, "importo": "200000.00", "atto": DECRETO,
        "vincoli": {"quota_servizi_percentuale": "40", "macro_livelli_servizi": ["1", "2", "3"]}}).json()
    stanziamento = f.call("POST", f"/budget/{piano_id}/allocazioni", expect=201, key=f"k-{uuid.uuid4()}", json={
        "intervento": "A.1.1", "fondo": "FNPS", "anno": 2025, "annualita": 2025, "importo": "150000.00"}).json()
    return {"f": f, "piano_id": piano_id, "budget": quadro, "assegnazione": assegnazione,
            "stanziamento": stanziamento, "sid": stanziamento["id"]}


# -- the chain --------------------------------------------------------------------------------

def test_the_approved_lines_arrive_and_an_allocation_reconciles_with_fund_and_line(fin1: dict) -> None:
    f, piano_id, quadro = fin1["f"], fin1["piano_id"], fin1["budget"]
    assert (quadro["ambito"], quadro["piano_id"], quadro["versione_piano"]) == (TENANT, piano_id, 1)
    assert [(r["intervento"], r["fondo"], r["anno"], r["importo"]) for r in quadro["righe"]] == [
        ("A.1.1", "FNPS", 2025, "182500.00"), ("A.1.1", "FNA", 2026, "96000.50")]
    a = fin1["assegnazione"]
    assert (a["ambito"], a["fondo"], a["annualita"], a["totale"], a["disponibile"]) == (
        TENANT, "FNPS", 2025, "200000.00", "200000.00")
    s = fin1["stanziamento"]
    assert (s["ambito"], s["fondo"], s["annualita"], s["intervento"], s["anno"], s["piano_id"]) == (
        TENANT, "FNPS", 2025, "A.1.1", 2025, piano_id)
    assert (s["stanziato"], s["impegnato"], s["disponibile"]) == ("150000.00", "0.00", "150000.00")
    fondo = f.call("GET", "/assegnazioni/FNPS/2025").json()
    assert (fondo["totale"], fondo["allocato"], fondo["disponibile"]) == ("200000.00", "150000.00", "50000.00")
    riga = next(r for r in f.call("GET", f"/budget/{piano_id}").json()["righe"] if r["fondo"] == "FNPS")
    assert (riga["importo"], riga["allocato"], riga["da_allocare"]) == ("182500.00", "150000.00", "32500.00")
    assert cents(riga["importo"]) == cents(riga["allocato"]) + cents(riga["da_allocare"])
    for body in (quadro, a, s, fondo):
        assert_no_float(body)


def test_commit_liquidate_pay_and_reduce_and_the_balances_follow(fin1: dict, platform: Platform) -> None:
    f, sid = fin1["f"], fin1["sid"]
    prima = {k: cents(v) for k, v in f.saldi(sid).items()}
    eventi = finance_events(platform.infra)
    impegno = f.muovi(f"/stanziamenti/{sid}/impegni", f.impegno(sid, "50000.00", comune=SAPRI))
    assert impegno.headers["Idempotent-Replayed"] == "false"
    assert finance_events(platform.infra) == eventi + 2  # the ledger's event and the key's record, together
    i = impegno.json()
    assert cents(i["impegnato"]) == prima["impegnato"] + Decimal("50000.00")
    assert cents(i["disponibile"]) == prima["disponibile"] - Decimal("50000.00")
    liq = f.muovi(f"/stanziamenti/{sid}/impegni/{i['impegno_id']}/liquidazioni", {
        "importo": "20000.00", "fattura": {"numero": "FT-2026/118", "data": "2026-03-01"}}).json()
    assert liq["impegno_id"] == i["impegno_id"] and cents(liq["liquidato"]) == prima["liquidato"] + 20000
    mandato = f.muovi(f"/stanziamenti/{sid}/liquidazioni/{liq['liquidazione_id']}/mandati", {
        "importo": "15000.00", "data": "2026-03-15"}).json()
    assert mandato["liquidazione_id"] == liq["liquidazione_id"] and cents(mandato["pagato"]) == prima["pagato"] + 15000
    ridotto = f.muovi(f"/stanziamenti/{sid}/impegni/{i['impegno_id']}/riduzioni", {
        "importo": "5000.00", "tipo": "economia", "motivo": "Ribasso d'asta sul servizio"}).json()
    assert cents(ridotto["impegnato"]) == prima["impegnato"] + Decimal("45000.00")
    # the ledger: figures, each movement and its who/what
    s = f.stanziamento(sid)
    assert_no_float(s)
    assert {k: cents(s[k]) for k in prima} == {
        "stanziato": prima["stanziato"], "impegnato": prima["impegnato"] + Decimal("45000.00"),
        "liquidato": prima["liquidato"] + Decimal("20000.00"), "pagato": prima["pagato"] + Decimal("15000.00"),
        "disponibile": prima["disponibile"] - Decimal("45000.00")}
    assert cents(s["disponibile"]) == cents(s["stanziato"]) - cents(s["impegnato"])
    mio = s["impegni"][i["impegno_id"]]
    assert (mio["importo"], mio["ridotto"], mio["liquidato"]) == ("50000.00", "5000.00", "20000.00")
    assert (mio["beneficiario"], mio["cig"], mio["comune"], mio["atto"]["numero"]) == (COOP, "ZA12B3C4D5", SAPRI,
                                                                                       "12/2026")
    assert (s["liquidazioni"][liq["liquidazione_id"]]["importo"], s["liquidazioni"][liq["liquidazione_id"]]["pagato"]) \
        == ("20000.00", "15000.00")
    assert s["mandati"][mandato["mandato_id"]]["importo"] == "15000.00"
    # readers of the Ambito see it too; the line and the fund are unchanged by spending
    assert f.call("GET", f"/stanziamenti/{sid}", headers=f.revisore).json()["impegnato"] == s["impegnato"]
    assert f.call("GET", f"/stanziamenti/{sid}", headers=f.sindaco).json()["pagato"] == s["pagato"]
    assert f.call("GET", "/assegnazioni/FNPS/2025").json()["allocato"] == "150000.00"


def test_a_repeated_idempotency_key_returns_the_first_answer_and_moves_nothing(fin1: dict,
                                                                               platform: Platform) -> None:
    f, sid, infra = fin1["f"], fin1["sid"], platform.infra
    key = f"impegno-{uuid.uuid4()}"
    body = f.impegno(sid, "1234.56")
    first = f.muovi(f"/stanziamenti/{sid}/impegni", body, key=key)
    assert first.headers["Idempotent-Replayed"] == "false"
    saldi = f.saldi(sid)
    with nothing_stored(infra):
        for _ in range(2):  # a double click, a retry after a timeout
            again = f.muovi(f"/stanziamenti/{sid}/impegni", body, key=key, expect=200)
            assert again.headers["Idempotent-Replayed"] == "true"
            assert again.json() == first.json()
        # the same key on another request is refused: it was meant for the first one
        assert_problem(f.muovi(f"/stanziamenti/{sid}/impegni", f.impegno(sid, "1234.57"), key=key, expect=None),
                       422, "idempotenza.corpo_diverso", "Idempotency-Key")
        assert_problem(f.muovi(f"/stanziamenti/{sid}/impegni", {**body, "oggetto": "Altro oggetto"}, key=key,
                               expect=None), 422, "idempotenza.corpo_diverso", "Idempotency-Key")
        # no key at all, or a malformed one
        assert_problem(f.call("POST", f"/stanziamenti/{sid}/impegni", expect=None, json=body), 428,
                       "idempotenza.chiave_richiesta", "Idempotency-Key")
        assert_problem(f.muovi(f"/stanziamenti/{sid}/impegni", body, key="corta", expect=None), 422,
                       "idempotenza.formato", "Idempotency-Key")
    assert f.saldi(sid) == saldi
    assert saldi["impegnato"] == first.json()["impegnato"]
    # the key names one request of this Ambito on this ledger: the chain's other steps replay too
    impegno_id = first.json()["impegno_id"]
    liq_key = f"liquidazione-{uuid.uuid4()}"
    liq_body = {"importo": "1000.00", "fattura": {"numero": "FT-2026/200", "data": "2026-04-01"}}
    liq = f.muovi(f"/stanziamenti/{sid}/impegni/{impegno_id}/liquidazioni", liq_body, key=liq_key)
    man_key = f"mandato-{uuid.uuid4()}"
    man = f.muovi(f"/stanziamenti/{sid}/liquidazioni/{liq.json()['liquidazione_id']}/mandati",
                  {"importo": "1000.00", "data": "2026-04-15"}, key=man_key)
    rid_key = f"riduzione-{uuid.uuid4()}"
    rid = f.muovi(f"/stanziamenti/{sid}/impegni/{impegno_id}/riduzioni",
                  {"importo": "234.56", "tipo": "disimpegno", "motivo": "Servizio concluso in anticipo"}, key=rid_key)
    saldi = f.saldi(sid)
    with nothing_stored(infra):
        for path, corpo, key_, risposta in (
                (f"/stanziamenti/{sid}/impegni/{impegno_id}/liquidazioni", liq_body, liq_key, liq),
                (f"/stanziamenti/{sid}/liquidazioni/{liq.json()['liquidazione_id']}/mandati",
                 {"importo": "1000.00", "data": "2026-04-15"}, man_key, man),
                (f"/stanziamenti/{sid}/impegni/{impegno_id}/riduzioni",
                 {"importo": "234.56", "tipo": "disimpegno", "motivo": "Servizio concluso in anticipo"}, rid_key, rid)):
            again = f.muovi(path, corpo, key=key_, expect=200)
            assert again.headers["Idempotent-Replayed"] == "true" and again.json() == risposta.json()
    assert f.saldi(sid) == saldi
    mio = f.stanziamento(sid)["impegni"][impegno_id]
    assert (mio["importo"], mio["ridotto"], mio["liquidato"]) == ("1234.56", "234.56", "1000.00")


def test_a_refused_request_does_not_use_up_its_key(fin1: dict) -> None:
    f, sid = fin1["f"], fin1["sid"]
    key = f"ritento-{uuid.uuid4()}"
    assert_problem(f.muovi(f"/stanziamenti/{sid}/impegni", f.impegno(sid, "10.00", cig="ZA12B3C4D"), key=key,
                           expect=None), 422, "codice.cig", "cig")
    oltre = str(cents(f.saldi(sid)["disponibile"]) + Decimal("1.00"))
    assert_problem(f.muovi(f"/stanziamenti/{sid}/impegni", f.impegno(sid, oltre), key=key, expect=None), 422,
                   "impegno.disponibilita", "importo")
    corretto = f.muovi(f"/stanziamenti/{sid}/impegni", f.impegno(sid, "10.00"), key=key)
    assert corretto.headers["Idempotent-Replayed"] == "false"


def test_bad_input_is_refused_naming_the_rule_and_nothing_is_stored(fin1: dict, platform: Platform) -> None:
    f, sid, piano_id = fin1["f"], fin1["sid"], fin1["piano_id"]
    impegni = f"/stanziamenti/{sid}/impegni"
    prima = f.saldi(sid)
    with nothing_stored(platform.infra):
        # amounts
        for importo, rule in (("0", "importo.positivo"), ("0.00", "importo.positivo"), ("-5.00", "importo.positivo"),
                              ("10.001", "importo.centesimi")):
            assert_problem(f.muovi(impegni, f.impegno(sid, importo), expect=None), 422, rule, "importo")
        for importo in (10.5, 10, "10,50", "dieci", "1e3", None):
            assert_problem(f.muovi(impegni, f.impegno(sid, importo), expect=None), 422,
                           "tipo.stringa" if not isinstance(importo, str) else "importo.formato", "importo")
        # identifiers
        assert_problem(f.muovi(impegni, f.impegno(sid, "10.00", cig="ZA12B3C4D"), expect=None), 422,
                       "codice.cig", "cig")
        assert_problem(f.muovi(impegni, f.impegno(sid, "10.00", cig="za12b3c4d5"), expect=None), 422,
                       "codice.cig", "cig")
        assert_problem(f.muovi(impegni, f.impegno(sid, "10.00", cup="J51B2100546000"), expect=None), 422,
                       "codice.cup", "cup")
        assert_problem(f.muovi(impegni, f.impegno(sid, "10.00", cup="151B21005460006"), expect=None), 422,
                       "codice.cup", "cup")
        assert_problem(f.muovi(impegni, f.impegno(sid, "10.00", beneficiario={**COOP, "codice_fiscale": "00743110158"}),
                               expect=None), 422, "ente.codice_fiscale", "beneficiario.codice_fiscale")
        assert_problem(f.muovi(impegni, f.impegno(sid, "10.00", atto={**DETERMINA, "tipo": "decreto"}), expect=None),
                       422, "literal_error", "atto.tipo")
        assert_problem(f.muovi(impegni, f.impegno(sid, "10.00", comune=MILANO), expect=None), 422,
                       "impegno.comune_intervento", "comune")
        # funds and lines
        assert_problem(f.call("POST", "/assegnazioni", expect=None, json={
            "fondo": "FONDO_INVENTATO", "annualita": 2025, "importo": "10.00", "atto": DECRETO}), 422,
            "fondo.noto", "fondo")
        assert_problem(f.call("POST", "/assegnazioni", expect=None, json={
            "fondo": "FNPS", "annualita": 2025, "importo": 10.5, "atto": DECRETO}), 422, "tipo.stringa", "importo")
        assert_problem(f.call("POST", "/assegnazioni", expect=None, json={
            "fondo": "FNPS", "annualita": 2025, "importo": "0", "atto": {**DECRETO, "numero": "999"}}), 422,
            "importo.positivo", "importo")
        assert_problem(f.call("POST", "/assegnazioni", expect=None, json={
            "fondo": "FNPS", "annualita": 2025, "importo": "10.00", "atto": DECRETO}), 422,
            "fondo.atto_unico", "atto.numero")  # the decree is already recorded
        allocazione = {"intervento": "A.1.1", "fondo": "FNPS", "anno": 2025, "annualita": 2025, "importo": "10.00"}
        assert_problem(f.call("POST", f"/budget/{piano_id}/allocazioni", expect=None, key=f"k-{uuid.uuid4()}",
                              json={**allocazione, "intervento": "Z.9.9"}), 422, "budget.linea_esistente", "intervento")
        assert_problem(f.call("POST", f"/budget/{piano_id}/allocazioni", expect=None, key=f"k-{uuid.uuid4()}",
                              json={**allocazione, "anno": 2026}), 422, "budget.linea_esistente", "intervento")
        assert_problem(f.call("POST", f"/budget/{piano_id}/allocazioni", expect=None, key=f"k-{uuid.uuid4()}",
                              json={**allocazione, "fondo": "FONDO_INVENTATO"}), 422,
                       "budget.assegnazione_esistente", "annualita")
        assert_problem(f.call("POST", f"/budget/{piano_id}/allocazioni", expect=None, key=f"k-{uuid.uuid4()}",
                              json={**allocazione, "fondo": "FNA", "anno": 2026, "annualita": 2026}), 422,
                       "budget.assegnazione_esistente", "annualita")  # no FNA 2026 decree registered
        assert_problem(f.call("POST", f"/budget/{piano_id}/allocazioni", expect=None, key=f"k-{uuid.uuid4()}",
                              json={**allocazione, "importo": "32500.01"}), 422, "budget.capienza_linea", "importo")
        assert_problem(f.call("POST", f"/budget/{piano_id}/allocazioni", expect=None, key=f"k-{uuid.uuid4()}",
                              json={**allocazione, "importo": "-1.00"}), 422, "importo.positivo", "importo")
        assert f.call("GET", f"/budget/{uuid.uuid4()}", expect=404).headers["content-type"].startswith(
            "application/problem+json")
        # unknown commitment, liquidation, allocation
        assert f.muovi(f"/stanziamenti/{sid}/impegni/{uuid.uuid4()}/liquidazioni", {
            "importo": "1.00", "fattura": {"numero": "FT-X", "data": "2026-03-01"}}, expect=404).headers[
            "content-type"].startswith("application/problem+json")
        assert f.muovi(f"/stanziamenti/{sid}/liquidazioni/{uuid.uuid4()}/mandati", {
            "importo": "1.00", "data": "2026-03-15"}, expect=404).status_code == 404
        assert f.muovi(f"/stanziamenti/{uuid.uuid4()}/impegni", f.impegno(sid, "1.00"), expect=404).status_code == 404
    assert f.saldi(sid) == prima


def test_overspending_is_refused_at_every_step_and_nothing_is_stored(fin1: dict, platform: Platform) -> None:
    f, sid, infra = fin1["f"], fin1["sid"], platform.infra
    impegno = f.muovi(f"/stanziamenti/{sid}/impegni", f.impegno(sid, "100.00")).json()
    liq = f.muovi(f"/stanziamenti/{sid}/impegni/{impegno['impegno_id']}/liquidazioni", {
        "importo": "60.00", "fattura": {"numero": "FT-7", "data": "2026-03-01"}}).json()
    f.muovi(f"/stanziamenti/{sid}/liquidazioni/{liq['liquidazione_id']}/mandati", {
        "importo": "25.00", "data": "2026-03-15"})
    prima = f.saldi(sid)
    oltre = str(cents(prima["disponibile"]) + Decimal("0.01"))
    with nothing_stored(infra):
        body = assert_problem(f.muovi(f"/stanziamenti/{sid}/impegni", f.impegno(sid, oltre), expect=None), 422,
                              "impegno.disponibilita", "importo")
        assert prima["disponibile"] in body["detail"]
        assert_problem(f.muovi(f"/stanziamenti/{sid}/impegni/{impegno['impegno_id']}/liquidazioni", {
            "importo": "40.01", "fattura": {"numero": "FT-8", "data": "2026-03-01"}}, expect=None), 422,
            "liquidazione.residuo_impegno", "importo")
        assert_problem(f.muovi(f"/stanziamenti/{sid}/impegni/{impegno['impegno_id']}/liquidazioni", {
            "importo": "1.00", "fattura": {"numero": "FT-7", "data": "2026-03-01"}}, expect=None), 409,
            "liquidazione.fattura_unica")
        assert_problem(f.muovi(f"/stanziamenti/{sid}/liquidazioni/{liq['liquidazione_id']}/mandati", {
            "importo": "35.01", "data": "2026-03-15"}, expect=None), 422, "mandato.residuo_liquidazione", "importo")
        assert_problem(f.muovi(f"/stanziamenti/{sid}/impegni/{impegno['impegno_id']}/riduzioni", {
            "importo": "40.01", "tipo": "disimpegno", "motivo": "Servizio non reso"}, expect=None), 422,
            "riduzione.residuo", "importo")
        assert_problem(f.call("POST", f"/budget/{fin1['piano_id']}/allocazioni", expect=None,
                key=f"k-{uuid.uuid4()}", json={
            "intervento": "A.1.1", "fondo": "FNPS", "anno": 2025, "annualita": 2025, "importo": "32500.01"}),
            422, "budget.capienza_linea", "importo")
    assert f.saldi(sid) == prima
    # exactly what is left still fits, to the cent
    f.muovi(f"/stanziamenti/{sid}/impegni/{impegno['impegno_id']}/liquidazioni", {
        "importo": "40.00", "fattura": {"numero": "FT-8", "data": "2026-03-01"}})
    f.muovi(f"/stanziamenti/{sid}/liquidazioni/{liq['liquidazione_id']}/mandati", {
        "importo": "35.00", "data": "2026-03-16"})
    s = f.stanziamento(sid)
    assert s["impegni"][impegno["impegno_id"]]["liquidato"] == "100.00"
    assert s["liquidazioni"][liq["liquidazione_id"]]["pagato"] == "60.00"


def test_the_fund_cannot_be_allocated_beyond_its_decree(fin1: dict, platform: Platform) -> None:
    """FNA 2026: a decree of 50,000 € cannot fund the 96,000.50 € line beyond what it holds."""
    f, piano_id = fin1["f"], fin1["piano_id"]
    f.call("POST", "/assegnazioni", expect=201, json={
        "fondo": "FNA", "annualita": 2026, "importo": "50000.00",
        "atto": {**DECRETO, "numero": "FNA-2026/1", "data": "2026-01-20"}})
    fna = {"intervento": "A.1.1", "fondo": "FNA", "anno": 2026, "annualita": 2026}
    with nothing_stored(platform.infra):
        assert_problem(f.call("POST", f"/budget/{piano_id}/allocazioni", expect=None, key=f"k-{uuid.uuid4()}",
                              json={**fna, "importo": "50000.01"}), 422, "budget.disponibilita_fondo", "importo")
    s = f.call("POST", f"/budget/{piano_id}/allocazioni", expect=201,
            key=f"k-{uuid.uuid4()}", json={**fna, "importo": "50000.00"}).json()
    assert (s["stanziato"], s["fondo"], s["anno"]) == ("50000.00", "FNA", 2026)
    with nothing_stored(platform.infra):
        assert_problem(f.call("POST", f"/budget/{piano_id}/allocazioni", expect=None, key=f"k-{uuid.uuid4()}",
                              json={**fna, "importo": "0.01"}), 422, "budget.disponibilita_fondo", "importo")
    fondo = f.call("GET", "/assegnazioni/FNA/2026").json()
    assert (fondo["allocato"], fondo["disponibile"]) == ("50000.00", "0.00")
    riga = next(r for r in f.call("GET", f"/budget/{piano_id}").json()["righe"] if r["fondo"] == "FNA")
    assert (riga["importo"], riga["allocato"], riga["da_allocare"]) == ("96000.50", "50000.00", "46000.50")


def test_only_the_ufficio_di_piano_moves_money(fin1: dict, platform: Platform) -> None:
    f, sid, piano_id, infra = fin1["f"], fin1["sid"], fin1["piano_id"], platform.infra
    saldi = f.saldi(sid)
    with nothing_stored(infra):
        for headers in (f.sindaco, f.revisore, infra.auth(TENANT, "referente_asl")):
            assert_problem(f.muovi(f"/stanziamenti/{sid}/impegni", f.impegno(sid, "10.00"), headers=headers,
                                   expect=None), 403, "role.required")
            assert_problem(f.call("POST", f"/budget/{piano_id}/allocazioni", headers=headers, expect=None,
                                  key="k-roles-1", json={"intervento": "A.1.1", "fondo": "FNPS", "anno": 2025,
                                                         "annualita": 2025, "importo": "1.00"}),
                           403, "role.required")
            assert_problem(f.call("POST", "/assegnazioni", headers=headers, expect=None, json={
                "fondo": "FNPS", "annualita": 2030, "importo": "1.00", "atto": DECRETO}), 403, "role.required")
        assert_problem(f.muovi(f"/stanziamenti/{sid}/impegni", f.impegno(sid, "10.00"), headers={}, expect=None),
                       401, "token.missing")
        # a Region reads through monitoring; it keeps no Ambito's books
        assert_problem(f.muovi(f"/stanziamenti/{sid}/impegni", f.impegno(sid, "10.00"),
                               headers=infra.auth(None, "regione", regione="15"), expect=None), 403, "role.required")
    assert f.saldi(sid) == saldi
    # the coordinatore may (the brief: "the coordinator too")
    assert f.muovi(f"/stanziamenti/{sid}/impegni", f.impegno(sid, "1.00"), headers=f.coordinatore).status_code == 201


def test_another_ambito_sees_and_moves_nothing_of_this_one(fin1: dict, platform: Platform) -> None:
    f, sid, piano_id, infra = fin1["f"], fin1["sid"], fin1["piano_id"], platform.infra
    altro = Finanza(platform, OTHER)
    # 15-FIN2 has its own FNPS 2025: same fund and year, another Ambito's books
    proprio = altro.call("POST", "/assegnazioni", expect=201, json={
        "fondo": "FNPS", "annualita": 2025, "importo": "7000.00", "atto": DECRETO}).json()
    assert proprio["id"] != fin1["assegnazione"]["id"] and proprio["totale"] == "7000.00"
    saldi = f.saldi(sid)
    impegno_id = next(iter(f.stanziamento(sid)["impegni"]))
    with nothing_stored(infra):
        for headers in (altro.coordinatore, altro.sindaco):
            for path in (f"/stanziamenti/{sid}", f"/budget/{piano_id}"):
                response = altro.call("GET", path, headers=headers, expect=None)
                assert response.status_code == 404, (path, response.text)
                assert response.headers["content-type"].startswith("application/problem+json")
        assert altro.call("GET", "/assegnazioni/FNPS/2025").json()["totale"] == "7000.00"
        for path, body in ((f"/stanziamenti/{sid}/impegni", altro.impegno(sid, "10.00")),
                           (f"/stanziamenti/{sid}/impegni/{impegno_id}/liquidazioni",
                            {"importo": "1.00", "fattura": {"numero": "FT-INTRUSO", "data": "2026-03-01"}}),
                           (f"/stanziamenti/{sid}/impegni/{impegno_id}/riduzioni",
                            {"importo": "1.00", "tipo": "economia", "motivo": "Non mio"})):
            response = altro.muovi(path, body, expect=None)
            assert response.status_code == 404, (path, response.text)
        response = altro.call("POST", f"/budget/{piano_id}/allocazioni", expect=None, key="k-intruso-1", json={
            "intervento": "A.1.1", "fondo": "FNPS", "anno": 2025, "annualita": 2025, "importo": "1.00"})
        assert response.status_code == 404, response.text
    assert f.saldi(sid) == saldi
    assert f.call("GET", "/assegnazioni/FNPS/2025").json()["totale"] == "200000.00"
