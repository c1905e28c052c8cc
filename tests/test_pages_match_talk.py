"""The partner answers a match on its page (accept, or decline with a reason), and every party
comments on the match from its own page; on a confidential match the partner reads the
association's comments as "The association", and never the need's words."""

from __future__ import annotations

from pages_support import page_fixtures, post, sign_in, text_of

from matcher.principals import Principal, Role
from matcher.workflow import lifecycle

USERS = {
    "women-network": (Role.PARTNER, {"partner_id": "demo-p-12"}),
    "safe-shafts": (Role.PARTNER, {"partner_id": "demo-p-01"}),
    "umoja": (Role.ASSOCIATION, {"association_id": "demo-a-02"}),
    "coord-africa": (Role.COORDINATOR, {"regions": ["africa_anglophone"]}),
}
ADMIN = Principal(Role.ADMIN, label="pages test")
SGBV_NEED = "demo-n-005"  # Umoja Women Miners Group (demo-a-02), category sgbv
SGBV_WORDS = "kunyanyaswa kingono"  # words of its text, which partners must not read
SAFE_SPACES = "demo-o-034"  # Women in Mining Solidarity Network's sgbv offering

pages_db, app, module_client, client, engine = page_fixtures(USERS)


def _confidential_match(engine) -> int:
    found = engine.store.find_match(SGBV_NEED, "partner", SAFE_SPACES)
    if found is not None:
        return found["id"]
    return lifecycle.propose(engine, ADMIN, SGBV_NEED, "partner", SAFE_SPACES)["id"]


def test_the_partner_declines_with_a_reason_and_the_coordinator_reads_it(client, engine):
    match_id = _confidential_match(engine)
    page = f"/partner/matches/{match_id}"
    sign_in(client, "women-network")

    without = post(client, f"{page}/answer", {"answer": "declined"}, page=page)
    assert without.status_code == 303 and "problem=answer" in without.headers["location"]
    done = post(client, f"{page}/answer", {"answer": "declined", "reason": "no_capacity",
                                           "note": "full until June"}, page=page)
    assert done.status_code == 303 and "done=declined" in done.headers["location"]
    text = text_of(client.get(done.headers["location"]).text)
    assert "Your answer was recorded" in text
    assert "The partner declined" in text and "No capacity at the moment" in text
    assert engine.store.get_match(match_id)["status"] == "proposed"

    sign_in(client, "coord-africa")
    review = text_of(client.get(f"/review/{match_id}").text)
    assert "The partner declined" in review and "full until June" in review


def test_another_partner_finds_no_form_to_answer_or_comment(client, engine):
    match_id = _confidential_match(engine)
    sign_in(client, "safe-shafts")
    answer = post(client, f"/partner/matches/{match_id}/answer",
                  {"answer": "accepted"}, page="/partner/matches")
    comment = post(client, f"/matches/{match_id}/comments", {"body": "hello"},
                   page="/partner/matches")
    assert answer.status_code == 404 and comment.status_code == 404


def test_comments_reach_every_party_and_the_association_stays_anonymous(client, engine):
    match_id = _confidential_match(engine)
    association = engine.store.get("associations", "demo-a-02")

    sign_in(client, "umoja")
    mine = post(client, f"/matches/{match_id}/comments",
                {"body": "Can the sessions be held in Swahili?"}, page=f"/matches/{match_id}")
    assert mine.status_code == 303
    assert mine.headers["location"] == f"/matches/{match_id}?done=commented#comments"
    assert "until you accept the introduction" in text_of(client.get(
        f"/matches/{match_id}").text)
    blank = post(client, f"/matches/{match_id}/comments", {"body": "  "},
                 page=f"/matches/{match_id}")
    assert "problem=comment" in blank.headers["location"]

    sign_in(client, "women-network")
    page = f"/partner/matches/{match_id}"
    reply = post(client, f"/matches/{match_id}/comments",
                 {"body": "Yes, our trainers speak Swahili."}, page=page)
    assert reply.headers["location"] == f"{page}?done=commented#comments"
    html = client.get(page).text
    text = text_of(html)
    assert "Can the sessions be held in Swahili?" in text
    assert "Yes, our trainers speak Swahili." in text
    assert "The association" in text
    assert association["name"] not in html and "demo-a-02" not in html
    assert "umoja" not in html and SGBV_WORDS not in html

    sign_in(client, "coord-africa")
    review = text_of(client.get(f"/review/{match_id}").text)
    assert "Can the sessions be held in Swahili?" in review
    assert "Yes, our trainers speak Swahili." in review


def test_the_association_reads_its_own_request_as_requested_with_what_is_offered(client,
                                                                                engine):
    umoja = Principal(Role.ASSOCIATION, association_id="demo-a-02", label="umoja test")
    taken = {m["item_id"] for m in engine.store.list_matches(
        lifecycle.MatchQuery(need_id=SGBV_NEED))[0]}
    item_id = next(s.item_id for s in engine.suggest(SGBV_NEED, "partner", limit=20).suggestions
                   if s.item_id not in taken)
    own = lifecycle.propose(engine, umoja, SGBV_NEED, "partner", item_id)
    by_admin = _confidential_match(engine)
    offering = engine.store.get("offerings", item_id)

    sign_in(client, "umoja")
    html = client.get(f"/matches/{own['id']}").text
    text = text_of(html)
    assert "Requested" in text and "Proposed" not in text
    assert offering["description"][:60] in text
    assert f'href="/offerings/{item_id}"' in html
    assert "Proposed" in text_of(client.get(f"/matches/{by_admin}").text)
    assert "Requested" in text_of(client.get(f"/needs/{SGBV_NEED}").text)
    assert lifecycle.view(engine, umoja, engine.store.get_match(own["id"]))["status_word"] \
        == "requested"
