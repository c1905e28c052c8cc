"""``GET /health``: liveness plus record counts, straight from SQLite (no model loading)."""

from fastapi import APIRouter

from api.deps import EngineDep
from api.schemas import Health
from api.security import PUBLIC

PUBLIC.add("health")
from matcher import __version__

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=Health, summary="Service health and record counts",
            operation_id="health")
def health(engine: EngineDep) -> Health:
    return Health(status="ok", version=__version__, records=engine.store.counts())
