"""TLS and SASL settings reach every Kafka client and the event store's PostgreSQL connections."""

from __future__ import annotations

import pytest

from ambiti_kit.kafka import KafkaSecurity
from ambiti_kit.settings import ServiceSettings


def test_plaintext_by_default() -> None:
    assert KafkaSecurity().client_options() == {"security_protocol": "PLAINTEXT"}


def test_sasl_over_tls_with_the_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"SECURITY_PROTOCOL": "SASL_SSL", "SASL_MECHANISM": "SCRAM-SHA-512",
                        "SASL_USERNAME": "planning", "SASL_PASSWORD": "s3greto-lungo",
                        "SSL_CAFILE": "/etc/kafka/ca.pem"}.items():
        monkeypatch.setenv(f"AMBITI_KAFKA_{name}", value)
    assert KafkaSecurity().client_options() == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "planning",
        "sasl_plain_password": "s3greto-lungo", "ssl_cafile": "/etc/kafka/ca.pem"}
    assert "s3greto" not in repr(KafkaSecurity())  # the password never shows in logs or reprs


def test_sasl_without_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMBITI_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    with pytest.raises(ValueError, match="SASL"):
        KafkaSecurity().client_options()


def test_an_unknown_protocol_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMBITI_KAFKA_SECURITY_PROTOCOL", "TLS")
    with pytest.raises(ValueError):
        KafkaSecurity()


def test_sslmode_of_the_database_url_reaches_libpq() -> None:
    settings = ServiceSettings(service="planning", AMBITI_ENVIRONMENT="test",
                               DATABASE_URL="postgresql://planning:x@db.example:5432/planning"
                                            "?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem")
    assert settings.libpq_tls() == {"PGSSLMODE": "verify-full", "PGSSLROOTCERT": "/etc/ssl/ca.pem"}
    assert ServiceSettings(service="planning", AMBITI_ENVIRONMENT="test",
                           DATABASE_URL="postgresql://postgres@127.0.0.1:5432/x").libpq_tls() == {}
