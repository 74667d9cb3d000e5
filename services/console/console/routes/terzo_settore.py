"""Pages of the console: terzo_settore."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
