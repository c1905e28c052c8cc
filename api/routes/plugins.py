"""``GET /api/v1/plugins``: the registered scorers, where they come from, their weights and
their health."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter

from api.deps import EngineDep
from api.schemas import PluginsResponse, ScorerHealthInfo, ScorerInfo
from api.security import guard
from matcher.plugins import collect_scorers
from matcher.principals import Principal
from matcher.ranking.engine import KINDS, Engine
from matcher.ranking.scoring import scorer_health

router = APIRouter(prefix="/plugins", tags=["plugins"])


def scorer_list(engine: Engine) -> list[ScorerInfo]:
    """Every registered scorer: name, description, source, kinds, weight per kind, health
    (also what the admin's scorers page shows)."""
    tables = {kind: engine.weights_for(kind) for kind in KINDS}
    scorers = []
    for name, registered in collect_scorers(engine.pm).items():
        kinds = [kind for kind in KINDS if kind in registered.scorer.kinds]
        scorers.append(ScorerInfo(
            name=name, description=registered.scorer.description, source=registered.source,
            kinds=kinds, weights={kind: tables[kind].get(name, 0.0) for kind in kinds},
            health=ScorerHealthInfo(**asdict(scorer_health(name)))))
    return scorers


@router.get("", response_model=PluginsResponse, summary="List the scorers",
            operation_id="list_scorers")
def list_scorers(engine: EngineDep,
                 who: Annotated[Principal, guard("list_scorers")]) -> PluginsResponse:
    """Each scorer with its weights and its health in this server process: idle until first
    called, ok or failing by its latest call, busy while a call that overran is running."""
    return PluginsResponse(scorers=scorer_list(engine))
