"""Benchmark of the web console (issue 10): its server time against the services' calls it wraps.

The console runs as its own process in front of the four services, as in production, and is called
over HTTP with a logged-in session (the development login, as the browser tests use it). For each
page the p95 of the page is set beside the p95 of the API calls that page makes, made the same way
(at once when the page makes them at once, one after the other when it does), in the same run:

- ``/regione``: the Region's table with ``N_AMBITI`` Ambiti in its regional read model, sorted by the
  commitment rate (three regional views read at once, whatever the number of Ambiti);
- ``/regione/ambiti/{tenant}``: one Ambito of that Region (four regional views at once);
- ``/revisione``: the auditor's page (the audit chain verified by the four services, the first page of
  deliberations and of commitments, all at once);
- ``/ambito``: the Ambito's home, when the console has it (its calls one after the other).

Seeding is fast and realistic: the regional read model is fed as in production, by planning's and
finance's integration events on their topics (CloudEvents with the data their outbound mappers
publish: composition, Piano created/proposed/approved, deliberation proposed/approved, assignment,
allocation, commitment, liquidation, payment order), produced straight to the broker and applied by
the running monitoring's consumer. Their ``ce_sequence`` starts at ``SEQUENZA`` so that they never
collide with the positions the running planning and finance publish. One Ambito (``TENANT``) is
also made over HTTP in planning and finance, for the pages that read an Ambito's own records.

Goal (issue 10): console p95 <= 300 ms. ``python bench/console_pages.py`` runs it alone.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import sys
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

os.environ.setdefault("AMBITI_ENVIRONMENT", "test")

from ambiti_kit import kafka  # noqa: E402
from ambiti_kit.envelope import CloudEvent  # noqa: E402
from ambiti_kit.testing.fixtures import SERVICES, Infra, free_port, start_platform, wait_until  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N_AMBITI = int(os.environ.get("BENCH_CONSOLE_AMBITI", 600))
N_CALLS = int(os.environ.get("BENCH_CONSOLE_CALLS", 100))
GOAL_P95_MS = 300.0
REGIONE = "15"
TENANT = "15-CONSOLE"
SEQUENZA = 1_000_000_000
T0 = datetime(2026, 1, 10, 9, 0, tzinfo=timezone.utc)
FONDI = ("FNPS", "QSFP", "FNA")


def _stats(samples: list[float]) -> dict[str, Any]:
    samples = sorted(samples)
    return {"samples": len(samples), "p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 1), "max_ms": round(samples[-1], 1)}


class Eventi:
    """Integration events of one producing service, with the data fields of its outbound mapper."""

    def __init__(self, servizio: str) -> None:
        self.servizio = servizio
        self.sequenza = SEQUENZA

    def __call__(self, evento: str, tenant: str, soggetto: uuid.UUID, /, **data: Any) -> CloudEvent:
        self.sequenza += 1
        return CloudEvent(type=f"{self.servizio}.{evento}", source=f"/ambiti/{self.servizio}", subject=str(soggetto),
                          tenantid=tenant, sequence=self.sequenza,
                          time=T0 + timedelta(seconds=self.sequenza - SEQUENZA),
                          dataschema=f"https://contracts.ambiti.example/{self.servizio}/{self.servizio}.{evento}"
                                     ".v1.schema.json",
                          data={k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in data.items()})


def esito_approvato() -> dict[str, Any]:
    """An outcome as ``regole_voto.Esito.come_dict`` writes it (doppia maggioranza, 5 Comuni present)."""
    return {"approvata": True, "famiglia": "doppia_maggioranza",
            "per_testa": {"favorevoli": 4, "contrari": 1, "astenuti": 0, "non_votanti": 0, "base": 5,
                          "maggioranza": True},
            "ponderato": {"favorevoli": 9000, "contrari": 2000, "astenuti": 0, "non_votanti": 0, "base": 11000,
                          "maggioranza": True},
            "motivazione": "Approvata: componenti favorevoli 4 su 5."}


def eventi_ambito(i: int, tenant: str, planning: Eventi, finance: Eventi) -> tuple[list[CloudEvent], list[CloudEvent]]:
    """One Ambito's history as planning and finance publish it: composition, a Piano (approved by a
    numbered deliberation in two Ambiti out of three), and per fund an assignment spent in part."""
    comuni = [{"istat": f"0{(i * 7 + k) % 100000:05d}", "nome": f"Comune {i}-{k}", "popolazione": 2000 + 97 * ((i + k) % 50)}
              for k in range(5)]
    piano, delibera, seduta = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    p = [planning("ambito.composizione_registrata", tenant, uuid.uuid4(), ambito=tenant, versione=1,
                  nome=f"Ambito territoriale {i}", capofila_istat=comuni[0]["istat"], popolazione_al="2025-01-01",
                  comuni=comuni),
         planning("piano_di_zona.creato", tenant, piano, piano_id=piano, ambito=tenant,
                  titolo="Piano Sociale di Zona 2025–2027", anno_inizio=2025, anno_fine=2027, stato="bozza",
                  creato_da=f"coordinatore@{tenant}", creato_il=T0.isoformat())]
    if i % 3:
        numero = f"{1 + i % 40}/2026"
        p += [planning("piano_di_zona.proposto", tenant, piano, piano_id=piano, ambito=tenant, versione=1,
                       proposto_da=f"coordinatore@{tenant}"),
              planning("deliberazione.proposta", tenant, delibera, deliberazione_id=delibera, ambito=tenant,
                       tipo="approvazione_piano", oggetto="Approvazione del Piano di Zona", riferimenti={"anno": 2026},
                       proposta_da=f"coordinatore@{tenant}"),
              planning("deliberazione.approvata", tenant, delibera, deliberazione_id=delibera, ambito=tenant,
                       seduta_id=seduta, numero=numero, data="2026-03-02", esito=esito_approvato(),
                       numero_legale={"raggiunto": True}, regola={"famiglia": "doppia_maggioranza"}),
              planning("piano_di_zona.versione_approvata", tenant, piano, piano_id=piano, ambito=tenant, versione=1,
                       tipo="piano", riferimento=None, titolo="Piano", deliberazione_id=delibera,
                       deliberazione=numero, interventi=[])]
    f = []
    for k, fondo in enumerate(FONDI):
        assegnato = 100_000 + 1_000 * ((i * 13 + k) % 200)
        impegnato = assegnato * ((i * 7 + k * 11) % 90 + 5) // 100
        pagato = impegnato * ((i * 3 + k) % 80 + 10) // 100
        a, s, imp, liq = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        f += [finance("assegnazione.registrata", tenant, a, assegnazione_id=a, ambito=tenant, fondo=fondo,
                      annualita=2025, importo=f"{assegnato}.00",
                      atto={"tipo": "decreto", "numero": "12", "data": "2025-06-30", "ente": "Regione"}, vincoli={},
                      registrata_da=f"amministrativo@{tenant}"),
              finance("stanziamento.aperto", tenant, s, stanziamento_id=s, ambito=tenant, importo=f"{assegnato}.00",
                      assegnazione_id=a, fondo=fondo, annualita=2025, piano_id=piano, intervento="I1", anno=2025,
                      aperto_da="x"),
              finance("impegno.assunto", tenant, s, stanziamento_id=s, ambito=tenant, importo=f"{impegnato}.00",
                      impegno_id=imp, beneficiario={"denominazione": "Cooperativa Sociale", "codice_fiscale":
                                                    "00743110157"}, cig="A1B2C3D4E5", cup=None,
                      atto={"tipo": "determina", "numero": "7", "data": "2026-01-15"}, oggetto="Servizi domiciliari",
                      comune=comuni[k]["istat"], assunto_da="x", assunto_il=T0.isoformat()),
              finance("liquidazione.disposta", tenant, s, stanziamento_id=s, ambito=tenant, importo=f"{pagato}.00",
                      liquidazione_id=liq, impegno_id=imp, fattura={"numero": f"F-{i}-{k}", "data": "2026-03-01"},
                      disposta_da="x", disposta_il=T0.isoformat()),
              finance("mandato.emesso", tenant, s, stanziamento_id=s, ambito=tenant, importo=f"{pagato}.00",
                      mandato_id=uuid.uuid4(), liquidazione_id=liq, impegno_id=imp, data="2026-03-10",
                      emesso_da="x")]
    return p, f


def semina_regione(ns: Infra) -> dict[str, Any]:
    """N_AMBITI Ambiti of the Region, as planning's and finance's events on their topics."""
    planning, finance = Eventi("planning"), Eventi("finance")
    topics = {"planning": f"{ns.namespace}planning.events.v1", "finance": f"{ns.namespace}finance.events.v1"}
    producer = kafka.producer(ns.kafka_bootstrap)
    t0 = time.perf_counter()
    n = 0
    try:
        for i in range(N_AMBITI):
            p, f = eventi_ambito(i, f"{REGIONE}-C{i}", planning, finance)
            for event in (*p, *f):
                key, value, headers = event.to_kafka()
                producer.send(topics[event.type.split(".")[0]], key=key, value=value, headers=headers)
                n += 1
        producer.flush()
    finally:
        producer.close()
    return {"events": n, "produce_seconds": round(time.perf_counter() - t0, 2)}


def ok(r: httpx.Response, *codes: int) -> Any:
    assert r.status_code in codes, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:500]}"
    return r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text


def semina_ambito(ns: Infra, urls: dict[str, str]) -> None:
    """TENANT over HTTP: its composition, a Piano, a deliberation proposed, a fund assigned."""
    coord = ns.auth(TENANT, "coordinatore")
    with httpx.Client(timeout=30) as http:
        ok(http.put(f"{urls['planning']}/ambito", headers=coord, json={
            "nome": "Ambito della console", "capofila_istat": "065134", "popolazione_al": "2025-01-01",
            "comuni": [{"istat": f"0651{30 + k}", "nome": f"Comune {k}", "popolazione": 5000 + 100 * k}
                       for k in range(5)]}), 201)
        ok(http.post(f"{urls['planning']}/piani", headers=coord, json={
            "titolo": "Piano Sociale di Zona 2025–2027", "anno_inizio": 2025, "anno_fine": 2027}), 201)
        ok(http.post(f"{urls['planning']}/deliberazioni", headers=coord, json={
            "tipo": "criteri_riparto_costi", "oggetto": "Criteri di riparto dei costi 2026",
            "testo": "Il Comitato approva i criteri di ripartizione dei costi tra i Comuni.",
            "riferimenti": {"anno": 2026}}), 201)
        ok(http.post(f"{urls['finance']}/assegnazioni", headers=ns.auth(TENANT, "amministrativo"), json={
            "fondo": "FNPS", "annualita": 2025, "importo": "250000.00",
            "atto": {"tipo": "decreto", "numero": "87", "data": "2025-05-20", "ente": "Regione"}}), 201)


def accedi(url: str, **campi: str) -> httpx.Client:
    """A session of the console, logged in through its development login page as a browser does."""
    client = httpx.Client(base_url=url, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', ok(client.get("/accesso"), 200)).group(1)
    r = client.post("/accesso", data={"csrf_token": token, **campi})
    assert r.status_code == 303, (r.status_code, r.text[:500])
    return client


def misura_console(client: httpx.Client, path: str, controllo: str) -> dict[str, Any]:
    r = client.get(path)
    assert r.status_code == 200 and controllo in r.text, (path, r.status_code, r.text[:1000])
    samples = []
    for _ in range(N_CALLS):
        t0 = time.perf_counter()
        r = client.get(path)
        samples.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    return _stats(samples)


def misura_api(urls: dict[str, str], headers: dict[str, str], chiamate: list[tuple[str, str, dict]],
               insieme: bool) -> dict[str, Any]:
    """The calls a page makes, made as it makes them (``insieme``: at once), over pooled connections."""

    async def giro(clients: dict[str, httpx.AsyncClient]) -> float:
        t0 = time.perf_counter()
        if insieme:
            risposte = await asyncio.gather(*(clients[s].get(p, params=q, headers=headers) for s, p, q in chiamate))
        else:
            risposte = [await clients[s].get(p, params=q, headers=headers) for s, p, q in chiamate]
        ms = (time.perf_counter() - t0) * 1000
        for r in risposte:
            assert r.status_code < 500, (r.request.url, r.status_code)
        return ms

    async def tutto() -> list[float]:
        clients = {s: httpx.AsyncClient(base_url=u, timeout=30) for s, u in urls.items()}
        try:
            await giro(clients)
            return [await giro(clients) for _ in range(N_CALLS)]
        finally:
            for c in clients.values():
                await c.aclose()

    return {**_stats(asyncio.run(tutto())), "calls": [f"{s} GET {p}" for s, p, _ in chiamate],
            "made": "at once" if insieme else "one after the other"}


def confronto(console: dict[str, Any], api: dict[str, Any]) -> dict[str, Any]:
    return {"console": console, "api": api, "ratio_p95_console_to_api": round(console["p95_ms"] / api["p95_ms"], 2),
            "goal_p95_ms": GOAL_P95_MS, "within_goal": console["p95_ms"] <= GOAL_P95_MS}


def bench_console(infra: Infra) -> dict[str, Any]:
    from ambiti_cli.main import start_console, stop_processes

    ns = replace(infra, namespace=f"{infra.namespace}con_")
    platform = start_platform(ns, names=SERVICES, log_tag="bench-console")
    processes = []
    try:
        urls = {name: platform.url(name) for name in SERVICES}
        log_dir = ROOT / "var" / "test" / "log" / f"{ns.namespace.rstrip('_')}-bench-console"
        log_dir.mkdir(parents=True, exist_ok=True)
        url, process = start_console(ns.env(), urls, port=free_port(), log_dir=log_dir)
        processes.append(process)

        t0 = time.perf_counter()
        seeding = semina_regione(ns)
        semina_ambito(ns, urls)
        regione = ns.auth(None, "regione", regione=REGIONE)

        def caricato() -> bool:
            with httpx.Client(timeout=30) as http:
                piani = ok(http.get(f"{urls['monitoring']}/regione/piani", headers=regione), 200)["ambiti"]
                esecuzione = ok(http.get(f"{urls['monitoring']}/regione/esecuzione", headers=regione), 200)["ambiti"]
            sintetici = [a for a in esecuzione if a["ambito"].startswith(f"{REGIONE}-C") and len(a["fondi"]) == 3
                         and all(f["pagato"] != "0.00" for f in a["fondi"])]
            approvati = sum(1 for a in piani if a["stati"]["approvato"])
            return len(sintetici) >= N_AMBITI and approvati >= N_AMBITI - N_AMBITI // 3 - 1 \
                and any(a["ambito"] == TENANT for a in piani)

        wait_until(caricato, timeout=900, interval=1, message=f"{N_AMBITI} Ambiti in the regional read model")
        seeding["seconds_to_read_model"] = round(time.perf_counter() - t0, 1)
        seeding["ambiti_in_region"] = N_AMBITI + 1

        results: dict[str, Any] = {"ambiti_in_region": N_AMBITI + 1, "seeding": seeding}
        funzionario = accedi(url, ruolo="regione", regione=REGIONE)
        viste = [("monitoring", "/regione/piani", {}), ("monitoring", "/regione/deliberazioni", {}),
                 ("monitoring", "/regione/indicatori", {})]
        results["regione"] = confronto(
            misura_console(funzionario, "/regione?ordina=tasso_impegno&verso=disc", f"{N_AMBITI + 1} Ambiti"),
            misura_api(urls, regione, viste, insieme=True))
        results["regione_ambito"] = confronto(
            misura_console(funzionario, f"/regione/ambiti/{REGIONE}-C7", "Esecuzione finanziaria"),
            misura_api(urls, regione, [*viste, ("monitoring", "/regione/esecuzione", {})], insieme=True))
        funzionario.close()

        revisore = accedi(url, ruolo="revisore", ambito=TENANT)
        results["revisione"] = confronto(
            misura_console(revisore, "/revisione", "Verifica della catena di audit"),
            misura_api(urls, ns.auth(TENANT, "revisore"),
                       [*((s, "/audit/verify", {}) for s in SERVICES),
                        ("planning", "/deliberazioni", {"limite": 20}), ("finance", "/impegni", {"limite": 20})],
                       insieme=True))
        revisore.close()

        # The Ambito's home (another page of the console): measured once the console has it.
        coordinatore = accedi(url, ruolo="coordinatore", ambito=TENANT)
        if coordinatore.get("/ambito").status_code == 200:
            results["ambito_home"] = confronto(
                misura_console(coordinatore, "/ambito", TENANT),
                misura_api(urls, ns.auth(TENANT, "coordinatore"), [
                    ("planning", "/ambito", {}), ("planning", "/piani", {"limite": 5}),
                    ("planning", "/sedute", {"stato": "convocata", "limite": 200}),
                    ("monitoring", "/esecuzione", {}),
                    ("planning", "/proposte-tavoli", {"stato": "ricevuta", "limite": 50}),
                    ("partnership", "/procedure", {"limite": 20}), ("finance", "/fondi", {})], insieme=False))
        else:
            results["ambito_home"] = {"skipped": "GET /ambito is not in the console yet"}
        coordinatore.close()
        results["within_goal"] = all(v.get("within_goal", True) for v in results.values() if isinstance(v, dict))
        return results
    finally:
        stop_processes(processes)
        platform.stop()


def main() -> int:
    """``python bench/console_pages.py``: this benchmark alone, on its own PostgreSQL and broker."""
    import json

    from servers import bench_infra

    with bench_infra() as infra:
        results = bench_console(infra)
    print(json.dumps(results, indent=2))
    return 0 if results["within_goal"] else 1

if __name__ == "__main__":
    sys.exit(main())
