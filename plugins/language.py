"""Shared language: is the offering delivered in the need's language, or the association's?"""

from __future__ import annotations

import numpy as np

from matcher import hookimpl
from matcher.i18n import N_, _
from matcher.ranking.scoring import Scorer, ScoringContext

ASSOCIATION_LANGUAGE_CREDIT = 0.8


class LanguageScorer(Scorer):
    inline = True  # a few numpy passes: run in the request's thread
    name = "language"
    label = N_("A shared language")
    weights = {"partner": 0.0, "peer": 0.0}  # measured on the dev benchmark (README)
    description = ("1 when the candidate works in the need's language, 0.8 in another of the "
                   "association's languages, else 0")
    normalise = "none"

    def _columns(self, ctx: ScoringContext) -> tuple[int, list[int]]:
        vocab = ctx.corpus.languages
        need_lang = vocab.get(ctx.query.language)
        assoc = [vocab.get(lang) for lang in ctx.query.association["languages"]]
        return need_lang, [j for j in assoc if j >= 0]

    def score(self, ctx: ScoringContext) -> np.ndarray:
        langs = ctx.block.arrays["languages"][ctx.candidates]
        need_lang, assoc = self._columns(ctx)
        out = np.zeros(len(ctx.candidates))
        if assoc:
            out[langs[:, assoc].any(axis=1)] = ASSOCIATION_LANGUAGE_CREDIT
        if need_lang >= 0:
            out[langs[:, need_lang]] = 1.0
        return out

    def reasons(self, ctx, positions, scores):
        ref, lang = ctx.corpus.ref, ctx.ui_language
        langs = ctx.block.arrays["languages"]
        names = list(ctx.corpus.languages.index)
        wanted = {ctx.query.language, *ctx.query.association["languages"]}
        out = []
        for p in positions:
            shared = [names[j] for j in np.flatnonzero(langs[ctx.candidates[p]])
                      if names[j] in wanted]
            template = "delivered in {language}" if ctx.kind == "partner" else "works in {language}"
            out.append([_(template, lang, language=ref.language_name(shared[0], lang))]
                       if shared else [])
        return out


@hookimpl
def register_scorers(register) -> None:
    register(LanguageScorer())
