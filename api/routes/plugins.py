"""``GET /api/v1/plugins``: the registered scorers, where they come from, their weights and
their health."""

from typing import Annotated

from fastapi import APIRouter

from api.deps import EngineDep
from api.schemas import FusionInfo, PluginsResponse, ScorerInfo
from api.security import guard
from matcher.principals import Principal
from matcher.services.scorers import fusion_table, scorer_table

router = APIRouter(prefix="/plugins", tags=["plugins"])


@router.get("", response_model=PluginsResponse, summary="List the scorers",
            operation_id="list_scorers")
def list_scorers(engine: EngineDep,
                 who: Annotated[Principal, guard("list_scorers")]) -> PluginsResponse:
    """Each scorer with its weights and its health in this server process: idle until first
    called, ok or failing by its latest call, busy while a call that overran is running; and
    per kind, whether the weights are the hand weights or learned from decisions."""
    return PluginsResponse(scorers=[ScorerInfo(**row) for row in scorer_table(engine)],
                           fusion={kind: FusionInfo(**info)
                                   for kind, info in fusion_table(engine).items()})
