"""eGain v12 routes (being built: see the module docstrings of this package)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
