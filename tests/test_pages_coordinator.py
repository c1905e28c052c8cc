"""The coordinator's pages through TestClient: the review queue (filters, sort, pages, bulk
review), a match side by side with its signals, every lifecycle action and its refusals, the
introduction messages, the audit trail, and the dashboard with its SVG charts; who may open
what. Real model, real SQLite file (the demo data); matches proposed through the engine."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pages_support import csrf_of, page_fixtures, sign_in, text_of
from sqlite_utils import Database
from test_introductions import set_contacts

from api.pages import coordinator
from api.pages.charts import Bar, bar_chart
from api.pages.session import CSRF_FIELD
from matcher.errors import Forbidden, InvalidInput
from matcher.migrations import migrations
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.services import dashboard
from matcher.settings import load_settings
from matcher.store import Store
from matcher.workflow import lifecycle

R1, R2 = "africa_anglophone", "africa_francophone"
NEED = "demo-n-001"  # demo-a-01, Ghana (R1), English
OTHER_NEED = "demo-n-004"  # demo-a-02, Tanzania (R1)
FRENCH_NEED = "demo-n-017"  # demo-a-07, Congo (R2), French
FAR_NEED = "demo-n-028"  # demo-a-11, Peru (Latin America)
PAGE_BUDGET = 100 * 1024
USERS = {
    "coord-africa": (Role.COORDINATOR, {"regions": [R1]}),
    "coord-franco": (Role.COORDINATOR, {"regions": [R2]}),
    "admin-user": (Role.ADMIN, {}),
    "amina": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
    "partner-user": (Role.PARTNER, {"partner_id": "demo-p-01"}),
}
ADMIN = Principal(Role.ADMIN, label="tests")
WHATSAPP = {"demo-a-01": "+233 20 111 2222", "demo-a-07": "+243 81 234 5678",
            "demo-p-16": "+254 700 123 456"}


# ---------------------------------------------------------------------- fixtures
def _with_contacts(db: Path) -> None:
    set_contacts(db, {org: {"name": f"Desk of {org}", "whatsapp": number}
                      for org, number in WHATSAPP.items()})


pages_db, app, module_client, client, engine = page_fixtures(USERS, _with_contacts)


def propose_next(engine: Engine, need_id: str, kind: str = "partner",
                 owner: str | None = None) -> dict:
    """Propose the best current suggestion for the need not yet matched (of ``owner``)."""
    for s in engine.suggest(need_id, kind, limit=40).suggestions:
        if (owner is None or s.owner_id == owner) \
                and engine.store.find_match(need_id, kind, s.item_id) is None:
            return lifecycle.propose(engine, ADMIN, need_id, kind, s.item_id)
    pytest.fail(f"no suggestion left to propose for {need_id}")


def as_association(match: dict) -> Principal:
    return Principal(Role.ASSOCIATION, association_id=match["association_id"], label="tests")


def act(client: TestClient, match: dict, action: str, version: int | None = None, **fields):
    """Send one action form of the match page, as the page would."""
    page = client.get(f"/review/{match['id']}")
    current = version if version is not None else int(
        re.search(r'name="version" value="(\d+)"', page.text).group(1))
    return client.post(f"/review/{match['id']}", data={
        CSRF_FIELD: csrf_of(page.text), "action": action, "version": str(current), **fields},
        follow_redirects=False)


def ids_on(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<h3><a href="/review/(\d+)">', html)]


# ---------------------------------------------------------------------- home and access
def test_coordinator_lands_on_the_review_queue_with_its_menu(client):
    response = sign_in(client, "coord-africa")
    assert response.headers["location"] == "/review"
    page = client.get("/review")
    assert page.status_code == 200
    assert 'href="/review" aria-current="page"' in page.text and 'href="/dashboard"' in page.text
    assert "<h1>Review queue</h1>" in page.text


@pytest.mark.parametrize("username", ["amina", "partner-user"])
def test_other_roles_are_sent_home_from_the_queue_and_dashboard(client, username, engine):
    match = propose_next(engine, NEED)
    sign_in(client, username)
    for path in ("/review", "/dashboard"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] != path
    # A match page is not theirs to review: it does not exist for them.
    assert client.get(f"/review/{match['id']}").status_code == 404
    before = engine.store.get_match(match["id"])
    response = client.post(f"/review/{match['id']}", data={
        CSRF_FIELD: csrf_of(client.get("/signin").text), "action": "approve"})
    assert response.status_code == 404
    assert engine.store.get_match(match["id"]) == before


def test_another_regions_match_looks_like_a_missing_one(client, engine):
    match = propose_next(engine, NEED)
    sign_in(client, "coord-franco")
    other = client.get(f"/review/{match['id']}")
    missing = client.get("/review/99999999")
    assert other.status_code == 404 and missing.status_code == 404
    assert text_of(other.text) == text_of(missing.text)
    assert client.get("/review/abc").status_code == 404
    assert client.get("/review/0").status_code == 404
    # Nor can it be changed by them, even with a valid form.
    response = act(client, match, "approve", version=1)
    assert response.status_code == 404
    assert engine.store.get_match(match["id"])["status"] == "proposed"
    assert match["id"] not in ids_on(client.get("/review").text)


def test_admin_reviews_every_region(client, engine):
    far = propose_next(engine, FAR_NEED)
    sign_in(client, "admin-user")
    page = client.get("/review?region=latin_america_caribbean")
    assert page.status_code == 200 and far["id"] in ids_on(page.text)
    assert client.get(f"/review/{far['id']}").status_code == 200


# ---------------------------------------------------------------------- the queue
def test_queue_shows_proposed_matches_of_my_regions_by_default(client, engine):
    mine = propose_next(engine, NEED)
    theirs = propose_next(engine, FRENCH_NEED)
    approved = propose_next(engine, OTHER_NEED)
    lifecycle.transition(engine, ADMIN, approved["id"], "approve")
    sign_in(client, "coord-africa")
    page = client.get("/review")
    shown = ids_on(page.text)
    assert mine["id"] in shown and theirs["id"] not in shown and approved["id"] not in shown
    text = text_of(page.text)
    assert "Nkwanta Small-Scale Miners Association" in text and "Proposed" in text
    assert f'id="pick-{mine["id"]}"' in page.text  # proposed: can be ticked for a bulk action
    # Any status, then only the approved ones.
    assert approved["id"] in ids_on(client.get("/review?status=").text)
    only_approved = ids_on(client.get("/review?status=approved").text)
    assert approved["id"] in only_approved and mine["id"] not in only_approved


def test_queue_filters_by_kind_topic_score_and_age(client, engine):
    peer = propose_next(engine, NEED, "peer")
    partner = propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    peers = ids_on(client.get("/review?kind=peer").text)
    assert peer["id"] in peers and partner["id"] not in peers
    ohs = ids_on(client.get("/review?category=ohs&kind=partner").text)  # demo-n-001 is ohs
    assert partner["id"] in ohs
    assert partner["id"] not in ids_on(client.get("/review?category=finance").text)
    high = ids_on(client.get(f"/review?min_score={partner['score'] + 0.001}").text)
    assert partner["id"] not in high
    comma = str(round(partner["score"] - 0.01, 2)).replace(".", ",")  # as typed in French
    assert partner["id"] in ids_on(client.get(f"/review?min_score={comma}").text)
    assert partner["id"] not in ids_on(client.get("/review?older_than=3").text)
    assert partner["id"] in ids_on(client.get("/review?older_than=0").text)


def test_queue_sorts_by_score_and_pages(client, engine, monkeypatch):
    for _ in range(3):
        propose_next(engine, OTHER_NEED)
    sign_in(client, "coord-africa")
    rows, _ = lifecycle.list_matches(engine, ADMIN, lifecycle.Filters(
        statuses=["proposed"], region=R1, sort="-score", limit=100))
    best_first = [m["id"] for m in rows]
    assert ids_on(client.get(f"/review?region={R1}&sort=-score").text) == best_first[:20]
    monkeypatch.setattr(coordinator, "PAGE_SIZE", 2)
    first = client.get(f"/review?region={R1}&sort=-score")
    assert ids_on(first.text) == best_first[:2]
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    next_url = re.search(r'href="([^"]+)" rel="next"', first.text).group(1)
    second = client.get(next_url.replace("&amp;", "&"))
    assert ids_on(second.text) == best_first[2:4] and 'rel="prev"' in second.text
    assert ids_on(client.get(f"/review?region={R1}&sort=-score&page=x").text) == \
        best_first[:2]


@pytest.mark.parametrize("query,field,message", [
    ("older_than=abc", "f-older", "Enter a whole number of days, 0 or more."),
    ("older_than=-3", "f-older", "Enter a whole number of days, 0 or more."),
    ("min_score=lots", "f-score", "Enter a number, such as 2.5."),
    ("min_score=nan", "f-score", "Enter a number, such as 2.5."),
    (f"region={R2}", "f-region", "Choose from the list."),  # not one of the coordinator's
    ("status=pending", "f-status", "Choose from the list."),
    ("sort=name", "f-sort", "Choose from the list."),
])
def test_bad_filters_are_422_with_a_message_by_the_field_and_input_kept(client, query, field,
                                                                       message):
    sign_in(client, "coord-africa")
    page = client.get(f"/review?{query}")
    assert page.status_code == 422
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in page.text
    assert f'aria-describedby="{field}-error"' in page.text
    value = query.split("=", 1)[1]
    if field in ("f-older", "f-score"):
        assert f'value="{value}"' in page.text
    assert ids_on(page.text) == []


# ---------------------------------------------------------------------- bulk review
def bulk(client: TestClient, ids: list[int], action: str, back: str = "", **fields):
    page = client.get("/review")
    return client.post("/review/bulk", data={
        CSRF_FIELD: csrf_of(page.text), "back": back, "action": action,
        **{f"m{i}": "on" for i in ids}, **fields})


def test_bulk_approve_reports_each_result_and_one_failure_leaves_the_others_done(client,
                                                                                 engine):
    a, b = propose_next(engine, OTHER_NEED), propose_next(engine, OTHER_NEED)
    done = propose_next(engine, OTHER_NEED)
    lifecycle.transition(engine, ADMIN, done["id"], "reject", reason="duplicate")
    far = propose_next(engine, FAR_NEED)
    sign_in(client, "coord-africa")
    response = bulk(client, [a["id"], done["id"], b["id"], far["id"]], "approve",
                    back="status=approved", note="checked by phone")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "Done: 2 of 4" in text
    assert f"Match {a['id']}: Approved" in text and f"Match {b['id']}: Approved" in text
    assert f"Match {done['id']} was not changed (409:" in text
    assert f"Match {far['id']} was not changed (404:" in text  # not theirs: as if missing
    assert engine.store.get_match(a["id"])["status"] == "approved"
    assert engine.store.get_match(b["id"])["status"] == "approved"
    assert engine.store.get_match(done["id"])["status"] == "rejected"
    assert engine.store.get_match(far["id"])["status"] == "proposed"
    trail = engine.store.audit_trail(a["id"])
    assert trail[-1]["action"] == "approve" and trail[-1]["note"] == "checked by phone"
    assert trail[-1]["actor"] == "user:coord-africa (coordinator africa_anglophone)"
    # The queue comes back with the filters it was sent from.
    assert a["id"] in ids_on(response.text) and 'value="approved" selected' in response.text


def test_bulk_reject_needs_a_reason_and_writes_nothing_without_one(client, engine):
    a, b = propose_next(engine, NEED), propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    refused = bulk(client, [a["id"], b["id"]], "reject", reason="", note="keep me")
    assert refused.status_code == 422
    assert '<p class="field-error" id="bulk-reason-error">Choose a reason for the rejection.' \
        in refused.text
    assert ">keep me</textarea>" in refused.text  # the note is kept
    assert f'id="pick-{a["id"]}" name="m{a["id"]}" value="on" checked' in refused.text
    assert engine.store.get_match(a["id"])["status"] == "proposed"
    response = bulk(client, [a["id"], b["id"]], "reject", reason="not_relevant")
    assert response.status_code == 200 and "Done: 2 of 2" in text_of(response.text)
    assert engine.store.get_match(b["id"])["reason"] == "not_relevant"


@pytest.mark.parametrize("ids,action,field,message", [
    ([], "approve", "bulk-ids", "Tick at least one match."),
    (None, "publish", "bulk-action", "Choose to approve or to reject."),
])
def test_bulk_without_a_match_or_an_action_is_refused(client, engine, ids, action, field,
                                                     message):
    match = propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    response = bulk(client, [match["id"]] if ids is None else ids, action)
    assert response.status_code == 422
    assert f'id="{field}-error">{message}' in response.text
    assert engine.store.get_match(match["id"])["status"] == "proposed"


def test_bulk_without_a_csrf_token_is_403_and_changes_nothing(client, engine):
    match = propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    response = client.post("/review/bulk", data={"action": "approve", f"m{match['id']}": "on"})
    assert response.status_code == 403
    response = act(client, match, "approve")  # the match page's forms too
    assert response.status_code == 303
    other = propose_next(engine, NEED)
    assert client.post(f"/review/{other['id']}", data={
        "action": "approve", "version": "1"}).status_code == 403
    assert engine.store.get_match(other["id"])["status"] == "proposed"


# ---------------------------------------------------------------------- the match page
def test_match_page_shows_need_and_offering_side_by_side_with_signals_and_trail(client,
                                                                                engine):
    match = propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    page = client.get(f"/review/{match['id']}")
    assert page.status_code == 200
    html, text = page.text, text_of(page.text)
    need = engine.store.get("needs", NEED)
    offering = engine.store.get("offerings", match["item_id"])
    partner = engine.store.get("partners", match["owner_id"])
    assert '<div class="sides">' in html and html.count('class="side"') == 2
    assert need["text"] in text and offering["title"] in text
    assert f"Offered by {partner['name']}" in text
    assert "Nkwanta Small-Scale Miners Association" in text and "Ghana" in text
    assert "Occupational health and safety" in text
    for reason in match["reasons"]:
        assert reason in text
    # Each scorer's contribution as a bar, as stored with the match.
    assert match["contributions"] and set(match["contributions"]) >= {"semantic", "category"}
    assert "Same topic" in text and "Close in meaning" in text
    assert re.search(r'class="fill w\d+', html)
    assert sum(match["contributions"].values()) == pytest.approx(match["score"], abs=1e-3)
    # Its state allows approval or rejection; the trail starts with the proposal.
    assert 'id="form-approve"' in html and 'id="form-reject"' in html
    assert 'id="form-record_outcome"' not in html
    assert "— → Proposed" in text and "token:None (admin)" in text


def test_peer_match_page_shows_the_practice_and_the_peer_association(client, engine):
    match = propose_next(engine, NEED, "peer")
    practice = engine.store.get("practices", match["item_id"])
    peer = engine.store.get("associations", match["owner_id"])
    sign_in(client, "coord-africa")
    text = text_of(client.get(f"/review/{match['id']}").text)
    assert "The practice" in text and practice["text"] in text
    assert f"A practice of {peer['name']}" in text


def test_approve_from_the_match_page(client, engine):
    match = propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    response = act(client, match, "approve", note="partner confirmed")
    assert response.status_code == 303
    assert response.headers["location"] == f"/review/{match['id']}?done=approve"
    page = client.get(response.headers["location"])
    assert "Approved: the association is now asked to accept" in page.text
    assert "Waiting for the association to accept the introduction." in page.text
    stored = engine.store.get_match(match["id"])
    assert stored["status"] == "approved" and stored["version"] == 2
    assert "partner confirmed" in text_of(page.text)  # in the trail


def test_reject_needs_a_reason_from_the_list_and_keeps_the_note(client, engine):
    match = propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    for reason in ("", "because"):
        refused = act(client, match, "reject", reason=reason, note="not for gold")
        assert refused.status_code == 422
        assert 'id="reject-reason-error">Choose a reason for the rejection.' in refused.text
        assert ">not for gold</textarea>" in refused.text
    assert engine.store.get_match(match["id"])["status"] == "proposed"
    response = act(client, match, "reject", reason="not_eligible", note="not for gold")
    assert response.status_code == 303
    text = text_of(client.get(f"/review/{match['id']}").text)
    assert "Proposed → Rejected" in text and "Reason: The association is not eligible" in text
    assert "not for gold" in text and "This match is finished" in text
    # A rejected pair is never proposed again.
    with pytest.raises(Exception, match="rejected"):
        lifecycle.propose(engine, ADMIN, NEED, "partner", match["item_id"])


def test_a_concurrent_change_shows_the_409_message_and_writes_nothing(client, engine):
    match = propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    page = client.get(f"/review/{match['id']}")  # read at version 1 ...
    lifecycle.transition(engine, ADMIN, match["id"], "approve")  # ... someone else approves
    response = client.post(f"/review/{match['id']}", data={
        CSRF_FIELD: csrf_of(page.text), "action": "reject", "version": "1",
        "reason": "duplicate"})
    assert response.status_code == 409
    text = text_of(response.text)
    assert "This match could not be changed" in text
    assert f"match {match['id']} is at version 2, not 1" in text
    assert engine.store.get_match(match["id"])["status"] == "approved"
    assert 'id="form-reject"' not in response.text  # the page shows the current state


def test_an_invalid_transition_is_409(client, engine):
    match = propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    response = act(client, match, "activate")  # only an introduced match can become active
    assert response.status_code == 409
    assert "cannot activate a match that is proposed" in text_of(response.text)
    assert engine.store.get_match(match["id"])["status"] == "proposed"


@pytest.mark.parametrize("fields,status", [({"action": "accept"}, 422),
                                           ({"action": "approve", "version": "x"}, 422),
                                           ({"action": "approve", "note": "n" * 2001}, 422)])
def test_malformed_action_forms_are_refused(client, engine, fields, status):
    match = propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    page = client.get(f"/review/{match['id']}")
    response = client.post(f"/review/{match['id']}",
                           data={CSRF_FIELD: csrf_of(page.text), "version": "1", **fields})
    assert response.status_code == status
    assert 'class="error" role="alert"' in response.text or "field-error" in response.text
    assert engine.store.get_match(match["id"])["status"] == "proposed"


def test_introduce_activate_record_outcome_and_close(client, engine):
    """The association (French) accepted; the partner writes English: one message each."""
    match = propose_next(engine, FRENCH_NEED, owner="demo-p-16")
    lifecycle.transition(engine, ADMIN, match["id"], "approve")
    lifecycle.transition(engine, as_association(match), match["id"], "accept")
    sign_in(client, "coord-franco")
    page = client.get(f"/review/{match['id']}")
    html, text = page.text, text_of(page.text)
    assert "Introduction" in text and 'id="form-activate"' in html
    assert "To ASM Voices Campaign, in English" in text
    association = engine.store.get("associations", "demo-a-07")
    assert f"To {association['name']}, in French" in text
    assert '<textarea id="msg-1" rows="10" readonly lang="fr">Bonjour' in html
    assert re.search(r'<textarea id="msg-2" rows="10" readonly lang="en">Hello', html)
    assert 'href="https://wa.me/243812345678?text=Bonjour' in html
    assert 'href="https://wa.me/254700123456?text=Hello' in html
    assert '<script src="/static/copy.js" defer></script>' in html
    assert 'data-copy="msg-1"' in html and " hidden>" in html  # shown by the script only
    assert act(client, match, "activate").status_code == 303
    assert engine.store.get_match(match["id"])["status"] == "active"
    # The outcome must come from the list; then the match can be closed without a note.
    refused = act(client, match, "record_outcome", outcome="party", note="12 trained")
    assert refused.status_code == 422 and 'id="outcome-outcome-error">Choose what came of it.' \
        in refused.text and ">12 trained</textarea>" in refused.text
    assert act(client, match, "record_outcome", outcome="training").status_code == 303
    page = client.get(f"/review/{match['id']}")
    assert "Outcome: Training given" in text_of(page.text)
    assert act(client, match, "close").status_code == 303
    stored = engine.store.get_match(match["id"])
    assert stored["status"] == "closed" and stored["outcome"] == "training"
    trail = [(e["from_status"], e["to_status"]) for e in engine.store.audit_trail(match["id"])]
    assert trail == [(None, "proposed"), ("proposed", "approved"), ("approved", "introduced"),
                     ("introduced", "active"), ("active", "outcome_recorded"),
                     ("outcome_recorded", "closed")]


def test_closing_before_an_outcome_needs_a_note(client, engine):
    match = propose_next(engine, NEED)
    lifecycle.transition(engine, ADMIN, match["id"], "approve")
    sign_in(client, "coord-africa")
    refused = act(client, match, "close", note="  ")
    assert refused.status_code == 422
    assert 'id="close-note-error">Say in the note why you close this match' in refused.text
    assert engine.store.get_match(match["id"])["status"] == "approved"
    assert act(client, match, "close", note="the partner withdrew").status_code == 303
    assert engine.store.get_match(match["id"])["status"] == "closed"


def test_match_page_is_in_french_with_its_strength_in_french(client, engine):
    match = propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    page = client.get(f"/review/{match['id']}")
    client.post("/language", data={CSRF_FIELD: csrf_of(page.text), "lang": "fr"})
    french = text_of(client.get(f"/review/{match['id']}").text)
    assert "Le besoin" in french and "Approuver" in french and "Rejeter" in french
    assert re.search(r"[Cc]orrespondance[^·]* · \d+\s%", french)  # the strength, French %
    assert not re.search(r"[+-]\d+,\d\d", french)  # never a unitless score
    # The engine's reasons, kept with the match in every page language.
    assert match["reasons_by_language"]["fr"] != match["reasons"]
    assert all(reason in french for reason in match["reasons_by_language"]["fr"])
    assert not any(reason in french for reason in match["reasons"])
    assert set(match["reasons_by_language"]) == {"en", "fr", "es", "pt"}
    assert lifecycle.view(engine, ADMIN, match, "pt")["reasons"] == \
        match["reasons_by_language"]["pt"]


def test_match_proposed_before_contributions_were_kept_says_so(client, engine):
    suggestion = next(s for s in engine.suggest(NEED, "partner", limit=40).suggestions
                      if engine.store.find_match(NEED, "partner", s.item_id) is None)
    old = engine.store.create_match(
        {"kind": "partner", "need_id": NEED, "association_id": "demo-a-01",
         "item_id": suggestion.item_id, "owner_id": suggestion.owner_id,
         "score": suggestion.score, "category": "ohs", "reasons": suggestion.reasons},
        actor="tests", role="admin")
    assert old["contributions"] is None
    sign_in(client, "coord-africa")
    page = client.get(f"/review/{old['id']}")
    assert page.status_code == 200 and "was not recorded for this match" in page.text
    assert 'class="fill' not in page.text


def test_match_page_fits_a_phone_weighs_little_and_labels_every_control(client, engine):
    match = propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    page = client.get(f"/review/{match['id']}")
    assert "http://" not in page.text and "https://" not in page.text
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    assert " style=" not in page.text and "<script>" not in page.text
    total = len(page.content) + sum(len(client.get(a).content) for a in
                                    re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text))
    assert total <= PAGE_BUDGET
    for control in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page.text):
        if 'type="hidden"' not in control:
            control_id = re.search(r'id="([^"]+)"', control).group(1)
            assert f'for="{control_id}"' in page.text, control


# ---------------------------------------------------------------------- the dashboard
def test_dashboard_shows_figures_and_svg_charts_with_text_alternatives(client, engine):
    propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    page = client.get("/dashboard")
    assert page.status_code == 200
    html, text = page.text, text_of(page.text)
    figures = dashboard.summary(engine, Principal(Role.COORDINATOR, regions=frozenset({R1})))
    assert "Open needs" in text and "Acceptance rate" in text
    assert "Median days to introduction" in text
    assert "Figures for: Africa (anglophone)." in text
    assert html.count('<svg class="chart"') == 2
    assert '<title id="chart-status-title">Matches by status</title>' in html
    assert '<desc id="chart-status-desc">' in html
    assert 'aria-labelledby="chart-status-title chart-status-desc"' in html
    assert " style=" not in html and "http://" not in html
    assert "<caption>Matches by status</caption>" in html  # the figures as a table too
    assert (f"<th scope=\"row\">Proposed</th><td><a href=\"/review?status=proposed\">"
            f"{figures.by_status['proposed']}</a></td>") in html
    assert re.search(rf"<dt>Open needs</dt><dd>{figures.open_needs}</dd>", html)


def test_dashboard_figures_open_the_queue_on_the_matches_behind_them(client, engine):
    propose_next(engine, NEED)
    sign_in(client, "coord-africa")
    html = unescape(client.get("/dashboard", params={"region": R1}).text)
    figures = dashboard.summary(engine, Principal(Role.COORDINATOR, regions=frozenset({R1})),
                                R1)
    links = dict(re.findall(r'<a href="(/review\?[^"]+)">Proposed: (\d+)</a>', html))
    assert links == {f"/review?status=proposed&region={R1}": str(figures.by_status["proposed"])}
    queue = client.get(f"/review?status=proposed&region={R1}")
    assert queue.status_code == 200
    shown = len(set(re.findall(r'href="/review/(\d+)"', queue.text)))
    assert shown == min(figures.by_status["proposed"], coordinator.PAGE_SIZE) and shown > 0
    every = re.search(r'<dt>Matches</dt><dd><a href="([^"]+)">(\d+)</a>', html)
    assert every.group(1) == f"/review?status=&region={R1}"
    assert int(every.group(2)) == figures.matches
    assert client.get(every.group(1)).status_code == 200


def test_dashboard_region_choice_is_checked(client):
    sign_in(client, "coord-africa")
    refused = client.get(f"/dashboard?region={R2}")
    assert refused.status_code == 422
    assert 'id="d-region-error">Choose from the list.' in refused.text
    assert client.get(f"/dashboard?region={R1}").status_code == 200
    client.cookies.clear()
    sign_in(client, "admin-user")
    page = client.get("/dashboard?region=latin_america_caribbean")
    assert page.status_code == 200 and "Latin America" in page.text


def test_dashboard_numbers_follow_the_language(client, engine):
    sign_in(client, "admin-user")
    page = client.get("/dashboard")
    client.post("/language", data={CSRF_FIELD: csrf_of(page.text), "lang": "fr"})
    french = client.get("/dashboard").text
    assert "<h1>Tableau de bord</h1>" in french
    assert "Proposée" in french or "Proposé" in french


def test_dashboard_figures(demo_copy):
    """Open needs, answers to introductions, the acceptance rate and the median days, on a
    private database with matches whose times are set."""
    engine = Engine(load_settings(db=demo_copy))
    store = engine.store
    coordinator_r1 = Principal(Role.COORDINATOR, regions=frozenset({R1}))
    before = dashboard.summary(engine, coordinator_r1)
    assert before.matches == 0 and before.acceptance_rate is None
    assert before.median_days_to_introduction is None
    assert before.open_needs == before.needs == len(store.region_needs([R1]))
    start = datetime(2025, 3, 1, tzinfo=UTC)
    needs = ["demo-n-001", "demo-n-004", "demo-n-007", "demo-n-002"]
    made = []
    for need_id, days in zip(needs, (2, 4, 10, None)):
        s = engine.suggest(need_id, "partner", limit=1).suggestions[0]
        match = store.create_match(
            {"kind": "partner", "need_id": need_id, "association_id":
             store.get("needs", need_id)["association_id"], "item_id": s.item_id,
             "owner_id": s.owner_id, "score": s.score, "category": None, "reasons": []},
            actor="tests", role="admin", at=start.isoformat())
        store.transition_match(match["id"], version=1, from_status="proposed",
                               to_status="approved", action="approve", actor="tests",
                               role="admin", takes_slot=True)
        if days is None:
            store.transition_match(match["id"], version=2, from_status="approved",
                                   to_status="closed", action="decline", actor="tests",
                                   role="association")
        else:
            store.transition_match(match["id"], version=2, from_status="approved",
                                   to_status="introduced", action="accept", actor="tests",
                                   role="association", introduced=True,
                                   at=(start + timedelta(days=days)).isoformat())
        made.append(match)
    figures = dashboard.summary(engine, coordinator_r1)
    assert figures.by_status["introduced"] == 3 and figures.by_status["closed"] == 1
    assert list(figures.by_status) == list(lifecycle.STATES)
    assert (figures.accepted, figures.declined) == (3, 1)
    assert figures.acceptance_rate == pytest.approx(0.75)
    assert figures.median_days_to_introduction == pytest.approx(4)
    assert figures.open_needs == before.open_needs - 3  # introduced needs are no longer open
    assert sum(figures.by_category.values()) == figures.open_needs
    # The other region's figures are untouched; a coordinator asks only for their own.
    assert dashboard.summary(engine, Principal(Role.COORDINATOR, regions=frozenset({R2}))
                             ).matches == 0
    with pytest.raises(InvalidInput):
        dashboard.summary(engine, coordinator_r1, R2)
    with pytest.raises(Forbidden):
        dashboard.summary(engine, Principal(Role.PARTNER, partner_id="demo-p-01"))
    store.close()


def test_needs_without_a_viable_offering_are_those_the_engine_cannot_suggest_for(demo_copy):
    engine = Engine(load_settings(db=demo_copy))
    figures = dashboard.summary(engine, ADMIN)
    unserved = {n["id"] for n in figures.without_offering}
    for need in engine.store.region_needs(None):
        suggestions = engine.suggest(need["id"], "partner", limit=1).suggestions
        assert (need["id"] in unserved) == (not suggestions), need["id"]
    # With every offering closed, no open need can be served.
    store = engine.store
    doc = store.export_exchange()
    for partner in doc.partners:
        for offering in partner.offerings:
            offering.active = False
    store.import_exchange(doc)
    figures = dashboard.summary(engine, ADMIN, R1)
    assert len(figures.without_offering) == figures.open_needs > 0
    store.close()


# ---------------------------------------------------------------------- pieces
def test_migrations_add_contributions_and_reasons_by_language_to_existing_matches(tmp_path):
    migrations.apply(tmp_path / "old.db", stop_before="m008_match_contributions")
    db = Database(tmp_path / "old.db")
    db["matches"].insert({"kind": "partner", "need_id": "n", "association_id": "a",
                          "item_id": "o", "owner_id": "p", "status": "proposed",
                          "reasons": '["open to every region"]', "version": 1})
    db.close()
    migrations.apply(tmp_path / "old.db")
    db = Database(tmp_path / "old.db")
    assert {"contributions", "reasons_by_language"} <= set(db["matches"].columns_dict)
    db.close()
    store = Store(tmp_path / "old.db")
    old = store.get_match(1)
    assert old["contributions"] is None and old["reasons_by_language"] == {}
    assert old["reasons"] == ["open to every region"]
    store.close()


def test_bar_chart_scales_bars_escapes_labels_and_uses_no_style_attribute():
    svg = str(bar_chart("c", "Title <x>", "What it shows", [
        Bar("<b>big</b>", 10, "10"), Bar("half", 5, "5"), Bar("none", 0, "0")]))
    assert svg.startswith('<svg class="chart" id="c"') and svg.endswith("</svg>")
    assert "<title id=\"c-title\">Title &lt;x&gt;</title>" in svg
    assert "&lt;b&gt;big&lt;/b&gt;" in svg and "<b>" not in svg
    assert "style=" not in svg
    widths = [float(w) for w in re.findall(r'class="chart-bar"', svg) and
              re.findall(r'width="([\d.]+)" height="14" class="chart-bar"', svg)]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    assert str(bar_chart("e", "Empty", "Nothing", [])).count("<rect") == 0
