"""The commands of finance's use cases that carry many values: what the request asks, typed.

A route builds one from its validated request body (amounts are already ``Decimal`` in
cents, codes already checked by the kit's types) and hands it to the application's use
case, which loads the aggregates, decides and saves. The money moves are idempotent: the
command is also what the Idempotency-Key's fingerprint is taken of, so it names the ledger
it acts on (the same key on another ledger is another request).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class NuovaAllocazione:
    """Allocate part of a fund's annualità to a budget line (intervento, anno) of the plan in force."""

    piano_id: uuid.UUID
    intervento: str
    fondo: str
    anno: int
    annualita: int
    importo: Decimal


@dataclass(frozen=True)
class NuovoImpegno:
    """Commit part of an allocation to a beneficiary, under an act; ``comune`` None: the whole Ambito."""

    stanziamento_id: uuid.UUID
    importo: Decimal
    beneficiario: dict
    cig: str | None
    cup: str | None
    atto: dict
    oggetto: str
    comune: str | None
    #: the award (partnership's affidamento) the commitment is taken under: its CIG and its amount as a ceiling
    affidamento_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RiduzioneImpegno:
    """A disimpegno or an economia on a commitment, with its reason."""

    stanziamento_id: uuid.UUID
    impegno_id: uuid.UUID
    importo: Decimal
    tipo: str
    motivo: str


@dataclass(frozen=True)
class NuovaLiquidazione:
    """Liquidate an invoice on a commitment."""

    stanziamento_id: uuid.UUID
    impegno_id: uuid.UUID
    fattura: dict
    importo: Decimal


@dataclass(frozen=True)
class NuovoMandato:
    """Pay (part of) a liquidation."""

    stanziamento_id: uuid.UUID
    liquidazione_id: uuid.UUID
    importo: Decimal
    data: date
    #: the CIG the payment order reports when its commitment has none (L. 136/2010 art. 3 c. 5)
    cig: str | None = None


@dataclass(frozen=True)
class DeterminazioneContributi:
    """Each Comune's quota of a year: per capita (``quota_pro_capite``) or as deliberated (``riparto``)."""

    anno: int
    scadenze: list[dict]
    quota_pro_capite: Decimal | None = None
    riparto: list[dict] | None = None
    deliberazione_id: uuid.UUID | None = None
    deliberazione_numero: str | None = None
    #: the deliberated quotas are the result of this stored riparto among the Comuni
    riparto_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ApprovazioneRipartoRegionale:
    """A Region's act approves its riparto among its Ambiti (``atto``: tipo, numero, data, ente)."""

    riparto_id: uuid.UUID
    atto: dict
