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


@migrations(name="m002_service")
def m002_service(db: Database) -> None:
    """Tokens, proposed matches and their audit trail; sensitive needs; contacts; validity."""
    db["needs"].add_column("sensitive", int)  # null: the default rule (sgbv is sensitive)
    db["offerings"].add_column("valid_until", str)  # ISO date; expired offerings are not suggested
    db["associations"].add_column("contact", str)  # JSON {name, phone, whatsapp, email}
    db["partners"].add_column("contact", str)
    db["tokens"].create(
        {"id": int, "token_hash": str, "role": str, "association_id": str, "partner_id": str,
         "regions": str, "label": str, "created_at": str, "revoked_at": str},
        pk="id", not_null={"token_hash", "role", "created_at"},
    )
    db["tokens"].create_index(["token_hash"], unique=True)
    db["matches"].create(
        {"id": int, "kind": str, "need_id": str, "association_id": str, "item_id": str,
         "owner_id": str, "status": str, "score": float, "reason": str, "note": str,
         "outcome": str, "created_at": str, "updated_at": str, "version": int},
        pk="id", not_null={"kind", "need_id", "association_id", "item_id", "owner_id", "status"},
        defaults={"version": 1},
    )
    db["matches"].create_index(["need_id", "kind", "item_id"], unique=True)
    db["matches"].create_index(["status"])
    db["matches"].create_index(["item_id", "status"])
    db["audit"].create(
        {"id": int, "match_id": int, "actor": str, "role": str, "at": str,
         "from_status": str, "to_status": str, "note": str},
        pk="id",
    )
    db["audit"].create_index(["match_id"])
