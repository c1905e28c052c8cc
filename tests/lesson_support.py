"""Matches at their outcome, made through the store (the lifecycle's own steps, each with its
audit row), for the lesson tests."""

from __future__ import annotations

from pathlib import Path

from matcher.exchange import Need
from matcher.store import Store

_copies = iter(range(1, 1_000_000))

STEPS = (("approve", "proposed", "approved"), ("accept", "approved", "introduced"),
         ("activate", "introduced", "active"),
         ("record_outcome", "active", "outcome_recorded"))


def match_at_outcome(db: Path, need_id: str, kind: str, item_id: str,
                     outcome: str = "training", until: str = "outcome_recorded") -> int:
    """A match of ``need_id`` with ``item_id`` (an offering, or a practice for ``peer``),
    moved from proposed up to ``until``; its id. A pair matched before gets a copy of the
    need (same association, text and topic) instead."""
    store = Store(db)
    try:
        need = store.get("needs", need_id)
        if store.find_match(need_id, kind, item_id) is not None:
            need = store.create_record("needs", Need(
                id=f"{need_id}-copy-{next(_copies)}", text=need["text"],
                category=need["category"], sensitive=need["sensitive"]),
                need["association_id"])
            need_id = need["id"]
        table = "offerings" if kind == "partner" else "practices"
        item = store.get(table, item_id)
        owner = item["partner_id"] if kind == "partner" else item["association_id"]
        match = store.create_match({"kind": kind, "need_id": need_id,
                                    "association_id": need["association_id"],
                                    "item_id": item_id, "owner_id": owner, "score": 0.5,
                                    "category": need["category"] or item.get("category")},
                                   actor="lesson fixture", role="admin")
        for action, source, target in STEPS:
            if match["status"] == until:
                break
            match = store.transition_match(
                match["id"], version=match["version"], from_status=source, to_status=target,
                action=action, actor="lesson fixture", role="admin",
                introduced=action == "accept",
                outcome=outcome if action == "record_outcome" else None)
        return match["id"]
    finally:
        store.close()
