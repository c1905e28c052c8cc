"""Sensitive needs: whose text only the association, its region's coordinators and admins see.

Sensitivity is a stored fact that only rises (``needs.confidential``, see
:mod:`matcher.store.confidential`): a need is confidential once it is flagged sensitive, or,
unless flagged otherwise, given the ``sgbv`` topic or inferred to be about it with a
probability of at least :data:`INFERRED_MIN_PROBABILITY`. A later inference never lowers it;
only its association, its region's coordinators or an admin clear it, explicitly. Others see
a neutral summary, naming the topic and the regional network only, until the association
accepts an introduction.
"""

from __future__ import annotations

import numpy as np

from matcher.i18n import _
from matcher.reference import Reference
from matcher.vocabulary import SENSITIVE_CATEGORIES

# Leaning to caution: the inferred probability of a sensitive topic that makes a need
# confidential, although another topic may be likelier (on the demo set, needs about other
# topics stay below 0.14; needs about sexual violence score 0.6 and more).
INFERRED_MIN_PROBABILITY = 0.15


def inferred_sensitive(probs: np.ndarray, categories: list[str]) -> bool:
    """Whether a need's inferred topic probabilities (over ``categories``) make it
    confidential."""
    return any(float(probs[categories.index(c)]) >= INFERRED_MIN_PROBABILITY
               or int(np.argmax(probs)) == categories.index(c)
               for c in SENSITIVE_CATEGORIES if c in categories)


def neutral_summary(category: str | None, association: dict, ref: Reference,
                    lang: str = "en") -> str:
    """What a partner may read of a sensitive need: its topic and the regional network,
    nothing finer (no association, no country)."""
    topic = ref.category_label(category, lang) if category else _("a sensitive topic", lang)
    region = association.get("region")
    if not region:
        return _("A confidential need about {topic}.", lang, topic=topic)
    return _("A confidential need about {topic}, from an association of the {network} network.",
             lang, topic=topic, network=ref.region_label(region, lang))
