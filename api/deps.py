"""``Annotated`` dependency aliases for the routers (FastAPI full-stack template style)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from matcher.ranking.engine import Engine
from matcher.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    """The app's engine (created on first use, see :class:`api.state.EngineProvider`)."""
    return request.app.state.engines.get()


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
