"""A service's problem+json, kept field by field for the form that caused it."""

from __future__ import annotations

import httpx

from console.servizi import Problema


def test_gli_errori_arrivano_al_campo_che_nominano() -> None:
    risposta = httpx.Response(422, json={
        "title": "Dati non validi", "status": 422, "detail": "2 errori",
        "errors": [{"field": "body.titolo", "rule": "tipo.stringa", "message": "Il campo titolo è obbligatorio."},
                   {"field": "body.aree.0.budget.1.importo", "message": "L'importo ha al massimo 2 decimali."},
                   {"field": "body.titolo", "message": "secondo messaggio, ignorato"}]})
    problema = Problema.da_risposta(risposta)
    assert problema.status == 422 and problema.titolo == "Dati non validi"
    assert problema.per_campo() == {"titolo": "Il campo titolo è obbligatorio.",
                                    "aree.0.budget.1.importo": "L'importo ha al massimo 2 decimali."}


def test_una_regola_di_dominio_con_il_suo_campo() -> None:
    problema = Problema.da_risposta(httpx.Response(409, json={
        "title": "Conflitto", "status": 409, "detail": "La versione approvata non si modifica.",
        "rule": "piano.versione_approvata_immutabile", "field": "path.versione"}))
    assert problema.regola == "piano.versione_approvata_immutabile"
    assert problema.per_campo() == {"versione": "La versione approvata non si modifica."}


def test_una_risposta_che_non_e_json() -> None:
    problema = Problema.da_risposta(httpx.Response(502, text="Bad Gateway"))
    assert problema.status == 502 and problema.per_campo() == {}
