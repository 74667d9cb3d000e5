"""Stored riparti and the reference data they run on.

``DatiRiferimento`` is one dated dataset (e.g. resident population at 1 January 2025 per
Comune), loaded from CSV once and never changed: a new date is a new dataset. ``Riparto``
records one run of the engine (``riparto.esegui``) with its inputs, method and result, the
act it belongs to and the dataset it used, so it can be re-run and explained years later.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import event

from ambiti_kit.auth import REGIONE_PATTERN
from ambiti_kit.errors import Conflict, RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid

from finance.domain.riparto import Risultato, leggi_dati_riferimento


class DatiRiferimento(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, nome: str, data_riferimento: date, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "dati-riferimento", nome, data_riferimento)

    @event("Caricati")
    def __init__(self, tenant_id: str, nome: str, data_riferimento: date, fonte: str, colonne: list[str],
                 righe: list[dict], caricati_da: str) -> None:
        self.tenant_id = tenant_id
        self.nome = nome
        self.data_riferimento = data_riferimento
        self.fonte = fonte
        self.colonne = list(colonne)
        self.righe = [dict(r) for r in righe]

    @classmethod
    def carica(cls, tenant_id: str, nome: str, data_riferimento: date, fonte: str, testo_csv: str,
               autore: str) -> "DatiRiferimento":
        """Parse and validate the CSV; every bad row is reported at once and nothing is stored."""
        destinatari, errori = leggi_dati_riferimento(testo_csv)
        if errori:
            raise RuleViolation(f"Il file ha {len(errori)} errori: niente è stato caricato.", rule="dati.non_validi",
                                field="csv", errors=[{"field": f"csv.riga.{e.riga}" + (f".{e.colonna}" if e.colonna else ""),
                                                      "rule": e.regola, "message": str(e)} for e in errori])
        colonne = sorted({k for d in destinatari for k in d.indicatori})
        righe = [{"id": d.id, "indicatori": {k: format(v + 0, "f") for k, v in d.indicatori.items()}}  # no -0, no 1E-7
                 for d in destinatari]
        return cls(tenant_id=tenant_id, nome=nome, data_riferimento=data_riferimento, fonte=fonte, colonne=colonne,
                   righe=righe, caricati_da=autore)

    def destinatari(self) -> list[dict]:
        return [dict(r) for r in self.righe]


class Riparto(TenantAggregate):
    """A riparto run by an Ambito (among its Comuni, or any recipients it names)."""

    class Eseguito(TenantAggregate.Created):
        """v2 adds ``destinatari_da``: where the recipients came from when not typed in (the Ambito's
        Comuni at a date, from planning's composition); v1 events had typed or loaded recipients."""

        class_version = 2
        tenant_id: str
        oggetto: str
        atto: dict | None
        dati_riferimento_id: uuid.UUID | None
        riparto: dict
        eseguito_da: str
        destinatari_da: dict | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["destinatari_da"] = None

    @event(Eseguito)
    def __init__(self, tenant_id: str, oggetto: str, atto: dict | None, dati_riferimento_id: uuid.UUID | None,
                 riparto: dict, eseguito_da: str, destinatari_da: dict | None = None) -> None:
        self.tenant_id = tenant_id
        self.oggetto = oggetto
        self.atto = atto
        self.dati_riferimento_id = dati_riferimento_id
        self.riparto = riparto
        self.destinatari_da = destinatari_da

    @property
    def risultato(self) -> Risultato:
        return Risultato.da_dict(self.riparto)

    def verifica(self) -> bool:
        """Re-run the engine on the stored inputs: the stored result must come out again. A riparto stored
        before the rule against a sum above the total, with such a sum, no longer re-runs: False."""
        try:
            risultato = self.risultato
            return risultato.riesegui() == risultato
        except RuleViolation:
            return False


def tenant_regione(regione: str) -> str:
    """The store's tenant of a Region's own records (its riparti among its Ambiti), e.g. ``15-REGIONE``.

    Every stored event names a tenant of the form ``<Region>-<code>`` (the audit chain is per tenant);
    a Region's riparti belong to no Ambito, so they are kept under this reserved code, which no Ambito
    uses. A Region's token reaches them; an Ambito's token never does (its tenant differs)."""
    if not REGIONE_PATTERN.fullmatch(regione):
        raise ValueError(f"not a Region code: {regione!r}")
    return f"{regione}-REGIONE"


class RipartoRegionale(TenantAggregate):
    """A Region's riparto of a fund's annualità among its Ambiti: proposed (computed and stored), then
    approved by the Region's act, which assigns each Ambito its share.

    The approval (``Approvato``) lists each Ambito's amount; it is published as
    ``finance.riparto_regionale.approvato`` and finance's own consumer records, in each Ambito's
    tenant, the assegnazione of the fund's annualità with the Region's act (once: tracked by the
    notification it came from, and an act is registered once per annualità)."""

    @event("Proposto")
    def __init__(self, tenant_id: str, regione: str, oggetto: str, fondo: str, annualita: int, riparto: dict,
                 dati_riferimento_id: uuid.UUID | None, destinatari_da: dict | None, proposto_da: str) -> None:
        self.tenant_id = tenant_id
        self.regione = regione
        self.oggetto = oggetto
        self.fondo = fondo
        self.annualita = annualita
        self.riparto = riparto
        self.dati_riferimento_id = dati_riferimento_id
        self.destinatari_da = destinatari_da
        self.approvazione: dict | None = None

    @property
    def risultato(self) -> Risultato:
        return Risultato.da_dict(self.riparto)

    def approva(self, atto: dict, autore: str) -> None:
        """The Region's act approves the riparto: each Ambito with a positive amount is assigned it."""
        if self.approvazione is not None:
            raise Conflict(f"Il riparto è già stato approvato con l'atto n. {self.approvazione['atto']['numero']} "
                           f"del {self.approvazione['atto']['data'].isoformat()}: nulla è assegnato di nuovo.",
                           rule="riparto_regionale.gia_approvato")
        assegnazioni = [{"ambito": a.id, "importo": a.importo} for a in self.risultato.assegnazioni if a.importo > 0]
        self._approvato(fondo=self.fondo, annualita=self.annualita, atto=atto, assegnazioni=assegnazioni,
                        approvato_da=autore)

    @event("Approvato")
    def _approvato(self, fondo: str, annualita: int, atto: dict, assegnazioni: list[dict],
                   approvato_da: str) -> None:
        self.approvazione = {"atto": dict(atto), "assegnazioni": [dict(a) for a in assegnazioni],
                             "approvato_da": approvato_da}
