"""Accreditamento of providers for a service, and affidamenti (awards) of a Piano's interventi.

An ``Accreditamento`` lets an ente provide a service (an intervento of the Piano and/or a
nomenclature code) at declared tariffs from ``valido_dal`` to ``valido_al``: it can be
renewed (the end moves later) and revoked (with a reason, from a date). Finance allows
commitments to that provider only while an accreditation is in force.

An ``Affidamento`` awards an intervento of a plan to an ente for an amount and a period;
finance turns it into commitments on that budget line. Awarded through an accreditation,
the accreditation must cover that ente, that service and the whole period.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, RuleViolation
from ambiti_kit.tenancy import TenantAggregate
from ambiti_kit.values import importo, positivo, verifica_cig

from partnership.domain.valori import (
    verifica_atto,
    verifica_codice_intervento,
    verifica_nomenclatura,
    verifica_periodo,
    verifica_testo_libero,
)

UNITA = ("ora", "accesso", "giornata", "settimana", "mese", "prestazione", "utente_mese", "pasto", "km")
MODALITA = ("accreditamento", "convenzione", "gara", "affidamento_diretto")
PRESTAZIONE = re.compile(r"^[^\x00-\x1f\x7f]{3,200}$")


def verifica_tariffe(tariffe: list[dict]) -> list[dict]:
    if not tariffe:
        raise RuleViolation("L'accreditamento dichiara almeno una tariffa.", rule="accreditamento.tariffe",
                            field="tariffe")
    righe, viste = [], set()
    for i, t in enumerate(tariffe):
        prestazione = str(t.get("prestazione") or "").strip()
        if not PRESTAZIONE.match(prestazione):
            raise RuleViolation("Ogni tariffa nomina la prestazione.", rule="tariffa.prestazione",
                                field=f"tariffe.{i}.prestazione")
        if t.get("unita") not in UNITA:
            raise RuleViolation(f"Unità di misura non ammessa: {t.get('unita')!r} (ammesse: {', '.join(UNITA)}).",
                                rule="tariffa.unita", field=f"tariffe.{i}.unita")
        if (prestazione, t["unita"]) in viste:
            raise RuleViolation("Una sola tariffa per prestazione e unità.", rule="tariffa.unica",
                                field=f"tariffe.{i}")
        viste.add((prestazione, t["unita"]))
        righe.append({"prestazione": prestazione, "unita": t["unita"],
                      "importo": importo(t.get("importo"), f"tariffe.{i}.importo")})
    return righe


class Accreditamento(TenantAggregate):
    @event("Rilasciato")
    def __init__(self, tenant_id: str, ente: dict, intervento: str | None, servizio: dict | None,
                 valido_dal: date, valido_al: date, tariffe: list[dict], atto: dict, rilasciato_da: str) -> None:
        self.tenant_id = tenant_id
        self.ente = dict(ente)
        self.intervento = intervento
        self.servizio = servizio
        self.valido_dal = valido_dal
        self.valido_al = valido_al
        self.tariffe = [dict(t) for t in tariffe]
        self.atti = [{"evento": "rilascio", **atto}]
        self.revocato_il: date | None = None
        self.motivo_revoca: str | None = None

    @classmethod
    def rilascia(cls, tenant_id: str, ente: dict, intervento: str | None, servizio: dict | None, valido_dal: date,
                 valido_al: date, tariffe: list[dict], atto: dict, autore: str) -> "Accreditamento":
        if intervento is None and servizio is None:
            raise RuleViolation("L'accreditamento indica il servizio: l'intervento del Piano e/o il codice di "
                                "nomenclatura.", rule="accreditamento.servizio", field="servizio")
        if intervento is not None:
            verifica_codice_intervento(intervento)
        if servizio is not None:
            servizio = verifica_nomenclatura(servizio, "servizio")
        verifica_periodo(valido_dal, valido_al, "accreditamento.periodo")
        return cls(tenant_id=tenant_id, ente=ente, intervento=intervento, servizio=servizio, valido_dal=valido_dal,
                   valido_al=valido_al, tariffe=verifica_tariffe(tariffe), atto=verifica_atto(atto),
                   rilasciato_da=autore)

    def stato(self, il: date) -> str:
        """``revocato`` from the revocation date, else ``non_ancora_valido`` / ``valido`` / ``scaduto``."""
        if self.revocato_il is not None and il >= self.revocato_il:
            return "revocato"
        if il < self.valido_dal:
            return "non_ancora_valido"
        return "valido" if il <= self.valido_al else "scaduto"

    def copre(self, codice_fiscale: str, intervento: str, dal: date, al: date) -> bool:
        """True when this accreditation lets that ente provide that intervento over the whole period."""
        fine = min(self.valido_al, self.revocato_il - _UN_GIORNO) if self.revocato_il else self.valido_al
        return (self.ente["codice_fiscale"] == codice_fiscale and self.intervento == intervento
                and self.valido_dal <= dal and al <= fine)

    def rinnova(self, valido_al: date, atto: dict, autore: str) -> None:
        if self.revocato_il is not None:
            raise Conflict("Un accreditamento revocato non si rinnova.", rule="accreditamento.revocato")
        if valido_al <= self.valido_al:
            raise RuleViolation(f"Il rinnovo estende la validità oltre il {self.valido_al.isoformat()}.",
                                rule="accreditamento.rinnovo_estende", field="valido_al")
        self._rinnovato(valido_al=valido_al, atto=verifica_atto(atto), rinnovato_da=autore)

    @event("Rinnovato")
    def _rinnovato(self, valido_al: date, atto: dict, rinnovato_da: str) -> None:
        self.valido_al = valido_al
        self.atti.append({"evento": "rinnovo", **atto})

    def revoca(self, revocato_il: date, motivo: str, atto: dict, autore: str) -> None:
        if self.revocato_il is not None:
            raise Conflict("L'accreditamento è già revocato.", rule="accreditamento.revocato")
        if revocato_il < self.valido_dal:
            raise RuleViolation("La revoca non precede l'inizio della validità.", rule="accreditamento.data_revoca",
                                field="revocato_il")
        if len(motivo.strip()) < 5:
            raise RuleViolation("La revoca è motivata.", rule="accreditamento.motivo_revoca", field="motivo")
        verifica_testo_libero(motivo, "motivo")
        self._revocato(revocato_il=revocato_il, motivo=motivo.strip(),
                       atto=verifica_atto(atto), revocato_da=autore)

    @event("Revocato")
    def _revocato(self, revocato_il: date, motivo: str, atto: dict, revocato_da: str) -> None:
        self.revocato_il = revocato_il
        self.motivo_revoca = motivo
        self.atti.append({"evento": "revoca", **atto})


_UN_GIORNO = date(2000, 1, 2) - date(2000, 1, 1)


#: awards that are public contracts (appalti, D.Lgs. 36/2023): the CIG is acquired before the award and every
#: payment reports it (L. 136/2010 art. 3 cc. 1, 5, tracciabilità dei flussi finanziari). An award through an
#: accreditation or a co-progettazione's convenzione may be recorded without it; finance then asks for the CIG
#: on the commitment or the payment.
MODALITA_CONTRATTO = ("gara", "affidamento_diretto")


class Affidamento(TenantAggregate):
    @event("Aggiudicato")
    def __init__(self, tenant_id: str, ente: dict, piano_id: uuid.UUID, intervento: str, importo: Decimal,
                 cig: str | None, valido_dal: date, valido_al: date, modalita: str,
                 accreditamento_id: uuid.UUID | None, procedura_id: uuid.UUID | None, atto: dict,
                 aggiudicato_da: str) -> None:
        self.tenant_id = tenant_id
        self.ente = dict(ente)
        self.piano_id = piano_id
        self.intervento = intervento
        self.importo = importo
        self.cig = cig
        self.valido_dal = valido_dal
        self.valido_al = valido_al
        self.modalita = modalita
        self.accreditamento_id = accreditamento_id
        self.procedura_id = procedura_id
        self.atto = atto

    @classmethod
    def aggiudica(cls, tenant_id: str, ente: dict, piano_id: uuid.UUID, intervento: str, importo: Decimal,
                  cig: str | None, valido_dal: date, valido_al: date, modalita: str, atto: dict, autore: str, *,
                  accreditamento: Accreditamento | None = None, procedura: "object | None" = None) -> "Affidamento":
        """Award; through ``accreditamento`` (which must cover it) or a co-progettazione's convenzione."""
        verifica_codice_intervento(intervento)
        positivo(importo)
        if cig is not None:
            verifica_cig(cig)
        verifica_periodo(valido_dal, valido_al, "affidamento.periodo")
        if modalita not in MODALITA:
            raise RuleViolation(f"Modalità di affidamento non ammessa: {modalita!r}.", rule="affidamento.modalita",
                                field="modalita")
        if modalita in MODALITA_CONTRATTO and cig is None:
            raise RuleViolation("Un affidamento con gara o diretto è un contratto pubblico: indica il CIG, che ogni "
                                "pagamento riporterà (L. 136/2010, art. 3, commi 1 e 5).", rule="affidamento.cig",
                                field="cig")
        if modalita == "accreditamento":
            if accreditamento is None:
                raise RuleViolation("Un affidamento per accreditamento indica l'accreditamento.",
                                    rule="affidamento.accreditamento_richiesto", field="accreditamento_id")
            if not accreditamento.copre(ente["codice_fiscale"], intervento, valido_dal, valido_al):
                raise RuleViolation("L'accreditamento non copre questo ente, questo intervento o l'intero periodo.",
                                    rule="affidamento.accreditamento_valido", field="accreditamento_id")
        if modalita == "convenzione":
            convenzione = getattr(procedura, "convenzione", None)
            if convenzione is None:
                raise RuleViolation("Un affidamento in convenzione richiama una procedura con convenzione stipulata.",
                                    rule="affidamento.convenzione_richiesta", field="procedura_id")
            if ente["codice_fiscale"] not in [c["codice_fiscale"] for c in convenzione["contraenti"]]:
                raise RuleViolation("L'ente non è parte della convenzione.", rule="affidamento.convenzione_parte",
                                    field="procedura_id")
        return cls(tenant_id=tenant_id, ente=ente, piano_id=piano_id, intervento=intervento, importo=importo, cig=cig,
                   valido_dal=valido_dal, valido_al=valido_al, modalita=modalita,
                   accreditamento_id=accreditamento.id if accreditamento is not None else None,
                   procedura_id=getattr(procedura, "id", None), atto=verifica_atto(atto), aggiudicato_da=autore)
