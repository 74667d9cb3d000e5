"""The commands of partnership's use cases that carry many values: what the request asks, typed.

A route builds one from its validated request body (amounts already ``Decimal`` in cents,
codes already checked by the kit's types) and hands it, with the tenant and the author, to
the application's use case, which loads, decides and saves. Acts and classifications stay
plain dicts, as the aggregates record them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class NuovaProposta:
    """A tavolo's proposal of an intervento for the Piano (born, maybe, in one of its meetings)."""

    tavolo_id: uuid.UUID
    titolo: str
    descrizione: str
    area: str
    intervento: dict
    piano_id: uuid.UUID | None = None
    riunione_id: str | None = None


@dataclass(frozen=True)
class NuovoAvviso:
    """The public notice that opens a co-programmazione or co-progettazione."""

    tipo: str
    oggetto: str
    scadenza_manifestazioni: date
    piano_id: uuid.UUID | None
    intervento: str | None
    atto: dict


@dataclass(frozen=True)
class NuovaSessione:
    """A session of the co-progettazione table, with the admitted enti that took part and its minutes."""

    procedura_id: uuid.UUID
    data: date
    partecipanti: list[str]
    verbale: str
    tavolo_id: uuid.UUID | None
    atto: dict


@dataclass(frozen=True)
class NuovaConvenzione:
    """The convenzione with one admitted ente or an ATS led by ``capofila``, with its budget by year."""

    procedura_id: uuid.UUID
    enti: list[str]
    capofila: str | None
    importo: Decimal
    decorrenza: date
    durata_mesi: int
    budget: list[dict]
    atto: dict


@dataclass(frozen=True)
class NuovoAccreditamento:
    """An ente's accreditation for an intervento or a service, with its validity and tariffs."""

    ente_id: uuid.UUID
    intervento: str | None
    servizio: dict | None
    valido_dal: date
    valido_al: date
    tariffe: list[dict]
    atto: dict


@dataclass(frozen=True)
class NuovoAffidamento:
    """An award of an intervento of the Piano to an ente: through an accreditation, a convenzione or a tender."""

    ente_id: uuid.UUID
    piano_id: uuid.UUID
    intervento: str
    importo: Decimal
    cig: str | None
    valido_dal: date
    valido_al: date
    modalita: str
    accreditamento_id: uuid.UUID | None
    procedura_id: uuid.UUID | None
    atto: dict
