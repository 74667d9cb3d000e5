"""The `eventsourcing` recorder conformance suites, on the services' PostgreSQL configuration.

Each test gets a fresh schema (``<namespace>rc_<hex>``: dropped in tearDown, and by the
session cleanup if a test dies) created by the kit's ``create_schema``, and recorders built
by ``PostgresFactory`` from ``ServiceSettings.eventsourcing_owner_env`` — exactly what a service's
migration uses (its runtime environment differs only in not creating the tables): multi-row tracking (``SINGLE_ROW_TRACKING=n``) and no database functions
(``POSTGRES_ENABLE_DB_FUNCTIONS=n``) — with the kit's append-only trigger installed on the
events table as ``open_event_store`` installs it.

Two library tests assume single-row tracking and are replaced (see their docstrings); the
append-only trigger conflicts with none of them, and ``test_events_table_is_append_only``
checks it on each recorder with an events table.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.tests import persistence as conformance
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment
from psycopg import sql

from ambiti_kit.consumer import Tracker
from ambiti_kit.eventstore import create_schema, events_table, make_append_only, tracking_table
from ambiti_kit.testing.fixtures import Infra

#: the recorders' tables are named after the application, as for a service of this name
APP = "conformance"


class ServicesPostgres:
    """Mixin of the suites below: a fresh schema and the services' recorder configuration."""

    infra: Infra

    @pytest.fixture(autouse=True)
    def _use_infra(self, infra: Infra) -> None:
        self.infra = infra

    def setUp(self) -> None:
        super().setUp()
        self.schema = f"{self.infra.namespace}rc_{uuid.uuid4().hex[:10]}"
        settings = self.infra.settings(APP, AMBITI_DB_SCHEMA=self.schema)
        create_schema(settings)
        self.factory = PostgresFactory(Environment(APP, settings.eventsourcing_owner_env))
        runtime = {k: v for k, v in settings.eventsourcing_env.items() if k != "CREATE_TABLE"}
        assert runtime == {k: v for k, v in settings.eventsourcing_owner_env.items() if k != "CREATE_TABLE"}
        # what every test below runs with: the services' settings, not the library's defaults
        datastore = self.factory.datastore
        self.assertEqual((datastore.schema, datastore.single_row_tracking, datastore.enable_db_functions),
                         (self.schema, False, False))

    def tearDown(self) -> None:
        self.factory.close()
        with self.infra.connect() as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema)))
        super().tearDown()

    def install_append_only(self) -> None:
        """The kit's trigger on the events table, as ``open_event_store`` installs it."""
        with self.infra.connect() as conn, conn.cursor() as curs:
            make_append_only(curs, self.schema, events_table(APP))


class AppendOnlyChecks:
    """An extra test for the suites whose recorder has an events table."""

    def test_events_table_is_append_only(self) -> None:
        """Events the recorder wrote cannot be updated, deleted or truncated, even by a superuser."""
        recorder = self.create_recorder()
        originator_id = uuid.uuid4()
        written = [StoredEvent(originator_id, v, "topic", f"state{v}".encode()) for v in (1, 2)]
        recorder.insert_events(written)
        table = sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(events_table(APP)))
        with self.infra.connect() as conn:
            for statement in ("UPDATE {} SET state = 'forged'", "DELETE FROM {}", "TRUNCATE {}"):
                with self.assertRaises(psycopg.errors.InsufficientPrivilege) as raised:
                    conn.execute(sql.SQL(statement).format(table))
                self.assertIn("append-only", str(raised.exception))
        self.assertEqual(recorder.select_events(originator_id), written)


class TestAggregateRecorder(ServicesPostgres, AppendOnlyChecks, conformance.AggregateRecorderTestCase):
    def create_recorder(self):
        recorder = self.factory.aggregate_recorder()
        self.install_append_only()
        return recorder


class TestApplicationRecorder(ServicesPostgres, AppendOnlyChecks, conformance.ApplicationRecorderTestCase):
    def create_recorder(self):
        recorder = self.factory.application_recorder()
        self.install_append_only()
        return recorder

    def test_insert_subscribe(self) -> None:
        """The library's optional LISTEN/NOTIFY subscription test (the relay LISTENs too)."""
        self.optional_test_insert_subscribe()


class TestServiceRecorderAsApplicationRecorder(TestApplicationRecorder):
    """The recorder a service really constructs (``TenantApplication``: a process recorder)."""

    def create_recorder(self):
        recorder = self.factory.process_recorder()
        self.install_append_only()
        return recorder


class TestTrackingRecorder(ServicesPostgres, conformance.TrackingRecorderTestCase):
    def create_recorder(self):
        return self.factory.tracking_recorder()

    def test_insert_tracking(self) -> None:
        """The library's test, except its last step, which holds only for single-row tracking.

        The library expects inserting notification 23 after 24 to fail ("can't fill in the
        gap"): a single row per upstream can only move forward. The services keep one row
        per notification instead (``SINGLE_ROW_TRACKING=n``), because one producer's
        messages arrive over several Kafka partitions, out of order: 23 arriving after 24
        must still be applied once, and only a second 23 refused. (The library's
        ``has_tracking_id`` compares with the maximum, so the kit's consumer asks
        ``Tracker.is_processed`` instead, which looks for the exact row.)
        """
        recorder = self.create_recorder()
        for tracking in (Tracking("upstream1", 21), Tracking("upstream1", 22), Tracking("upstream2", 21)):
            recorder.insert_tracking(tracking)
        for tracking in (Tracking("upstream1", 21), Tracking("upstream1", 22), Tracking("upstream2", 21)):
            with self.assertRaises(IntegrityError):
                recorder.insert_tracking(tracking)
        self.assertEqual(recorder.max_tracking_id("upstream1"), 22)
        self.assertEqual(recorder.max_tracking_id("upstream2"), 21)
        self.assertIsNone(recorder.max_tracking_id("upstream3"))
        self.assertTrue(recorder.has_tracking_id("upstream1", None))
        self.assertTrue(recorder.has_tracking_id("upstream1", 22))
        self.assertFalse(recorder.has_tracking_id("upstream1", 23))
        self.assertFalse(recorder.has_tracking_id("upstream2", 22))

        tracker = Tracker(self.factory.datastore, self.schema, tracking_table(APP))
        recorder.insert_tracking(Tracking("upstream1", 24))
        self.assertTrue(recorder.has_tracking_id("upstream1", 23))
        self.assertFalse(tracker.is_processed(Tracking("upstream1", 23)))
        recorder.insert_tracking(Tracking("upstream1", 23))  # late, lower: recorded all the same
        self.assertTrue(tracker.is_processed(Tracking("upstream1", 23)))
        with self.assertRaises(IntegrityError):
            recorder.insert_tracking(Tracking("upstream1", 23))
        self.assertEqual(recorder.max_tracking_id("upstream1"), 24)


class TestProcessRecorder(ServicesPostgres, AppendOnlyChecks, conformance.ProcessRecorderTestCase):
    def create_recorder(self):
        recorder = self.factory.process_recorder()
        self.install_append_only()
        return recorder

    def test_raises_when_lower_inserted_later(self) -> None:
        """Replaces the library's single-row-tracking test: with the services' multi-row
        tracking a lower notification inserted later is recorded (it arrived late over
        another partition), with its events, and only the same notification twice fails,
        leaving no events behind.
        """
        recorder = self.create_recorder()
        recorder.insert_events([], tracking=Tracking("upstream_app", 2))
        late = StoredEvent(uuid.uuid4(), 1, "topic1", b"late")
        recorder.insert_events([late], tracking=Tracking("upstream_app", 1))
        self.assertEqual(recorder.max_tracking_id("upstream_app"), 2)
        self.assertEqual(recorder.select_events(late.originator_id), [late])

        again = StoredEvent(uuid.uuid4(), 1, "topic1", b"again")
        with self.assertRaises(IntegrityError):
            recorder.insert_events([again], tracking=Tracking("upstream_app", 1))
        self.assertEqual(recorder.select_events(again.originator_id), [])


class TestNonInterleavingNotificationIds(ServicesPostgres, conformance.NonInterleavingNotificationIDsBaseCase):
    """Two concurrent writers get non-interleaved notification ids, in commit order: what the
    relay and the audit chain rely on to tail the log without skipping (hence no DB functions)."""

    def create_recorder(self):
        recorder = self.factory.process_recorder()
        self.install_append_only()
        return recorder
