"""Sensitivity only ever rises, and nothing identifies the association behind a redacted match.

The attack an outside probe found: a partner adds offerings whose text copies a confidential
need's, so that the category model (trained on offerings) infers another topic for it; the
need then stopped being sensitive, and the partner read its text and the association's name on
an approved match. Real embedding model, a copy of the demo database, TestClient for the API
and the partner's pages.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pages_support import sign_in_with_token
from support import bearer, issue_token, make_token

from matcher.principals import Role
from matcher.store import Store

V1 = "/api/v1"
ASSOCIATION, REGION, COUNTRY = "demo-a-01", "africa_anglophone", "Ghana"
NEED_TEXT = ("Women who carry ore at the pits are attacked and raped on the way home; we need a "
             "safe place, counselling and help to report gender-based violence.")
WORDS = "attacked and raped"  # what must never reach the partner before the introduction


@pytest.fixture
def roles(demo_copy) -> dict[str, dict[str, str]]:
    return {"association": make_token(demo_copy, Role.ASSOCIATION, association_id=ASSOCIATION),
            "coordinator": make_token(demo_copy, Role.COORDINATOR, regions=[REGION]),
            "admin": make_token(demo_copy, Role.ADMIN)}


def approved_match(client, roles) -> tuple[dict, dict]:
    """The association posts the need (no topic given: sgbv is inferred) and asks for its
    best partner suggestion; the coordinator approves. Returns the need and the match."""
    need = client.post(f"{V1}/associations/{ASSOCIATION}/needs", json={"text": NEED_TEXT},
                       headers=roles["association"]).json()
    best = client.get(f"{V1}/needs/{need['id']}/suggestions", params={"kind": "partner"},
                      headers=roles["association"]).json()["suggestions"][0]
    match = client.post(f"{V1}/matches", json={
        "need_id": need["id"], "kind": "partner", "item_id": best["offering_id"]},
        headers=roles["association"]).json()
    approved = client.post(f"{V1}/matches/{match['id']}/approve", json={},
                           headers=roles["coordinator"])
    assert approved.status_code == 200, approved.text
    return need, approved.json()


def poison(client, partner: dict[str, str], partner_id: str, copies: int = 5) -> None:
    """Offerings that copy the need's words, labelled finance: the category model learns
    that such a text is about finance."""
    for i in range(copies):
        created = client.post(f"{V1}/partners/{partner_id}/offerings", json={
            "title": NEED_TEXT[:80 + i],
            "description": NEED_TEXT, "category": "finance"}, headers=partner)
        assert created.status_code == 201, created.text


def partner_views(client, partner: dict[str, str], raw: str, match: dict,
                  partner_id: str) -> dict[str, str]:
    """Every path on which the partner meets the match: API, data export, pages."""
    seen = {
        "match": client.get(f"{V1}/matches/{match['id']}", headers=partner).text,
        "list": client.get(f"{V1}/matches", headers=partner).text,
        "audit": client.get(f"{V1}/matches/{match['id']}/audit", headers=partner).text,
        "introduction": client.get(f"{V1}/matches/{match['id']}/introduction",
                                   headers=partner).text,
    }
    export = client.get(f"{V1}/partners/{partner_id}/data", headers=partner).json()
    seen["data export"] = json.dumps({k: export[k] for k in ("matches", "audit")})
    pages = TestClient(client.app)
    sign_in_with_token(pages, raw)
    seen["page: matches"] = pages.get("/partner/matches").text
    seen["page: match"] = pages.get(f"/partner/matches/{match['id']}").text
    return seen


def test_a_poisoned_inference_leaves_the_need_redacted_for_the_partner_on_every_path(
        client, roles, demo_copy):
    need, match = approved_match(client, roles)
    assert need["sensitive"] is True and need["category"] is None
    partner_id = match["owner_id"]
    raw = issue_token(demo_copy, Role.PARTNER, partner_id=partner_id)[1]
    partner = bearer(raw)

    poison(client, partner, partner_id)

    engine = client.app.state.engines.get()
    engine.corpus()  # the category model is trained again, on the partner's offerings too
    assert engine.need_category(need["id"])[0] != "sgbv"  # the attack did change the inference
    for path, text in partner_views(client, partner, raw, match, partner_id).items():
        assert WORDS not in text, path
        assert ASSOCIATION not in text, path
        assert "Nkwanta" not in text, path  # the association's name
        assert COUNTRY not in text, path
    seen = client.get(f"{V1}/matches/{match['id']}", headers=partner).json()
    assert seen["need_text_redacted"] is True and seen["association_id"] is None
    assert "Africa (anglophone)" in seen["need_text"]  # the region, nothing finer
    own = client.get(f"{V1}/needs/{need['id']}", headers=roles["association"]).json()
    assert own["sensitive"] is True and own["text"] == NEED_TEXT


def test_a_redacted_match_shows_the_partner_no_association_actor_in_its_audit(client, roles,
                                                                               demo_copy):
    _, match = approved_match(client, roles)
    partner = make_token(demo_copy, Role.PARTNER, partner_id=match["owner_id"])

    trail = client.get(f"{V1}/matches/{match['id']}/audit", headers=partner).json()
    mine = client.get(f"{V1}/matches/{match['id']}/audit", headers=roles["association"]).json()

    assert [e["actor"] for e in trail["entries"]] == ["association", "coordinator"]
    assert ASSOCIATION in mine["entries"][0]["actor"]  # its own side still reads it in full


def test_changing_the_topic_does_not_lower_sensitivity(client, roles):
    need, _ = approved_match(client, roles)

    changed = client.patch(f"{V1}/needs/{need['id']}", json={"category": "finance"},
                           headers=roles["association"])

    assert changed.status_code == 200 and changed.json()["sensitive"] is True


def test_only_those_who_may_change_the_need_clear_it_explicitly_and_it_is_audited(
        client, roles, demo_copy):
    need, match = approved_match(client, roles)
    partner = make_token(demo_copy, Role.PARTNER, partner_id=match["owner_id"])
    other = make_token(demo_copy, Role.ASSOCIATION, association_id="demo-a-12")
    url = f"{V1}/needs/{need['id']}"

    refused = [client.patch(url, json={"sensitive": False}, headers=h).status_code
               for h in (partner, other)]
    cleared = client.patch(url, json={"sensitive": False}, headers=roles["association"])
    export = client.get(f"{V1}/associations/{ASSOCIATION}/data",
                        headers=roles["association"]).json()
    seen = client.get(f"{V1}/matches/{match['id']}", headers=partner).json()

    assert all(code in (403, 404) for code in refused)
    assert cleared.status_code == 200 and cleared.json()["sensitive"] is False
    rows = [r for r in export["need_audit"] if r["need_id"] == need["id"]]
    assert [r["action"] for r in rows] == ["raise_sensitivity", "clear_sensitivity"]
    assert rows[-1]["role"] == "association" and "token:" in rows[-1]["actor"]
    # the match's redaction was decided when it was proposed: clearing does not lower it
    assert seen["need_text_redacted"] is True and WORDS not in seen["need_text"]
    accepted = client.post(f"{V1}/matches/{match['id']}/accept", json={},
                           headers=roles["association"])
    assert accepted.status_code == 200
    after = client.get(f"{V1}/matches/{match['id']}", headers=partner).json()
    assert after["need_text"] == NEED_TEXT and after["association_id"] == ASSOCIATION


def test_a_confidential_need_is_exported_flagged_sensitive(client, roles):
    need, _ = approved_match(client, roles)

    exported = client.get(f"{V1}/export", headers=roles["admin"]).json()

    flags = {n["id"]: n.get("sensitive") for a in exported["associations"] for n in a["needs"]}
    assert flags[need["id"]] is True


def test_an_import_never_lowers_a_confidential_need(demo_copy, ref):
    store = Store(demo_copy)
    try:
        doc = store.export_exchange()
        need = next(n for a in doc.associations for n in a.needs if n.id == "demo-n-033")
        assert store.get("needs", need.id)["confidential"] is True  # given the sgbv topic
        need.category, need.sensitive = "finance", False

        store.import_exchange(doc)

        assert store.get("needs", need.id)["confidential"] is True
        assert store.get("needs", need.id)["category"] == "finance"
    finally:
        store.close()
