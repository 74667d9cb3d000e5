"""The verbale (minutes) of a seduta, written from its stored events.

Generated, never typed: from the seduta's events up to its closing (who was convened, each
attendance and proxy as it was recorded, the opening and its numero legale, each roll-call vote
and its outcome, the closing). The same events always give the same text, so its SHA-256
identifies it: the Comitato approves the verbale of a seduta at a later seduta by its hash
(``Seduta.VerbaleApprovato``). The text is Markdown in Italian, as the people of the Comitato read it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

ROMA = ZoneInfo("Europe/Rome")


def impronta(testo: str) -> str:
    return hashlib.sha256(testo.encode("utf-8")).hexdigest()


def _ora(quando: datetime) -> str:
    return quando.astimezone(ROMA).strftime("%d/%m/%Y %H:%M")


def _voce(proposta: Mapping[str, Any] | None, proposta_id: Any) -> str:
    if proposta is None:
        return f"proposta {proposta_id}"
    return f"{proposta['oggetto']} (tipo: {proposta['tipo']})"


def verbale(ambito: str, eventi: Iterable[Any], proposte: Mapping[Any, Mapping[str, Any]]) -> str:
    """The minutes of a closed seduta from its events (up to ``Chiusa``), with each proposal's subject,
    type and, once approved, number (``proposte``: proposal id -> {oggetto, tipo, numero})."""
    righe: list[str] = []
    nomi: dict[str, str] = {}
    for e in eventi:
        tipo = type(e).__name__
        if tipo == "Convocata":
            nomi = {c["id"]: c["nome"] for c in e.componenti}
            righe += [f"# Verbale della seduta del Comitato Istituzionale – Ambito {ambito}", "",
                      f"Oggetto: {e.oggetto}", f"Luogo: {e.luogo}",
                      f"Convocata da {e.convocata_da} per il {_ora(e.prima_convocazione)} (1ª convocazione)"
                      + (f" e il {_ora(e.seconda_convocazione)} (2ª convocazione)" if e.seconda_convocazione else "")
                      + ".", f"Regola di voto: {e.regola['famiglia']}.", "", "## Ordine del giorno"]
            righe += [f"{i}. {_voce(proposte.get(p), p)}" for i, p in enumerate(e.ordine_del_giorno, start=1)]
            righe += ["", "## Presenze"]
        elif tipo == "PresenzaRegistrata":
            chi = f"{e.componente} ({nomi.get(e.componente, e.componente)})"
            if not e.presente:
                stato = "assente o uscito"
            elif e.delega_a:
                stato = f"presente per delega a {e.delega_a} ({nomi.get(e.delega_a, e.delega_a)})"
            else:
                stato = "presente"
            rappresentante = f", rappresentato da {e.rappresentante}" if e.rappresentante else ""
            righe.append(f"- {_ora(e.timestamp)} {chi}: {stato}{rappresentante} (registrata da {e.registrata_da})")
        elif tipo == "PrimaConvocazioneDeserta":
            q = e.quorum
            righe += ["", f"{_ora(e.timestamp)}: la 1ª convocazione è deserta (presenti {q['presenti']} su "
                          f"{q['membri']}, pesi {q['pesi_presenti']} su {q['pesi_totali']})."]
        elif tipo == "Aperta":
            q = e.quorum
            righe += ["", "## Apertura", f"{_ora(e.timestamp)}: la seduta è aperta in {e.convocazione}ª convocazione "
                      f"da {e.aperta_da}; numero legale: presenti {q['presenti']} su {q['membri']} componenti, pesi "
                      f"{q['pesi_presenti']} su {q['pesi_totali']}.", "", "## Votazioni"]
        elif tipo == "VotazioneAperta":
            righe += ["", f"### {_voce(proposte.get(e.proposta_id), e.proposta_id)}",
                      f"{_ora(e.timestamp)}: votazione per appello nominale aperta."]
        elif tipo == "VotoEspresso":
            delega = f", per delega, espresso da {e.espresso_da}" if e.per_delega else f", espresso da {e.espresso_da}"
            righe.append(f"- {e.componente} ({nomi.get(e.componente, e.componente)}): {e.voto}{delega}")
        elif tipo == "VotazioneChiusa":
            numero = (proposte.get(e.proposta_id) or {}).get("numero")
            esito = f"deliberazione n. {numero}" if e.esito["approvata"] and numero else (
                "approvata" if e.esito["approvata"] else "respinta")
            righe.append(f"{_ora(e.timestamp)}: {e.esito['motivazione']} Esito: {esito}.")
        elif tipo == "VerbaleDiAltraSedutaApprovato":
            righe += ["", f"{_ora(e.timestamp)}: il Comitato approva il verbale della seduta {e.seduta_id} "
                          f"(impronta SHA-256 {e.sha256})."]
        elif tipo == "Chiusa":
            righe += ["", "## Chiusura", f"{_ora(e.timestamp)}: la seduta è chiusa da {e.chiusa_da}."]
            break
    return "\n".join(righe) + "\n"
