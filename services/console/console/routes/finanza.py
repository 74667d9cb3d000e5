"""Pages of the console: finanza."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
