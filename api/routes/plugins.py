"""``GET /api/v1/plugins``: the registered scorers, where they come from, and their weights."""

from typing import Annotated

from fastapi import APIRouter

from api.deps import EngineDep, SettingsDep
from api.schemas import PluginsResponse, ScorerInfo
from api.security import guard
from matcher.auth import Principal
from matcher.engine import KINDS
from matcher.scoring import collect_scorers

router = APIRouter(prefix="/plugins", tags=["plugins"])


@router.get("", response_model=PluginsResponse, summary="List the scorers",
            operation_id="list_scorers")
def list_scorers(engine: EngineDep, settings: SettingsDep,
                 who: Annotated[Principal, guard("list_scorers")]) -> PluginsResponse:
    tables = {kind: settings.weights_for(kind) for kind in KINDS}
    scorers = []
    for name, registered in collect_scorers(engine.pm).items():
        kinds = [kind for kind in KINDS if kind in registered.scorer.kinds]
        scorers.append(ScorerInfo(
            name=name, description=registered.scorer.description, source=registered.source,
            kinds=kinds, weights={kind: tables[kind].get(name, 0.0) for kind in kinds}))
    return PluginsResponse(scorers=scorers)
