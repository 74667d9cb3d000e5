"""JWT bearer authentication and role checks (PyJWT, HS256).

A token names exactly one tenant (the Ambito) in ``tenant``, its ``roles``, and for the
roles bound to one Comune its ISTAT code in ``comune``. The ``regione`` role is not
bound to an Ambito: its token carries the two-digit ISTAT code of its Region in
``regione`` instead. Routes declare the roles they accept with :func:`require_roles`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Annotated, Callable, Iterable

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ambiti_kit.errors import Forbidden, Unauthorized
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


def decode_token(settings: PlatformSettings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token, settings.jwt_secret.get_secret_value(), algorithms=["HS256"],
            audience=settings.jwt_audience, issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "roles"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Il token è scaduto.", rule="token.expired") from None
    except jwt.InvalidSignatureError:
        raise Unauthorized("La firma del token non è valida.", rule="token.signature") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"Token non valido: {exc}.", rule="token.invalid") from None
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
