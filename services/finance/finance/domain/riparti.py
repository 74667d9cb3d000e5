"""Stored riparti and the reference data they run on.

``DatiRiferimento`` is one dated dataset (e.g. resident population at 1 January 2025 per
Comune), loaded from CSV once and never changed: a new date is a new dataset. ``Riparto``
records one run of the engine (``riparto.esegui``) with its inputs, method and result, the
act it belongs to and the dataset it used, so it can be re-run and explained years later.
"""

from __future__ import annotations

import uuid
from datetime import date

from eventsourcing.domain import event

from ambiti_kit.errors import RuleViolation
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
    @event("Eseguito")
    def __init__(self, tenant_id: str, oggetto: str, atto: dict | None, dati_riferimento_id: uuid.UUID | None,
                 riparto: dict, eseguito_da: str) -> None:
        self.tenant_id = tenant_id
        self.oggetto = oggetto
        self.atto = atto
        self.dati_riferimento_id = dati_riferimento_id
        self.riparto = riparto

    @property
    def risultato(self) -> Risultato:
        return Risultato.da_dict(self.riparto)

    def verifica(self) -> bool:
        """Re-run the engine on the stored inputs: the stored result must come out again."""
        return self.risultato.riesegui().come_dict() == self.riparto
