"""The ledger of one allocation: a fund's annualità allocated to one budget line of the Piano,
and the spending chain on it, impegno → liquidazione → mandato di pagamento.

All the money of an allocation lives in one aggregate, so its invariants are checked and
stored atomically (a concurrent request on the same allocation loses the version race and
is decided again on the new state):

- never a commitment above the allocation's available amount;
- never a liquidation above what is left of its commitment;
- never a payment above what is left of its liquidation.

A reduction of a commitment (*disimpegno*, *economia*) is a new event with its reason; no
figure ever changes without an event that says who, when and why.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, NotFound, RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid
from ambiti_kit.values import ZERO, euro, positivo


RIDUZIONI = ("disimpegno", "economia")
TIPI_ATTO = ("deliberazione", "determina")


class Stanziamento(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, assegnazione_id: uuid.UUID, piano_id: uuid.UUID, intervento: str, anno: int,
                  **_: object) -> uuid.UUID:
        """One ledger per fund annualità × budget line (intervento, year) of a plan."""
        return tenant_uuid(tenant_id, "stanziamento", assegnazione_id, piano_id, intervento, anno)

    @event("Aperto")
    def __init__(self, tenant_id: str, assegnazione_id: uuid.UUID, fondo: str, annualita: int,
                 piano_id: uuid.UUID, intervento: str, anno: int, importo: Decimal, aperto_da: str) -> None:
        self.tenant_id = tenant_id
        self.assegnazione_id = assegnazione_id
        self.fondo = fondo
        self.annualita = annualita
        self.piano_id = piano_id
        self.intervento = intervento
        self.anno = anno
        self.stanziato = importo
        self.impegni: dict[str, dict[str, Any]] = {}
        self.liquidazioni: dict[str, dict[str, Any]] = {}
        self.mandati: dict[str, dict[str, Any]] = {}

    # -- figures ---------------------------------------------------------------------
    @property
    def impegnato(self) -> Decimal:
        """Committed, net of reductions."""
        return sum((i["importo"] - i["ridotto"] for i in self.impegni.values()), ZERO)

    @property
    def liquidato(self) -> Decimal:
        return sum((i["liquidato"] for i in self.impegni.values()), ZERO)

    @property
    def pagato(self) -> Decimal:
        return sum((l["pagato"] for l in self.liquidazioni.values()), ZERO)

    @property
    def disponibile(self) -> Decimal:
        return self.stanziato - self.impegnato

    def residuo_impegno(self, impegno_id: str) -> Decimal:
        i = self._impegno(impegno_id)
        return i["importo"] - i["ridotto"] - i["liquidato"]

    def residuo_liquidazione(self, liquidazione_id: str) -> Decimal:
        liq = self._liquidazione(liquidazione_id)
        return liq["importo"] - liq["pagato"]

    # -- allocation ------------------------------------------------------------------
    def incrementa(self, importo: Decimal, autore: str) -> None:
        positivo(importo)
        self._incrementato(importo=importo, incrementato_da=autore)

    @event("Incrementato")
    def _incrementato(self, importo: Decimal, incrementato_da: str) -> None:
        self.stanziato += importo

    # -- impegno ---------------------------------------------------------------------
    def impegna(self, impegno_id: uuid.UUID, importo: Decimal, beneficiario: dict, cig: str | None, cup: str | None,
                atto: dict, oggetto: str, comune: str | None, autore: str,
                affidamento_id: uuid.UUID | None = None) -> None:
        """Commit part of the allocation; ``comune`` is the Comune the spending is for (None: the whole Ambito);
        ``affidamento_id`` the award the commitment is taken under (its CIG and ceiling checked by the caller,
        ``domain.tracciabilita``)."""
        positivo(importo)
        if str(impegno_id) in self.impegni:
            raise Conflict("Impegno già registrato.", rule="impegno.unico")
        if atto["tipo"] not in TIPI_ATTO:
            raise RuleViolation("L'impegno richiama una deliberazione o una determina.", rule="impegno.atto",
                                field="atto.tipo")
        if importo > self.disponibile:
            raise RuleViolation(f"Disponibili {euro(self.disponibile)} € sullo stanziamento: l'impegno di "
                                f"{euro(importo)} € li supera.", rule="impegno.disponibilita", field="importo")
        self._impegno_assunto(impegno_id=impegno_id, importo=importo,
                              beneficiario=beneficiario, cig=cig, cup=cup, atto=atto, oggetto=oggetto,
                              comune=comune, assunto_da=autore, affidamento_id=affidamento_id)

    class ImpegnoAssunto(TenantAggregate.Event):
        """v2 adds ``affidamento_id``: the award the commitment is taken under (L. 136/2010 art. 3: its CIG is
        the commitment's); v1 commitments named none."""

        class_version = 2
        impegno_id: uuid.UUID
        importo: Decimal
        beneficiario: dict
        cig: str | None
        cup: str | None
        atto: dict
        oggetto: str
        comune: str | None
        assunto_da: str
        affidamento_id: uuid.UUID | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["affidamento_id"] = None

    @event(ImpegnoAssunto)
    def _impegno_assunto(self, impegno_id: uuid.UUID, importo: Decimal, beneficiario: dict,
                         cig: str | None, cup: str | None, atto: dict, oggetto: str, comune: str | None,
                         assunto_da: str, affidamento_id: uuid.UUID | None = None) -> None:
        self.impegni[str(impegno_id)] = {"importo": importo, "ridotto": ZERO, "liquidato": ZERO,
                                         "beneficiario": dict(beneficiario), "cig": cig, "cup": cup,
                                         "atto": dict(atto), "oggetto": oggetto, "comune": comune,
                                         "affidamento_id": str(affidamento_id) if affidamento_id else None}

    def riduci(self, impegno_id: uuid.UUID, importo: Decimal, tipo: str, motivo: str, autore: str) -> None:
        """Disimpegno or economia: the part of a commitment that will not be liquidated."""
        positivo(importo)
        if tipo not in RIDUZIONI:
            raise RuleViolation("Una riduzione è un disimpegno o un'economia.", rule="riduzione.tipo", field="tipo")
        residuo = self.residuo_impegno(str(impegno_id))
        if importo > residuo:
            raise RuleViolation(f"Dell'impegno restano da liquidare {euro(residuo)} €: non si riduce di "
                                f"{euro(importo)} €.", rule="riduzione.residuo", field="importo")
        self._ridotto(impegno_id=impegno_id, importo=importo, tipo=tipo, motivo=motivo,
                      ridotto_da=autore)

    @event("ImpegnoRidotto")
    def _ridotto(self, impegno_id: uuid.UUID, importo: Decimal, tipo: str, motivo: str,
                 ridotto_da: str) -> None:
        self.impegni[str(impegno_id)]["ridotto"] += importo

    # -- liquidazione ----------------------------------------------------------------
    def liquida(self, liquidazione_id: uuid.UUID, impegno_id: uuid.UUID, fattura: dict, importo: Decimal,
                autore: str) -> None:
        positivo(importo)
        if str(liquidazione_id) in self.liquidazioni:
            raise Conflict("Liquidazione già registrata.", rule="liquidazione.unica")
        residuo = self.residuo_impegno(str(impegno_id))
        if importo > residuo:
            raise RuleViolation(f"Dell'impegno restano {euro(residuo)} €: la liquidazione di {euro(importo)} € "
                                "li supera.", rule="liquidazione.residuo_impegno", field="importo")
        chiave = (fattura["numero"], fattura["data"])
        if any((l["fattura"]["numero"], l["fattura"]["data"]) == chiave and l["impegno_id"] == str(impegno_id)
               for l in self.liquidazioni.values()):
            raise Conflict("Questa fattura è già liquidata sull'impegno.", rule="liquidazione.fattura_unica")
        self._liquidazione_disposta(liquidazione_id=liquidazione_id, impegno_id=impegno_id,
                                    fattura=fattura, importo=importo, disposta_da=autore)

    @event("LiquidazioneDisposta")
    def _liquidazione_disposta(self, liquidazione_id: uuid.UUID, impegno_id: uuid.UUID,
                               fattura: dict, importo: Decimal, disposta_da: str) -> None:
        self.impegni[str(impegno_id)]["liquidato"] += importo
        self.liquidazioni[str(liquidazione_id)] = {"impegno_id": str(impegno_id), "fattura": dict(fattura),
                                                   "importo": importo, "pagato": ZERO}

    # -- mandato ---------------------------------------------------------------------
    def paga(self, mandato_id: uuid.UUID, liquidazione_id: uuid.UUID, importo: Decimal, data: date,
             autore: str, cig: str | None = None, cup: str | None = None) -> None:
        """Pay (part of) a liquidation; ``cig`` and ``cup`` are what the payment order reports (decided by
        ``domain.tracciabilita.cig_del_mandato``: L. 136/2010 art. 3 c. 5)."""
        positivo(importo)
        if str(mandato_id) in self.mandati:
            raise Conflict("Mandato già emesso.", rule="mandato.unico")
        residuo = self.residuo_liquidazione(str(liquidazione_id))
        if importo > residuo:
            raise RuleViolation(f"Della liquidazione restano da pagare {euro(residuo)} €: il mandato di "
                                f"{euro(importo)} € li supera.", rule="mandato.residuo_liquidazione", field="importo")
        self._mandato_emesso(mandato_id=mandato_id, liquidazione_id=liquidazione_id,
                             impegno_id=self.liquidazioni[str(liquidazione_id)]["impegno_id"], importo=importo,
                             data=data, emesso_da=autore, cig=cig, cup=cup)

    class MandatoEmesso(TenantAggregate.Event):
        """v2 adds ``cig`` and ``cup``: the codes the payment order reports (L. 136/2010 art. 3 c. 5); v1
        payment orders recorded none."""

        class_version = 2
        mandato_id: uuid.UUID
        liquidazione_id: uuid.UUID
        impegno_id: str
        importo: Decimal
        data: date
        emesso_da: str
        cig: str | None
        cup: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["cig"] = None
            state["cup"] = None

    @event(MandatoEmesso)
    def _mandato_emesso(self, mandato_id: uuid.UUID, liquidazione_id: uuid.UUID, impegno_id: str,
                        importo: Decimal, data: date, emesso_da: str, cig: str | None = None,
                        cup: str | None = None) -> None:
        self.liquidazioni[str(liquidazione_id)]["pagato"] += importo
        self.mandati[str(mandato_id)] = {"liquidazione_id": str(liquidazione_id), "importo": importo, "data": data,
                                         "cig": cig, "cup": cup}

    def impegno_della_liquidazione(self, liquidazione_id: str) -> dict:
        """The commitment a liquidation is on (404 if the liquidation is not of this allocation)."""
        return self.impegni[self._liquidazione(liquidazione_id)["impegno_id"]]

    def _impegno(self, impegno_id: str) -> dict:
        try:
            return self.impegni[impegno_id]
        except KeyError:
            raise NotFound(f"Impegno {impegno_id} non trovato.") from None

    def _liquidazione(self, liquidazione_id: str) -> dict:
        try:
            return self.liquidazioni[liquidazione_id]
        except KeyError:
            raise NotFound(f"Liquidazione {liquidazione_id} non trovata.") from None

