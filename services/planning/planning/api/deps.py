"""Dependencies shared by the planning routers: the application and who may do what."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from ambiti_kit.auth import Principal, require_roles
from ambiti_kit.service import RuntimeDep

from planning.application import Planning


def planning(runtime: RuntimeDep) -> Planning:
    return runtime.app  # type: ignore[return-value]


PlanningDep = Annotated[Planning, Depends(planning)]
#: the Ufficio di Piano's coordinator drafts, proposes, convenes and keeps the minutes
Coordinatore = Annotated[Principal, Depends(require_roles("coordinatore"))]
#: a mayor or delegate of one Comune (claim ``comune``)
Componente = Annotated[Principal, Depends(require_roles("componente_comitato"))]
Lettore = Annotated[Principal, Depends(require_roles(
    "coordinatore", "amministrativo", "componente_comitato", "referente_asl", "revisore", "assistente_sociale"))]
