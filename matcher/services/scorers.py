"""The registered scorers as an admin reads them: name, description, source, kinds, the
weight each kind gives it, and its health in this process; and which fusion each kind uses."""

from __future__ import annotations

from dataclasses import asdict

from matcher.plugins import collect_scorers
from matcher.ranking.engine import Engine
from matcher.ranking.scoring import scorer_health
from matcher.vocabulary import KINDS


def scorer_table(engine: Engine) -> list[dict]:
    """One dict per registered scorer (the API's ``ScorerInfo`` fields)."""
    tables = {kind: engine.weights_for(kind) for kind in KINDS}
    rows = []
    for name, registered in collect_scorers(engine.pm).items():
        kinds = [kind for kind in KINDS if kind in registered.scorer.kinds]
        rows.append({"name": name, "description": registered.scorer.description,
                     "source": registered.source, "kinds": kinds,
                     "weights": {kind: tables[kind].get(name, 0.0) for kind in kinds},
                     "health": asdict(scorer_health(name))})
    return rows


def fusion_table(engine: Engine) -> dict[str, dict]:
    """Per kind, where its weights come from (the API's ``FusionInfo`` fields)."""
    table = {}
    for kind in KINDS:
        status = engine.fusion_status(kind)
        table[kind] = {"source": status.source, "description": status.description,
                       "decisions": status.decisions, "trained_at": status.trained_at}
    return table
