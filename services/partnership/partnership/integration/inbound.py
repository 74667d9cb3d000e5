"""The consumers partnership runs: only its own topic, read back into its list read model."""

from __future__ import annotations

from ambiti_kit.consumer import TrackedConsumer
from ambiti_kit.service import Runtime

from partnership.projections import elenchi


def consumers(runtime: Runtime) -> list[TrackedConsumer]:
    return [elenchi.consumer(runtime)]  # partnership's own events, into the lists (GET /enti, /tavoli, …)
