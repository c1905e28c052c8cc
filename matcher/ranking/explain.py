"""Human-readable reasons for a suggestion: the hard rules it passed, and what fits."""

from __future__ import annotations

from matcher.i18n import _
from matcher.ranking.corpus import Corpus


def eligibility_reasons(corpus: Corpus, association: dict, offering: dict,
                        lang: str = "en") -> list[str]:
    """Short reasons from an offering's scope and eligibility for this association."""
    ref = corpus.ref
    reasons: list[str] = []
    if offering["countries"]:
        reasons.append(_("serves {place}", lang,
                         place=ref.country_name(association["country"], lang)))
    elif offering["regions"]:
        reasons.append(_("serves {place}", lang,
                         place=ref.region_label(association["region"], lang)))
    else:
        reasons.append(_("open to every region", lang))
    if offering["women_led_only"]:
        reasons.append(_("for women-led associations", lang))
    if offering["requires_formal_license"]:
        reasons.append(_("for licensed associations", lang))
    if offering["min_members"]:
        reasons.append(_("for associations of {count} members or more", lang,
                         count=offering["min_members"]))
    shared = [c for c in offering["commodities"] if c in association["commodities"]]
    if shared:
        reasons.append(_("for {commodity} miners", lang,
                         commodity=ref.commodity_label(shared[0], lang).lower()))
    return reasons


def peer_reasons(corpus: Corpus, association: dict, other: dict, lang: str = "en") -> list[str]:
    """Who the peer is: where it works, and what it mines in common."""
    ref = corpus.ref
    reasons = [_("{name}, {country}", lang, name=other["name"],
                 country=ref.country_name(other["country"], lang))]
    shared = [c for c in other["commodities"] if c in association["commodities"]]
    if shared:
        reasons.append(_("also mines {commodity}", lang,
                         commodity=ref.commodity_label(shared[0], lang).lower()))
    return reasons


def merge(*groups: list[str], limit: int = 8) -> list[str]:
    """Concatenate reason lists, dropping duplicates, keeping order."""
    out: list[str] = []
    for group in groups:
        for reason in group:
            if reason and reason not in out:
                out.append(reason)
    return out[:limit]
