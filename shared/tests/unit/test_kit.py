"""Pure parts of the kit: tokens, envelope, audit links, epochs, settings (no I/O)."""

from __future__ import annotations

from datetime import datetime, timezone

import jwt
import pytest

from ambiti_kit import kafka
from ambiti_kit.audit import GENESIS, link_of, tenant_of_state
from ambiti_kit.auth import decode_token, issue_token, regione_of
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.errors import Unauthorized
from ambiti_kit.settings import DEVELOPMENT_JWT_SECRET, PlatformSettings, ServiceSettings

SETTINGS = PlatformSettings(AMBITI_ENVIRONMENT="test")


def test_a_token_round_trips_with_tenant_roles_and_comune() -> None:
    token = issue_token(SETTINGS, roles=["assistente_sociale"], tenant="15-S09", comune="065134")
    principal = decode_token(SETTINGS, token)
    assert (principal.tenant, principal.comune, principal.regione) == ("15-S09", "065134", None)
    assert principal.roles == {"assistente_sociale"}


def test_a_regione_token_names_a_region_and_no_tenant() -> None:
    principal = decode_token(SETTINGS, issue_token(SETTINGS, roles=["regione"], regione="15"))
    assert principal.tenant is None and principal.regione == "15"


@pytest.mark.parametrize("claims, rule", [
    ({"exp": 1}, "token.expired"),
    ({"roles": ["sindaco"]}, "token.roles"),
    ({"tenant": "S09"}, "token.tenant"),
    ({"tenant": "15-S09\n"}, "token.tenant"),  # match() with $ would accept the trailing newline
    ({"tenant": ["15-S09"]}, "token.tenant"),
    ({"tenant": "15-S09", "regione": "15"}, "token.ambito_e_regione"),
    ({"roles": ["regione"], "regione": "15"}, "token.ambito_e_regione"),
    ({"roles": ["regione"], "tenant": None, "regione": "15\n"}, "token.regione"),
    ({"comune": "65134"}, "token.comune"),
    ({"comune": "065134\n"}, "token.comune"),
    ({"aud": "altro"}, "token.audience"),
])
def test_bad_claims_are_refused_with_their_rule(claims: dict, rule: str) -> None:
    base = {"iss": SETTINGS.jwt_issuer, "aud": SETTINGS.jwt_audience, "iat": 0, "exp": 4102444800,
            "sub": "x", "roles": ["coordinatore"], "tenant": "15-S09"}
    token = jwt.encode({**base, **claims}, SETTINGS.jwt_secret.get_secret_value(), algorithm="HS256")
    with pytest.raises(Unauthorized) as caught:
        decode_token(SETTINGS, token)
    assert caught.value.rule == rule


def test_a_token_signed_with_another_secret_is_refused() -> None:
    other = PlatformSettings(AMBITI_JWT_SECRET="x" * 40, AMBITI_ENVIRONMENT="test")
    with pytest.raises(Unauthorized) as caught:
        decode_token(SETTINGS, issue_token(other, roles=["coordinatore"], tenant="15-S09"))
    assert caught.value.rule == "token.signature"


def test_production_refuses_the_development_secret_and_weak_ones() -> None:
    for weak in (DEVELOPMENT_JWT_SECRET, "a" * 32, "ab" * 20, "s3cr3t"):
        with pytest.raises(ValueError):
            PlatformSettings(AMBITI_ENVIRONMENT="production", AMBITI_JWT_SECRET=weak)
    assert PlatformSettings(AMBITI_ENVIRONMENT="production", AMBITI_JWT_SECRET="q7Vd-2mXp9Lr_Wk4Tz8Hn3Bc6Yf1Gs5J")


def test_without_an_explicit_environment_it_is_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMBITI_ENVIRONMENT", raising=False)
    monkeypatch.delenv("AMBITI_JWT_SECRET", raising=False)
    with pytest.raises(ValueError):
        PlatformSettings()  # the development secret with no environment named: refused
    assert PlatformSettings(AMBITI_ENVIRONMENT="development").environment == "development"


def test_the_region_of_an_ambito_is_its_istat_prefix() -> None:
    assert regione_of("15-S09") == "15"
    for wrong in ("S09", "15-S09\n"):
        with pytest.raises(ValueError):
            regione_of(wrong)
    with pytest.raises(ValueError):
        issue_token(SETTINGS, roles=["coordinatore"], tenant="15-S09", regione="15")


def test_a_cloud_event_survives_kafka_headers_and_keeps_a_stable_id() -> None:
    event = CloudEvent(type="planning.piano_di_zona.creato", source="/ambiti/planning", subject="abc",
                       tenantid="15-S09", sequence=12, time=datetime(2026, 1, 2, tzinfo=timezone.utc),
                       dataschema="https://x/s.json", data={"titolo": "Piano è"})
    key, value, headers = event.to_kafka()
    back = CloudEvent.from_kafka(headers, value, key)
    assert back == event
    assert CloudEvent(**{**event.__dict__, "id": ""}).id == event.id  # republishing keeps ce_id
    with pytest.raises(ValueError):
        CloudEvent.from_kafka([("ce_type", b"x")], b"{}")


def test_an_audit_link_depends_on_every_field_and_the_previous_link() -> None:
    base = link_of(GENESIS, "id", 1, "topic", b"{}")
    variants = [link_of(base, "id", 1, "topic", b"{}"), link_of(GENESIS, "id2", 1, "topic", b"{}"),
                link_of(GENESIS, "id", 2, "topic", b"{}"), link_of(GENESIS, "id", 1, "topic2", b"{}"),
                link_of(GENESIS, "id", 1, "topic", b"{ }"), link_of(GENESIS, "i", 1, "dtopic", b"{}")]
    assert len({base, *variants}) == 7
    assert tenant_of_state(b'{"tenant_id": "15-S09"}') == "15-S09"
    assert tenant_of_state(b"not json") == "_piattaforma"


def test_epoch_markers_are_read_from_a_topic_listing() -> None:
    names = {"planning.events.v1", "_epoch.planning.events.v1.abc", "_epoch.finance.events.v1.def"}
    assert kafka.epoch_of(names, "planning.events.v1") == "abc"
    assert kafka.epoch_of(names, "monitoring.events.v1") is None


def test_service_settings_namespace_schemas_topics_and_groups() -> None:
    s = ServiceSettings(service="finance", AMBITI_NAMESPACE="t1_", AMBITI_ENVIRONMENT="test",
                        DATABASE_URL="postgresql://u:p@h:5433/db")
    assert (s.db_schema, s.events_topic, s.consumer_group()) == ("t1_finance", "t1_finance.events.v1",
                                                                 "t1_finance.main")
    env = s.eventsourcing_env
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_SCHEMA"]) == ("h", "5433", "t1_finance")
    assert env["POSTGRES_ENABLE_DB_FUNCTIONS"] == "n" and env["SINGLE_ROW_TRACKING"] == "n"


def test_a_tenant_aggregate_stamps_its_tenant_on_every_event() -> None:
    from eventsourcing.domain import event

    from ambiti_kit.tenancy import TenantAggregate

    class Pratica(TenantAggregate):
        @event("Aperta")
        def __init__(self, tenant_id: str, oggetto: str) -> None:
            self.tenant_id = tenant_id
            self.oggetto = oggetto

        @event("Rinominata")
        def rinomina(self, oggetto: str) -> None:
            self.oggetto = oggetto

    pratica = Pratica(tenant_id="15-S09", oggetto="a")
    pratica.rinomina("b")
    events = pratica.collect_events()
    assert [(type(e).__name__, e.tenant_id) for e in events] == [("Aperta", "15-S09"), ("Rinominata", "15-S09")]
    copy = None
    for e in events:
        copy = e.mutate(copy)
    assert (copy.tenant_id, copy.oggetto, copy.version) == ("15-S09", "b", 2)
