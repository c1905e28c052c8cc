"""Hard constraints (FORMAT.md rules 1-6, plus active and capacity), vectorised over a block.

A candidate that fails any rule is never suggested, whatever the weights.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from matcher.ranking.corpus import Corpus

OFFERING_RULES = ("region", "country", "commodity", "women_led_only", "min_members",
                  "formal_license", "active", "valid", "capacity")
PRACTICE_RULES = ("other_association",)


def offering_rules(corpus: Corpus, association: dict,
                   used: dict[str, int] | None = None) -> dict[str, np.ndarray]:
    """For each rule, a boolean array over all offerings: True where the offering passes.

    ``used`` maps offering ids to the matches holding their capacity now (default: none).
    """
    a = corpus.offerings.arrays
    n = len(corpus.offerings)
    region = corpus.regions.get(association["region"])
    country = corpus.countries.get(association["country"])
    commodity_ids = [corpus.commodities.get(c) for c in association["commodities"]]
    commodity_ids = [c for c in commodity_ids if c >= 0]
    in_region = a["regions"][:, region] if region >= 0 else np.zeros(n, dtype=bool)
    in_country = a["countries"][:, country] if country >= 0 else np.zeros(n, dtype=bool)
    shares_commodity = (a["commodities"][:, commodity_ids].any(axis=1) if commodity_ids
                        else np.zeros(n, dtype=bool))
    return {
        "region": a["regions_any"] | in_region,
        "country": a["countries_any"] | in_country,
        "commodity": a["commodities_any"] | shares_commodity,
        "women_led_only": ~a["women_led_only"] | bool(association["women_led"]),
        "min_members": a["min_members"] <= int(association["members"]),
        "formal_license": ~a["requires_formal_license"] | bool(association["formal_license"]),
        **availability_rules(corpus, used),
    }


AVAILABILITY_RULES = ("active", "valid", "capacity")


def availability_rules(corpus: Corpus, used: dict[str, int] | None = None
                       ) -> dict[str, np.ndarray]:
    """The rules that hold or fail whatever the need: active, still valid, a slot free."""
    a = corpus.offerings.arrays
    return {
        "active": a["active"].copy(),
        "valid": a["valid_until"] >= date.today().toordinal(),
        "capacity": _used(corpus, used) < a["capacity"],
    }


def unavailable(corpus: Corpus, used: dict[str, int] | None = None) -> dict[str, list[str]]:
    """Offering id -> the availability rules it fails now (empty: it can be suggested)."""
    rules = availability_rules(corpus, used)
    return {offering_id: [name for name, passes in rules.items() if not passes[i]]
            for i, offering_id in enumerate(corpus.offerings.ids)}


def _used(corpus: Corpus, used: dict[str, int] | None) -> np.ndarray:
    counts = np.zeros(len(corpus.offerings))
    for offering_id, count in (used or {}).items():
        i = corpus.offerings.position.get(offering_id)
        if i is not None:
            counts[i] = count
    return counts


def practice_rules(corpus: Corpus, association: dict, used=None) -> dict[str, np.ndarray]:
    """An association's own practices are never peer suggestions for its own needs."""
    own = corpus.assoc_index.get(association["id"], -1)
    return {"other_association": corpus.practices.arrays["association"] != own}


def allowed(rules: dict[str, np.ndarray]) -> np.ndarray:
    """Indices of the candidates that pass every rule."""
    masks = list(rules.values())
    ok = masks[0].copy()
    for mask in masks[1:]:
        ok &= mask
    return np.flatnonzero(ok)


def not_rejected(corpus: Corpus, kind: str, rejected: set[str]) -> np.ndarray:
    """False for the items a coordinator already rejected for this need."""
    block = corpus.block(kind)
    ok = np.ones(len(block), dtype=bool)
    for item in rejected:
        i = block.position.get(item)
        if i is not None:
            ok[i] = False
    return ok


def rules_for(corpus: Corpus, kind: str, association: dict,
              used: dict[str, int] | None = None,
              rejected: set[str] | None = None,
              not_interested: set[str] | None = None) -> dict[str, np.ndarray]:
    rules = (offering_rules if kind == "partner" else practice_rules)(corpus, association, used)
    if rejected:
        rules["not_rejected"] = not_rejected(corpus, kind, rejected)
    if not_interested:  # the association said it does not want these for this need
        rules["wanted"] = not_rejected(corpus, kind, not_interested)
    return rules
