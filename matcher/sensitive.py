"""Sensitive needs: whose text only the association, its region's coordinators and admins see.

A need is sensitive when flagged so, or, unless flagged otherwise, when its category (given or
inferred) is ``sgbv``. Others see a neutral summary until the association accepts an
introduction.
"""

from __future__ import annotations

from matcher.i18n import _
from matcher.reference import Reference

SENSITIVE_CATEGORIES = frozenset({"sgbv"})


def is_sensitive(need: dict, category: str | None) -> bool:
    """``category``: the need's category, given or inferred."""
    flag = need.get("sensitive")
    if flag is not None:
        return bool(flag)
    return (need.get("category") or category) in SENSITIVE_CATEGORIES


def neutral_summary(category: str | None, association: dict, ref: Reference,
                    lang: str = "en") -> str:
    """What a partner may read of a sensitive need: its topic and where, nothing more."""
    topic = ref.category_label(category, lang) if category else _("a sensitive topic", lang)
    return _("A confidential need about {topic}, from an association in {country}.", lang,
             topic=topic, country=ref.country_name(association["country"], lang))
