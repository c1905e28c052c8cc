"""API tokens: created, looked up by hash, revoked."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from matcher.errors import InvalidInput, NotFound
from matcher.principals import Principal, Role, hash_token, new_token
from matcher.store.base import BaseStore

MAX_LABEL = 200  # characters in a token's label


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class AuthMixin(BaseStore):
    """Tokens carry a role and a scope (an association, a partner or regions)."""

    def create_token(self, role: Role, *, association_id: str | None = None,
                     partner_id: str | None = None, regions: list[str] | None = None,
                     label: str = "") -> tuple[int, str]:
        """Store a new token's hash; return its id and the token (shown once)."""
        if len(label) > MAX_LABEL:
            raise InvalidInput(f"a label has at most {MAX_LABEL} characters", field="label")
        token = new_token()
        with self.writing():
            token_id = self.db.insert("tokens", {
                "token_hash": hash_token(token), "role": role.value,
                "association_id": association_id, "partner_id": partner_id,
                "regions": json.dumps(sorted(regions or [])), "label": label,
                "created_at": now()})
        return int(token_id), token

    def principal_for(self, token: str) -> Principal | None:
        """The caller a token stands for, or None when unknown or revoked."""
        row = self.db.execute(
            "select id, role, association_id, partner_id, regions, label from tokens "
            "where token_hash = :token_hash and revoked_at is null",
            {"token_hash": hash_token(token)}).fetchone()
        if row is None:
            return None
        token_id, role, association_id, partner_id, regions, label = row
        return Principal(role=Role(role), association_id=association_id, partner_id=partner_id,
                         regions=frozenset(json.loads(regions or "[]")), token_id=token_id,
                         label=label or "")

    def revoke_token(self, token_id: int) -> None:
        """The token stops working at once, and so do the web sessions signed in with it."""
        with self.writing():
            cursor = self.db.execute(
                "update tokens set revoked_at = :at where id = :id and revoked_at is null",
                {"at": now(), "id": token_id})
            if cursor.rowcount == 0:
                exists = self.db.execute("select 1 from tokens where id = :id",
                                         {"id": token_id}).fetchone()
                if not exists:
                    raise NotFound(f"no token with id {token_id}")
                raise InvalidInput(f"token {token_id} is already revoked", field="id")

    def tokens_page(self, limit: int = 25, offset: int = 0) -> tuple[list[dict], int]:
        """One page of the tokens' metadata, the newest first, and how many there are."""
        total = self.db.execute("select count(*) from tokens").fetchone()[0]
        ids = [row[0] for row in self.db.execute(
            "select id from tokens order by id desc limit :limit offset :offset",
            {"limit": limit, "offset": offset})]
        return [token for token_id in ids for token in self.tokens(token_id)], total

    def tokens(self, token_id: int | None = None) -> list[dict]:
        """Every token's metadata (never the token itself), or only that of ``token_id``."""
        where, params = ("where id = :id", {"id": token_id}) if token_id is not None else ("", {})
        cursor = self.db.execute(
            "select id, role, association_id, partner_id, regions, label, created_at, revoked_at "
            f"from tokens {where} order by id", params)
        names = list(cursor.keys())
        return [{**dict(zip(names, row)), "regions": json.loads(row[4] or "[]")}
                for row in cursor.fetchall()]
