"""Every hook of delve-matcher. Plugins implement them with ``matcher.hookimpl``.

Register a plugin through the ``delve_matcher`` entry-point group, or in code with
``matcher.plugins.get_plugin_manager().register(module)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

from matcher import PROJECT

if TYPE_CHECKING:
    from matcher.ranking.embeddings import Embedder
    from matcher.ranking.scoring import Scorer
    from matcher.settings import Settings

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def register_scorers(register: Callable[[Scorer], None]) -> None:
    """Register scorers by calling ``register(scorer)`` once per scorer.

    A scorer (see :class:`matcher.ranking.scoring.Scorer`) has a unique ``name``, a ``description``,
    the ``kinds`` it scores ("partner", "peer") and a vectorised ``score(ctx)`` that returns one
    float per candidate of the block. Its fusion weight is its own ``weights`` for the kind,
    which settings and requests override. Besides the need and the candidates' texts, vectors
    and attributes, it may read what came of each candidate's past exchanges in
    ``ctx.block.evidence`` (:data:`matcher.ranking.corpus.EVIDENCE`: ``good``, ``no_outcome``,
    ``helped``; one int array each, per item and per category of the need exchanged for),
    refreshed whenever an outcome is recorded.
    Returns nothing; every implementation is called.
    """


@hookspec
def register_embedders(register: Callable[[Embedder], None], settings: Settings) -> None:
    """Register text embedders by calling ``register(embedder)`` once per embedder.

    An embedder (see :class:`matcher.ranking.embeddings.Embedder`) has a unique ``name`` and an
    ``embed_batch(texts)`` returning L2-normalised float32 vectors. It must load its model lazily,
    on first use. ``settings`` carries deployment options (such as ``local_model_dir``); it also
    names which embedders the engine keeps vectors for. Returns
    nothing; every implementation is called.
    """
