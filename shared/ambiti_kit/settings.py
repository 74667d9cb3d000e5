"""Settings every service reads from its environment (pydantic-settings).

One `ServiceSettings` per process. Names a deployer sets:

- ``DATABASE_URL``: the PostgreSQL server (``postgresql://user:pass@host:port/db``);
  ``<SERVICE>_DATABASE_URL`` (e.g. ``FINANCE_DATABASE_URL``) overrides it for one service,
  so production can give each service its own database.
- ``KAFKA_BOOTSTRAP_SERVERS``: the Kafka-protocol brokers.
- ``AMBITI_NAMESPACE``: a prefix for schemas, topics and consumer groups, so that test
  runs share one server and one broker without seeing each other. Empty in production.
- ``AMBITI_JWT_SECRET`` and ``AMBITI_ENVIRONMENT``: the environment is ``production`` unless
  it says ``development`` (or ``test``) explicitly, and production refuses the development
  secret and any secret shorter than 32 characters or with fewer than 8 distinct ones. The
  ``ambiti`` CLI and launcher say ``development`` for the processes they start on a developer's
  machine; the tests say ``test``.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import Literal

from psycopg.conninfo import conninfo_to_dict
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "sviluppo-non-usare-in-produzione-0123456789"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:54329/ambiti"
DEFAULT_KAFKA = "127.0.0.1:19092"

CHAIN_HEADS_TOPIC = "audit.chainheads.v1"


class PlatformSettings(BaseSettings):
    """Settings shared by the services, the launcher and the tests."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = Field(
        "production", validation_alias="AMBITI_ENVIRONMENT"
    )
    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    kafka_bootstrap_servers: str = Field(DEFAULT_KAFKA, validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    namespace: str = Field("", validation_alias="AMBITI_NAMESPACE", pattern=r"^[a-z0-9_]*$")
    jwt_secret: SecretStr = Field(SecretStr(DEVELOPMENT_JWT_SECRET), validation_alias="AMBITI_JWT_SECRET")
    jwt_issuer: str = Field("ambiti-dev", validation_alias="AMBITI_JWT_ISSUER")
    jwt_audience: str = Field("ambiti", validation_alias="AMBITI_JWT_AUDIENCE")
    #: production identity: an OpenID Connect issuer whose signing keys (JWKS) verify RS256/ES256 tokens
    oidc_issuer: str | None = Field(None, validation_alias="AMBITI_OIDC_ISSUER")
    #: where its keys are; default: ``jwks_uri`` of ``<issuer>/.well-known/openid-configuration``
    oidc_jwks_url: str | None = Field(None, validation_alias="AMBITI_OIDC_JWKS_URL")
    #: the audience its tokens must name (default: AMBITI_JWT_AUDIENCE)
    oidc_audience: str | None = Field(None, validation_alias="AMBITI_OIDC_AUDIENCE")
    oidc_algorithms: str = Field("RS256,ES256", validation_alias="AMBITI_OIDC_ALGORITHMS",
                                 pattern=r"^(RS|PS|ES)(256|384|512)(,(RS|PS|ES)(256|384|512))*$")
    #: seconds of clock skew tolerated on exp, iat and nbf
    oidc_leeway: int = Field(30, validation_alias="AMBITI_OIDC_LEEWAY", ge=0, le=300)
    #: how long the keys are cached, and how soon an unknown key id may refetch them (key rotation)
    oidc_jwks_lifespan: float = Field(300.0, validation_alias="AMBITI_OIDC_JWKS_LIFESPAN", gt=0)
    oidc_jwks_cooldown: float = Field(30.0, validation_alias="AMBITI_OIDC_JWKS_COOLDOWN", ge=0)
    #: the issuer's claim names for what the platform reads (its own names by default)
    oidc_claim_roles: str = Field("roles", validation_alias="AMBITI_OIDC_CLAIM_ROLES")
    oidc_claim_tenant: str = Field("tenant", validation_alias="AMBITI_OIDC_CLAIM_TENANT")
    oidc_claim_regione: str = Field("regione", validation_alias="AMBITI_OIDC_CLAIM_REGIONE")
    oidc_claim_comune: str = Field("comune", validation_alias="AMBITI_OIDC_CLAIM_COMUNE")
    kafka_partitions: int = Field(4, validation_alias="AMBITI_KAFKA_PARTITIONS", ge=1)
    kafka_replication: int = Field(1, validation_alias="AMBITI_KAFKA_REPLICATION", ge=1)
    log_level: str = Field("INFO", validation_alias="AMBITI_LOG_LEVEL")

    @property
    def strong_secret(self) -> bool:
        secret = self.jwt_secret.get_secret_value()
        return secret != DEVELOPMENT_JWT_SECRET and len(secret) >= 32 and len(set(secret)) >= 8

    @property
    def accepts_hs256(self) -> bool:
        """HS256 tokens (the shared secret): in development and test, or in production with a strong secret."""
        return self.environment != "production" or self.strong_secret

    @model_validator(mode="after")
    def _refuse_development_secret(self) -> "PlatformSettings":
        if self.environment == "production" and not self.oidc_issuer and not self.strong_secret:
            raise ValueError("in production set AMBITI_OIDC_ISSUER (the identity provider), or an AMBITI_JWT_SECRET "
                             "that is a real secret (32+ characters, not the development one, not a repeated "
                             "pattern); a developer's machine sets AMBITI_ENVIRONMENT=development")
        return self

    def topic(self, name: str) -> str:
        """The namespaced name of a platform topic (e.g. ``planning.events.v1``)."""
        return f"{self.namespace}{name}"


class ServiceSettings(PlatformSettings):
    """Settings of one service process; ``service`` is its bounded context's name."""

    service: str = "unnamed"
    #: for one-off processes (a rebuild into a new schema, tests); services use <namespace><service>
    db_schema_override: str | None = Field(None, validation_alias="AMBITI_DB_SCHEMA")
    relay_batch_size: int = Field(1000, validation_alias="AMBITI_RELAY_BATCH", ge=1)
    #: connections of the service's pool: request threads, the relay and the consumers share it
    db_pool_size: int = Field(5, validation_alias="AMBITI_DB_POOL_SIZE", ge=2)
    db_pool_overflow: int = Field(20, validation_alias="AMBITI_DB_POOL_OVERFLOW", ge=0)
    #: Ed25519 seed (32 bytes, base64) that signs this service's audit chain heads; kept outside the database
    chain_signing_key: SecretStr | None = Field(None, validation_alias="AMBITI_CHAIN_SIGNING_KEY")
    #: request latency histograms on /metrics (off only to measure what they cost)
    metrics: bool = Field(True, validation_alias="AMBITI_METRICS")
    #: readiness: how far behind (events, messages) the relay, the projector and each consumer may be
    ready_max_lag: int = Field(1000, validation_alias="AMBITI_READY_MAX_LAG", ge=0)
    #: the largest request body a service parses (CSV uploads included); larger ones get 413
    max_body_bytes: int = Field(5 * 1024 * 1024, validation_alias="AMBITI_MAX_BODY_BYTES", ge=1024)
    #: the longest a long poll of ``GET /eventi`` waits, whatever ``attesa`` asks (seconds)
    feed_max_wait: int = Field(30, validation_alias="AMBITI_FEED_MAX_WAIT", ge=0, le=30)
    #: webhooks: consecutive failed deliveries after which a subscription pauses, and the retries' backoff
    webhook_max_failures: int = Field(10, validation_alias="AMBITI_WEBHOOK_MAX_FAILURES", ge=1, le=1000)
    webhook_backoff_base: float = Field(1.0, validation_alias="AMBITI_WEBHOOK_BACKOFF_BASE", gt=0)
    webhook_backoff_max: float = Field(3600.0, validation_alias="AMBITI_WEBHOOK_BACKOFF_MAX", gt=0)
    #: subscriptions delivered at once (each one's events in order); each takes a database connection
    webhook_concurrency: int = Field(4, validation_alias="AMBITI_WEBHOOK_CONCURRENCY", ge=1, le=16)
    #: the role that owns the service's tables and runs its migrations (DDL, triggers, row-level security);
    #: DATABASE_URL's role then only reads and writes rows, so it cannot disable what protects them
    database_owner_url: SecretStr | None = Field(None, validation_alias="AMBITI_DATABASE_OWNER_URL")
    #: ``external``: the tables were migrated beforehand (``python -m ambiti_kit.migrate``, e.g. in an init
    #: container holding the owner's credentials) and the service does no DDL at all
    db_migrations: Literal["at_start", "external"] = Field("at_start", validation_alias="AMBITI_DB_MIGRATIONS")

    @model_validator(mode="after")
    def _chain_key_in_production(self) -> "ServiceSettings":
        if self.chain_signing_key is not None:
            import base64, binascii  # noqa: E401
            try:
                seed = base64.b64decode(self.chain_signing_key.get_secret_value(), validate=True)
            except (binascii.Error, ValueError):
                seed = b""
            if len(seed) != 32:
                raise ValueError("AMBITI_CHAIN_SIGNING_KEY must be 32 random bytes, base64-encoded")
        elif self.environment == "production" and self.service != "unnamed":
            raise ValueError("AMBITI_CHAIN_SIGNING_KEY is required in production: it signs the audit chain heads "
                             "(32 random bytes, base64; e.g. `openssl rand -base64 32`)")
        return self

    @property
    def service_database_url(self) -> str:
        return os.environ.get(f"{self.service.upper()}_DATABASE_URL") or self.database_url

    @property
    def db_schema(self) -> str:
        return self.db_schema_override or f"{self.namespace}{self.service}"

    @property
    def events_topic(self) -> str:
        return self.topic(f"{self.service}.events.v1")

    @property
    def chain_heads_topic(self) -> str:
        return self.topic(CHAIN_HEADS_TOPIC)

    def consumer_group(self, purpose: str = "main") -> str:
        return f"{self.namespace}{self.service}.{purpose}"

    def libpq_tls(self) -> dict[str, str]:
        """TLS parameters of the service's DATABASE_URL (``?sslmode=verify-full&sslrootcert=…``) as libpq's
        environment variables: the event store's pool is built from host, port and user only, so it sees
        them only there (every other connection reads them from the URL itself)."""
        params = conninfo_to_dict(self.service_database_url)
        names = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                 "sslkey": "PGSSLKEY", "sslcrl": "PGSSLCRL"}
        return {env: str(params[key]) for key, env in names.items() if params.get(key)}

    @property
    def owner_database_url(self) -> str:
        """Who migrates: the owner role when one is configured, otherwise the service's own role."""
        owner = os.environ.get(f"{self.service.upper()}_DATABASE_OWNER_URL") or (
            self.database_owner_url.get_secret_value() if self.database_owner_url else None)
        return owner or self.service_database_url

    @property
    def separate_owner(self) -> bool:
        return self.db_migrations == "external" or self.owner_database_url != self.service_database_url

    @cached_property
    def eventsourcing_env(self) -> dict[str, str]:
        """The `eventsourcing` environment for this service's Application, as its runtime role: the tables
        were created by ``eventstore.migrate`` (under its lock, as the owner), so the library does not."""
        return self._eventsourcing_env(self.service_database_url, create_tables=False)

    @property
    def eventsourcing_owner_env(self) -> dict[str, str]:
        """The same, as the owner role (which creates the library's tables)."""
        return self._eventsourcing_env(self.owner_database_url, create_tables=True)

    def _eventsourcing_env(self, url: str, *, create_tables: bool) -> dict[str, str]:
        params = conninfo_to_dict(url)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(params.get("dbname", "postgres")),
            "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
            "POSTGRES_PORT": str(params.get("port", "5432")),
            "POSTGRES_USER": str(params.get("user", "postgres")),
            "POSTGRES_PASSWORD": str(params.get("password", "")),
            "POSTGRES_SCHEMA": self.db_schema,
            "POSTGRES_POOL_SIZE": str(self.db_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.db_pool_overflow),
            # Consumers dedupe per notification id (messages of one producer arrive over
            # several partitions, so out of order): keep one tracking row per notification.
            "SINGLE_ROW_TRACKING": "n",
            # Off on purpose: with it on, notification ids can interleave and a tailing
            # reader (the relay, the audit chain) can skip events.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "CREATE_TABLE": "y" if create_tables else "n",
        }
        return env
