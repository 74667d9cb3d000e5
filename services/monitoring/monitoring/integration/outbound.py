"""Monitoring publishes no integration event yet (its store holds none)."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Notification

from ambiti_kit.envelope import CloudEvent


def to_integration_event(domain_event: Any, notification: Notification) -> CloudEvent | None:
    return None
