"""``GET /health``: liveness, record counts and how many texts still lack a vector, straight
from SQLite (no model loading). ``status`` is ``ok`` when everything is embedded and the corpus
is built, ``starting`` while the corpus is being built at start or the missing texts are being
embedded, ``degraded`` when some are missing and nothing is
embedding them: meanwhile suggestions leave the records without vectors out."""

from fastapi import APIRouter, Request

from api.deps import EngineDep
from api.schemas import EmbeddingHealth, Health
from api.security import PUBLIC

PUBLIC.add("health")
from matcher import __version__

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=Health, summary="Service health and record counts",
            operation_id="health")
def health(engine: EngineDep, request: Request) -> Health:
    embedding = engine.embedding_status()
    status = "starting" if request.app.state.engines.warming else "ok" \
        if not embedding.missing else "starting" if embedding.in_progress else "degraded"
    return Health(status=status, version=__version__, records=engine.record_counts(),
                  embedding=EmbeddingHealth(missing=embedding.missing,
                                            in_progress=embedding.in_progress))
