"""Traceability of payments: CIG and CUP, and an award's amount as a ceiling on its commitments.

Legal sources:

- **CIG** — L. 13 agosto 2010, n. 136, art. 3 (tracciabilità dei flussi finanziari), comma 1 and
  comma 5: the payments of a contracting authority under a public contract (appalto, concessione,
  and the awards of services made under a contract) go through dedicated accounts and every payment
  instrument reports the *codice identificativo di gara* (CIG) of the transaction. Finance carries the
  CIG from the award (partnership's ``affidamento``) to every commitment taken under it and from the
  commitment to every payment order (mandato); a payment under an award without a CIG is refused.
- **CUP** — L. 17 maggio 1999, n. 144, art. 11 (the *codice unico di progetto* of public investment
  projects) and L. 16 gennaio 2003, n. 3, art. 11 (every public investment project has a CUP, and acts
  and payments about it report it; L. 136/2010 art. 3 c. 5 repeats it for payment instruments "ove
  obbligatorio"). Finance requires it where the fund's annualità is marked as investment or PNRR-funded
  (``investimento`` / ``pnrr`` flags set when the assegnazione is registered; PNRR M5C2 is PNRR by
  definition — its rendicontazione on ReGiS is by CUP, D.L. 77/2021 art. 1 and the circolari MEF-RGS),
  and where the intervento of the budget line is marked ``investimento`` in the approved Piano (the
  project is an investment whatever fund pays it).
- **Ceiling of an award** — an award is for an amount: the commitments taken under it, net of their
  reductions, never exceed it (a commitment above the contract's value has no legal title: D.Lgs.
  267/2000 art. 183 c. 1, an impegno needs a creditor, a reason and an amount established by a title).

Every function here is pure: the application loads what they need and calls them.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Mapping

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid
from ambiti_kit.values import ZERO, euro, positivo

FONTE_CIG = "L. 136/2010, art. 3, commi 1 e 5 (tracciabilità dei flussi finanziari)"
FONTE_CUP = "L. 144/1999, art. 11; L. 3/2003, art. 11 (codice unico di progetto)"
#: funds that are PNRR-funded by definition, whatever the assegnazione says
FONDI_PNRR = ("PNRR_M5C2",)


def cig_dell_impegno(cig_richiesto: str | None, cig_affidamento: str | None, sotto_affidamento: bool) -> str | None:
    """The CIG a commitment carries (L. 136/2010 art. 3 cc. 1, 5).

    Under an award the CIG is the award's: the request may repeat it but never name another one
    (``tracciabilita.cig_affidamento``); an award recorded without its CIG takes the request's; a commitment
    under an award with no CIG at all is refused (``tracciabilita.cig``). Outside an award the request's
    CIG (or none) is kept as given."""
    if not sotto_affidamento:
        return cig_richiesto
    if cig_affidamento is not None and cig_richiesto is not None and cig_richiesto != cig_affidamento:
        raise RuleViolation(f"L'affidamento ha il CIG {cig_affidamento}: l'impegno non può indicarne un altro "
                            f"({cig_richiesto}). {FONTE_CIG}.", rule="tracciabilita.cig_affidamento", field="cig")
    cig = cig_affidamento or cig_richiesto
    if cig is None:
        raise RuleViolation(f"Un impegno sotto un affidamento riporta il CIG: l'affidamento non lo indica, va "
                            f"indicato nel campo cig. {FONTE_CIG}.", rule="tracciabilita.cig", field="cig")
    return cig


def cig_del_mandato(cig_impegno: str | None, cig_richiesto: str | None, sotto_affidamento: bool) -> str | None:
    """The CIG a payment order reports (L. 136/2010 art. 3 c. 5: every payment instrument reports it).

    The commitment's CIG is the payment's: the request may repeat it but never name another one
    (``tracciabilita.cig_impegno``). A payment under an award (the commitment names one, or its beneficiary
    holds an award for the intervento) whose commitment has no CIG must give it (``tracciabilita.cig``)."""
    if cig_impegno is not None:
        if cig_richiesto is not None and cig_richiesto != cig_impegno:
            raise RuleViolation(f"L'impegno ha il CIG {cig_impegno}: il mandato riporta quello, non {cig_richiesto}. "
                                f"{FONTE_CIG}.", rule="tracciabilita.cig_impegno", field="cig")
        return cig_impegno
    if sotto_affidamento and cig_richiesto is None:
        raise RuleViolation("Il pagamento è dovuto in forza di un affidamento: il mandato riporta il CIG, che "
                            f"l'impegno non ha; va indicato nel campo cig. {FONTE_CIG}.", rule="tracciabilita.cig",
                            field="cig")
    return cig_richiesto


def verifica_affidamento_indicato(abilitazioni: Iterable[Mapping], intervento: str, il: date) -> None:
    """A commitment to a provider whose only valid title for the intervento is an award is taken under that
    award and names it (``impegno.affidamento_richiesto``): otherwise its CIG and its ceiling would not apply.
    A provider with a valid accreditation for the intervento (or with no title at all) needs none."""
    validi = [t for t in abilitazioni if t["intervento"] in (None, intervento) and t["revocato_il"] is None
              and t["valido_dal"] <= il <= t["valido_al"]]
    if validi and all(t["tipo"] == "affidamento" for t in validi):
        raise RuleViolation("Il beneficiario è affidatario di questo intervento: l'impegno indica l'affidamento "
                            f"(affidamento_id), di cui riporta il CIG entro il suo importo. {FONTE_CIG}.",
                            rule="impegno.affidamento_richiesto", field="affidamento_id")


def richiede_cup(fondo: str, investimento: bool, pnrr: bool, intervento_investimento: bool = False) -> bool:
    """Whether spending of this fund's annualità on this intervento needs a CUP (L. 144/1999 art. 11;
    L. 3/2003 art. 11): the annualità is investment or PNRR, or the intervento is an investment project."""
    return investimento or pnrr or fondo in FONDI_PNRR or intervento_investimento


def verifica_cup(cup: str | None, fondo: str, investimento: bool, pnrr: bool,
                 intervento: str | None = None, intervento_investimento: bool = False) -> None:
    """A commitment on an investment or PNRR fund's annualità, or on an intervento the Piano marks as an
    investment, names its project's CUP (``tracciabilita.cup``)."""
    if cup is None and richiede_cup(fondo, investimento, pnrr, intervento_investimento):
        if investimento or pnrr or fondo in FONDI_PNRR:
            natura = "PNRR" if pnrr or fondo in FONDI_PNRR else "d'investimento"
            motivo = f"Il fondo {fondo} è {natura}"
        else:
            motivo = f"Il Piano indica l'intervento {intervento} come investimento"
        raise RuleViolation(f"{motivo}: l'impegno indica il CUP del progetto. {FONTE_CUP}.",
                            rule="tracciabilita.cup", field="cup")


def verifica_tetto_affidamento(importo: Decimal, impegnato: Decimal, tetto: Decimal) -> None:
    """Commitments under an award, net of reductions, stay within its amount (``impegno.tetto_affidamento``)."""
    if impegnato + importo > tetto:
        raise RuleViolation(f"L'affidamento è di {euro(tetto)} €, già impegnati {euro(impegnato)} €: restano "
                            f"{euro(tetto - impegnato)} €, l'impegno di {euro(importo)} € li supera.",
                            rule="impegno.tetto_affidamento", field="importo")


class AffidamentoRecepito(TenantAggregate):
    """Finance's copy of a partnership award (``partnership.affidamento.aggiudicato``), and the commitments
    taken under it: the award's amount is their ceiling, across every allocation that pays it."""

    @staticmethod
    def create_id(tenant_id: str, affidamento_id: uuid.UUID, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "affidamento", affidamento_id)

    @event("Recepito")
    def __init__(self, tenant_id: str, affidamento_id: uuid.UUID, codice_fiscale: str, denominazione: str,
                 piano_id: uuid.UUID, intervento: str, importo: Decimal, cig: str | None, valido_dal: date,
                 valido_al: date) -> None:
        self.tenant_id = tenant_id
        self.affidamento_id = affidamento_id
        self.codice_fiscale = codice_fiscale
        self.denominazione = denominazione
        self.piano_id = piano_id
        self.intervento = intervento
        self.importo = importo
        self.cig = cig
        self.valido_dal = valido_dal
        self.valido_al = valido_al
        self.impegni: dict[str, dict[str, Any]] = {}

    @property
    def impegnato(self) -> Decimal:
        return sum((i["importo"] - i["ridotto"] for i in self.impegni.values()), ZERO)

    @property
    def disponibile(self) -> Decimal:
        return self.importo - self.impegnato

    def verifica_impegno(self, codice_fiscale: str, piano_id: uuid.UUID, intervento: str, il: date) -> None:
        """The commitment is to the awardee, on the awarded intervento of the plan, within the award's period."""
        if codice_fiscale != self.codice_fiscale:
            raise RuleViolation(f"L'affidamento è all'ente con codice fiscale {self.codice_fiscale}, non al "
                                "beneficiario indicato.", rule="impegno.affidamento_beneficiario",
                                field="beneficiario.codice_fiscale")
        if (piano_id, intervento) != (self.piano_id, self.intervento):
            raise RuleViolation(f"L'affidamento è per l'intervento {self.intervento} del suo Piano, non per lo "
                                "stanziamento indicato.", rule="impegno.affidamento_intervento",
                                field="affidamento_id")
        if not self.valido_dal <= il <= self.valido_al:
            raise RuleViolation(f"L'affidamento vale dal {self.valido_dal.isoformat()} al "
                                f"{self.valido_al.isoformat()}.", rule="impegno.affidamento_periodo",
                                field="affidamento_id")

    def imputa(self, impegno_id: uuid.UUID, stanziamento_id: uuid.UUID, importo: Decimal) -> None:
        positivo(importo)
        if str(impegno_id) in self.impegni:
            raise Conflict("Impegno già imputato all'affidamento.", rule="impegno.unico")
        verifica_tetto_affidamento(importo, self.impegnato, self.importo)
        self._imputato(impegno_id=impegno_id, stanziamento_id=stanziamento_id, importo=importo)

    @event("ImpegnoImputato")
    def _imputato(self, impegno_id: uuid.UUID, stanziamento_id: uuid.UUID, importo: Decimal) -> None:
        self.impegni[str(impegno_id)] = {"stanziamento_id": str(stanziamento_id), "importo": importo, "ridotto": ZERO}

    def libera(self, impegno_id: uuid.UUID, importo: Decimal) -> None:
        """A reduction of a commitment under the award gives that amount back to the award."""
        positivo(importo)
        self._liberato(impegno_id=impegno_id, importo=importo)

    @event("ImpegnoLiberato")
    def _liberato(self, impegno_id: uuid.UUID, importo: Decimal) -> None:
        self.impegni[str(impegno_id)]["ridotto"] += importo
