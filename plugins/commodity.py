"""Commodity fit: an offering made for the association's commodity, or a peer mining the same."""

from __future__ import annotations

import numpy as np

from matcher import hookimpl
from matcher.i18n import N_
from matcher.ranking.scoring import Scorer, ScoringContext

ANY_COMMODITY_CREDIT = 0.5


class CommodityScorer(Scorer):
    inline = True  # a few numpy passes: run in the request's thread
    name = "commodity"
    label = N_("Same minerals")
    weights = {"partner": 0.0, "peer": 0.0}  # measured on the dev benchmark (README)
    description = ("1 when the candidate names one of the association's commodities; for "
                   "offerings open to any commodity 0.5")
    normalise = "none"

    def _wanted(self, ctx: ScoringContext) -> list[int]:
        ids = [ctx.corpus.commodities.get(c) for c in ctx.query.association["commodities"]]
        return [i for i in ids if i >= 0]

    def score(self, ctx: ScoringContext) -> np.ndarray:
        arrays, wanted = ctx.block.arrays, self._wanted(ctx)
        shares = (arrays["commodities"][ctx.candidates][:, wanted].any(axis=1) if wanted
                  else np.zeros(len(ctx.candidates), dtype=bool))
        if ctx.kind == "partner":
            return np.where(shares, 1.0,
                            np.where(arrays["commodities_any"][ctx.candidates],
                                     ANY_COMMODITY_CREDIT, 0.0))
        return shares.astype(np.float64)


@hookimpl
def register_scorers(register) -> None:
    register(CommodityScorer())
