"""Pages of the console: prestazioni."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
