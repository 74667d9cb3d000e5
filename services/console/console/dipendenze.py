"""What every page's route needs: the person, the services, and which roles may open it."""

from __future__ import annotations

from typing import Annotated, Callable

from fastapi import Depends, Request

from console.identity import Utente
from console.servizi import Problema, Servizi
from console.sessione import utente_corrente


def servizi(request: Request) -> Servizi:
    return request.app.state.servizi


ServiziDep = Annotated[Servizi, Depends(servizi)]
UtenteDep = Annotated[Utente, Depends(utente_corrente)]


def richiede(*ruoli: str) -> Callable[[Utente], Utente]:
    """A dependency admitting only ``ruoli``: the menu hides what a role cannot open, and a URL typed by
    hand gets the same 403 page the services' answer would give (the services enforce it anyway)."""

    def dipendenza(utente: UtenteDep) -> Utente:
        if utente.ruolo not in ruoli:
            raise Problema(403, "Non consentito", "Il vostro ruolo non consente di aprire questa pagina.")
        return utente

    return dipendenza
