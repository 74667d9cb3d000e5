"""Production identity: tokens of an OpenID Connect issuer, verified through its JWKS.

The issuer is a real one on localhost, started by the test: it serves its discovery document and its
keys over HTTP and signs tokens with them (RS256 and ES256). The service side is the kit's own
``require_roles`` in an app configured as production, where the development HS256 secret is refused.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, Iterator

import jwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from ambiti_kit.auth import Principal, require_roles
from ambiti_kit.errors import install_problem_handlers
from ambiti_kit.settings import PlatformSettings
from ambiti_kit.testing.oidc import LocalIssuer


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    issuer = LocalIssuer()
    issuer.add_key("k1")
    yield issuer
    issuer.stop()


def service(**settings: Any) -> TestClient:
    app = FastAPI()
    app.state.settings = PlatformSettings(AMBITI_ENVIRONMENT="production", **settings)
    install_problem_handlers(app)

    @app.get("/chi")
    def chi(principal: Annotated[Principal, Depends(require_roles("coordinatore", "regione"))]) -> dict[str, Any]:
        return {"soggetto": principal.subject, "ambito": principal.tenant, "regione": principal.regione,
                "ruoli": sorted(principal.roles), "comune": principal.comune}

    return TestClient(app)


def ask(client: TestClient, token: str) -> Any:
    return client.get("/chi", headers={"Authorization": f"Bearer {token}"})


def test_a_token_of_the_issuer_is_accepted_rs256_and_es256(issuer: LocalIssuer) -> None:
    client = service(AMBITI_OIDC_ISSUER=issuer.url)
    r = ask(client, issuer.token("k1"))
    assert r.status_code == 200, r.text
    assert r.json() == {"soggetto": "mario.rossi", "ambito": "15-S09", "regione": None, "ruoli": ["coordinatore"],
                        "comune": None}
    issuer.add_key("ec1", "ES256")
    assert ask(service(AMBITI_OIDC_ISSUER=issuer.url, AMBITI_OIDC_JWKS_COOLDOWN="0"),
               issuer.token("ec1")).status_code == 200


@pytest.mark.parametrize("claims, rule", [
    ({"iss": "http://127.0.0.1:1/realms/altro"}, "token.issuer"),
    ({"aud": "un-altro-servizio"}, "token.audience"),
    ({"exp": int(time.time()) - 120}, "token.expired"),
    ({"tenant": "15-S09\n"}, "token.tenant"),
    ({"tenant": "15-S09", "regione": "15"}, "token.ambito_e_regione"),
    ({"roles": ["amministratore"]}, "token.roles"),
])
def test_what_the_issuer_signed_is_still_checked(issuer: LocalIssuer, claims: dict[str, Any], rule: str) -> None:
    r = ask(service(AMBITI_OIDC_ISSUER=issuer.url), issuer.token("k1", **claims))
    assert r.status_code == 401 and r.json()["rule"] == rule, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_clock_skew_is_bounded(issuer: LocalIssuer) -> None:
    client = service(AMBITI_OIDC_ISSUER=issuer.url, AMBITI_OIDC_LEEWAY="30")
    assert ask(client, issuer.token("k1", exp=int(time.time()) - 10)).status_code == 200  # within the skew
    assert ask(client, issuer.token("k1", exp=int(time.time()) - 60)).status_code == 401


def test_an_unknown_key_id_is_refused(issuer: LocalIssuer) -> None:
    stranger = LocalIssuer()
    try:
        stranger.add_key("k9")
        forged = stranger.token("k9", iss=issuer.url, aud="ambiti")  # right issuer name, a key it never published
        r = ask(service(AMBITI_OIDC_ISSUER=issuer.url, AMBITI_OIDC_JWKS_COOLDOWN="0"), forged)
        assert r.status_code == 401 and r.json()["rule"] == "token.chiave_sconosciuta"
    finally:
        stranger.stop()


def test_an_hs256_token_signed_with_the_issuers_public_key_is_refused(issuer: LocalIssuer) -> None:
    now = int(time.time())
    claims = {"iss": issuer.url, "aud": "ambiti", "sub": "x", "iat": now, "exp": now + 300,
              "roles": ["coordinatore"], "tenant": "15-S09"}
    import hmac, hashlib, base64  # noqa: E401 - PyJWT itself refuses a PEM as an HMAC key: forge it by hand

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': 'k1'}).encode())}." \
                    f"{b64(json.dumps(claims).encode())}"
    signature = hmac.new(issuer.public_pem("k1"), signing_input.encode(), hashlib.sha256).digest()
    r = ask(service(AMBITI_OIDC_ISSUER=issuer.url), f"{signing_input}.{b64(signature)}")
    assert r.status_code == 401 and r.json()["rule"] == "token.algoritmo", r.text


def test_a_rotated_key_is_picked_up(issuer: LocalIssuer) -> None:
    client = service(AMBITI_OIDC_ISSUER=issuer.url, AMBITI_OIDC_JWKS_COOLDOWN="0")
    assert ask(client, issuer.token("k1")).status_code == 200
    fetched = issuer.jwks_requests
    issuer.add_key("k2")  # the issuer rotates: new tokens carry the new key id
    del issuer.keys["k1"]
    assert ask(client, issuer.token("k2")).status_code == 200
    assert issuer.jwks_requests == fetched + 1  # fetched again once, for the unknown key id


def test_claims_are_mapped_from_the_issuers_names(issuer: LocalIssuer) -> None:
    client = service(AMBITI_OIDC_ISSUER=issuer.url, AMBITI_OIDC_CLAIM_ROLES="ambiti_ruoli",
                     AMBITI_OIDC_CLAIM_REGIONE="ambiti_regione", AMBITI_OIDC_CLAIM_TENANT="ambiti_ambito")
    r = ask(client, issuer.token("k1", roles=None, tenant=None, ambiti_ruoli=["regione"], ambiti_regione="15"))
    assert r.status_code == 200 and r.json()["regione"] == "15" and r.json()["ruoli"] == ["regione"]


def test_the_issuer_unreachable_is_a_503_not_a_401(issuer: LocalIssuer) -> None:
    token = issuer.token("k1")
    issuer.stop()
    r = ask(service(AMBITI_OIDC_ISSUER=issuer.url), token)
    assert r.status_code == 503 and "fornitore di identità" in r.json()["detail"]


def test_production_without_an_issuer_needs_a_real_secret(issuer: LocalIssuer) -> None:
    with pytest.raises(ValueError, match="AMBITI_OIDC_ISSUER"):
        PlatformSettings(AMBITI_ENVIRONMENT="production")
    settings = PlatformSettings(AMBITI_ENVIRONMENT="production", AMBITI_OIDC_ISSUER=issuer.url)
    assert not settings.accepts_hs256  # the development secret signs nothing there
    dev = jwt.encode({"sub": "x", "roles": ["coordinatore"], "tenant": "15-S09", "iat": int(time.time()),
                      "exp": int(time.time()) + 60, "iss": "ambiti-dev", "aud": "ambiti"},
                     settings.jwt_secret.get_secret_value(), algorithm="HS256")
    r = ask(service(AMBITI_OIDC_ISSUER=issuer.url), dev)
    assert r.status_code == 401 and r.json()["rule"] == "token.algoritmo"
