"""Read models of planning: its lists, fed in process from its own notification log."""

from __future__ import annotations

from ambiti_kit.eventstore import Schema
from ambiti_kit.service import OwnReadModels

from planning import allegati
from planning.projections import elenchi
from planning.projections.locale import to_read_model_event

#: planning's tables beyond the event store: the lists and the attachments' store, all under RLS
SCHEMA = Schema(ddl=[*elenchi.SCHEMA.ddl, *allegati.DDL], tenant_tables=[*elenchi.SCHEMA.tenant_tables, allegati.TABLE])
#: every read-model table, for rebuild comparisons (the attachments' bytes are not derived from the log)
TABLES = tuple(elenchi.SCHEMA.tenant_tables)

#: planning's own events into its lists (read-your-writes; see ``ambiti_kit.projector``): the published
#: ones and, under ``planning.locale.*``, the internal ones a list needs (the relay never sees those)
OWN = OwnReadModels(projections=elenchi.projections, mapper=to_read_model_event)
