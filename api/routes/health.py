"""``GET /health``: liveness, record counts and how many texts still lack a vector, straight
from SQLite (no model loading). ``status`` is ``ok`` when everything is embedded and the corpus
is built, ``starting`` while the corpus is being built at start or the missing texts are being
embedded, ``degraded`` when some are missing and nothing is
embedding them: meanwhile suggestions leave the records without vectors out. While the database
cannot be reached (PostgreSQL down or restarting), 503."""

from fastapi import APIRouter, Request

from api.deps import EngineDep
from api.schemas import EmbeddingHealth, ErrorMessage, Health
from api.security import PUBLIC

PUBLIC.add("health")
from matcher import __version__

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=Health, summary="Service health and record counts",
            operation_id="health", responses={503: {
                "model": ErrorMessage, "description": "The database cannot be reached just "
                "now (it is down or restarting)"}})
def health(engine: EngineDep, request: Request) -> Health:
    warming = request.app.state.engines.warming
    # while the corpus loads, the count waits for it (it says which records lack vectors);
    # counting from every text meanwhile would slow the start down
    embedding = engine.embedding_status(count=not warming)
    if warming or embedding is None:
        status = "starting"
    else:
        status = "ok" if not embedding.missing else \
            "starting" if embedding.in_progress else "degraded"
    return Health(status=status, version=__version__, records=engine.record_counts(),
                  embedding=None if embedding is None else EmbeddingHealth(
                      missing=embedding.missing, in_progress=embedding.in_progress))
