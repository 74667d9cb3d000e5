"""The public contracts served where their ``$id``s say: ``GET /contratti/...`` on every service.

``contracts/`` is written with one canonical base (``https://contracts.ambiti.example``). A deployment
sets ``AMBITI_CONTRACTS_BASE_URL`` to the public address of ``/contratti`` (any service serves all of
them): the schemas, examples and AsyncAPI documents are then served with that base in their ``$id``s and
references, and the events' ``ce_dataschema`` names the same URLs (``envelope.CloudEvent.of``), so an
integrator resolves every ``$id`` and ``dataschema`` where it points. ``GET /contratti`` is a page for
people: each event type with its description, schema and example.
"""

from __future__ import annotations

import html
import json
import os
import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Path as PathParam
from fastapi.responses import HTMLResponse, Response

from ambiti_kit.envelope import CANONICAL_CONTRACTS, contracts_base
from ambiti_kit.errors import NotFound

FILE = re.compile(r"^(envelope|audit|planning|finance|partnership|monitoring)/"
                  r"((examples/)?[a-z0-9_.-]+\.json|asyncapi\.yaml)$")
MEDIA = {".schema.json": "application/schema+json", ".json": "application/json", ".yaml": "application/yaml"}


def contracts_dir() -> Path:
    configured = os.environ.get("AMBITI_CONTRACTS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "contracts"


@lru_cache(maxsize=512)
def _read(path: str, base: str) -> bytes:
    text = (contracts_dir() / path).read_text(encoding="utf-8")
    return text.replace(CANONICAL_CONTRACTS, base).encode()


def contracts_router() -> APIRouter:
    router = APIRouter(prefix="/contratti", tags=["contratti"])

    @router.get("", response_class=HTMLResponse, responses={200: {"content": {"text/html": {}}}})
    def indice() -> HTMLResponse:
        """I contratti degli eventi per chi integra: tipi, descrizioni, schemi ed esempi."""
        return HTMLResponse(_index(contracts_base()))

    @router.get("/{percorso:path}", responses={
        200: {"description": "Lo schema, l'esempio o il documento AsyncAPI, con il suo `$id` uguale a questo "
                             "indirizzo.", "content": {"application/schema+json": {}, "application/json": {},
                                                       "application/yaml": {}}},
        404: {"description": "Nessun contratto con questo percorso."}})
    def documento(percorso: str = PathParam(max_length=200, description="Ad esempio "
                  "`planning/planning.piano_di_zona.creato.v1.schema.json`.")) -> Response:
        """Un contratto pubblicato, all'indirizzo del suo `$id`."""
        if not FILE.match(percorso) or not (contracts_dir() / percorso).is_file():
            raise NotFound(f"Nessun contratto «{percorso[:100]}».", rule="contratto.non_trovato")
        media = next(m for suffix, m in MEDIA.items() if percorso.endswith(suffix))
        return Response(_read(percorso, contracts_base()), media_type=media,
                        headers={"cache-control": "public, max-age=300"})

    return router


def _index(base: str) -> str:
    root = contracts_dir()
    sections = []
    for service in ("planning", "finance", "partnership", "monitoring", "audit"):
        rows = []
        for schema_path in sorted((root / service).glob("*.schema.json")):
            schema = json.loads(schema_path.read_text(encoding="utf-8"))
            name = schema_path.name.removesuffix(".schema.json")
            example = root / service / "examples" / f"{name}.json"
            shown = html.escape(example.read_text(encoding="utf-8")) if example.is_file() else ""
            rows.append(f"""<section id="{html.escape(name)}"><h3>{html.escape(name)}</h3>
<p>{html.escape(schema.get("description", ""))}</p>
<p><a href="{html.escape(schema["$id"].replace(CANONICAL_CONTRACTS, base))}">Schema JSON</a></p>
{f'<details><summary>Esempio</summary><pre>{shown}</pre></details>' if shown else ''}</section>""")
        asyncapi = f'<p><a href="{base}/{service}/asyncapi.yaml">Documento AsyncAPI</a></p>' \
            if (root / service / "asyncapi.yaml").is_file() else ""
        sections.append(f"<h2>{service}</h2>{asyncapi}{''.join(rows)}")
    return f"""<!doctype html><html lang="it"><head><meta charset="utf-8"><title>Contratti degli eventi</title></head>
<body><main><h1>Contratti degli eventi della piattaforma degli Uffici di Piano</h1>
<p>Ogni evento viaggia su Kafka (e in <code>GET /eventi</code> e nei webhook) nella busta CloudEvents descritta da
<a href="{base}/envelope/cloudevents-kafka-headers.schema.json">questo schema</a>; il campo <code>data</code> segue lo
schema del suo tipo, indicato in <code>ce_dataschema</code>. I consumatori ignorano i campi che non conoscono; un
cambiamento incompatibile pubblica un nuovo tipo <code>.v2</code>.</p>{''.join(sections)}</main></body></html>"""
