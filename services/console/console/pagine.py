"""Rendering pages: the Jinja2 environment, its Italian filters, the menu each role sees.

Every page extends ``base.html`` (Bootstrap Italia's header, menu, skip link and footer) and is
rendered through :func:`pagina`, which adds the person, the CSRF token and the menu. A request from
HTMX gets only the block it asked for when the route passes ``frammento``: a block rendered alone does
not see the template's top-level imports, so a block that uses macros imports them inside itself.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from console.formati import FILTRI
from console.identity import RUOLI, Utente
from console.sessione import CAMPO_CSRF, csrf_token, utente_opzionale

CARTELLA = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=CARTELLA / "templates")
templates.env.filters.update(FILTRI)
templates.env.globals.update(RUOLI=RUOLI, CAMPO_CSRF=CAMPO_CSRF)

#: (label, path, roles that see it): the menu, in the order it is shown
MENU: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("Ambito", "/ambito", frozenset({"coordinatore", "amministrativo", "referente_asl"})),
    ("Piano di Zona", "/piani", frozenset({"coordinatore", "amministrativo", "referente_asl", "revisore"})),
    ("Comitato e sedute", "/sedute", frozenset({"coordinatore", "amministrativo", "componente_comitato",
                                                 "referente_asl", "revisore"})),
    ("Finanza", "/finanza", frozenset({"coordinatore", "amministrativo", "revisore"})),
    ("Servizi erogati", "/prestazioni", frozenset({"coordinatore", "amministrativo", "assistente_sociale"})),
    ("Terzo settore", "/terzo-settore", frozenset({"coordinatore", "amministrativo", "referente_ets"})),
    ("Revisione", "/revisione", frozenset({"revisore", "coordinatore"})),
    ("Regione", "/regione", frozenset({"regione"})),
)

#: where each role lands after logging in
PRIMA_PAGINA = {
    "coordinatore": "/ambito", "amministrativo": "/ambito", "referente_asl": "/ambito",
    "componente_comitato": "/sedute", "assistente_sociale": "/prestazioni", "referente_ets": "/terzo-settore",
    "revisore": "/revisione", "regione": "/regione",
}


def menu(utente: Utente | None, attuale: str) -> list[dict[str, Any]]:
    if utente is None:
        return []
    return [{"etichetta": etichetta, "url": url, "attivo": attuale == url or attuale.startswith(url + "/")}
            for etichetta, url, ruoli in MENU if utente.ruolo in ruoli]


def nuova_chiave() -> str:
    """A fresh Idempotency-Key for a form that moves money: the form carries it, so a double click or a
    resubmitted form sends the same key and the service does the thing once."""
    return str(uuid.uuid4())


def pagina(request: Request, template: str, *, status_code: int = 200, frammento: str | None = None,
           headers: dict[str, str] | None = None, **contesto: Any) -> HTMLResponse:
    """Render ``template`` for this request (only ``frammento`` for an HTMX request that asks for it)."""
    utente = utente_opzionale(request)
    contesto.setdefault("errori", {})
    contesto.update(request=request, utente=utente, csrf=csrf_token(request),
                    menu=menu(utente, request.url.path))
    if frammento and request.headers.get("HX-Request"):
        html = templates.env.get_template(template).blocks[frammento]
        testo = "".join(html(templates.env.get_template(template).new_context(contesto)))
        return HTMLResponse(testo, status_code=status_code, headers=headers)
    return templates.TemplateResponse(request, template, contesto, status_code=status_code, headers=headers)
