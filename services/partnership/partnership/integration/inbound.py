"""The consumers partnership runs: none, since it reads no other service's events.

Its own events feed its lists in process (``partnership.projections.OWN``), not over Kafka.
"""

from __future__ import annotations

from ambiti_kit.consumer import TrackedConsumer
from ambiti_kit.service import Runtime


def consumers(runtime: Runtime) -> list[TrackedConsumer]:
    return []
