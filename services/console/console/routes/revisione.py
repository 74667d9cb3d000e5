"""Pages of the console: revisione."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
