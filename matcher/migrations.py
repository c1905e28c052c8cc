"""Numbered schema migrations. Never edit one after release: add the next number."""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("delve_matcher")


@migrations(name="m001_initial")
def m001_initial(db: Database) -> None:
    db["partners"].create(
        {"id": str, "name": str, "type": str, "description": str, "languages": str},
        pk="id",
    )
    db["offerings"].create(
        {
            "id": str, "partner_id": str, "title": str, "description": str, "category": str,
            "regions": str, "countries": str, "languages": str, "commodities": str,
            "women_led_only": int, "min_members": int, "requires_formal_license": int,
            "capacity": int, "active": int, "position": int,
        },
        pk="id",
        foreign_keys=[("partner_id", "partners", "id")],
    )
    db["associations"].create(
        {
            "id": str, "name": str, "country": str, "region": str, "languages": str,
            "commodities": str, "members": int, "women_led": int, "formal_license": int,
            "description": str,
        },
        pk="id",
    )
    for table in ("needs", "practices"):
        db[table].create(
            {"id": str, "association_id": str, "text": str, "category": str, "position": int},
            pk="id",
            foreign_keys=[("association_id", "associations", "id")],
        )
        db[table].create_index(["association_id"])
    db["offerings"].create_index(["partner_id"])
    db["vectors"].create(
        {"embedder": str, "content_hash": str, "dim": int, "vector": bytes},
        pk=("embedder", "content_hash"),
    )
    db["meta"].create({"key": str, "value": str}, pk="key")
