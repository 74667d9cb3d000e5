"""Monitoring publishes no integration event yet: its mapper says so for any event."""

from __future__ import annotations

from eventsourcing.persistence import Notification

from monitoring.integration.outbound import to_integration_event


def test_no_domain_event_of_monitoring_reaches_the_wire_yet() -> None:
    notification = Notification(id=1, originator_id="x", originator_version=1, topic="t", state=b"{}")
    assert to_integration_event(object(), notification) is None
