"""The convocation of a seduta as a document: the avviso di convocazione with its ordine del giorno.

Generated, never typed, from what the convocation itself records: the Comitato convened (its
members with their weights, as the seduta copies them), the day, hour and place of the 1st and,
if any, the 2nd call with the numero legale each needs, every item of the agenda with its
proposal (type, subject, text, references and the attachments it had when it was put on the
agenda) and who convenes. The same data always give the same text, so its SHA-256 identifies it:
``Seduta.Convocata`` (v2) records it, and the document downloaded later must have that hash.

Sources. No law fixes the form of the Comitato's convocation: the convenzione among the Comuni
(D.Lgs. 267/2000 art. 30 c. 2: "le forme di consultazione degli enti contraenti") and the
regolamento of the Comitato do. What the avviso holds here (day, hour and place, the agenda, a
2nd call with its own numero legale) follows the regolamenti of the councils, which TUEL art. 38
c. 2 leaves to the regolamento (convocation, numero legale); the 2nd call exists only where the
regolamento provides for it (``regola.quorum['2']``). These are a regolamento's choices, taken by
analogy, not rules of law.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from planning.domain.verbale import impronta

ROMA = ZoneInfo("Europe/Rome")

__all__ = ["convocazione", "impronta", "punto_alla_convocazione", "punto_da_proposta"]


def _ora(quando: datetime) -> str:
    return quando.astimezone(ROMA).strftime("%d/%m/%Y alle ore %H:%M")


def _soglia(s: Mapping[str, Any] | None) -> str | None:
    if s is None:
        return None
    return f"{'più di' if s['stretta'] else 'almeno'} {s['frazione']}"


def _numero_legale(regola: Mapping[str, Any], convocazione: int) -> str:
    quorum = regola["quorum"]
    q = quorum.get(str(convocazione)) or quorum.get(convocazione) or {}
    parti = []
    if (membri := _soglia(q.get("membri"))) is not None:
        parti.append(f"{membri} dei componenti con diritto di voto")
    if (pesi := _soglia(q.get("pesi"))) is not None:
        parti.append(f"{pesi} dei pesi (popolazione o quote)")
    return " e ".join(parti) or "nessuna soglia"


def _valore(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)


def punto_da_proposta(tipo: str, oggetto: str, testo: str, riferimenti: Mapping[str, Any],
                      allegati: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What the convocation shows of a proposal on the agenda."""
    return {"tipo": tipo, "oggetto": oggetto, "testo": testo, "riferimenti": dict(riferimenti),
            "allegati": [{"nome": a["nome"], "sha256": a["sha256"], "dimensione": a["dimensione"]} for a in allegati]}


def punto_alla_convocazione(eventi: Iterable[Any], seduta_id: Any) -> dict[str, Any]:
    """A proposal as it was when seduta ``seduta_id`` put it on its agenda, from the proposal's events
    (the proposal, then its attachments up to that ``IscrittaAllOrdineDelGiorno``)."""
    proposta: dict[str, Any] | None = None
    allegati: list[dict[str, Any]] = []
    for e in eventi:
        nome = type(e).__name__
        if nome == "Proposta":
            proposta = {"tipo": e.tipo, "oggetto": e.oggetto, "testo": e.testo, "riferimenti": e.riferimenti}
        elif nome == "AllegatoAggiunto":
            allegati.append({"nome": e.nome, "sha256": e.sha256, "dimensione": e.dimensione})
        elif nome == "IscrittaAllOrdineDelGiorno" and e.seduta_id == seduta_id:
            break
    if proposta is None:
        raise ValueError("eventi senza la proposta")
    return punto_da_proposta(**proposta, allegati=allegati)


def convocazione(ambito: str, oggetto: str, luogo: str, prima: datetime, seconda: datetime | None,
                 componenti: list[Mapping[str, Any]], regola: Mapping[str, Any], convocata_da: str,
                 punti: list[Mapping[str, Any]]) -> str:
    """The avviso di convocazione (Markdown, Italian), from the seduta's data and its agenda's proposals
    (``punti``, in the agenda's order, as ``punto_da_proposta`` gives them)."""
    righe = [f"# Convocazione del Comitato Istituzionale – Ambito {ambito}", "",
             f"Oggetto: {oggetto}", "",
             "Il Comitato Istituzionale è convocato:", "",
             f"- in 1ª convocazione il {_ora(prima)}, presso {luogo}; numero legale: "
             f"{_numero_legale(regola, 1)};"]
    if seconda is not None:
        righe.append(f"- in 2ª convocazione il {_ora(seconda)}, presso {luogo}; numero legale: "
                     f"{_numero_legale(regola, 2)}.")
    else:
        righe.append("- il regolamento non prevede qui una 2ª convocazione.")
    righe += ["", f"Regola di voto: {regola['famiglia']}.", "", "## Componenti convocati"]
    for c in componenti:
        ruolo = "consultivo" if c["consultivo"] else f"peso {c['peso']}"
        righe.append(f"- {c['id']} {c['nome']} ({ruolo})")
    righe += ["", "## Ordine del giorno"]
    for i, p in enumerate(punti, start=1):
        righe += ["", f"### {i}. {p['oggetto']}", f"Tipo di deliberazione: {p['tipo']}.", "", p["testo"]]
        if p["riferimenti"]:
            righe += ["", "Riferimenti:"]
            righe += [f"- {k}: {_valore(v)}" for k, v in sorted(p["riferimenti"].items())]
        if p["allegati"]:
            righe += ["", "Allegati:"]
            righe += [f"- {a['nome']} ({a['dimensione']} byte, SHA-256 {a['sha256']})" for a in p["allegati"]]
    righe += ["", f"Convoca: {convocata_da}."]
    return "\n".join(righe) + "\n"
