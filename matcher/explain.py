"""Human-readable reasons for a suggestion: the hard rules it passed, and what fits."""

from __future__ import annotations

from matcher.corpus import Corpus


def eligibility_reasons(corpus: Corpus, association: dict, offering: dict,
                        lang: str = "en") -> list[str]:
    """Short reasons from an offering's scope and eligibility for this association."""
    ref = corpus.ref
    reasons: list[str] = []
    if offering["countries"]:
        reasons.append(f"serves {ref.country_name(association['country'], lang)}")
    elif offering["regions"]:
        reasons.append(f"serves {ref.region_label(association['region'], lang)}")
    else:
        reasons.append("open to every region")
    if offering["women_led_only"]:
        reasons.append("for women-led associations")
    if offering["requires_formal_license"]:
        reasons.append("licensed association: eligible")
    if offering["min_members"]:
        reasons.append(f"at least {offering['min_members']} members: eligible")
    if offering["capacity"] is not None:
        reasons.append(f"capacity {offering['capacity']}")
    return reasons


def peer_reasons(corpus: Corpus, association: dict, other: dict, lang: str = "en") -> list[str]:
    """Who the peer is: where it works and what it mines."""
    ref = corpus.ref
    where = ref.country_name(other["country"], lang)
    return [f"{other['name']} ({where})"]


def merge(*groups: list[str], limit: int = 8) -> list[str]:
    """Concatenate reason lists, dropping duplicates, keeping order."""
    out: list[str] = []
    for group in groups:
        for reason in group:
            if reason and reason not in out:
                out.append(reason)
    return out[:limit]
