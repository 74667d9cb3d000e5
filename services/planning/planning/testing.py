"""Helpers of planning's HTTP tests (like the kit's ambiti_kit.testing): a client on the in-process app with real tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient

from ambiti_kit.testing.fixtures import Infra

A = "15-RCA"
# four Comuni of S09 with their ISTAT population at 1 January 2023
COMUNI = [{"istat": "065134", "nome": "Sapri", "popolazione": 6373},
          {"istat": "065156", "nome": "Vibonati", "popolazione": 3204},
          {"istat": "065149", "nome": "Torre Orsaia", "popolazione": 1985},
          {"istat": "065059", "nome": "Ispani", "popolazione": 970}]
SAPRI, VIBONATI, TORRE, ISPANI = (c["istat"] for c in COMUNI)
PER_TESTA = {"famiglia": "per_testa", "base": "presenti"}
DUE_TERZI_ASSEGNATI = {"teste": {"frazione": "2/3", "stretta": False}, "base_teste": "assegnati"}


@dataclass
class Client:
    ns: Infra
    http: TestClient
    #: the Ambito of every call that names none
    ambito: str = A

    def call(self, method: str, path: str, body: dict | None = None, tenant: str | None = None,
             role: str = "coordinatore", expect: int = 200, **kw: Any) -> dict:
        tenant = tenant or self.ambito
        r = self.http.request(method, path, json=body, headers=self.ns.auth(tenant, role, **kw))
        assert r.status_code == expect, (method, path, r.status_code, r.text)
        return r.json()

    def problem(self, method: str, path: str, body: dict | None, status: int, rule: str, field: str,
                tenant: str | None = None) -> dict:
        tenant = tenant or self.ambito
        r = self.http.request(method, path, json=body, headers=self.ns.auth(tenant, "coordinatore"))
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        p = r.json()
        assert (p["rule"], p["field"]) == (rule, field), p
        assert p["detail"] and p["errors"][0]["message"], p  # an Italian sentence for the person
        return p

    def proponi(self, tipo: str, oggetto: str, tenant: str | None = None, **riferimenti: Any) -> str:
        tenant = tenant or self.ambito
        return self.call("POST", "/deliberazioni", {"tipo": tipo, "oggetto": oggetto, "testo": "Il Comitato delibera.",
                                                    "riferimenti": riferimenti}, tenant=tenant, expect=201)["id"]

    def seduta(self, *proposte: str, tenant: str | None = None,
               presenti: tuple[str, ...] = (SAPRI, VIBONATI, TORRE, ISPANI)) -> str:
        tenant = tenant or self.ambito
        prima = datetime.now(timezone.utc) - timedelta(minutes=1)
        s = self.call("POST", "/sedute", {"oggetto": "Seduta del Comitato", "luogo": "Sapri",
                                          "prima_convocazione": prima.isoformat(),
                                          "ordine_del_giorno": list(proposte)}, tenant=tenant, expect=201)["id"]
        for istat in presenti:
            self.call("PUT", f"/sedute/{s}/presenze/{istat}", {"presente": True}, tenant=tenant)
        self.call("POST", f"/sedute/{s}/apertura", {"convocazione": 1}, tenant=tenant)
        return s

    def vota(self, seduta: str, proposta: str, voti: dict[str, str], tenant: str | None = None) -> dict:
        tenant = tenant or self.ambito
        self.call("POST", f"/sedute/{seduta}/votazioni", {"proposta_id": proposta}, tenant=tenant)
        for istat, voto in voti.items():
            self.call("POST", f"/sedute/{seduta}/votazioni/{proposta}/voti", {"componente": istat, "voto": voto},
                      tenant=tenant, role="componente_comitato", comune=istat, expect=201)
        return self.call("POST", f"/sedute/{seduta}/votazioni/{proposta}/chiusura", tenant=tenant)
