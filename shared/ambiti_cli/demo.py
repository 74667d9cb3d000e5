"""`ambiti seed-demo`: a demo tenant built from a real Ambito, through the public API.

Ambito Territoriale Sociale S09 – Sapri (Campania, ISTAT Region 15): its 17 Comuni with
ISTAT codes and resident population at 1 January 2023 (sources in ``demo_s09.json``).
Idempotent: running it twice leaves one composition version per change and one plan.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from ambiti_kit.auth import issue_token
from ambiti_kit.settings import PlatformSettings

DATA = Path(__file__).with_name("demo_s09.json")


def tenant_id(data: dict) -> str:
    return f"{data['ambito']['regione']}-{data['ambito']['codice']}"


def seed_demo(planning_url: str, monitoring_url: str) -> int:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    tenant = tenant_id(data)
    settings = PlatformSettings()
    coordinatore = issue_token(settings, roles=["coordinatore"], tenant=tenant, subject="coordinatore.demo@s09")
    auth = {"Authorization": f"Bearer {coordinatore}"}
    with httpx.Client(timeout=10) as http:
        composizione = {"nome": data["ambito"]["nome"], "capofila_istat": data["ambito"]["capofila_istat"],
                        "popolazione_al": data["popolazione_al"],
                        "comuni": [{k: c[k] for k in ("istat", "nome", "popolazione")} for c in data["comuni"]]}
        current = http.get(f"{planning_url}/ambito", headers=auth)
        if current.status_code == 200 and all(current.json()[k] == composizione[k] for k in composizione):
            print(f"Ambito {tenant}: composizione già registrata (versione {current.json()['versione']})")
        else:
            r = http.put(f"{planning_url}/ambito", headers=auth, json=composizione)
            r.raise_for_status()
            print(f"Ambito {tenant}: {len(data['comuni'])} Comuni, {r.json()['popolazione']} residenti "
                  f"al {data['popolazione_al']}")
        # The Coordinamento Istituzionale: the 17 mayors (population-weighted) and, without vote, the ASL.
        r = http.put(f"{planning_url}/comitato", headers=auth, json={
            "regola": {"famiglia": "ponderata", "base": "presenti"},
            "consultivi": [{"id": "ASL", "nome": "ASL Salerno – Distretto Sanitario 71", "peso": 0}]})
        r.raise_for_status()
        print("Comitato Istituzionale: " + ("costituito" if r.status_code == 201 else "già configurato")
              + f" ({len(r.json()['componenti'])} componenti, voto ponderato sulla popolazione)")
        r = http.post(f"{planning_url}/piani", headers=auth, json={
            "titolo": "Piano Sociale di Zona 2025–2027 – Ambito S09 Sapri", "anno_inizio": 2025, "anno_fine": 2027})
        if r.status_code not in (201, 409):
            r.raise_for_status()
        print("Piano di Zona 2025–2027: " + ("redatto (bozza)" if r.status_code == 201 else "già presente"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if http.get(f"{monitoring_url}/ambito/comuni", headers=auth).status_code == 200 and \
                    http.get(f"{monitoring_url}/piani", headers=auth).json()["elementi"]:
                break
            time.sleep(0.3)
        else:
            print("attenzione: il monitoraggio non mostra ancora i dati (il broker è attivo?)")
            return 1
    regione = issue_token(settings, roles=["regione"], regione=data["ambito"]["regione"])
    print(f"\nToken coordinatore ({tenant}):\n  {coordinatore}\nToken Regione Campania:\n  {regione}\n")
    print(f"Prova:  curl -H 'Authorization: Bearer <token coordinatore>' {monitoring_url}/ambito/comuni")
    print(f"        curl -H 'Authorization: Bearer <token Regione>' {monitoring_url}/regione/piani")
    return 0
