"""`matcher migrate-store`: a whole database copied into another, empty one, row for row with
its ids, all or nothing, its counts checked. Real demo data with matches, lessons, users,
tokens, sessions, notifications and e-mails; the copy is made by the command itself.

The target is the ``target`` fixture: a new SQLite file here; a PostgreSQL URL is one more
parameter of it (an empty database per test)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from lesson_support import match_at_outcome
from typer.testing import CliRunner

from matcher.accounts.users import create_user
from matcher.cli import app as cli_app
from matcher.principals import Role
from matcher.services.migrate_store import migrate_store
from matcher.store import Mail, Store
from matcher.store import copy as store_copy
from matcher.store.copy import CopyRefused, tables_in_order

RENEWED = {"data_token", "vectors_token"}  # a copy's corpus tokens are its own


def run(*args: str):
    return CliRunner().invoke(cli_app, [str(a) for a in args])


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path) -> str:
    """The empty database a test copies into: a new SQLite file, or a new PostgreSQL
    database."""
    if request.param == "sqlite":
        return str(tmp_path / "copy.db")
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="module")
def source(demo_db, tmp_path_factory) -> Path:
    """The demo data with everything else a running exchange holds: matches at their
    outcome (their audit), a lesson, users, tokens (one revoked), a web session,
    notifications with e-mails (one deleted: ids with a gap)."""
    from support import copy_database

    db = copy_database(demo_db, tmp_path_factory.mktemp("migrate"))
    peer = match_at_outcome(db, "demo-n-008", "peer", "demo-pr-026", outcome="training")
    match_at_outcome(db, "demo-n-001", "partner", "demo-o-001", until="introduced")
    store = Store(db)
    try:
        store.save_lesson(store.get_match(peer), "association",
                          {"text": "Nous avons formé vingt membres à la sécurité.",
                           "worked": True, "figures": {"members_trained": 20},
                           "language": "fr"}, sensitive=False, region=None, actor="t",
                          role="association", actor_org="demo-a-03")
        user_id = create_user(store, "migrate-admin", "a long enough passphrase 1",
                              Role.ADMIN)
        create_user(store, "migrate-coord", "another long passphrase 2", Role.COORDINATOR,
                    regions=["africa_anglophone"])
        token_id, _ = store.create_token(Role.ADMIN, label="kept")
        revoked, _ = store.create_token(Role.PARTNER, partner_id="demo-p-01", label="gone")
        store.revoke_token(revoked)
        store.start_web_session(hashlib.sha256(b"cookie").hexdigest(), user_id=user_id)
        store.start_web_session(hashlib.sha256(b"cookie 2").hexdigest(), token_id=token_id)
        mails = [Mail(f"c{i}@example.org", "en", f"subject {i}", "body") for i in range(3)]
        store.add_notification("admin", "requested", None, {"need": "demo-n-001"}, mails)
        with store.writing() as db_:
            db_.execute("delete from outbox where id = (select min(id) from outbox)")
    finally:
        store.close()
    return db


def _dump(target: str | Path) -> dict[str, list[dict]]:
    """Every row of every copied table, in the order a copy keeps (meta without the
    renewed tokens)."""
    store = Store(target)
    try:
        with store.snapshot() as db:
            tables = tables_in_order(db)
            out = {}
            for table in tables:
                columns = store_copy._columns(db, table)
                order = store_copy._order(db, table, columns)
                names = ", ".join(f'"{c}"' for c in columns)
                out[table] = db.rows(f'select {names} from "{table}" order by {order}')
            out["meta"] = [r for r in out["meta"] if r["key"] not in RENEWED]
            return out
    finally:
        store.close()


def _counts(target: str | Path) -> dict[str, int]:
    return {table: len(rows) for table, rows in _dump(target).items()}


def test_every_table_is_copied_row_for_row_with_its_ids(source, target):
    result = run("migrate-store", "--from", source, "--to", target)

    assert result.exit_code == 0, result.output
    theirs, ours = _dump(source), _dump(target)
    assert list(ours) == list(theirs)
    for table in theirs:
        assert ours[table] == theirs[table], table
    for table in ("matches", "audit", "lessons", "lesson_audit", "users", "tokens",
                  "web_sessions", "notifications", "outbox", "vectors", "needs", "meta"):
        assert theirs[table], f"the source holds no {table}: the test proves nothing"
        if table != "meta":  # (the dump leaves out its renewed tokens)
            assert f"{table}: {len(theirs[table])} rows" in result.stdout.splitlines()
    assert not any(t.endswith("_fts") or "_fts_" in t or t.startswith("_") for t in theirs)


def test_the_copy_is_a_working_database_of_its_own(source, target):
    assert run("migrate-store", "--from", source, "--to", target).exit_code == 0
    old, new = Store(source), Store(target)
    try:
        assert {k: v for k, v in new.corpus_tokens().items() if k != "data_version"} != {
            k: v for k, v in old.corpus_tokens().items() if k != "data_version"}
        assert new.data_version() == old.data_version()
        assert new.evidence_version() == old.evidence_version()
        highest = max(t["id"] for t in old.tokens())
        token_id, token = new.create_token(Role.ADMIN, label="after the copy")
        assert token_id == highest + 1  # the ids go on after the copied ones
        assert new.principal_for(token) is not None
        kept = next(t for t in old.tokens() if t["label"] == "kept")
        assert [t["revoked_at"] for t in new.tokens() if t["id"] == kept["id"]] == [None]
        assert new.outbox(pending_only=True)[1] == old.outbox(pending_only=True)[1]
        if not new.postgresql:  # the full-text indexes filled themselves
            sql = "select count(*) from lessons_fts where lessons_fts match 'membres'"
            assert new.db.value(sql) == old.db.value(sql) == 1
    finally:
        old.close()
        new.close()


def test_a_target_that_holds_data_is_refused_and_left_as_it_was(source, target):
    assert run("migrate-store", "--from", source, "--to", target).exit_code == 0
    before = _dump(target)

    again = run("migrate-store", "--from", source, "--to", target)

    assert again.exit_code == 1
    assert again.stderr.strip().count("\n") == 0
    assert "already holds data" in again.stderr
    assert _dump(target) == before


def test_a_count_that_differs_after_the_copy_fails_and_keeps_nothing(source, target,
                                                                     monkeypatch):
    copy_table = store_copy._copy_table

    def losing_a_row(src, dst, table, done, total, progress):
        done = copy_table(src, dst, table, done, total, progress)
        if table == "outbox":
            dst.execute('delete from "outbox" where id = (select max(id) from "outbox")')
        return done

    monkeypatch.setattr(store_copy, "_copy_table", losing_a_row)
    result = run("migrate-store", "--from", source, "--to", target)

    assert result.exit_code == 1
    assert result.stderr.strip().startswith("Error: table outbox: 2 rows in the source, 1 copied")
    assert "\n" not in result.stderr.strip()
    if not target.startswith("postgresql"):
        assert not Path(target).exists()  # the file the command made is gone again
    else:
        assert not any(_counts(target)[t] for t in _counts(target) if t != "meta")


def test_the_copy_is_of_one_moment_of_a_source_being_written(source, tmp_path, target):
    live = tmp_path / "live.db"
    live.write_bytes(Path(source).read_bytes())
    writer = Store(live)
    counts = _counts(live)
    written = []

    def write_meanwhile(table, done, total):
        if table == "tokens" and not written:  # the copy is under way
            written.append(writer.create_token(Role.ADMIN, label="meanwhile")[0])

    try:
        report = migrate_store(live, target, write_meanwhile)
    finally:
        writer.close()

    assert written and _counts(live)["tokens"] == counts["tokens"] + 1
    assert report.target["tokens"] == counts["tokens"] == _counts(target)["tokens"]


@pytest.mark.parametrize("case", ["missing source", "same database"])
def test_a_copy_that_cannot_be_made_is_refused_with_one_line(source, tmp_path, case):
    args = {"missing source": (tmp_path / "nothing.db", tmp_path / "copy.db"),
            "same database": (source, source)}[case]

    result = run("migrate-store", "--from", args[0], "--to", args[1])

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stderr.strip().count("\n") == 0
    assert not (tmp_path / "nothing.db").exists() and not (tmp_path / "copy.db").exists()


def test_a_copy_refused_by_the_service_raises_one_line(source):
    with pytest.raises(CopyRefused, match="same database"):
        migrate_store(source, str(source))


def test_tables_come_after_the_tables_they_reference(source):
    store = Store(source)
    try:
        order = tables_in_order(store.db)
    finally:
        store.close()
    for parent, child in (("associations", "needs"), ("partners", "offerings"),
                          ("notifications", "notification_reads"), ("matches", "lessons"),
                          ("lessons", "lesson_audit")):
        assert order.index(parent) < order.index(child)
    assert order[-1] == "meta"  # after the triggers of the others raised its counters
