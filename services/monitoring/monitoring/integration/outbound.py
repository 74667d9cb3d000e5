"""Domain events of monitoring -> its integration events on ``monitoring.events.v1``.

Only aggregate figures travel: no event of monitoring carries a person. Amounts and hours
are decimal strings with two decimals; ``utenti`` is area -> age band -> count. The same
mapping feeds monitoring's own read models in process (``monitoring.projections.prestazioni``,
through the kit's projector: no round trip through Kafka), and the relay publishes the events
for any integrator (SIOSS-style feeds).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from ambiti_kit.mapping import mapper
from ambiti_kit.values import euro

from monitoring.domain.personale import Dotazione, DotazioneAmbito
from monitoring.domain.prestazioni import Prestazione

SOURCE = "/ambiti/monitoring"
SCHEMAS = "https://contracts.ambiti.example/monitoring"

PRESTAZIONE_REGISTRATA = "monitoring.prestazione.registrata"
PRESTAZIONE_CORRETTA = "monitoring.prestazione.corretta"
DOTAZIONE_DICHIARATA = "monitoring.dotazione.dichiarata"
DOTAZIONE_AGGIORNATA = "monitoring.dotazione.aggiornata"
#: staff of the whole Ambito (no Comune): its own type, since ``comune`` is required in the Comune's
DOTAZIONE_AMBITO_DICHIARATA = "monitoring.dotazione_ambito.dichiarata"


def _d(value: Decimal) -> str:
    """Hours, FTEs and amounts: two decimals, as euro amounts are written."""
    return euro(value)


def _figure(e: Any) -> dict[str, Any]:
    return {"utenti": e.utenti, "accessi": e.accessi, "ore": _d(e.ore), "costo": _d(e.costo), "note": e.note}


def _aggiornata(e: Any) -> dict[str, Any]:
    return {"dotazione_id": str(e.originator_id), "ambito": e.tenant_id, "fte": _d(e.fte),
            "ore_settimanali_piano": _d(e.ore_settimanali_piano), "motivo": e.motivo, "aggiornata_da": e.aggiornata_da}


MAPPING: dict[type, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    Prestazione.Registrata: (PRESTAZIONE_REGISTRATA, lambda e: {
        "prestazione_id": str(e.originator_id), "ambito": e.tenant_id, "intervento": e.intervento,
        "comune": e.comune, "mese": e.mese, **_figure(e), "registrata_da": e.registrata_da, "versione": 1}),
    Prestazione.Corretta: (PRESTAZIONE_CORRETTA, lambda e: {
        "prestazione_id": str(e.originator_id), "ambito": e.tenant_id, **_figure(e), "motivo": e.motivo,
        "corretta_da": e.corretta_da, "versione": e.originator_version}),
    Dotazione.Dichiarata: (DOTAZIONE_DICHIARATA, lambda e: {
        "dotazione_id": str(e.originator_id), "ambito": e.tenant_id, "comune": e.comune, "profilo": e.profilo,
        "area": e.area, "contratto": e.contratto, "datore_lavoro": e.datore_lavoro, "fte": _d(e.fte),
        "ore_settimanali_piano": _d(e.ore_settimanali_piano), "dichiarata_da": e.dichiarata_da}),
    DotazioneAmbito.Dichiarata: (DOTAZIONE_AMBITO_DICHIARATA, lambda e: {
        "dotazione_id": str(e.originator_id), "ambito": e.tenant_id, "profilo": e.profilo, "area": e.area,
        "contratto": e.contratto, "datore_lavoro": e.datore_lavoro, "fte": _d(e.fte),
        "ore_settimanali_piano": _d(e.ore_settimanali_piano), "dichiarata_da": e.dichiarata_da}),
    Dotazione.Aggiornata: (DOTAZIONE_AGGIORNATA, _aggiornata),
    DotazioneAmbito.Aggiornata: (DOTAZIONE_AGGIORNATA, _aggiornata),
}


to_integration_event = mapper(MAPPING, source=SOURCE, schemas=SCHEMAS)
