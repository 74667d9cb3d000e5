"""Webhooks as the Standard Webhooks specification says: an Ambito's subscriptions, signed, in order, at least once.

An integrator of one Ambito subscribes a URL (optionally to some event types); each service delivers its
own events of that Ambito, read from the same feed as ``GET /eventi`` (so only chained events, and a
cursor that outlives the broker). Every delivery is a POST of the event in CloudEvents structured form
with the headers ``webhook-id`` (the event's ``ce_id``: the same on every retry and replay),
``webhook-timestamp`` and ``webhook-signature`` (``v1,<HMAC-SHA256>`` by the reference library
``standardwebhooks``, one signature per valid secret: during a rotation both secrets sign).

Per subscription, deliveries are sequential under a row lock (one replica at a time), and a failure
stops the subscription at that event — retried with exponential backoff and full jitter — so an
aggregate's events arrive in order. After ``AMBITI_WEBHOOK_MAX_FAILURES`` consecutive failures the
subscription pauses until someone resumes it. Every attempt is logged (``webhook_consegne``).
In production only ``https`` targets with public addresses are accepted: the name is resolved at
subscription and again at each delivery, and private, loopback, link-local and reserved addresses
are refused (SSRF).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import random
import secrets
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from psycopg import sql
from pydantic import BaseModel, Field
from standardwebhooks import Webhook

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.errors import NotFound, RuleViolation
from ambiti_kit.feed import TYPE, Feed
from ambiti_kit.fields import StrictIn

_log = logging.getLogger("ambiti.webhooks")

DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.webhook_sottoscrizioni (
        id uuid PRIMARY KEY, tenant_id text NOT NULL, url text NOT NULL, tipi text[],
        descrizione text NOT NULL DEFAULT '',
        stato text NOT NULL CHECK (stato IN ('attiva', 'sospesa', 'eliminata')), motivo text,
        cursore text NOT NULL DEFAULT '0', fallimenti int NOT NULL DEFAULT 0, prossimo_tentativo timestamptz,
        riproduci_da bigint, riproduci_a bigint, segreti jsonb NOT NULL, creata_da text NOT NULL,
        creata_il timestamptz NOT NULL DEFAULT now(), aggiornata_il timestamptz NOT NULL DEFAULT now())""",
    "CREATE INDEX IF NOT EXISTS webhook_sottoscrizioni_tenant ON {schema}.webhook_sottoscrizioni (tenant_id, creata_il)",
    """CREATE TABLE IF NOT EXISTS {schema}.webhook_consegne (
        id bigserial PRIMARY KEY, sottoscrizione_id uuid NOT NULL REFERENCES {schema}.webhook_sottoscrizioni,
        tenant_id text NOT NULL, webhook_id text NOT NULL, tipo text NOT NULL, sequenza bigint NOT NULL,
        riproduzione boolean NOT NULL, esito text NOT NULL CHECK (esito IN ('consegnato', 'fallito')),
        stato_http int, errore text, durata_ms int NOT NULL, tentata_il timestamptz NOT NULL DEFAULT now())""",
    "CREATE INDEX IF NOT EXISTS webhook_consegne_sottoscrizione ON {schema}.webhook_consegne (sottoscrizione_id, id)",
]

BATCH = 50
TIMEOUT_SECONDS = 10.0


# -- targets ---------------------------------------------------------------------------------------
def check_target(url: str, *, production: bool) -> None:
    """Refuse a target a webhook must not reach (``RuleViolation`` naming ``url``)."""
    parts = urlsplit(url)
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname:
        raise RuleViolation(f"url: serve un indirizzo {' o '.join(allowed)} completo, ad esempio "
                            "https://contabilita.example.it/webhook.", rule="url.schema", field="url")
    if parts.username or parts.password:
        raise RuleViolation("url: niente credenziali nell'indirizzo (la firma autentica ogni consegna).",
                            rule="url.credenziali", field="url")
    if not production:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443,
                                                               type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError):
        raise RuleViolation(f"url: il nome {parts.hostname!r} non si risolve.", rule="url.risoluzione",
                            field="url") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        mapped = getattr(ip, "ipv4_mapped", None)
        if not (mapped or ip).is_global or ip.is_multicast:
            raise RuleViolation(f"url: {parts.hostname} porta a un indirizzo privato, di loopback, link-local o "
                                "riservato: i webhook raggiungono solo indirizzi pubblici.", rule="url.indirizzo_privato",
                                field="url")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def valid_secrets(stored: list[dict[str, Any]], now: datetime) -> list[str]:
    return [s["segreto"] for s in stored
            if s.get("valido_fino") is None or datetime.fromisoformat(s["valido_fino"]) > now]


def backoff_seconds(failures: int, base: float, cap: float) -> float:
    """Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): uniform in [0, min(cap, base·2^n)]."""
    return random.uniform(0, min(cap, base * 2 ** max(failures - 1, 0)))


# -- storage and delivery --------------------------------------------------------------------------
class Webhooks:
    def __init__(self, datastore: Any, schema: str, feed: Feed, settings: Any) -> None:
        self.datastore = datastore
        self.feed = feed
        self.settings = settings
        self.subs = sql.SQL("{}.webhook_sottoscrizioni").format(sql.Identifier(schema))
        self.log = sql.SQL("{}.webhook_consegne").format(sql.Identifier(schema))
        self.chain = sql.SQL("{}.audit_chain").format(sql.Identifier(schema))
        self.delivered = 0
        self.failed = 0

    @property
    def production(self) -> bool:
        return self.settings.environment == "production"

    def states(self) -> dict[str, int]:
        """Subscriptions per state, every tenant (for the metrics; no tenant's data)."""
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL("SELECT stato, count(*) AS n FROM {} GROUP BY stato").format(self.subs))
            return {r["stato"]: r["n"] for r in curs.fetchall()}

    # reading and managing, always within one tenant
    def get(self, tenant: str, sub_id: uuid.UUID) -> dict[str, Any]:
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL("SELECT * FROM {} WHERE tenant_id = %s AND id = %s AND stato <> 'eliminata'")
                         .format(self.subs), (tenant, sub_id))
            row = curs.fetchone()
        if row is None:
            raise NotFound("Sottoscrizione non trovata.", rule="webhook.non_trovata")
        return row

    def list(self, tenant: str) -> list[dict[str, Any]]:
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL("SELECT * FROM {} WHERE tenant_id = %s AND stato <> 'eliminata' ORDER BY creata_il")
                         .format(self.subs), (tenant,))
            return curs.fetchall()

    def pending(self, tenant: str, cursor: str) -> int:
        """Events of the Ambito after ``cursor`` (of every type, at most 10,000 counted): the subscription's lag."""
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL("SELECT count(*) AS n FROM (SELECT 1 FROM {} WHERE tenant_id = %s AND "
                                 "notification_id > %s LIMIT 10000) x").format(self.chain),
                         (tenant, self.feed.parse_cursor(cursor)))
            return curs.fetchone()["n"]

    def create(self, tenant: str, url: str, tipi: list[str] | None, descrizione: str, da: str, who: str) -> tuple[dict, str]:
        check_target(url, production=self.production)
        secret = new_secret()
        start = "0"
        if da == "ora":
            with self.datastore.transaction() as curs:
                curs.execute(sql.SQL("SELECT coalesce(max(notification_id), 0) AS n FROM {} WHERE tenant_id = %s")
                             .format(self.chain), (tenant,))
                start = self.feed.incarnations.cursor(curs.fetchone()["n"])
        sub_id = uuid.uuid4()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql.SQL("INSERT INTO {} (id, tenant_id, url, tipi, descrizione, stato, cursore, segreti, "
                                 "creata_da) VALUES (%s, %s, %s, %s, %s, 'attiva', %s, %s, %s)").format(self.subs),
                         (sub_id, tenant, url, tipi, descrizione, start,
                          json.dumps([{"segreto": secret, "valido_fino": None}]), who))
        return self.get(tenant, sub_id), secret

    def update(self, tenant: str, sub_id: uuid.UUID, **changes: Any) -> dict[str, Any]:
        self.get(tenant, sub_id)
        if "url" in changes:
            check_target(changes["url"], production=self.production)
        allowed = {"url", "tipi", "descrizione", "stato", "motivo", "fallimenti", "prossimo_tentativo",
                   "riproduci_da", "riproduci_a", "segreti"}
        assert set(changes) <= allowed
        assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in changes)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql.SQL("UPDATE {} SET {}, aggiornata_il = now() WHERE tenant_id = %s AND id = %s").format(
                self.subs, assignments), [*changes.values(), tenant, sub_id])
        return self.get(tenant, sub_id)

    def rotate(self, tenant: str, sub_id: uuid.UUID, old_valid_hours: int) -> tuple[dict, str]:
        sub = self.get(tenant, sub_id)
        now = datetime.now(timezone.utc)
        until = (now + timedelta(hours=old_valid_hours)).isoformat()
        kept = [{"segreto": s, "valido_fino": until if old_valid_hours else now.isoformat()}
                for s in valid_secrets(sub["segreti"], now)[:1]]  # the newest old one, for the grace period
        secret = new_secret()
        return self.update(tenant, sub_id, segreti=json.dumps([{"segreto": secret, "valido_fino": None}, *kept])), secret

    def deliveries(self, tenant: str, sub_id: uuid.UUID, after: int, limit: int) -> list[dict[str, Any]]:
        self.get(tenant, sub_id)
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL("SELECT id, webhook_id, tipo, sequenza, riproduzione, esito, stato_http, errore, "
                                 "durata_ms, tentata_il FROM {} WHERE tenant_id = %s AND sottoscrizione_id = %s "
                                 "AND id > %s ORDER BY id LIMIT %s").format(self.log), (tenant, sub_id, after, limit))
            return curs.fetchall()

    # delivering
    def run(self, stop: threading.Event) -> None:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False,
                          headers={"user-agent": "ambiti-webhooks/1.0"}) as client:
            backoff = 0.2
            while not stop.is_set():
                try:
                    busy = self.run_once(client)
                    backoff = 0.2
                    stop.wait(0.05 if busy else 0.2)
                except Exception as exc:  # noqa: BLE001 - the database may be away: retry, never die
                    _log.warning("webhook round failed (%r): retrying in %.1fs", exc, backoff, exc_info=True)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 5.0)

    def run_once(self, client: httpx.Client) -> int:
        """Deliver what is due, several subscriptions at once (each one's events still one after the other,
        under its row lock): a slow receiver does not hold up the others."""
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL("SELECT id FROM {} WHERE stato = 'attiva' AND (prossimo_tentativo IS NULL OR "
                                 "prossimo_tentativo <= now()) ORDER BY aggiornata_il LIMIT 100").format(self.subs))
            due = [r["id"] for r in curs.fetchall()]
        if len(due) <= 1:
            return sum(self._deliver_one(client, sub_id) for sub_id in due)
        with ThreadPoolExecutor(min(len(due), self.settings.webhook_concurrency)) as pool:
            return sum(pool.map(lambda sub_id: self._deliver_one(client, sub_id), due))

    def _deliver_one(self, client: httpx.Client, sub_id: uuid.UUID) -> int:
        try:
            return self._deliver(client, sub_id)
        except Exception as exc:  # noqa: BLE001 - one subscription's trouble (its row rolled back) stops no other
            _log.warning("webhook delivery round of %s failed (%r): retried at the next round", sub_id, exc,
                         exc_info=True)
            return 0

    def _deliver(self, client: httpx.Client, sub_id: uuid.UUID) -> int:
        """Deliver what is due of one subscription, under its row lock (one replica at a time, in order)."""
        delivered = 0
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql.SQL("SELECT * FROM {} WHERE id = %s AND stato = 'attiva' AND (prossimo_tentativo IS NULL "
                                 "OR prossimo_tentativo <= now()) FOR UPDATE SKIP LOCKED").format(self.subs), (sub_id,))
            sub = curs.fetchone()
            if sub is None:
                return 0
            replay = sub["riproduci_da"] is not None
            types = set(sub["tipi"]) if sub["tipi"] else None
            if replay:
                page = self.feed.read(sub["tenant_id"], sub["riproduci_da"] - 1, types, BATCH)
                events = [e for e in page.events if e.sequence <= sub["riproduci_a"]]
            else:
                page = self.feed.read(sub["tenant_id"], self.feed.parse_cursor(sub["cursore"]), types, BATCH)
                events = page.events
            changes: dict[str, Any] = {}
            now = datetime.now(timezone.utc)
            signers = [Webhook(s) for s in valid_secrets(sub["segreti"], now)]
            failed = False
            for event in events:
                ok, status, error, ms = self._post(client, sub["url"], event, signers)
                curs.execute(sql.SQL("INSERT INTO {} (sottoscrizione_id, tenant_id, webhook_id, tipo, sequenza, "
                                     "riproduzione, esito, stato_http, errore, durata_ms) VALUES "
                                     "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)").format(self.log),
                             (sub_id, sub["tenant_id"], event.id, event.type, event.sequence, replay,
                              "consegnato" if ok else "fallito", status, error, ms))
                if not ok:
                    failed = True
                    self.failed += 1
                    failures = sub["fallimenti"] + 1
                    changes["fallimenti"] = failures
                    if failures >= self.settings.webhook_max_failures:
                        changes.update(stato="sospesa", prossimo_tentativo=None,
                                       motivo=f"sospesa dopo {failures} consegne fallite di seguito: {error or status}")
                        _log.error("webhook subscription paused", extra={"alert": "webhook_sospeso",
                                                                         "sottoscrizione": str(sub_id)})
                    else:
                        changes["prossimo_tentativo"] = now + timedelta(seconds=backoff_seconds(
                            failures, self.settings.webhook_backoff_base, self.settings.webhook_backoff_max))
                    break
                delivered += 1
                self.delivered += 1
                changes.update(fallimenti=0, prossimo_tentativo=None)
                if replay:
                    changes["riproduci_da"] = event.sequence + 1
                else:
                    changes["cursore"] = self.feed.incarnations.cursor(event.sequence)
            if not failed:
                if replay and (page.at_head or not events or len(events) < len(page.events)):
                    changes.update(riproduci_da=None, riproduci_a=None)  # the range is done
                elif replay:
                    changes["riproduci_da"] = page.events[-1].sequence + 1 if page.events else sub["riproduci_da"]
                elif not events or page.at_head:
                    changes["cursore"] = page.cursor  # past the events of other types too
            if changes:
                assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in changes)
                curs.execute(sql.SQL("UPDATE {} SET {}, aggiornata_il = now() WHERE id = %s").format(
                    self.subs, assignments), [*changes.values(), sub_id])
        return delivered

    def _post(self, client: httpx.Client, url: str, event: Any, signers: list[Webhook]) -> tuple[bool, int | None, str | None, int]:
        body = json.dumps(event.as_structured(), ensure_ascii=False, separators=(",", ":"))
        now = datetime.now(timezone.utc)
        headers = {"content-type": "application/json", "webhook-id": event.id,
                   "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": " ".join(w.sign(event.id, now, body) for w in signers)}
        started = time.monotonic()
        try:
            check_target(url, production=self.production)  # again at delivery: the name may point elsewhere now
            response = client.post(url, content=body.encode(), headers=headers)
        except RuleViolation as exc:
            return False, None, exc.detail, 0
        except httpx.HTTPError as exc:
            return False, None, f"{type(exc).__name__}: {exc}"[:500], int((time.monotonic() - started) * 1000)
        ms = int((time.monotonic() - started) * 1000)
        if 200 <= response.status_code < 300:
            return True, response.status_code, None, ms
        return False, response.status_code, f"risposta HTTP {response.status_code}", ms


# -- HTTP ------------------------------------------------------------------------------------------
Gestore = Annotated[Principal, Depends(require_roles("integratore", "coordinatore"))]
TipoEvento = Annotated[str, Field(pattern=TYPE, max_length=100, examples=["planning.piano_di_zona.creato"])]


class SottoscrizioneNuova(StrictIn):
    url: str = Field(max_length=2000, description="Dove consegnare (in produzione solo https verso indirizzi "
                                                  "pubblici).", examples=["https://contabilita.example.it/webhook"])
    tipi: list[TipoEvento] | None = Field(None, max_length=50, description="Solo questi tipi di evento (tutti se "
                                                                            "assente).")
    descrizione: str = Field("", max_length=200)
    da: Literal["ora", "inizio"] = Field("ora", description="`ora`: gli eventi da adesso; `inizio`: anche tutti "
                                                            "quelli già registrati dell'Ambito.")


class SottoscrizioneModifica(StrictIn):
    url: str | None = Field(None, max_length=2000)
    tipi: list[TipoEvento] | None = Field(None, max_length=50)
    descrizione: str | None = Field(None, max_length=200)


class Rotazione(StrictIn):
    vecchio_valido_per_ore: int = Field(24, ge=0, le=168, description="Per quante ore il segreto precedente firma "
                                                                       "ancora (le consegne portano entrambe le firme).")


class Riproduzione(StrictIn):
    da: int = Field(ge=1, description="Prima posizione (`sequence`) da consegnare di nuovo.")
    a: int = Field(ge=1, description="Ultima posizione compresa.")


class Sottoscrizione(BaseModel):
    id: uuid.UUID
    url: str
    tipi: list[str] | None
    descrizione: str
    stato: Literal["attiva", "sospesa"]
    motivo: str | None = Field(description="Perché è sospesa.")
    cursore: str = Field(description="Fin dove è stata consegnata (come il cursore di GET /eventi).")
    in_attesa: int = Field(description="Eventi dell'Ambito registrati dopo il cursore (al più 10.000 contati).")
    fallimenti: int = Field(description="Consegne fallite di seguito.")
    prossimo_tentativo: datetime | None
    riproduzione: dict[str, int] | None
    segreti_validi: int
    creata_il: datetime


class SottoscrizioneCreata(Sottoscrizione):
    segreto: str = Field(description="Il segreto con cui verificare le firme (`whsec_…`): mostrato solo ora.")


class Consegna(BaseModel):
    id: int
    webhook_id: str
    tipo: str
    sequenza: int
    riproduzione: bool
    esito: Literal["consegnato", "fallito"]
    stato_http: int | None
    errore: str | None
    durata_ms: int
    tentata_il: datetime


Id = Annotated[uuid.UUID, Path(description="La sottoscrizione.")]
NOT_FOUND = {404: {"description": "Nessuna sottoscrizione con questo id per l'Ambito del token."}}


def _shown(hooks: Webhooks, row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: row[k] for k in ("id", "url", "tipi", "descrizione", "stato", "motivo", "cursore", "fallimenti",
                                    "prossimo_tentativo", "creata_il")},
            "in_attesa": hooks.pending(row["tenant_id"], row["cursore"]),
            "riproduzione": {"da": row["riproduci_da"], "a": row["riproduci_a"]} if row["riproduci_da"] else None,
            "segreti_validi": len(valid_secrets(row["segreti"], datetime.now(timezone.utc)))}


def webhooks_router(hooks_of: Any) -> APIRouter:
    router = APIRouter(prefix="/webhook/sottoscrizioni", tags=["webhook"])

    @router.post("", status_code=201, response_model=SottoscrizioneCreata,
                 responses={422: {"description": "Dati non validi (url, tipi)."}})
    def crea(body: SottoscrizioneNuova, request: Request, principal: Gestore) -> dict:
        """Sottoscrive un indirizzo agli eventi dell'Ambito del token (il segreto si vede solo ora)."""
        hooks = hooks_of(request)
        row, secret = hooks.create(tenant_of(principal), body.url, body.tipi, body.descrizione, body.da,
                                   principal.subject)
        return {**_shown(hooks, row), "segreto": secret}

    @router.get("", response_model=list[Sottoscrizione])
    def elenca(request: Request, principal: Gestore) -> list[dict]:
        """Le sottoscrizioni dell'Ambito, con il ritardo di ciascuna."""
        hooks = hooks_of(request)
        return [_shown(hooks, row) for row in hooks.list(tenant_of(principal))]

    @router.get("/{sub_id}", response_model=Sottoscrizione, responses=NOT_FOUND)
    def leggi(sub_id: Id, request: Request, principal: Gestore) -> dict:
        """Una sottoscrizione: stato, cursore, ritardo, fallimenti."""
        hooks = hooks_of(request)
        return _shown(hooks, hooks.get(tenant_of(principal), sub_id))

    @router.patch("/{sub_id}", response_model=Sottoscrizione, responses=NOT_FOUND)
    def modifica(sub_id: Id, body: SottoscrizioneModifica, request: Request, principal: Gestore) -> dict:
        """Cambia indirizzo, tipi o descrizione."""
        hooks = hooks_of(request)
        changes = body.model_dump(exclude_unset=True)
        if changes.get("url", "") is None or changes.get("descrizione", "") is None:
            raise RuleViolation("url e descrizione non possono essere nulli.", rule="campo.nullo",
                                field="url" if changes.get("url", "") is None else "descrizione")
        return _shown(hooks, hooks.update(tenant_of(principal), sub_id, **changes) if changes
                      else hooks.get(tenant_of(principal), sub_id))

    @router.delete("/{sub_id}", status_code=204, responses=NOT_FOUND)
    def elimina(sub_id: Id, request: Request, principal: Gestore) -> Response:
        """Elimina la sottoscrizione: nessuna consegna più (il registro delle consegne resta)."""
        hooks_of(request).update(tenant_of(principal), sub_id, stato="eliminata", motivo="eliminata")
        return Response(status_code=204)

    @router.post("/{sub_id}/sospendi", response_model=Sottoscrizione, responses=NOT_FOUND)
    def sospendi(sub_id: Id, request: Request, principal: Gestore) -> dict:
        """Sospende le consegne (riprendono dal punto in cui erano)."""
        hooks = hooks_of(request)
        return _shown(hooks, hooks.update(tenant_of(principal), sub_id, stato="sospesa",
                                          motivo=f"sospesa da {principal.subject}"))

    @router.post("/{sub_id}/riprendi", response_model=Sottoscrizione, responses=NOT_FOUND)
    def riprendi(sub_id: Id, request: Request, principal: Gestore) -> dict:
        """Riprende le consegne di una sottoscrizione sospesa, dall'evento non consegnato."""
        hooks = hooks_of(request)
        return _shown(hooks, hooks.update(tenant_of(principal), sub_id, stato="attiva", motivo=None, fallimenti=0,
                                          prossimo_tentativo=None))

    @router.post("/{sub_id}/segreti", response_model=SottoscrizioneCreata, responses=NOT_FOUND)
    def ruota(sub_id: Id, body: Rotazione, request: Request, principal: Gestore) -> dict:
        """Un nuovo segreto; il precedente firma ancora per il periodo indicato (due firme per consegna)."""
        hooks = hooks_of(request)
        row, secret = hooks.rotate(tenant_of(principal), sub_id, body.vecchio_valido_per_ore)
        return {**_shown(hooks, row), "segreto": secret}

    @router.post("/{sub_id}/riproduci", response_model=Sottoscrizione, responses=NOT_FOUND)
    def riproduci(sub_id: Id, body: Riproduzione, request: Request, principal: Gestore) -> dict:
        """Consegna di nuovo gli eventi tra due posizioni (con lo stesso webhook-id di allora)."""
        if body.a < body.da:
            raise RuleViolation("a: deve essere maggiore o uguale a da.", rule="intervallo.ordine", field="a")
        hooks = hooks_of(request)
        return _shown(hooks, hooks.update(tenant_of(principal), sub_id, riproduci_da=body.da, riproduci_a=body.a))

    @router.get("/{sub_id}/consegne", response_model=list[Consegna], responses=NOT_FOUND)
    def consegne(sub_id: Id, request: Request, principal: Gestore,
                 dopo: int = Query(0, ge=0, le=2 ** 62, description="L'id dell'ultima consegna già letta."),
                 quanti: int = Query(100, ge=1, le=500)) -> list[dict]:
        """Il registro delle consegne (ogni tentativo, riuscito o no)."""
        return hooks_of(request).deliveries(tenant_of(principal), sub_id, dopo, quanti)

    return router
