"""Monitoring's mapper publishes only its own domain events (see test_prestazioni for their data)."""

from __future__ import annotations

from eventsourcing.persistence import Notification

from monitoring.integration.outbound import to_integration_event


def test_an_object_that_is_not_a_domain_event_of_monitoring_is_not_published() -> None:
    notification = Notification(id=1, originator_id="x", originator_version=1, topic="t", state=b"{}")
    assert to_integration_event(object(), notification) is None
