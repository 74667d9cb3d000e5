"""Pages of the console: piani."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
