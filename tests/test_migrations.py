"""Schema migrations: from a blank database on either backend (SQLite, PostgreSQL), idempotent,
one schema on both, databases of the former sqlite-utils runner carried on, servers starting
at once migrating once, and what the store relies on."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations as FormerMigrations

from matcher.exchange import parse_document
from matcher.migrations import TRACKER, Migrations, migrations
from matcher.reference import default_data_dir
from matcher.store import Store
from matcher.store.sql import create_engine

TABLES = {"partners", "offerings", "associations", "needs", "practices", "vectors", "meta"}
# What the sqlite-utils runner recorded, in order: databases it migrated carry these rows.
RELEASED = ["m001_initial", "m002_service", "m004_matches", "m006_users", "m007_vector_models",
            "m008_match_contributions", "m009_match_reasons_by_language",
            "m010_confidential_needs", "m011_idempotency", "m012_strength_and_unserved_needs",
            "m013_learning", "m015_notifications", "m016_rounds", "m018_search",
            "m019_partner_answers_and_comments", "m020_lessons", "m021_evidence_version",
            "m024_lesson_evidence"]
# Every migration, in order: those the former runner recorded, then the newer ones.
MIGRATIONS = [*RELEASED, "m025_corpus_changes", "m026_vectors_known",
              "m027_idempotency_expiry"]
# Column types as each backend spells them, to the one kind they stand for.
KINDS = {"TEXT": "text", "INTEGER": "integer", "BIGINT": "integer", "REAL": "float",
         "DOUBLE": "float", "DOUBLE PRECISION": "float", "FLOAT": "float", "BLOB": "binary",
         "BYTEA": "binary"}


def shape(target) -> dict[str, dict]:
    """Every table's columns (kind, nullable, default), key, foreign keys and unique and plain
    indexes, as both backends can be compared: without SQLite's FTS5 tables, PostgreSQL's
    ``rowid`` and the search indexes (each backend's own)."""
    engine = create_engine(target)
    try:
        inspector = sa.inspect(engine)
        columns, keys = inspector.get_multi_columns(), inspector.get_multi_pk_constraint()
        foreign_keys, indexes = inspector.get_multi_foreign_keys(), inspector.get_multi_indexes()
        uniques = inspector.get_multi_unique_constraints()
        found = {}
        for (schema, table), key in keys.items():
            if "_fts" in table:
                continue
            at = (schema, table)
            found[table] = {
                "columns": {c["name"]: (KINDS[str(c["type"]).upper()],
                                        c["nullable"] or c["name"] in key["constrained_columns"],
                                        _literal(c["default"]))
                            for c in columns[at] if c["name"] != "rowid"},
                "key": key["constrained_columns"],
                "foreign keys": sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"],
                     tuple(f["referred_columns"]), (f["options"].get("ondelete") or "").upper())
                    for f in foreign_keys[at]),
                "indexes": {(tuple(i["column_names"]), bool(i["unique"])) for i in indexes[at]
                            if not i["name"].endswith("_search")}
                | {(tuple(u["column_names"]), True) for u in uniques[at]},
            }
        return found
    finally:
        engine.dispose()


def _literal(default: str | None) -> str | None:
    """A column default without PostgreSQL's cast or a serial's sequence."""
    if default is None or default.startswith("nextval("):
        return None
    return default.split("::")[0].strip("'")


def value(target, sql: str):
    engine = create_engine(target)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()


def test_migrations_apply_to_a_blank_database(blank_target):
    assert migrations.applied(blank_target) == []

    assert migrations.apply(blank_target) == MIGRATIONS

    assert TABLES <= set(shape(blank_target))
    assert migrations.applied(blank_target) == MIGRATIONS
    assert migrations.pending(blank_target) == []


def test_tables_have_the_columns_and_keys_the_store_uses(blank_target):
    migrations.apply(blank_target)
    tables = shape(blank_target)
    offerings, associations = tables["offerings"], tables["associations"]
    assert offerings["key"] == ["id"]
    assert {"partner_id", "regions", "countries", "commodities", "languages", "women_led_only",
            "min_members", "requires_formal_license", "capacity", "active", "position"} <= \
        set(offerings["columns"])
    assert {"country", "region", "members", "women_led", "formal_license"} <= \
        set(associations["columns"])
    for table in ("needs", "practices"):
        assert {"association_id", "text", "category", "position"} <= set(
            tables[table]["columns"])
        assert [f[1] for f in tables[table]["foreign keys"]] == ["associations"]
    assert [f[1] for f in offerings["foreign keys"]] == ["partners"]
    assert tables["vectors"]["key"] == ["embedder", "content_hash"]
    assert {name: kind for name, (kind, _, _) in tables["vectors"]["columns"].items()} == {
        "embedder": "text", "content_hash": "text", "dim": "integer", "vector": "binary",
        "model": "text"}
    assert tables["matches"]["columns"]["score"][0] == "float"
    assert tables["matches"]["columns"]["version"][2] == "1"
    assert tables["lessons"]["columns"]["figures"] == ("text", False, "{}")
    assert (("need_id", "kind", "item_id"), True) in tables["matches"]["indexes"]
    assert (("match_id", "side"), True) in tables["lessons"]["indexes"]
    assert (("need_id",), "needs", ("id",), "CASCADE") in tables["unserved_needs"][
        "foreign keys"]
    assert tables["meta"]["key"] == ["key"]


def test_postgresql_gets_every_table_and_column_sqlite_has(tmp_path, postgres_url):
    migrations.apply(tmp_path / "blank.db")
    migrations.apply(postgres_url)

    on_sqlite, on_postgresql = shape(tmp_path / "blank.db"), shape(postgres_url)

    assert set(on_postgresql) == set(on_sqlite)
    for table, expected in on_sqlite.items():
        assert on_postgresql[table] == expected, table


def test_every_postgresql_table_numbers_its_rows_in_insertion_order(postgres_url):
    migrations.apply(postgres_url)
    engine = create_engine(postgres_url)
    try:
        inspector = sa.inspect(engine)
        for table in inspector.get_table_names():
            rowid = {c["name"]: c for c in inspector.get_columns(table)}["rowid"]
            assert str(rowid["type"]) == "BIGINT" and rowid["identity"], table
        with engine.connect() as connection:
            for key in ("b", "a", "c"):
                connection.execute(sa.text("insert into meta (key, value) values (:k, 'x')"),
                                   {"k": key})
            assert connection.execute(sa.text(
                "select key from meta where value = 'x' order by rowid")).scalars().all() == [
                "b", "a", "c"]
    finally:
        engine.dispose()


def test_applying_migrations_twice_is_a_no_op(blank_target):
    migrations.apply(blank_target)
    applied, before = migrations.applied(blank_target), shape(blank_target)

    assert migrations.apply(blank_target) == []

    assert migrations.applied(blank_target) == applied
    assert shape(blank_target) == before
    assert value(blank_target, f"select count(*) from {TRACKER}") == len(applied)


def test_migrations_work_in_memory_too():
    engine = sa.create_engine("sqlite://")
    migrations.apply(engine)
    assert TABLES <= set(sa.inspect(engine).get_table_names())


def test_opening_a_store_migrates_a_blank_database_once_and_keeps_data(blank_target):
    first = Store(blank_target)
    first.db.insert("meta", {"key": "probe", "value": "kept"}, returning=None)
    before = shape(blank_target)
    first.close()
    second = Store(blank_target)
    try:
        assert shape(blank_target) == before
        assert second.db.value("select value from meta where key = 'probe'") == "kept"
        assert second.db.value(f"select count(*) from {TRACKER}") == len(MIGRATIONS)
    finally:
        second.close()


def _as_the_former_runner_left_it(path, names: list[str]) -> None:
    """Record ``names`` in ``path`` as sqlite-utils' runner did (its own tracker table)."""
    db = Database(path)
    db[TRACKER].drop()
    former = FormerMigrations("delve_matcher")
    for name in names:
        former(name=name)(lambda db: None)
    former.apply(db)
    db.close()


def test_a_file_the_former_runner_migrated_gets_only_the_newer_migrations(tmp_path):
    path = tmp_path / "former.db"
    migrations.apply(path, stop_before=MIGRATIONS[len(RELEASED)])
    _as_the_former_runner_left_it(path, RELEASED)
    before = shape(path)

    store = Store(path)
    try:
        assert store.db.value(f"select count(*) from {TRACKER}") == len(MIGRATIONS)
        after = shape(path)
        known = (("embedder", "model", "dim", "content_hash"), False)  # m026's index
        assert known in after["vectors"]["indexes"]
        after["vectors"]["indexes"].discard(known)
        made = (("created_at",), False)  # m027's index
        assert made in after["idempotency"]["indexes"]
        after["idempotency"]["indexes"].discard(made)
        assert {t: after[t] for t in before} == before
        assert set(after) - set(before) == {"corpus_changes"}
    finally:
        store.close()
    assert migrations.apply(path) == []


def test_a_file_the_former_runner_left_part_way_gets_only_the_rest(tmp_path):
    path = tmp_path / "former.db"
    migrations.apply(path, stop_before="m018_search")
    done = RELEASED[:RELEASED.index("m018_search")]
    _as_the_former_runner_left_it(path, done)

    assert migrations.apply(path) == MIGRATIONS[len(done):]

    assert migrations.applied(path) == MIGRATIONS
    assert value(path, "select count(*) from needs_fts") == 0


def test_servers_starting_at_once_migrate_one_empty_database_once(blank_target):
    start, results, errors = threading.Barrier(3), [], []

    def server() -> None:
        start.wait()
        try:
            results.append(migrations.apply(blank_target))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=server) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(name for names in results for name in names) == sorted(MIGRATIONS)
    assert value(blank_target, f"select count(*) from {TRACKER}") == len(MIGRATIONS)
    assert migrations.applied(blank_target) == MIGRATIONS


def test_a_migration_that_fails_leaves_nothing_behind(blank_target):
    broken = Migrations("delve_matcher")
    for migration in migrations.all[:2]:
        broken(name=migration.name)(migration.fn)

    @broken(name="m999_broken")
    def m999_broken(db) -> None:
        db.create("half_done", {"id": int})
        db.execute("select no_such_column from half_done")

    with pytest.raises(sa.exc.DBAPIError):
        broken.apply(blank_target)

    assert broken.applied(blank_target) == RELEASED[:2]
    assert "half_done" not in shape(blank_target)


def test_evidence_version_counts_outcomes_and_lessons(blank_target):
    store = Store(blank_target)
    db = store.db
    try:
        def bump(sql: str) -> int:
            before = store.evidence_version()
            db.execute(sql)
            return store.evidence_version() - before

        assert store.evidence_version() == 0
        assert bump("insert into matches (id, kind, need_id, association_id, item_id, "
                    "owner_id, status) values (1, 'partner', 'n', 'a', 'o', 'p', 's')") == 0
        assert bump("update matches set outcome = 'worked' where id = 1") == 1
        assert bump("update matches set outcome = 'worked' where id = 1") == 0
        assert bump("update matches set outcome = null where id = 1") == 1
        assert bump("update matches set status = 't' where id = 1") == 0
        assert bump("insert into lessons (match_id, side, association_id, text, worked, "
                    "language, actor, role, created_at, updated_at) values "
                    "(1, 'association', 'a', 'x', 1, 'en', 'u', 'r', 't', 't')") == 1
        assert bump("update lessons set worked = 1") == 0
        assert bump("update lessons set worked = 0") == 1
        assert bump("update matches set outcome = 'failed' where id = 1") == 1
        assert bump("delete from matches where id = 1") == 2  # its lesson goes with it
        assert store.versions() == (store.data_version(), store.evidence_version())
        assert store.versions()[1] == 7  # the read a suggestion makes sees the bumps
    finally:
        store.close()


def test_store_enforces_foreign_keys(blank_target):
    store = Store(blank_target)
    try:
        with pytest.raises(sa.exc.IntegrityError):
            store.db.insert("needs", {"id": "n-orphan", "association_id": "no-such-association",
                                      "text": "x", "category": None, "position": 0},
                            returning=None)
        assert store.db.value("select count(*) from needs") == 0
    finally:
        store.close()


def test_a_postgresql_store_opens_migrated_and_imports_the_demo_data(postgres_url, ref):
    store = Store(postgres_url)
    try:
        assert store.db.value(f"select count(*) from {TRACKER}") == len(MIGRATIONS)
        doc = parse_document((default_data_dir() / "demo.json").read_bytes(), ref)
        store.import_exchange(doc)
        assert store.counts()["associations"] == len(doc.associations) > 0
        assert store.counts()["partners"] == len(doc.partners) > 0
    finally:
        store.close()
