"""Tavoli tematici, tecnici and di partenariato: members, meetings and proposals to the Piano.

Members are enti of the registry (named by codice fiscale) and the staff of the Comuni,
named by their role only (never by name): each member has a thematic area. A meeting is
convened with its agenda and then held (``RiunioneTenuta``) with attendance and minutes.
A proposal (``PropostaFormulata``) suggests an intervento for the Piano; planning takes
it as an input to a draft.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, RuleViolation
from ambiti_kit.tenancy import TenantAggregate
from ambiti_kit.values import verifica_istat_comune

from partnership.domain.valori import (
    verifica_area,
    verifica_codice_intervento,
    verifica_nomenclatura,
    verifica_testo_libero,
)

TIPI = ("tematico", "tecnico", "partenariato")
#: the Comuni's staff sit at a tavolo by role, never by name
RUOLI_STAFF = ("assistente_sociale", "educatore", "psicologo", "amministrativo", "responsabile_servizi_sociali",
               "coordinatore_udp", "altro_operatore")


def chiave_membro(membro: dict) -> str:
    """A member's key: the ente's codice fiscale, or ``<ISTAT>:<ruolo>`` for a Comune's staff."""
    return membro["codice_fiscale"] if membro["tipo"] == "ente" else f"{membro['istat']}:{membro['ruolo']}"


def verifica_intervento(intervento: dict, field: str = "intervento") -> dict:
    """The intervento a proposal suggests: code, title, classification, Comuni, expected users."""
    verifica_codice_intervento(intervento.get("codice", ""), f"{field}.codice")
    titolo = str(intervento.get("titolo") or "").strip()
    if len(titolo) < 3:
        raise RuleViolation("L'intervento proposto ha un titolo.", rule="proposta.intervento_titolo",
                            field=f"{field}.titolo")
    nomenclatura = verifica_nomenclatura(intervento.get("nomenclatura") or {}, f"{field}.nomenclatura")
    comuni = list(intervento.get("comuni") or [])
    if not comuni:
        raise RuleViolation("L'intervento proposto copre almeno un Comune.", rule="proposta.comuni",
                            field=f"{field}.comuni")
    for i, istat in enumerate(comuni):
        verifica_istat_comune(istat, f"{field}.comuni.{i}")
    if len(set(comuni)) != len(comuni):
        raise RuleViolation("Ogni Comune compare una volta.", rule="proposta.comuni_unici", field=f"{field}.comuni")
    utenti = intervento.get("utenti_attesi")
    if not isinstance(utenti, int) or isinstance(utenti, bool) or utenti < 0:
        raise RuleViolation("Gli utenti attesi sono un numero non negativo.", rule="proposta.utenti_attesi",
                            field=f"{field}.utenti_attesi")
    return {"codice": intervento["codice"], "titolo": titolo, "nomenclatura": nomenclatura, "comuni": comuni,
            "utenti_attesi": utenti}


class Tavolo(TenantAggregate):
    @event("Istituito")
    def __init__(self, tenant_id: str, tipo: str, nome: str, area: str, istituito_da: str) -> None:
        self.tenant_id = tenant_id
        self.tipo = tipo
        self.nome = nome
        self.area = area
        self.istituito_da = istituito_da
        self.membri: dict[str, dict] = {}
        self.riunioni: dict[str, dict] = {}
        self.proposte: dict[str, dict] = {}

    @classmethod
    def istituisci(cls, tenant_id: str, tipo: str, nome: str, area: str, autore: str) -> "Tavolo":
        if tipo not in TIPI:
            raise RuleViolation(f"Tipo di tavolo non ammesso: {tipo!r} (tematico, tecnico, partenariato).",
                                rule="tavolo.tipo", field="tipo")
        verifica_area(area)
        if len(nome.strip()) < 3:
            raise RuleViolation("Un tavolo ha un nome.", rule="tavolo.nome", field="nome")
        return cls(tenant_id=tenant_id, tipo=tipo, nome=nome.strip(), area=area, istituito_da=autore)

    # -- membri ----------------------------------------------------------------------------
    def aggiungi_ente(self, ente: dict, area: str, autore: str) -> str:
        """An ente of the registry joins (``ente`` as ``Ente.come_parte()``); returns the member's key."""
        return self._aggiungi({"tipo": "ente", **ente, "area": verifica_area(area)}, autore)

    def aggiungi_staff_comune(self, istat: str, ruolo: str, area: str, autore: str) -> str:
        """A Comune's staff member joins, by role: no person's name is recorded."""
        verifica_istat_comune(istat, "istat")
        if ruolo not in RUOLI_STAFF:
            raise RuleViolation(f"Ruolo non ammesso: {ruolo!r} (ammessi: {', '.join(RUOLI_STAFF)}).",
                                rule="tavolo.ruolo_staff", field="ruolo")
        return self._aggiungi({"tipo": "comune", "istat": istat, "ruolo": ruolo, "area": verifica_area(area)}, autore)

    def _aggiungi(self, membro: dict, autore: str) -> str:
        chiave = chiave_membro(membro)
        if chiave in self.membri:
            raise Conflict(f"{chiave} è già membro del tavolo.", rule="tavolo.membro_unico")
        self._membro_aggiunto(chiave=chiave, membro=membro, aggiunto_da=autore)
        return chiave

    @event("MembroAggiunto")
    def _membro_aggiunto(self, chiave: str, membro: dict, aggiunto_da: str) -> None:
        self.membri[chiave] = dict(membro)

    def rimuovi_membro(self, chiave: str, motivo: str, autore: str) -> None:
        if chiave not in self.membri:
            raise RuleViolation(f"{chiave} non è membro del tavolo.", rule="tavolo.membro_presente", field="chiave")
        verifica_testo_libero(motivo, "motivo")
        self._membro_rimosso(chiave=chiave, motivo=motivo, rimosso_da=autore)

    @event("MembroRimosso")
    def _membro_rimosso(self, chiave: str, motivo: str, rimosso_da: str) -> None:
        del self.membri[chiave]

    def ha_membro_ente(self, codice_fiscale: str) -> bool:
        return codice_fiscale in self.membri and self.membri[codice_fiscale]["tipo"] == "ente"

    # -- riunioni --------------------------------------------------------------------------
    def convoca_riunione(self, data: datetime, luogo: str, ordine_del_giorno: list[str], autore: str) -> str:
        if not self.membri:
            raise RuleViolation("Un tavolo senza membri non si riunisce.", rule="tavolo.membri_presenti",
                                field="membri")
        punti = [p.strip() for p in ordine_del_giorno if p.strip()]
        if not punti:
            raise RuleViolation("La riunione ha un ordine del giorno.", rule="riunione.ordine_del_giorno",
                                field="ordine_del_giorno")
        for i, punto in enumerate(punti):
            verifica_testo_libero(punto, f"ordine_del_giorno.{i}")
        riunione_id = str(uuid.uuid4())
        self._riunione_convocata(riunione_id=riunione_id, data=data, luogo=luogo,
                                 ordine_del_giorno=punti, convocata_da=autore)
        return riunione_id

    @event("RiunioneConvocata")
    def _riunione_convocata(self, riunione_id: str, data: datetime, luogo: str,
                            ordine_del_giorno: list[str], convocata_da: str) -> None:
        self.riunioni[riunione_id] = {"riunione_id": riunione_id, "data": data, "luogo": luogo,
                                      "ordine_del_giorno": list(ordine_del_giorno), "tenuta": False,
                                      "presenti": [], "verbale": None}

    def registra_riunione(self, riunione_id: str, presenti: list[str], verbale: str, autore: str) -> None:
        """The meeting was held: who attended (members' keys) and the minutes."""
        riunione = self.riunioni.get(riunione_id)
        if riunione is None:
            raise RuleViolation("Riunione non convocata.", rule="riunione.convocata", field="riunione_id")
        if riunione["tenuta"]:
            raise Conflict("Il verbale di questa riunione è già registrato.", rule="riunione.gia_tenuta")
        estranei = sorted(set(presenti) - set(self.membri))
        if estranei:
            raise RuleViolation(f"Presenti che non sono membri del tavolo: {', '.join(estranei)}.",
                                rule="riunione.presenti_membri", field="presenti")
        if len(set(presenti)) != len(presenti):
            raise RuleViolation("Ogni presente compare una volta.", rule="riunione.presenti_unici", field="presenti")
        if len(verbale.strip()) < 10:
            raise RuleViolation("Il verbale della riunione non è vuoto.", rule="riunione.verbale", field="verbale")
        verifica_testo_libero(verbale, "verbale")
        self._riunione_tenuta(riunione_id=riunione_id, presenti=presenti,
                              verbale=verbale.strip(), registrata_da=autore)

    @event("RiunioneTenuta")
    def _riunione_tenuta(self, riunione_id: str, presenti: list[str], verbale: str,
                         registrata_da: str) -> None:
        self.riunioni[riunione_id].update(tenuta=True, presenti=list(presenti), verbale=verbale)

    # -- proposte --------------------------------------------------------------------------
    def formula_proposta(self, titolo: str, descrizione: str, area: str, intervento: dict,
                         piano_id: uuid.UUID | None, riunione_id: str | None, autore: str) -> str:
        """A proposal to the Piano; if it names the meeting it came from, that meeting was held."""
        if riunione_id is not None and not self.riunioni.get(riunione_id, {}).get("tenuta"):
            raise RuleViolation("La proposta richiama una riunione non tenuta.", rule="proposta.riunione_tenuta",
                                field="riunione_id")
        if len(titolo.strip()) < 3:
            raise RuleViolation("La proposta ha un titolo.", rule="proposta.titolo", field="titolo")
        verifica_testo_libero(titolo, "titolo")
        verifica_testo_libero(descrizione, "descrizione")
        verifica_area(area)
        intervento = verifica_intervento(intervento)
        proposta_id = uuid.uuid4()
        self._proposta_formulata(proposta_id=proposta_id, titolo=titolo.strip(),
                                 descrizione=descrizione.strip(), area=area, intervento=intervento,
                                 piano_id=piano_id, riunione_id=riunione_id, formulata_da=autore)
        return str(proposta_id)

    @event("PropostaFormulata")
    def _proposta_formulata(self, proposta_id: uuid.UUID, titolo: str, descrizione: str, area: str,
                            intervento: dict, piano_id: uuid.UUID | None, riunione_id: str | None,
                            formulata_da: str) -> None:
        self.proposte[str(proposta_id)] = {
            "proposta_id": proposta_id, "titolo": titolo, "descrizione": descrizione, "area": area,
            "intervento": dict(intervento), "piano_id": piano_id, "riunione_id": riunione_id,
            "formulata_da": formulata_da}

    def vista(self) -> dict[str, Any]:
        return {"membri": list(self.membri.values()), "riunioni": list(self.riunioni.values()),
                "proposte": list(self.proposte.values())}
