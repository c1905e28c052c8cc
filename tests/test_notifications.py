"""Notifications: who is told of what, in which language, in-app and by e-mail through the
outbox, delivered over a real SMTP server on loopback (aiosmtpd), at least once and never lost.

Each test gets its own copy of the demo database (real model vectors, real SQLite file).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support import api_client, make_tokens

from matcher.accounts.users import create_user
from matcher.exchange import Association, Need, Partner
from matcher.principals import Role
from matcher.services.outbox import deliver_pending
from matcher.settings import load_settings
from matcher.store import Mail, Store

R1, R2 = "africa_anglophone", "africa_francophone"
NEED = "demo-n-001"  # demo-a-01 (Ghana, R1, English), category ohs
ASSOCIATION = "demo-a-01"
FR_ASSOCIATION, FR_NEED = "demo-a-07", "demo-n-017"  # DR Congo, R2, French
URL = "/api/v1/matches"
PASSWORD = "correct horse battery staple 42"


def _fields(model, row: dict) -> dict:
    return {k: row[k] for k in model.model_fields if k in row}


def set_email(store: Store, table: str, record_id: str, email: str) -> None:
    model = Association if table == "associations" else Partner
    row = store.get(table, record_id)
    store.update_record(table, model(**{**_fields(model, row),
                                        "contact": {**(row.get("contact") or {}),
                                                    "email": email}}))


@pytest.fixture
def world(db):
    """Coordinators with e-mail addresses (one per region, the R2 one reading French), the
    associations' and partners' contact e-mails, and API tokens."""
    store = Store(db)
    for name, region, lang in (("coord-r1", R1, "en"), ("coord-r2", R2, "fr")):
        create_user(store, name, PASSWORD, Role.COORDINATOR, regions=[region])
        store.set_user_contact(name, email=f"{name}@example.org", language=lang)
    set_email(store, "associations", ASSOCIATION, "nkwanta@example.org")
    set_email(store, "associations", FR_ASSOCIATION, "lualaba@example.org")
    for partner in ("demo-p-01", "demo-p-02", "demo-p-03", "demo-p-04", "demo-p-05",
                    "demo-p-06", "demo-p-07", "demo-p-08"):
        if store.get("partners", partner):
            set_email(store, "partners", partner, f"{partner}@example.org")
    store.close()
    return make_tokens(db, {
        "coord": (Role.COORDINATOR, {"regions": [R1]}),
        "coord_r2": (Role.COORDINATOR, {"regions": [R2]}),
        "assoc": (Role.ASSOCIATION, {"association_id": ASSOCIATION}),
        "assoc_fr": (Role.ASSOCIATION, {"association_id": FR_ASSOCIATION}),
        "admin": (Role.ADMIN, {}),
    })


@pytest.fixture
def client(db, world):
    with api_client(db) as test_client:
        yield test_client


def request_match(client, headers, need_id: str = NEED) -> dict:
    """The association asks for its need's first partner suggestion."""
    response = client.get(f"/api/v1/needs/{need_id}/suggestions",
                          params={"kind": "partner", "limit": 5}, headers=headers)
    assert response.status_code == 200, response.text
    item = response.json()["suggestions"][0]["offering_id"]
    response = client.post(URL, json={"need_id": need_id, "kind": "partner", "item_id": item},
                           headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def inbox(client, headers, **params) -> dict:
    response = client.get("/api/v1/notifications", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def deliver(db, mail_server, **when) -> None:
    store = Store(db)
    try:
        deliver_pending(store, load_settings(db=db, **mail_server.settings()), **when)
    finally:
        store.close()


# ---------------------------------------------------------------------- events and recipients
def test_a_request_tells_the_coordinators_of_its_region_and_no_one_else(client, world, db,
                                                                         mail_server):
    match = request_match(client, world["assoc"])

    told = inbox(client, world["coord"])
    assert [(n["event"], n["match_id"], n["read"]) for n in told["items"]] == [
        ("requested", match["id"], False)]
    assert told["unread"] == 1
    assert "Nkwanta" in told["items"][0]["text"]
    assert told["items"][0]["link"] == f"/review/{match['id']}"
    assert inbox(client, world["coord_r2"])["total"] == 0
    assert inbox(client, world["assoc"])["total"] == 0  # it made the request itself

    deliver(db, mail_server)
    assert [m["Subject"] for m in mail_server.to("coord-r1@example.org")] == [
        f"Delve Exchange: {told['items'][0]['text']}"]
    assert mail_server.to("coord-r2@example.org") == []
    assert len(mail_server.messages) == 1


def test_an_approval_tells_the_association_with_the_coordinators_note(client, world, db,
                                                                      mail_server):
    match = request_match(client, world["assoc"])
    note = "The trainer can come in the dry season; please keep two wardens free."
    response = client.post(f"{URL}/{match['id']}/approve", json={"note": note},
                           headers=world["coord"])
    assert response.status_code == 200, response.text

    told = inbox(client, world["assoc"])["items"]
    assert [(n["event"], n["note"]) for n in told] == [("approved", note)]
    assert told[0]["link"] == f"/matches/{match['id']}"
    deliver(db, mail_server)
    [mail] = mail_server.to("nkwanta@example.org")
    assert note in mail.get_content()
    assert f"/matches/{match['id']}" in mail.get_content()


def test_the_email_is_in_the_recipients_language(client, world, db, mail_server):
    match = request_match(client, world["assoc_fr"], FR_NEED)
    client.post(f"{URL}/{match['id']}/approve", json={"note": "Bonne chance"},
                headers=world["coord_r2"]).raise_for_status()

    deliver(db, mail_server)
    [to_coordinator] = mail_server.to("coord-r2@example.org")
    [to_association] = mail_server.to("lualaba@example.org")
    assert "a demandé une mise en relation" in to_coordinator["Subject"]
    assert to_coordinator["Content-Language"] == "fr"
    assert "Un coordinateur a approuvé votre demande" in to_association["Subject"]
    assert "La note du coordinateur : Bonne chance" in to_association.get_content()
    assert inbox(client, world["assoc_fr"], lang="es")["items"][0]["text"].startswith(
        "Un coordinador aprobó su solicitud")  # in-app: the reader's language


def test_an_introduction_tells_both_sides(client, world, db, mail_server):
    match = request_match(client, world["assoc"])
    client.post(f"{URL}/{match['id']}/approve", headers=world["coord"]).raise_for_status()
    client.post(f"{URL}/{match['id']}/accept", headers=world["assoc"]).raise_for_status()
    partner = make_tokens(db, {"p": (Role.PARTNER, {"partner_id": match["owner_id"]})})["p"]

    mine = [n["event"] for n in inbox(client, world["assoc"])["items"]]
    theirs = inbox(client, partner)["items"]
    assert mine == ["introduced", "approved"]
    assert [n["event"] for n in theirs] == ["introduced"]
    assert "Nkwanta" in theirs[0]["text"]
    assert theirs[0]["link"] == f"/partner/matches/{match['id']}"
    deliver(db, mail_server)
    assert len(mail_server.to("nkwanta@example.org")) == 2
    assert len(mail_server.to(f"{match['owner_id']}@example.org")) == 1


MARKER = "Zqx confidential: the foreman at shaft 7 threatens the women who carry ore"


def sensitive_match(db) -> dict:
    """A proposed match of demo-p-01's offering on a new sensitive need reading MARKER."""
    store = Store(db)
    try:
        store.create_record("needs", Need(id="n-marker", text=MARKER, category="ohs",
                                          sensitive=True), ASSOCIATION)
        return store.create_match({"kind": "partner", "need_id": "n-marker",
                                   "association_id": ASSOCIATION, "item_id": "demo-o-001",
                                   "owner_id": "demo-p-01", "score": 1.0},
                                  actor="test", role="admin")
    finally:
        store.close()


def test_a_sensitive_needs_words_never_reach_a_partner(client, world, db, mail_server):
    match = sensitive_match(db)
    note = "Her name is on the list at the clinic"
    for path, who in (("approve", "coord"), ("accept", "assoc")):
        response = client.post(f"{URL}/{match['id']}/{path}", json={"note": note},
                               headers=world[who])
        assert response.status_code == 200, response.text
    partner = make_tokens(db, {"p": (Role.PARTNER, {"partner_id": "demo-p-01"})})["p"]

    told = client.get("/api/v1/notifications", headers=partner).text
    deliver(db, mail_server)
    mails = [m.as_string() for m in mail_server.to("demo-p-01@example.org")]
    assert mails and "introduced" in told
    for text in (told, *mails):
        assert MARKER[:30] not in text and "shaft 7" not in text
        assert note not in text  # the coordinator's note is the association's only


def comment(client, headers, match_id: int, body: str, key: str | None = None) -> None:
    response = client.post(f"{URL}/{match_id}/comments", json={"body": body},
                           headers={**headers, **({"Idempotency-Key": key} if key else {})})
    assert response.status_code == 201, response.text


def commented(client, headers) -> list[int]:
    """The matches the reader was told of a comment on, newest first."""
    return [n["match_id"] for n in inbox(client, headers)["items"] if n["event"] == "commented"]


def test_a_comment_tells_everyone_else_who_reads_the_match(client, world, db, mail_server):
    match = request_match(client, world["assoc"])
    partner = make_tokens(db, {"p": (Role.PARTNER, {"partner_id": match["owner_id"]})})["p"]
    words = "Twelve of our members can come on the first Monday"

    comment(client, world["assoc"], match["id"], words, key="c-1")
    assert commented(client, partner) == [match["id"]]
    assert commented(client, world["coord"]) == [match["id"]]
    assert commented(client, world["assoc"]) == []  # its own comment
    assert commented(client, world["coord_r2"]) == []  # another region's
    comment(client, world["assoc"], match["id"], words, key="c-1")  # a retry tells no one
    assert len(commented(client, partner)) == len(commented(client, world["coord"])) == 1

    comment(client, partner, match["id"], "Monday suits our trainer")
    comment(client, world["coord"], match["id"], "Noted")
    assert len(commented(client, world["assoc"])) == 2
    assert len(commented(client, partner)) == 2  # the association's and the coordinator's
    assert len(commented(client, world["coord"])) == 2  # the association's and the partner's

    told = inbox(client, partner)["items"][0]
    assert told["text"].startswith(f"New comment on match {match['id']} (")
    assert inbox(client, partner, lang="fr")["items"][0]["text"].startswith(
        f"Nouveau commentaire sur la mise en relation {match['id']} (")
    assert told["link"] == f"/partner/matches/{match['id']}"
    assert inbox(client, world["assoc_fr"])["total"] == 0
    deliver(db, mail_server)
    mails = mail_server.to(f"{match['owner_id']}@example.org")
    assert len(mails) == 2 and all("New comment on match" in m["Subject"] for m in mails)
    # the comment's words stay in the thread: never in a notification or an e-mail
    for headers in (partner, world["coord"], world["assoc"]):
        assert words not in client.get("/api/v1/notifications", headers=headers).text
    assert not [m for _, m in mail_server.messages if words in m.as_string()]


def test_a_comment_on_a_sensitive_need_names_no_association_to_the_partner(client, world, db):
    match = sensitive_match(db)
    partner = make_tokens(db, {"p": (Role.PARTNER, {"partner_id": "demo-p-01"})})["p"]

    comment(client, world["assoc"], match["id"], "Can your nurse come alone?")
    told = client.get("/api/v1/notifications", headers=partner).text
    assert "commented" in told
    assert "Nkwanta" not in told and MARKER[:30] not in told


def test_a_peer_matchs_practice_owner_is_told_of_comments_once_introduced(client, world, db):
    need, practice = "demo-n-004", "demo-pr-001"  # demo-a-02's need, demo-a-01's practice
    response = client.post(URL, json={"need_id": need, "kind": "peer", "item_id": practice},
                           headers=world["coord"])
    assert response.status_code == 201, response.text
    match = response.json()
    other = make_tokens(db, {"b": (Role.ASSOCIATION, {"association_id": "demo-a-02"})})["b"]

    comment(client, world["coord"], match["id"], "Before the visit")
    assert commented(client, other) == [match["id"]]  # the need's association
    assert commented(client, world["assoc"]) == []  # the practice's, not introduced yet
    client.post(f"{URL}/{match['id']}/approve", headers=world["coord"]).raise_for_status()
    client.post(f"{URL}/{match['id']}/accept", headers=other).raise_for_status()
    comment(client, other, match["id"], "After the introduction")
    assert commented(client, world["assoc"]) == [match["id"]]


# ---------------------------------------------------------------------- in-app
def test_unread_count_and_mark_read_are_per_reader(client, world, db):
    first = request_match(client, world["assoc"])
    request_match(client, world["assoc"], "demo-n-003")
    other_coordinator = make_tokens(db, {"c": (Role.COORDINATOR, {"regions": [R1]})})["c"]
    assert inbox(client, world["coord"])["unread"] == 2

    [one] = [n for n in inbox(client, world["coord"])["items"] if n["match_id"] == first["id"]]
    assert client.post(f"/api/v1/notifications/{one['id']}/read",
                       headers=world["coord"]).status_code == 204
    assert inbox(client, world["coord"])["unread"] == 1
    assert [n["match_id"] for n in inbox(client, world["coord"], unread=True)["items"]] != [
        first["id"]]
    assert inbox(client, other_coordinator)["unread"] == 2  # its own marks
    assert client.post("/api/v1/notifications/read-all",
                       headers=world["coord"]).json() == {"marked": 1}
    assert inbox(client, world["coord"])["unread"] == 0
    # someone else's notification does not exist for the caller
    assert client.post(f"/api/v1/notifications/{one['id']}/read",
                       headers=world["coord_r2"]).status_code == 404


def test_preferences_switch_an_event_off_per_channel(client, world, db, mail_server):
    response = client.put("/api/v1/notifications/preferences", headers=world["assoc"],
                          json={"preferences": [{"event": "approved", "channel": "email",
                                                 "enabled": False}]})
    assert response.status_code == 200, response.text
    assert [p for p in response.json()["preferences"] if p["event"] == "approved"] == [
        {"event": "approved", "channel": "app", "enabled": True},
        {"event": "approved", "channel": "email", "enabled": False}]
    match = request_match(client, world["assoc"])
    client.post(f"{URL}/{match['id']}/approve", headers=world["coord"]).raise_for_status()

    assert [n["event"] for n in inbox(client, world["assoc"])["items"]] == ["approved"]
    deliver(db, mail_server)
    assert mail_server.to("nkwanta@example.org") == []
    client.put("/api/v1/notifications/preferences", headers=world["coord"],
               json={"preferences": [{"event": "requested", "channel": "app",
                                      "enabled": False}]}).raise_for_status()
    assert inbox(client, world["coord"])["total"] == 0


def test_bad_preferences_are_a_422_naming_the_field(client, world):
    response = client.put("/api/v1/notifications/preferences", headers=world["assoc"],
                          json={"preferences": [{"event": "<b>party</b>", "channel": "email",
                                                 "enabled": False}]})
    assert response.status_code == 422
    assert "<b>party</b>" not in response.text


# ---------------------------------------------------------------------- delivery
def queue(db, count: int) -> None:
    store = Store(db)
    for n in range(count):
        store.queue_mail(Mail(f"someone{n}@example.org", "en", f"Message {n}", "Hello\n"),
                         "approved")
    store.close()


def test_a_mail_server_that_is_down_loses_nothing_and_each_message_arrives_once(db,
                                                                                mail_server):
    queue(db, 5)
    mail_server.stop()
    deliver(db, mail_server)
    store = Store(db)
    rows, counts = store.outbox()
    assert counts == {"pending": 5, "sent": 0, "failing": 5}
    assert all(r["attempts"] == 1 and r["last_error"] for r in rows)
    deliver(db, mail_server)  # not due yet: backing off
    assert all(r["attempts"] == 1 for r in store.outbox()[0])

    mail_server.start()
    later = datetime.now(UTC) + timedelta(hours=1)
    deliver(db, mail_server, now=later)
    deliver(db, mail_server, now=later + timedelta(hours=1))

    ids = [m["Message-ID"] for _, m in mail_server.messages]
    assert len(ids) == 5 and len(set(ids)) == 5
    assert {m["To"] for _, m in mail_server.messages} == {
        f"someone{n}@example.org" for n in range(5)}
    assert store.outbox()[1] == {"pending": 0, "sent": 5, "failing": 0}
    store.close()


def test_without_a_mail_server_the_outbox_holds_the_messages(db):
    queue(db, 2)
    store = Store(db)
    result = deliver_pending(store, load_settings(db=db))
    assert (result.sent, result.failed, result.held) == (0, 0, 2)
    assert store.outbox()[1]["pending"] == 2
    store.close()


def test_the_outbox_is_for_admins(client, world, db):
    queue(db, 1)
    assert client.get("/api/v1/outbox", headers=world["assoc"]).status_code == 403
    page = client.get("/api/v1/outbox", headers=world["admin"]).json()
    assert page["pending"] == 1 and page["items"][0]["recipient"] == "someone0@example.org"
    assert "body" not in page["items"][0]


# ---------------------------------------------------------------------- the command line
def smtp_env(mail_server) -> dict[str, str]:
    return {"MATCHER_SMTP_HOST": mail_server.host, "MATCHER_SMTP_PORT": str(mail_server.port)}


def test_matcher_notify_delivers_what_is_pending_and_exits(db, mail_server):
    from typer.testing import CliRunner

    from matcher.cli import app
    queue(db, 2)

    first = CliRunner().invoke(app, ["notify", "--db", str(db)], env=smtp_env(mail_server))
    again = CliRunner().invoke(app, ["notify", "--db", str(db)], env=smtp_env(mail_server))

    assert first.exit_code == 0, first.output
    assert "2 sent, 0 failed" in first.output
    assert "0 sent, 0 failed" in again.output
    assert len(mail_server.messages) == 2


def test_matcher_notify_without_a_mail_server_holds_the_messages(db):
    from typer.testing import CliRunner

    from matcher.cli import app
    queue(db, 1)

    result = CliRunner().invoke(app, ["notify", "--db", str(db)])

    assert result.exit_code == 0, result.output
    assert "1 held (no MATCHER_SMTP_HOST)" in result.output


def test_the_digest_tells_each_coordinator_of_its_regions(client, world, db, mail_server):
    from typer.testing import CliRunner

    from matcher.cli import app
    request_match(client, world["assoc"])
    for message in list(mail_server.messages):
        mail_server.messages.remove(message)

    result = CliRunner().invoke(app, ["notify", "--db", str(db), "--digest"],
                                env=smtp_env(mail_server))

    assert result.exit_code == 0, result.output
    [digest] = [m for m in mail_server.to("coord-r1@example.org")
                if "digest" in m["Subject"]]
    assert "new requests since yesterday 1; waiting for review 1" in digest.get_content()
    [digest_fr] = [m for m in mail_server.to("coord-r2@example.org")]
    assert "nouvelles demandes depuis hier 0" in digest_fr.get_content()


def test_a_match_active_too_long_reminds_the_coordinators_once(client, world, db):
    from matcher.ranking.engine import Engine
    from matcher.workflow.notifications import remind_stale
    match = request_match(client, world["assoc"])
    for path, who in (("approve", "coord"), ("accept", "assoc"), ("activate", "coord")):
        client.post(f"{URL}/{match['id']}/{path}", headers=world[who]).raise_for_status()
    engine = Engine(load_settings(db=db))
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="seconds")
    with engine.store.writing() as conn:
        conn.execute("update matches set updated_at = :old where id = :id",
                     {"old": old, "id": match["id"]})

    assert remind_stale(engine, 30) == 1
    assert remind_stale(engine, 30) == 0
    engine.store.close()
    reminders = [n for n in inbox(client, world["coord"])["items"] if n["event"] == "reminder"]
    assert [n["match_id"] for n in reminders] == [match["id"]]
    assert "40" not in reminders[0]["text"] and "30 days" in reminders[0]["text"]


def test_matcher_outbox_lists_and_shows_a_message(db):
    from typer.testing import CliRunner

    from matcher.cli import app
    queue(db, 2)

    listing = CliRunner().invoke(app, ["outbox", "--db", str(db)])
    one = CliRunner().invoke(app, ["outbox", "--db", str(db), "--id", "1"])
    missing = CliRunner().invoke(app, ["outbox", "--db", str(db), "--id", "99"])

    assert listing.exit_code == 0 and "2 pending (0 failing), 0 sent" in listing.output
    assert "someone1@example.org" in listing.output
    assert "message_id: <outbox-1." in one.output and "Hello" in one.output
    assert missing.exit_code == 1
    assert missing.output.strip().splitlines() == ["Error: no outbox message with id 99"]


def test_matcher_serve_delivers_the_outbox_in_the_background(db, world, mail_server):
    """A request made over HTTP reaches the coordinator's mailbox with nobody running
    `matcher notify`: the server's courier sends it (the test waits for it to arrive)."""
    import time

    import httpx
    from servers import serve_app

    from api.app import create_app
    app = create_app(load_settings(db=db, notify_interval=0.2, **mail_server.settings()))
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=120) as http:
        suggestions = http.get(f"/api/v1/needs/{NEED}/suggestions",
                               params={"kind": "partner", "limit": 1}, headers=world["assoc"])
        item = suggestions.json()["suggestions"][0]["offering_id"]
        http.post(URL, json={"need_id": NEED, "kind": "partner", "item_id": item},
                  headers=world["assoc"]).raise_for_status()
        deadline = time.monotonic() + 120  # a guard against a hang, not a measure
        while not mail_server.to("coord-r1@example.org") and time.monotonic() < deadline:
            time.sleep(0.1)

    [mail] = mail_server.to("coord-r1@example.org")
    assert "asked for a match" in mail["Subject"]
    store = Store(db)
    assert store.outbox()[1]["sent"] == 1
    store.close()


def test_erasing_an_association_erases_what_it_was_told_and_what_was_told_of_it(client, world,
                                                                                  db):
    match = request_match(client, world["assoc"])
    client.post(f"{URL}/{match['id']}/approve", json={"note": "ok"},
                headers=world["coord"]).raise_for_status()
    assert inbox(client, world["coord"])["total"] == 1

    response = client.delete(f"/api/v1/associations/{ASSOCIATION}", headers=world["admin"])

    assert response.status_code == 200, response.text
    assert response.json()["deleted"]["notifications"] == 2
    assert inbox(client, world["coord"])["total"] == 0
    store = Store(db)
    assert all(r["recipient"] != "nkwanta@example.org" for r in store.outbox()[0])
    store.close()


def test_matcher_user_create_keeps_a_coordinators_email_and_language(db):
    from typer.testing import CliRunner

    from matcher.cli import app
    args = ["user", "create", "--db", str(db), "--username", "coord-new", "--role",
            "coordinator", "--region", R1, "--password-stdin"]

    made = CliRunner().invoke(app, [*args, "--email", "new@example.org", "--language", "es"],
                              input=PASSWORD + "\n")
    bad = CliRunner().invoke(app, [*args[:4], "--username", "coord-bad", *args[6:],
                                   "--email", "nope"], input=PASSWORD + "\n")

    assert made.exit_code == 0, made.output
    store = Store(db)
    assert store.user_contact("coord-new") == {"email": "new@example.org", "language": "es"}
    store.close()
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines() == ["Error: --email is not an e-mail address"]


def test_a_preference_is_true_or_false_not_a_number(client, world):
    response = client.put("/api/v1/notifications/preferences", headers=world["assoc"],
                          json={"preferences": [{"event": "approved", "channel": "app",
                                                 "enabled": 0}]})
    assert response.status_code == 422
