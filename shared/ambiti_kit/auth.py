"""JWT bearer authentication and role checks (PyJWT).

Two kinds of token are verified: those of an OpenID Connect issuer (``AMBITI_OIDC_ISSUER``), signed
with RS256/ES256 by a key of its JWKS (issuer, audience, expiry checked with a bounded clock skew; an
unknown key id refetches the keys, which is how a rotation is picked up), and development tokens
signed HS256 with the shared secret, accepted only where :attr:`PlatformSettings.accepts_hs256`.
An HS256 token is never checked against the issuer's keys, so a token signed with the issuer's
public key as an HMAC secret is refused.

A token names exactly one tenant (the Ambito) in ``tenant``, its ``roles``, and for the
roles bound to one Comune its ISTAT code in ``comune``. The ``regione`` role is not
bound to an Ambito: its token carries the two-digit ISTAT code of its Region in
``regione`` instead. Routes declare the roles they accept with :func:`require_roles`.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Iterable

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ambiti_kit.errors import DomainError, Forbidden, Unauthorized
from ambiti_kit.settings import PlatformSettings

ROLES = frozenset({
    "coordinatore", "amministrativo", "assistente_sociale", "componente_comitato",
    "referente_asl", "referente_ets", "regione", "integratore", "revisore",
})
#: Tenant ids are ``<ISTAT code of the Region>-<code of the Ambito>``, e.g. ``15-S09``. Claims and ids
#: are checked with ``fullmatch``: ``match`` with ``$`` would accept a trailing newline.
TENANT_PATTERN = re.compile(r"^(?P<regione>\d{2})-[A-Z0-9]{1,12}$")
REGIONE_PATTERN = re.compile(r"^\d{2}$")
COMUNE_PATTERN = re.compile(r"^\d{6}$")


def regione_of(tenant: str) -> str:
    """The Region (two-digit ISTAT code) an Ambito belongs to, from its tenant id."""
    match = TENANT_PATTERN.fullmatch(tenant)
    if not match:
        raise ValueError(f"not a tenant id: {tenant!r}")
    return match.group("regione")


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    tenant: str | None = None
    regione: str | None = None
    comune: str | None = None

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles.intersection(roles))


def issue_token(
    settings: PlatformSettings,
    *,
    roles: Iterable[str],
    tenant: str | None = None,
    regione: str | None = None,
    comune: str | None = None,
    subject: str | None = None,
    ttl_seconds: int = 8 * 3600,
) -> str:
    """Sign a token as the development identity provider does."""
    roles = sorted(set(roles))
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    if tenant and regione:
        raise ValueError("a token names an Ambito or a Region, not both")
    if "regione" in roles:
        if not (regione and REGIONE_PATTERN.fullmatch(regione)):
            raise ValueError("a 'regione' token needs --regione with a two-digit ISTAT code")
    elif not (tenant and TENANT_PATTERN.fullmatch(tenant)):
        raise ValueError("tenant must look like '15-S09' (ISTAT Region code, dash, Ambito code)")
    if comune is not None and not COMUNE_PATTERN.fullmatch(comune):
        raise ValueError("comune must be a six-digit ISTAT code")
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "iat": now, "exp": now + ttl_seconds,
        "sub": subject or f"{roles[0]}@{tenant or regione}", "roles": roles,
    }
    if tenant:
        claims["tenant"] = tenant
    if regione:
        claims["regione"] = regione
    if comune:
        claims["comune"] = comune
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


class OidcVerifier:
    """Verifies an OpenID Connect issuer's tokens with the keys of its JWKS (fetched lazily, cached)."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = settings
        self.issuer = (settings.oidc_issuer or "").rstrip("/")
        self.audience = settings.oidc_audience or settings.jwt_audience
        self.algorithms = settings.oidc_algorithms.split(",")
        self._client: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def _jwks(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._client is None:
                url = self.settings.oidc_jwks_url or self._discover()
                self._client = jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=self.settings.oidc_jwks_lifespan,
                                               cooldown_duration=self.settings.oidc_jwks_cooldown, timeout=5)
            return self._client

    def _discover(self) -> str:
        try:
            with urllib.request.urlopen(f"{self.issuer}/.well-known/openid-configuration", timeout=5) as response:
                return json.load(response)["jwks_uri"]
        except (OSError, ValueError, KeyError) as exc:
            raise IdentityProviderUnavailable(
                "Il fornitore di identità non risponde: impossibile verificare il token.") from exc

    def claims(self, token: str) -> dict[str, Any]:
        try:
            key = self._jwks().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise IdentityProviderUnavailable(
                "Il fornitore di identità non risponde: impossibile verificare il token.") from exc
        except jwt.PyJWKClientError:
            raise Unauthorized("Il token è firmato con una chiave che il fornitore di identità non pubblica.",
                               rule="token.chiave_sconosciuta") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"Token non valido: {exc}.", rule="token.invalid") from None
        s = self.settings
        return _checked(lambda: jwt.decode(
            token, key.key, algorithms=self.algorithms, audience=self.audience, issuer=self.issuer,
            leeway=s.oidc_leeway, options={"require": ["exp", "iat", "sub", "iss", "aud"]}), {
            "roles": s.oidc_claim_roles, "tenant": s.oidc_claim_tenant, "regione": s.oidc_claim_regione,
            "comune": s.oidc_claim_comune})


class IdentityProviderUnavailable(DomainError):
    status = 503
    title = "Fornitore di identità non disponibile"


_verifiers: dict[tuple, OidcVerifier] = {}


def _oidc(settings: PlatformSettings) -> OidcVerifier:
    key = (settings.oidc_issuer, settings.oidc_jwks_url, settings.oidc_audience, settings.jwt_audience,
           settings.oidc_algorithms, settings.oidc_leeway, settings.oidc_jwks_cooldown, settings.oidc_claim_roles,
           settings.oidc_claim_tenant, settings.oidc_claim_regione, settings.oidc_claim_comune)
    verifier = _verifiers.get(key)
    if verifier is None:
        verifier = _verifiers.setdefault(key, OidcVerifier(settings))
    return verifier


def _checked(decode: Callable[[], dict[str, Any]], names: dict[str, str] | None = None) -> dict[str, Any]:
    """Decode with PyJWT, turning its errors into Italian 401s; map the issuer's claim names to ours."""
    try:
        claims = decode()
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Il token è scaduto.", rule="token.expired") from None
    except jwt.InvalidSignatureError:
        raise Unauthorized("La firma del token non è valida.", rule="token.signature") from None
    except jwt.InvalidIssuerError:
        raise Unauthorized("Il token è emesso da un altro fornitore di identità.", rule="token.issuer") from None
    except jwt.InvalidAudienceError:
        raise Unauthorized("Il token è destinato ad altri servizi (audience).", rule="token.audience") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"Token non valido: {exc}.", rule="token.invalid") from None
    if names:
        claims = {**claims, **{ours: claims.get(theirs) for ours, theirs in names.items()}}
    return claims


def decode_token(settings: PlatformSettings, token: str) -> Principal:
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"Token non valido: {exc}.", rule="token.invalid") from None
    if algorithm == "HS256" and settings.accepts_hs256:
        claims = _checked(lambda: jwt.decode(
            token, settings.jwt_secret.get_secret_value(), algorithms=["HS256"],
            audience=settings.jwt_audience, issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "roles"]}))
    elif settings.oidc_issuer and algorithm in settings.oidc_algorithms.split(","):
        claims = _oidc(settings).claims(token)
    else:
        raise Unauthorized(f"Algoritmo di firma non accettato: {str(algorithm)[:20]!r}.", rule="token.algoritmo")
    roles = claims.get("roles")
    if (not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles)
            or not set(roles) <= ROLES):
        raise Unauthorized("Il claim 'roles' non è valido.", rule="token.roles")
    tenant, regione = claims.get("tenant"), claims.get("regione")
    if tenant is not None and regione is not None:
        raise Unauthorized("Il token indica sia un Ambito sia una Regione: ne serve uno solo.", rule="token.ambito_e_regione")
    if "regione" in roles:
        if not (isinstance(regione, str) and REGIONE_PATTERN.fullmatch(regione)):
            raise Unauthorized("Un token 'regione' deve indicare la Regione.", rule="token.regione")
    elif not (isinstance(tenant, str) and TENANT_PATTERN.fullmatch(tenant)):
        raise Unauthorized("Il token deve indicare un Ambito (claim 'tenant').", rule="token.tenant")
    comune = claims.get("comune")
    if comune is not None and not (isinstance(comune, str) and COMUNE_PATTERN.fullmatch(comune)):
        raise Unauthorized("Il claim 'comune' non è un codice ISTAT.", rule="token.comune")
    return Principal(subject=str(claims["sub"]), roles=frozenset(roles), tenant=tenant,
                     regione=regione, comune=comune)


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Manca l'intestazione 'Authorization: Bearer <token>'.", rule="token.missing")
    settings: PlatformSettings = request.app.state.settings
    return decode_token(settings, credentials.credentials)


def require_roles(*roles: str) -> Callable[..., Principal]:
    """A dependency that admits a principal holding one of ``roles``."""
    unknown = set(roles) - ROLES
    assert not unknown, f"unknown roles {unknown}"

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has_any(roles):
            raise Forbidden(f"Serve uno dei ruoli: {', '.join(sorted(roles))}.", rule="role.required")
        return principal

    return dependency


def tenant_of(principal: Principal) -> str:
    """The one Ambito a request acts for; Regione tokens have none."""
    if principal.tenant is None:
        raise Forbidden("Questa operazione agisce per un Ambito: il token non ne indica uno.",
                        rule="token.tenant")
    return principal.tenant
