"""kafka-python clients configured for this platform, topics and the broker epoch.

The broker may lose everything (a fresh cluster; the development broker keeps only
memory). The relay of each topic keeps an *epoch marker*: an empty topic named
``_epoch.<topic>.<id>``, created by the relay right after it (re)created the topic. Only
``list_topics`` (all-topic metadata) ever looks for it, so no client auto-creates it by
asking for it by name. No marker means the broker lost its data: the relay recreates
the topic and republishes from its event store; consumers that see the marker's id
change re-seek to the beginning (they dedupe by notification id, not by offset).
"""

from __future__ import annotations

import logging
import time
import uuid
from functools import lru_cache
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError, TopicAlreadyExistsError

_log = logging.getLogger("ambiti.kafka")
EPOCH_PREFIX = "_epoch."

#: Tansu holds a group join for about half the session timeout; keep it short.
CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable_auto_commit": False,
    "auto_offset_reset": "earliest",
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 500,
    "max_poll_records": 500,
    # An idle fetch returns after this long: bounds the latency of a new event (Tansu
    # answers at the end of the wait rather than when data arrives).
    "fetch_max_wait_ms": 50,
    "request_timeout_ms": 15000,
}


class KafkaSecurity(BaseSettings):
    """How every client of the platform talks to the brokers: TLS and SASL from the environment.

    ``AMBITI_KAFKA_SECURITY_PROTOCOL`` (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), with SASL
    ``AMBITI_KAFKA_SASL_MECHANISM`` (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), ``..._SASL_USERNAME``,
    ``..._SASL_PASSWORD``; with TLS ``AMBITI_KAFKA_SSL_CAFILE`` (and a client certificate with
    ``..._SSL_CERTFILE`` and ``..._SSL_KEYFILE``).
    """

    model_config = SettingsConfigDict(env_prefix="AMBITI_KAFKA_", extra="ignore", frozen=True)

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    def client_options(self) -> dict[str, Any]:
        """The kafka-python keyword arguments (the same for producers, consumers and admin clients)."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.security_protocol.startswith("SASL_"):
            if not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
                raise ValueError("SASL needs AMBITI_KAFKA_SASL_MECHANISM, _SASL_USERNAME and _SASL_PASSWORD")
            options.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_username,
                           sasl_plain_password=self.sasl_password.get_secret_value())
        if self.security_protocol in ("SSL", "SASL_SSL"):
            options.update({k: v for k, v in {"ssl_cafile": self.ssl_cafile, "ssl_certfile": self.ssl_certfile,
                                              "ssl_keyfile": self.ssl_keyfile}.items() if v})
        return options


@lru_cache(maxsize=1)
def security() -> dict[str, Any]:
    return KafkaSecurity().client_options()


def producer(bootstrap: str, **overrides: Any) -> KafkaProducer:
    """A producer for a relay.

    Idempotence is off on purpose: an idempotent kafka-python producer is unusable after
    the broker lost its state (InitProducerId errors); duplicates from retries are
    harmless because every consumer dedupes. One request in flight keeps each
    partition in notification order.
    """
    config = {
        "bootstrap_servers": bootstrap.split(","),
        "acks": "all",
        "enable_idempotence": False,
        "max_in_flight_requests_per_connection": 1,
        "retries": 3,
        "linger_ms": 2,
        "batch_size": 256 * 1024,
        "request_timeout_ms": 10000,
        "max_block_ms": 10000,
        "client_id": overrides.pop("client_id", "ambiti-relay"),
        **security(),
    }
    config.update(overrides)
    return KafkaProducer(**config)


def consumer(bootstrap: str, group_id: str, **overrides: Any) -> KafkaConsumer:
    config = {"bootstrap_servers": bootstrap.split(","), "group_id": group_id, **CONSUMER_DEFAULTS, **security()}
    config.update(overrides)
    return KafkaConsumer(**config)


def admin(bootstrap: str) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap.split(","), request_timeout_ms=10000,
                            client_id="ambiti-admin", **security())


#: Event topics keep everything (the log is the integration record); chain heads only the
#: latest head per key.
EVENTS_CONFIG = {"retention.ms": "-1", "cleanup.policy": "delete"}
COMPACTED_CONFIG = {"cleanup.policy": "compact"}


def ensure_topics(client: KafkaAdminClient, topics: dict[str, int], replication: int = 1,
                  configs: dict[str, str] | None = None) -> None:
    """Create missing topics with their configured partitions (never rely on auto-create)."""
    existing = set(client.list_topics())
    for name, parts in topics.items():
        if name in existing:
            continue
        try:  # one at a time: a refusal (policy, replication > brokers) raises, naming its topic
            client.create_topics({name: {"num_partitions": parts, "replication_factor": replication,
                                         "configs": configs or {}}}, wait_for_metadata=True)
        except TopicAlreadyExistsError:
            continue  # created meanwhile by another instance
        _log.info("topic created", extra={"topic": name, "partitions": parts})


def epoch_of(topic_names: list[str] | set[str], topic: str) -> str | None:
    """The current epoch id of ``topic`` from a topic listing, or None if it has none."""
    prefix = f"{EPOCH_PREFIX}{topic}."
    marks = sorted(name[len(prefix):] for name in topic_names if name.startswith(prefix))
    return marks[-1] if marks else None


def start_epoch(client: KafkaAdminClient, topic: str, partitions: int, replication: int = 1) -> str:
    """Start ``topic`` afresh and mark a new epoch; returns the new epoch id.

    Whatever the broker holds under that name is deleted first, with the old epoch markers: records a
    discarded producer delivered after a wipe, or a republish cut short, never come before the new
    epoch's first record. Epoch ids sort by time, so the newest marker is the current one.
    """
    prefix = f"{EPOCH_PREFIX}{topic}."
    stale = [name for name in client.list_topics() if name == topic or name.startswith(prefix)]
    if stale:
        _log.warning("deleting %s before a new epoch", stale)
        try:
            client.delete_topics(stale, timeout_ms=10000)
        except KafkaError as exc:
            _log.warning("deleting %s: %r", stale, exc)
        deadline = time.monotonic() + 15
        while set(stale) & set(client.list_topics()):
            if time.monotonic() > deadline:
                raise KafkaError(f"the broker did not delete {stale}")
            time.sleep(0.2)
    ensure_topics(client, {topic: partitions}, replication, EVENTS_CONFIG)
    epoch = f"{int(time.time() * 1000):013d}{uuid.uuid4().hex[:8]}"
    ensure_topics(client, {f"{prefix}{epoch}": 1}, replication)
    return epoch


__all__ = ["KafkaError", "admin", "consumer", "producer", "ensure_topics", "epoch_of", "start_epoch"]
