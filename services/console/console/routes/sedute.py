"""Pages of the console: sedute."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
