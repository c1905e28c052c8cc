"""Schema migrations: from a blank database, idempotent, and what the store relies on."""

from __future__ import annotations

import pytest
import sqlalchemy
from sqlite_utils import Database

from matcher.migrations import migrations
from matcher.store import Store

TABLES = {"partners", "offerings", "associations", "needs", "practices", "vectors", "meta"}


def all_migrations() -> list[str]:
    """The name of every migration, in order (what a blank database still has to apply)."""
    return [m.name for m in migrations.pending(Database(memory=True))]


def schema(db: Database) -> list[tuple]:
    return db.execute(
        "select type, name, sql from sqlite_master where name not like 'sqlite_%' "
        "order by type, name").fetchall()


def test_migrations_apply_to_a_blank_database(tmp_path):
    db = Database(tmp_path / "blank.db")
    assert db.table_names() == []
    migrations.apply(db)
    assert TABLES <= set(db.table_names())
    assert all_migrations()[0] == "m001_initial"
    assert [m.name for m in migrations.applied(db)] == all_migrations()
    assert migrations.pending(db) == []


def test_tables_have_the_columns_and_keys_the_store_uses(tmp_path):
    db = Database(tmp_path / "blank.db")
    migrations.apply(db)
    assert db["offerings"].pks == ["id"]
    assert {"partner_id", "regions", "countries", "commodities", "languages", "women_led_only",
            "min_members", "requires_formal_license", "capacity", "active", "position"} <= \
        set(db["offerings"].columns_dict)
    assert {"country", "region", "members", "women_led", "formal_license"} <= \
        set(db["associations"].columns_dict)
    for table in ("needs", "practices"):
        assert {"association_id", "text", "category", "position"} <= set(db[table].columns_dict)
        assert [fk.other_table for fk in db[table].foreign_keys] == ["associations"]
    assert [fk.other_table for fk in db["offerings"].foreign_keys] == ["partners"]
    assert db["vectors"].pks == ["embedder", "content_hash"]
    assert set(db["vectors"].columns_dict) == {"embedder", "content_hash", "dim", "vector",
                                               "model"}
    assert db["meta"].pks == ["key"]


def test_applying_migrations_twice_is_a_no_op(tmp_path):
    db = Database(tmp_path / "blank.db")
    migrations.apply(db)
    applied, shape = migrations.applied(db), schema(db)
    migrations.apply(db)
    assert migrations.applied(db) == applied
    assert schema(db) == shape
    assert db["_sqlite_migrations"].count == len(applied)


def test_migrations_work_in_memory_too():
    db = Database(memory=True)
    migrations.apply(db)
    assert TABLES <= set(db.table_names())


def test_opening_a_store_migrates_a_blank_file_once_and_keeps_data(empty_db):
    first = Store(empty_db)
    first.db.insert("meta", {"key": "probe", "value": "kept"}, returning=None)
    shape = schema(Database(empty_db))
    first.close()
    second = Store(empty_db)
    try:
        assert schema(Database(empty_db)) == shape
        assert second.db.value("select value from meta where key = 'probe'") == "kept"
        assert second.db.value("select count(*) from _sqlite_migrations") == len(all_migrations())
    finally:
        second.close()


def test_store_enforces_foreign_keys(store):
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        store.db.insert("needs", {"id": "n-orphan", "association_id": "no-such-association",
                                  "text": "x", "category": None, "position": 0}, returning=None)
    assert store.db.value("select count(*) from needs") == 0
