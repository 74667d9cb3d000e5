"""Pages of the console: ambito."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
