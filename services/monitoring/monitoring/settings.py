"""Monitoring's own settings (beyond the kit's ``ServiceSettings``), read once from the environment."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitoring.domain.riservatezza import SOGLIA_PREDEFINITA


class Riservatezza(BaseSettings):
    """``AMBITI_MONITORING_SOGLIA_RISERVATEZZA``: counts from 1 to this value − 1 are never published per
    Comune (or per Ambito in the Region's tables): see ``monitoring.domain.riservatezza``. Default 3 (1 and 2
    shown as ``<3``)."""

    model_config = SettingsConfigDict(extra="ignore")

    soglia: int = Field(SOGLIA_PREDEFINITA, validation_alias="AMBITI_MONITORING_SOGLIA_RISERVATEZZA", ge=2, le=100)


@lru_cache(maxsize=1)
def riservatezza() -> Riservatezza:
    return Riservatezza()
