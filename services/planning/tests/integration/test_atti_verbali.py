"""Acts and minutes over HTTP on the real PostgreSQL (issue 12, item 6, planning's side).

Attachments: the bytes in the content-addressed store, the SHA-256 and size in the event,
download by hash only within the Ambito (another Ambito's hash: 404), a size limit (413) and an
empty or unknown-type body (422), all problem+json. The verbale of a seduta is generated from
its events and approved, by its hash, at a later seduta. An approved nomina_coordinatore sets
who holds the role and until when.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from ambiti_kit.testing.fixtures import Infra
from planning.application import oggi
from planning.main import build as build_planning
from planning.testing import COMUNI, SAPRI, Client

A, B = "15-RAA", "15-RAB"


@pytest.fixture(scope="module")
def client(infra: Infra) -> Iterator[Client]:
    ns = replace(infra, namespace=f"{infra.namespace}patti_")
    with TestClient(build_planning(ns.settings("planning"), run_workers=False)) as http:
        c = Client(ns, http, A)
        for tenant in (A, B):
            c.call("PUT", "/ambito", {"nome": f"Ambito {tenant}", "capofila_istat": SAPRI,
                                      "popolazione_al": "2023-01-01", "comuni": COMUNI}, tenant=tenant, expect=201)
            c.call("PUT", "/comitato", {"regola": {"famiglia": "per_testa"}}, tenant=tenant, expect=201)
        try:
            yield c
        finally:
            http.app.state.runtime.relay.close()


def carica(c: Client, deliberazione: str, contenuto: bytes, tipo: str = "application/pdf", tenant: str = A,
           nome: str = "bilancio-2026.pdf"):
    return c.http.post(f"/deliberazioni/{deliberazione}/allegati", params={"nome": nome}, content=contenuto,
                       headers={**c.ns.auth(tenant, "coordinatore"), "Content-Type": tipo})


def test_attachments_hash_in_the_event_bytes_in_the_store_tenant_guarded(client: Client) -> None:
    d = client.proponi("approvazione_bilancio", "Bilancio 2026", anno=2026)
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
    r = carica(client, d, pdf)
    assert r.status_code == 201, r.text
    sha = hashlib.sha256(pdf).hexdigest()
    assert (r.json()["sha256"], r.json()["dimensione"], r.json()["url"]) == (sha, len(pdf), f"/allegati/{sha}")
    assert carica(client, d, pdf).status_code == 201  # the same document again: one attachment, no new event
    letta = client.call("GET", f"/deliberazioni/{d}", role="revisore")
    assert [(a["sha256"], a["dimensione"], a["nome"]) for a in letta["allegati"]] == [(sha, len(pdf),
                                                                                      "bilancio-2026.pdf")]
    # the event carries the hash and the size, not the bytes
    storia = client.call("GET", f"/deliberazioni/{d}/storia", role="revisore")
    [evento] = [e for e in storia["eventi"] if e["evento"] == "Deliberazione.AllegatoAggiunto"]
    assert (evento["dati"]["sha256"], evento["dati"]["dimensione"]) == (sha, len(pdf))
    assert "contenuto" not in evento["dati"]

    scaricato = client.http.get(f"/allegati/{sha}", headers=client.ns.auth(A, "revisore"))
    assert scaricato.status_code == 200 and scaricato.content == pdf
    assert scaricato.headers["content-type"] == "application/pdf"
    # another Ambito: the hash finds nothing, nor may it attach to A's deliberation
    altro = client.http.get(f"/allegati/{sha}", headers=client.ns.auth(B, "revisore"))
    assert altro.status_code == 404 and altro.headers["content-type"].startswith("application/problem+json")
    assert carica(client, d, b"altro", "text/plain", tenant=B).status_code == 404

    troppo = carica(client, d, b"x" * (2 * 1024 * 1024 + 1))
    assert troppo.status_code == 413 and troppo.json()["rule"] == "allegato.dimensione", troppo.text
    assert troppo.headers["content-type"].startswith("application/problem+json")
    oltre_il_servizio = carica(client, d, b"x" * (6 * 1024 * 1024))
    assert oltre_il_servizio.status_code == 413
    vuoto = carica(client, d, b"")
    assert vuoto.status_code == 422 and (vuoto.json()["rule"], vuoto.json()["field"]) == ("allegato.vuoto", "body")
    eseguibile = carica(client, d, b"MZ", "application/x-msdownload")
    assert eseguibile.status_code == 422 and eseguibile.json()["rule"] == "allegato.tipo"
    assert len(client.call("GET", f"/deliberazioni/{d}", role="revisore")["allegati"]) == 1  # nothing else stored
    assert client.http.get(f"/allegati/{hashlib.sha256(b'x').hexdigest()}",
                           headers=client.ns.auth(A, "revisore")).status_code == 404


def test_a_verbale_generated_from_the_events_is_approved_at_the_next_seduta(client: Client) -> None:
    nomina = client.proponi("nomina_coordinatore", "Nomina del coordinatore", nominativo="Dott.ssa Anna Verdi",
                            dal="2026-01-01", al="2028-12-31")
    prima = datetime.now(timezone.utc) - timedelta(minutes=5)
    s1 = client.call("POST", "/sedute", {"oggetto": "Seduta 1", "luogo": "Sapri", "prima_convocazione": prima.isoformat(),
                                         "ordine_del_giorno": [nomina]}, expect=201)["id"]
    istat = [c["istat"] for c in COMUNI]
    client.call("PUT", f"/sedute/{s1}/presenze/{istat[0]}", {"presente": True, "rappresentante": "Sindaco di Sapri"})
    client.call("PUT", f"/sedute/{s1}/presenze/{istat[1]}", {"presente": True})
    client.call("PUT", f"/sedute/{s1}/presenze/{istat[2]}", {"presente": True, "delega_a": istat[0]})
    client.call("POST", f"/sedute/{s1}/apertura", {"convocazione": 1})
    client.call("POST", f"/sedute/{s1}/votazioni", {"proposta_id": nomina})
    client.call("POST", f"/sedute/{s1}/votazioni/{nomina}/voti", {"componente": istat[0], "voto": "favorevole"},
                role="componente_comitato", comune=istat[0], expect=201)
    client.call("POST", f"/sedute/{s1}/votazioni/{nomina}/voti", {"componente": istat[2], "voto": "favorevole"},
                role="componente_comitato", comune=istat[0], expect=201)  # by proxy
    client.call("POST", f"/sedute/{s1}/votazioni/{nomina}/voti", {"componente": istat[1], "voto": "contrario"},
                role="componente_comitato", comune=istat[1], expect=201)
    approvata = client.call("POST", f"/sedute/{s1}/votazioni/{nomina}/chiusura")
    assert approvata["stato"] == "approvata"
    r = client.http.get(f"/sedute/{s1}/verbale", headers=client.ns.auth(A, "revisore"))
    assert r.status_code == 409 and r.json()["rule"] == "verbale.seduta_chiusa"  # not before it closes
    client.call("POST", f"/sedute/{s1}/chiusura")

    verbale = client.call("GET", f"/sedute/{s1}/verbale", role="revisore")
    testo = verbale["testo"]
    assert verbale["sha256"] == hashlib.sha256(testo.encode()).hexdigest() and verbale["approvato"] is None
    assert "Sindaco di Sapri" in testo and f"presente per delega a {istat[0]}" in testo
    assert f"- {istat[2]} (Torre Orsaia): favorevole, per delega, espresso da componente_comitato@{A}" in testo
    assert f"- {istat[1]} (Vibonati): contrario" in testo
    assert f"Esito: deliberazione n. {approvata['numero']}." in testo and "## Chiusura" in testo
    documento = client.http.get(f"/sedute/{s1}/verbale/documento", headers=client.ns.auth(A, "revisore"))
    assert documento.content.decode() == testo and documento.headers["digest"] == f"sha-256={verbale['sha256']}"
    assert client.call("GET", f"/sedute/{s1}/verbale", role="revisore")["sha256"] == verbale["sha256"]  # stable

    assert client.call("GET", f"/sedute/{s1}", role="revisore")["verbale_sha256"] == verbale["sha256"]  # at closing

    # its approval is a proposal put on a later seduta's agenda and voted under the Comitato's rule
    client.problem("POST", "/deliberazioni", {"tipo": "approvazione_verbale", "oggetto": "Approvazione del verbale",
                                              "testo": "Il Comitato approva il verbale.",
                                              "riferimenti": {"seduta_id": s1, "sha256": "0" * 64}},
                   422, "verbale.impronta", "riferimenti.sha256")
    client.problem("POST", "/deliberazioni", {"tipo": "approvazione_verbale", "oggetto": "Approvazione del verbale",
                                              "testo": "Il Comitato approva il verbale.",
                                              "riferimenti": {"seduta_id": str(uuid.uuid4()), "sha256": verbale["sha256"]}},
                   422, "verbale.seduta_esistente", "riferimenti.seduta_id")
    client.problem("POST", "/deliberazioni", {"tipo": "approvazione_verbale", "oggetto": "Approvazione del verbale",
                                              "testo": "Il Comitato approva il verbale.",
                                              "riferimenti": {"seduta_id": s1, "sha256": verbale["sha256"]}},
                   422, "verbale.seduta_esistente", "riferimenti.seduta_id", tenant=B)  # another Ambito's seduta
    approva = client.proponi("approvazione_verbale", "Approvazione del verbale della seduta 1", seduta_id=s1,
                             sha256=verbale["sha256"])
    # a seduta convened before the one verbalised cannot approve its verbale
    client.problem("POST", "/sedute", {"oggetto": "Seduta antecedente", "luogo": "Sapri",
                                       "prima_convocazione": (prima - timedelta(days=1)).isoformat(),
                                       "ordine_del_giorno": [approva]}, 422, "verbale.seduta_successiva",
                   "ordine_del_giorno.0")
    altra = client.proponi("libera", "Comunicazioni")
    s2 = client.seduta(approva, altra)
    # the majority votes against: the rule engine rejects it, the verbale stays unapproved
    respinta = client.vota(s2, approva, {istat[0]: "favorevole", istat[1]: "contrario", istat[2]: "contrario",
                                         istat[3]: "astenuto"})
    assert respinta["stato"] == "respinta" and respinta["esito"]["approvata"] is False
    assert client.call("GET", f"/sedute/{s1}", role="revisore")["verbale_approvato"] is None
    client.vota(s2, altra, {c: "favorevole" for c in istat})
    client.call("POST", f"/sedute/{s2}/chiusura")
    # proposed again, approved at the next seduta by the vote
    di_nuovo = client.proponi("approvazione_verbale", "Approvazione del verbale della seduta 1", seduta_id=s1,
                              sha256=verbale["sha256"])
    s3 = client.seduta(di_nuovo)
    approvata_verbale = client.vota(s3, di_nuovo, {istat[0]: "favorevole", istat[1]: "favorevole",
                                                   istat[2]: "favorevole", istat[3]: "contrario"})
    assert approvata_verbale["stato"] == "approvata" and approvata_verbale["numero"]
    assert client.call("GET", f"/sedute/{s3}", role="revisore")["verbali_approvati"] == {s1: verbale["sha256"]}
    assert client.call("GET", f"/sedute/{s1}", role="revisore")["verbale_approvato"] == {
        "nella_seduta": s3, "sha256": verbale["sha256"], "deliberazione_id": di_nuovo,
        "deliberazione": approvata_verbale["numero"]}
    assert client.call("GET", f"/sedute/{s1}/verbale", role="revisore")["approvato"]["nella_seduta"] == s3
    r = client.http.post("/deliberazioni", json={"tipo": "approvazione_verbale", "oggetto": "Ancora",
                                                 "testo": "Il Comitato approva.",
                                                 "riferimenti": {"seduta_id": s1, "sha256": verbale["sha256"]}},
                         headers=client.ns.auth(A, "coordinatore"))
    assert r.status_code == 409 and r.json()["rule"] == "verbale.gia_approvato"
    # the approving seduta's own verbale says so, with the vote that decided it
    client.call("POST", f"/sedute/{s3}/chiusura")
    testo3 = client.call("GET", f"/sedute/{s3}/verbale", role="revisore")["testo"]
    assert f"approva il verbale della seduta {s1}" in testo3
    assert f"Esito: deliberazione n. {approvata_verbale['numero']}." in testo3
    # the former route that recorded an approval without a vote is gone
    assert client.http.post(f"/sedute/{s3}/verbali", json={"seduta_id": s1, "sha256": verbale["sha256"]},
                            headers=client.ns.auth(A, "coordinatore")).status_code in (404, 405)
    # another Ambito sees nothing of it
    assert client.http.get(f"/sedute/{s1}/verbale", headers=client.ns.auth(B, "revisore")).status_code == 404

    # the nomination approved in seduta 1 sets the holder and the term
    coordinatore = client.call("GET", "/coordinatore?al=2027-06-30", role="revisore")
    assert coordinatore["in_carica"] == {"nominativo": "Dott.ssa Anna Verdi", "dal": "2026-01-01", "al": "2028-12-31",
                                         "fino_al": "2028-12-31", "deliberazione_id": nomina,
                                         "deliberazione": approvata["numero"]}
    assert client.call("GET", "/coordinatore?al=2029-01-01", role="revisore")["in_carica"] is None
    assert client.call("GET", "/coordinatore", tenant=B, role="revisore") == {
        "ambito": B, "al": oggi().isoformat(), "in_carica": None, "nomine": []}
    client.problem("POST", "/deliberazioni", {"tipo": "nomina_coordinatore", "oggetto": "Nomina", "testo": "Nomina.",
                                              "riferimenti": {"nominativo": "Mario Rossi", "dal": "2027-01-01",
                                                              "al": "2026-01-01"}}, 422, "nomina.periodo",
                   "riferimenti.al")
    assert date.fromisoformat(coordinatore["al"]) == date(2027, 6, 30)


def test_the_convocation_document_is_recorded_by_its_hash_and_downloaded_within_the_ambito(client: Client) -> None:
    d = client.proponi("approvazione_bilancio", "Bilancio di previsione 2027", anno=2027)
    pdf = b"%PDF-1.4\nbilancio 2027"
    assert carica(client, d, pdf, nome="bilancio-2027.pdf").status_code == 201
    prima = datetime(2027, 2, 10, 9, 30, tzinfo=timezone.utc)
    seduta = client.call("POST", "/sedute", {"oggetto": "Bilancio 2027", "luogo": "Sala consiliare, Sapri",
                                             "prima_convocazione": prima.isoformat(),
                                             "seconda_convocazione": (prima + timedelta(days=1)).isoformat(),
                                             "ordine_del_giorno": [d]}, expect=201)
    registrata = seduta["convocazione_sha256"]
    documento = client.http.get(f"/sedute/{seduta['id']}/convocazione/documento",
                                headers=client.ns.auth(A, "componente_comitato", comune=SAPRI))
    assert documento.status_code == 200 and documento.headers["content-type"].startswith("text/markdown")
    assert hashlib.sha256(documento.content).hexdigest() == registrata
    assert documento.headers["digest"] == f"sha-256={registrata}"
    testo = documento.content.decode()
    assert "in 1ª convocazione il 10/02/2027 alle ore 10:30, presso Sala consiliare, Sapri" in testo
    assert "in 2ª convocazione il 11/02/2027 alle ore 10:30" in testo
    assert "### 1. Bilancio di previsione 2027" in testo and "- anno: 2027" in testo
    assert f"- bilancio-2027.pdf ({len(pdf)} byte, SHA-256 {hashlib.sha256(pdf).hexdigest()})" in testo
    assert f"Convoca: coordinatore@{A}." in testo
    # an attachment added after the convocation does not change the document that was sent
    assert carica(client, d, b"%PDF-1.4\nnota integrativa", nome="nota.pdf").status_code == 201
    letta = client.call("GET", f"/sedute/{seduta['id']}/convocazione", role="revisore")
    assert (letta["sha256"], letta["registrata"], letta["testo"]) == (registrata, True, testo)
    # the convocation is published with its hash
    storia = client.call("GET", f"/deliberazioni/{d}/storia", role="revisore")
    [convocata] = [e for e in storia["eventi"] if e["evento"] == "Seduta.Convocata"]
    assert convocata["dati"]["convocazione_sha256"] == registrata
    for path in ("/convocazione", "/convocazione/documento"):
        altro = client.http.get(f"/sedute/{seduta['id']}{path}", headers=client.ns.auth(B, "revisore"))
        assert altro.status_code == 404 and altro.headers["content-type"].startswith("application/problem+json")
