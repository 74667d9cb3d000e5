"""Who the user is: the one module that knows how a person logs in.

In development and test the login page lets a developer choose an Ambito (or a Region), a role
and, for the roles bound to one, a Comune; this module mints a development token signed with the
platform's secret, exactly as ``ambiti token`` does. Production identity (OIDC, from the operations
issue) replaces :func:`accedi` here and nothing else: the rest of the console only sees a
:class:`Utente` with its token.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from ambiti_kit.auth import COMUNE_PATTERN, REGIONE_PATTERN, TENANT_PATTERN, issue_token

from console.settings import ConsoleSettings

#: the roles a person logs in with, and how the console names them
RUOLI: dict[str, str] = {
    "coordinatore": "Coordinatore dell'Ufficio di Piano",
    "amministrativo": "Amministrativo dell'Ufficio di Piano",
    "componente_comitato": "Componente del Comitato (Sindaco o delegato)",
    "assistente_sociale": "Assistente sociale del Comune",
    "referente_ets": "Referente di un ente del terzo settore",
    "referente_asl": "Referente dell'ASL",
    "revisore": "Revisore dei conti",
    "regione": "Funzionario della Regione",
}
#: roles that act for one Comune of the Ambito
RUOLI_DEL_COMUNE = frozenset({"componente_comitato", "assistente_sociale"})


class AccessoNonValido(ValueError):
    """The login form was not filled in as it must be: ``errori`` maps each field to its message."""

    def __init__(self, errori: dict[str, str]):
        super().__init__("; ".join(errori.values()))
        self.errori = errori


@dataclass(frozen=True)
class Utente:
    token: str
    ruolo: str
    soggetto: str
    scade: int
    tenant: str | None = None
    regione: str | None = None
    comune: str | None = None

    @property
    def nome_ruolo(self) -> str:
        return RUOLI.get(self.ruolo, self.ruolo)

    def valido(self, ora: float | None = None) -> bool:
        return (ora or time.time()) < self.scade

    def da_sessione(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def dalla_sessione(cls, data: dict[str, Any] | None) -> "Utente | None":
        try:
            return cls(**data) if data else None
        except TypeError:
            return None


def accesso_di_sviluppo(settings: ConsoleSettings) -> bool:
    """Whether the login page may mint development tokens (never in production)."""
    return settings.environment in ("development", "test")


def accedi(settings: ConsoleSettings, *, ruolo: str, ambito: str = "", regione: str = "", comune: str = "",
           soggetto: str = "") -> Utente:
    """Log a developer in as ``ruolo`` of ``ambito`` (or of ``regione``); Italian errors per field."""
    if not accesso_di_sviluppo(settings):
        raise AccessoNonValido({"ruolo": "L'accesso di sviluppo non è disponibile in produzione."})
    ambito, regione, comune, soggetto = (v.strip() for v in (ambito, regione, comune, soggetto))
    ambito = ambito.upper()
    errori: dict[str, str] = {}
    if ruolo not in RUOLI:
        errori["ruolo"] = "Scegliere un ruolo dall'elenco."
    if ruolo == "regione":
        if not REGIONE_PATTERN.fullmatch(regione):
            errori["regione"] = "Il codice ISTAT della Regione ha due cifre (es. 15)."
        ambito = ""
    elif not TENANT_PATTERN.fullmatch(ambito):
        errori["ambito"] = "Il codice dell'Ambito è il codice ISTAT della Regione, un trattino e il codice (es. 15-S09)."
    if ruolo in RUOLI_DEL_COMUNE and not COMUNE_PATTERN.fullmatch(comune):
        errori["comune"] = "Per questo ruolo indicare il codice ISTAT del Comune (6 cifre)."
    elif comune and not COMUNE_PATTERN.fullmatch(comune):
        errori["comune"] = "Il codice ISTAT del Comune ha 6 cifre."
    if soggetto and not (3 <= len(soggetto) <= 128 and all(c.isalnum() or c in "._@:+-" for c in soggetto)):
        errori["soggetto"] = "L'utente ha da 3 a 128 caratteri tra lettere, cifre e . _ @ : + -"
    if errori:
        raise AccessoNonValido(errori)
    soggetto = soggetto or f"{ruolo}@{ambito or 'regione-' + regione}"
    ttl = settings.session_seconds
    token = issue_token(settings.development_issuer(), roles=[ruolo], tenant=ambito or None, regione=regione or None,
                        comune=comune or None, subject=soggetto, ttl_seconds=ttl)
    return Utente(token=token, ruolo=ruolo, soggetto=soggetto, scade=int(time.time()) + ttl,
                  tenant=ambito or None, regione=regione if ruolo == "regione" else None, comune=comune or None)


# -- OpenID Connect: authorization code with PKCE ---------------------------------------------------

def accesso_oidc(settings: ConsoleSettings) -> bool:
    return bool(settings.oidc_issuer)


async def _metadati(settings: ConsoleSettings) -> dict[str, Any]:
    url = f"{(settings.oidc_issuer or '').rstrip('/')}/.well-known/openid-configuration"
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(url)
            response.raise_for_status()
            return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise AccessoNonValido({"oidc": "Il fornitore di identità non risponde: riprovare tra poco."}) from exc


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def inizia_accesso(settings: ConsoleSettings, redirect_uri: str) -> tuple[str, dict[str, str]]:
    """The issuer's authorization URL, and what the session keeps until the person comes back."""
    metadati = await _metadati(settings)
    verifier, state, nonce = secrets.token_urlsafe(64), secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    query = {"response_type": "code", "client_id": settings.oidc_client_id, "redirect_uri": redirect_uri,
             "scope": settings.oidc_scope, "state": state, "nonce": nonce,
             "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()), "code_challenge_method": "S256"}
    return f"{metadati['authorization_endpoint']}?{urlencode(query)}", {"state": state, "nonce": nonce,
                                                                       "verifier": verifier}


async def completa_accesso(settings: ConsoleSettings, redirect_uri: str, code: str, state: str,
                           atteso: dict[str, str] | None) -> Utente:
    """Exchange the code for tokens (with the PKCE verifier) and make the person of the access token."""
    if not atteso or not code or not secrets.compare_digest(state or "", atteso.get("state", "")):
        raise AccessoNonValido({"oidc": "L'accesso non è stato completato da questa console: riprovare."})
    metadati = await _metadati(settings)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": settings.oidc_client_id, "code_verifier": atteso["verifier"]}
    if settings.oidc_client_secret:
        form["client_secret"] = settings.oidc_client_secret.get_secret_value()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(metadati["token_endpoint"], data=form)
        response.raise_for_status()
        tokens = response.json()
        # Received straight from the issuer's token endpoint: the services verify the access token's
        # signature on every call; here the nonce ties the ID token to this login (OIDC Core 3.1.3.7).
        id_token = jwt.decode(tokens["id_token"], options={"verify_signature": False})
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    except (httpx.HTTPError, ValueError, KeyError, jwt.PyJWTError) as exc:
        raise AccessoNonValido({"oidc": "Il fornitore di identità non ha concesso l'accesso: riprovare."}) from exc
    if not secrets.compare_digest(str(id_token.get("nonce", "")), atteso["nonce"]):
        raise AccessoNonValido({"oidc": "L'accesso non è stato completato da questa console: riprovare."})
    ruoli = claims.get(settings.oidc_claim_roles) or []
    ruolo = next((r for r in RUOLI if r in ruoli), None)
    if ruolo is None:
        raise AccessoNonValido({"oidc": "Il vostro profilo non ha un ruolo della piattaforma: rivolgersi all'Ufficio "
                                        "di Piano."})
    scade = int(claims.get("exp") or time.time() + settings.session_seconds)
    return Utente(token=tokens["access_token"], ruolo=ruolo, soggetto=str(claims.get("sub", "")), scade=scade,
                  tenant=claims.get(settings.oidc_claim_tenant), regione=claims.get(settings.oidc_claim_regione),
                  comune=claims.get(settings.oidc_claim_comune))
