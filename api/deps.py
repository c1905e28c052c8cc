"""``Annotated`` dependency aliases for the routers (FastAPI full-stack template style)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from matcher.ranking.engine import Engine
from matcher.settings import Settings


# The dependencies are ``async`` though they never wait: FastAPI runs a plain ``def`` one in
# its thread pool, and each hand-over to a thread cost more than the work (measured under
# load, bench/load.py). Only the endpoints themselves run in the pool.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    """The app's engine (created on first use, see :class:`api.state.EngineProvider`)."""
    return request.app.state.engines.get()


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
