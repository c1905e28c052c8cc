"""Human-readable reasons for a suggestion: the hard rules it passed, and what fits; and a
short summary of what is suggested."""

from __future__ import annotations

import re

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


SUMMARY_WIDTH = 180  # characters at most in a suggestion's summary
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def sentences(text: str) -> list[str]:
    """``text`` split after each sentence's closing mark."""
    return [part for part in _SENTENCE_END.split(" ".join(text.split())) if part]


def shorten(text: str, width: int = SUMMARY_WIDTH) -> str:
    """``text`` cut at a word boundary to at most ``width`` characters, "…" marking the cut."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut[width // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–—") + "…"


def summary_of(text: str, skip: str = "", width: int = SUMMARY_WIDTH) -> str:
    """The first sentence of ``text`` (two when the first is short), shortened to ``width``;
    a first sentence equal to ``skip`` (a title made from it) is passed over."""
    parts = sentences(text or "")
    if parts and skip and parts[0].rstrip(".").startswith(skip.rstrip("…").rstrip(".")):
        parts = parts[1:]
    if not parts:
        return ""
    summary = parts[0]
    if len(summary) < width // 3 and len(parts) > 1:
        summary = f"{summary} {parts[1]}"
    return shorten(summary, width)
