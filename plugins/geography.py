"""Geography for peers: the same country, then the same regional network, is a mild plus."""

from __future__ import annotations

import numpy as np

from matcher import hookimpl
from matcher.i18n import N_, _
from matcher.ranking.scoring import Scorer, ScoringContext

SAME_REGION_CREDIT = 0.5


class GeographyScorer(Scorer):
    inline = True  # a few numpy passes: run in the request's thread
    name = "geography"
    label = N_("Same country or network")
    weights = {"peer": 0.2}  # measured on the dev benchmark (README)
    description = "peer in the same country (1) or regional network (0.5); never required"
    kinds = frozenset({"peer"})
    normalise = "none"

    def score(self, ctx: ScoringContext) -> np.ndarray:
        arrays, corpus, assoc = ctx.block.arrays, ctx.corpus, ctx.query.association
        same_country = arrays["country"][ctx.candidates] == corpus.countries.get(assoc["country"])
        same_region = arrays["region"][ctx.candidates] == corpus.regions.get(assoc["region"])
        return np.where(same_country, 1.0, np.where(same_region, SAME_REGION_CREDIT, 0.0))

    def reasons(self, ctx, positions, scores):
        ref, assoc, lang = ctx.corpus.ref, ctx.query.association, ctx.ui_language
        country = ref.country_name(assoc["country"], lang)
        region = ref.region_label(assoc["region"], lang)
        return [[_("also in {country}", lang, country=country)] if scores[p] == 1.0
                else [_("same network: {region}", lang, region=region)]
                if scores[p] > 0 else [] for p in positions]


@hookimpl
def register_scorers(register) -> None:
    register(GeographyScorer())
