"""The history of one impegno as its allocation's ledger stored it: what the auditor reads.

Pure shaping, no I/O: given the ledger's events as they are stored (version order), it picks
the impegno's own movements — the commitment, its reductions, liquidations and mandati — and
the running figures after each. It never replays the aggregate: an auditor must see what the
store holds even when the ledger no longer replays (an event deleted from the middle breaks
the version sequence), and the audit chain says which of these rows can be trusted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable

from ambiti_kit.values import ZERO

from finance.domain.stanziamento import Stanziamento

#: the kind of every event of a ledger, in the words of the history
TIPI = {
    Stanziamento.Aperto: "apertura",
    Stanziamento.Incrementato: "incremento",
    Stanziamento.ImpegnoAssunto: "impegno",
    Stanziamento.ImpegnoRidotto: "riduzione",
    Stanziamento.LiquidazioneDisposta: "liquidazione",
    Stanziamento.MandatoEmesso: "mandato",
}


def tipo_di(evento: Any) -> str | None:
    return TIPI.get(type(evento))


def dell_impegno(evento: Any, impegno_id: uuid.UUID) -> bool:
    """Whether a ledger event moves this impegno (a mandato stores its impegno id as a string)."""
    return tipo_di(evento) in ("impegno", "riduzione", "liquidazione", "mandato") and \
        str(getattr(evento, "impegno_id", None)) == str(impegno_id)


def appartiene(eventi: list[Any], tenant_id: str, stanziamento_id: uuid.UUID) -> bool:
    """Whether the stored events are a ledger of ``tenant_id`` (else: 404, as for any other Ambito's id).

    A ledger's id is derived from its tenant and natural key (``Stanziamento.create_id``), so the
    opening event proves the owner even if someone rewrote the ``tenant_id`` it carries. Without a
    readable opening event (deleted or mangled: the chain will say so), every readable event must be
    a ledger event naming the tenant.
    """
    aperto = next((e for e in eventi if isinstance(e, Stanziamento.Aperto)), None)
    if aperto is not None and Stanziamento.create_id(tenant_id, aperto.assegnazione_id, aperto.piano_id,
                                                     aperto.intervento, aperto.anno) == stanziamento_id:
        return True
    return bool(eventi) and all(isinstance(e, Stanziamento.Event) and getattr(e, "tenant_id", None) == tenant_id
                                for e in eventi)


@dataclass(frozen=True)
class Saldi:
    """An impegno's figures: committed (gross), reduced, liquidated, paid."""

    impegnato: Decimal = ZERO
    ridotto: Decimal = ZERO
    liquidato: Decimal = ZERO
    pagato: Decimal = ZERO

    @property
    def residuo(self) -> Decimal:
        """Still to be liquidated (``Stanziamento.residuo_impegno``)."""
        return self.impegnato - self.ridotto - self.liquidato

    @property
    def da_pagare(self) -> Decimal:
        return self.liquidato - self.pagato

    def dopo(self, tipo: str, importo: Decimal) -> "Saldi":
        campo = {"impegno": "impegnato", "riduzione": "ridotto", "liquidazione": "liquidato",
                 "mandato": "pagato"}[tipo]
        return replace(self, **{campo: getattr(self, campo) + importo})


@dataclass(frozen=True)
class Movimento:
    """One stored event of the impegno, with the figures after it."""

    tipo: str
    versione: int
    quando: datetime
    autore: str
    importo: Decimal
    saldi: Saldi
    atto: dict | None = None            # impegno: the deliberazione or determina
    oggetto: str | None = None          # impegno
    riduzione: str | None = None        # riduzione: disimpegno or economia
    motivo: str | None = None           # riduzione
    liquidazione_id: uuid.UUID | None = None  # liquidazione, and the one a mandato pays
    fattura: dict | None = None         # liquidazione
    mandato_id: uuid.UUID | None = None
    data: date | None = None            # mandato


@dataclass(frozen=True)
class StoriaImpegno:
    impegno_id: uuid.UUID
    apertura: Any | None                # the ledger's Aperto event (fondo, annualità, line), if readable
    assunzione: Any | None              # the ImpegnoAssunto event (beneficiario, CIG, CUP), if readable
    movimenti: list[Movimento] = field(default_factory=list)

    @property
    def totali(self) -> Saldi:
        return self.movimenti[-1].saldi if self.movimenti else Saldi()


def storia_impegno(eventi: Iterable[Any], impegno_id: uuid.UUID) -> StoriaImpegno | None:
    """The impegno's movements in the ledger's order; None if no stored event names it."""
    eventi = sorted(eventi, key=lambda e: e.originator_version)
    apertura = next((e for e in eventi if isinstance(e, Stanziamento.Aperto)), None)
    saldi, movimenti, assunzione = Saldi(), [], None
    for e in eventi:
        if not dell_impegno(e, impegno_id):
            continue
        tipo = tipo_di(e)
        saldi = saldi.dopo(tipo, e.importo)
        comune = {"tipo": tipo, "versione": e.originator_version, "quando": e.timestamp, "importo": e.importo,
                  "saldi": saldi}
        if tipo == "impegno":
            assunzione = assunzione or e
            movimenti.append(Movimento(**comune, autore=e.assunto_da, atto=dict(e.atto), oggetto=e.oggetto))
        elif tipo == "riduzione":
            movimenti.append(Movimento(**comune, autore=e.ridotto_da, riduzione=e.tipo, motivo=e.motivo))
        elif tipo == "liquidazione":
            movimenti.append(Movimento(**comune, autore=e.disposta_da, liquidazione_id=e.liquidazione_id,
                                       fattura=dict(e.fattura)))
        else:
            movimenti.append(Movimento(**comune, autore=e.emesso_da, liquidazione_id=e.liquidazione_id,
                                       mandato_id=e.mandato_id, data=e.data))
    if not movimenti:
        return None
    return StoriaImpegno(impegno_id, apertura, assunzione, movimenti)
