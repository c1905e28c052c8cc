"""Web users (username + scrypt password hash, with a role and a scope like tokens), the web
sessions signed in with a user or a token, and the secret the web pages sign CSRF tokens with."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

from matcher.errors import Conflict, InvalidInput, NotFound
from matcher.principals import Principal, Role, normalise_username
from matcher.store import dialect
from matcher.store.base import BaseStore


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class UsersMixin(BaseStore):
    """Users are created by an admin (``matcher user create``); passwords are never stored."""

    # ------------------------------------------------------------------ users
    def create_user(self, username: str, password_hash: str, role: Role, *,
                    association_id: str | None = None, partner_id: str | None = None,
                    regions: list[str] | None = None, replace: bool = False) -> int:
        """Store a new user (or, with ``replace``, give an existing one this password hash,
        role and scope, ending its sessions); return its id. The rules for names and
        passwords are :mod:`matcher.accounts.users`'s."""
        name = normalise_username(username)
        row = {"password_hash": password_hash, "role": role.value,
               "association_id": association_id, "partner_id": partner_id,
               "regions": json.dumps(sorted(regions or []))}
        with self.writing():
            existing = self.db.execute("select id from users where username = :username",
                                       {"username": name}).fetchone()
            if existing and not replace:
                raise Conflict(f"user {name!r} already exists")
            if existing:
                self.db.execute(
                    "update users set password_hash = :password_hash, role = :role, "
                    "association_id = :association_id, partner_id = :partner_id, "
                    "regions = :regions, disabled_at = null where id = :id",
                    {**row, "id": existing[0]})
                self.db.execute("delete from web_sessions where user_id = :user_id",
                                {"user_id": existing[0]})
                return int(existing[0])
            return int(self.db.insert("users", {"username": name, **row,
                                                "created_at": _now().isoformat()}))

    def password_hash_of(self, username: str) -> tuple[int, str] | None:
        """The id and stored password hash of the active user ``username``, or None."""
        row = self.db.execute(
            "select id, password_hash from users where username = :username and "
            "disabled_at is null", {"username": normalise_username(username)}).fetchone()
        return (int(row[0]), row[1]) if row else None

    def disable_user(self, username: str) -> None:
        """The user can no longer sign in; their open sessions end at once."""
        name = normalise_username(username)
        with self.writing():
            row = self.db.execute("select id, disabled_at from users where username = :username",
                                  {"username": name}).fetchone()
            if row is None:
                raise NotFound(f"no user {name!r}")
            if row[1]:
                raise InvalidInput(f"user {name!r} is already disabled", field="username")
            self.db.execute("update users set disabled_at = :at where id = :id",
                            {"at": _now().isoformat(), "id": row[0]})
            self.db.execute("delete from web_sessions where user_id = :user_id",
                            {"user_id": row[0]})

    def users(self, user_id: int | None = None) -> list[dict]:
        """Every user's metadata (never the password hash), or only that of ``user_id``."""
        where = "1 = 1" if user_id is None else "id = :id"
        cursor = self.db.execute(
            "select id, username, role, association_id, partner_id, regions, created_at, "
            f"disabled_at from users where {where} order by id",
            {} if user_id is None else {"id": user_id})
        names = list(cursor.keys())
        return [{**dict(zip(names, row)), "regions": json.loads(row[5] or "[]")}
                for row in cursor.fetchall()]

    def find_users(self, text: str = "", limit: int = 25, offset: int = 0
                   ) -> tuple[list[dict], int]:
        """One page of the users whose username contains ``text`` (any case), in id order,
        and how many there are in all."""
        needle = text.strip().casefold()
        where = dialect.contains(self.db, "username", "needle") if needle else "1 = 1"
        params = {"needle": needle} if needle else {}
        total = self.db.execute(f"select count(*) from users where {where}",
                                params).fetchone()[0]
        ids = [row[0] for row in self.db.execute(
            f"select id from users where {where} order by id limit :limit offset :offset",
            {**params, "limit": limit, "offset": offset}).fetchall()]
        return [user for user_id in ids for user in self.users(user_id)], total

    def change_user(self, user_id: int, *, password_hash: str | None = None,
                    role: Role | None = None, association_id: str | None = None,
                    partner_id: str | None = None, regions: list[str] | None = None,
                    enable: bool = False) -> None:
        """Give user ``user_id`` a new password hash, a new role and scope (``role`` with its
        scope), or sign-in again (``enable``: a disabled user). Their open sessions end, so
        that nobody stays signed in under the old password or rights. NotFound when the user
        is gone; InvalidInput when ``enable`` names a user who is not disabled."""
        with self.writing():
            row = self.db.execute("select disabled_at from users where id = :id",
                                  {"id": user_id}).fetchone()
            if row is None:
                raise NotFound(f"no user with id {user_id}")
            if enable and not row[0]:
                raise InvalidInput("this user is not disabled", field="user")
            changes: dict = {}
            if password_hash is not None:
                changes["password_hash"] = password_hash
            if role is not None:
                changes.update(role=role.value, association_id=association_id,
                               partner_id=partner_id, regions=json.dumps(sorted(regions or [])))
            if enable:
                changes["disabled_at"] = None
            if changes:
                self.db.execute(
                    f"update users set {', '.join(f'{k} = :{k}' for k in changes)} "
                    "where id = :user_id", {**changes, "user_id": user_id})
                self.db.execute("delete from web_sessions where user_id = :user_id",
                                {"user_id": user_id})

    # ------------------------------------------------------------------ web sessions
    def start_web_session(self, session_hash: str, *, user_id: int | None = None,
                          token_id: int | None = None, hours: float = 12.0) -> None:
        """Record a signed-in session (by the hash of its cookie value), for a user or a token;
        expired sessions are cleared on the way."""
        if (user_id is None) == (token_id is None):
            raise ValueError("a web session belongs to exactly one user or one token")
        now = _now()
        with self.writing():
            self.db.execute("delete from web_sessions where expires_at <= :now",
                            {"now": now.isoformat()})
            self.db.insert("web_sessions", {
                "session_hash": session_hash, "user_id": user_id, "token_id": token_id,
                "created_at": now.isoformat(),
                "expires_at": (now + timedelta(hours=hours)).isoformat()}, returning=None)

    def web_session(self, session_hash: str) -> tuple[Principal, dict] | None:
        """The caller behind a live session and the session's facts (``created_at``,
        ``username``), or None when it is unknown, expired, or its user or token is gone."""
        row = self.db.execute(
            "select s.created_at, s.user_id, s.token_id, u.username, "
            "coalesce(u.role, t.role), coalesce(u.association_id, t.association_id), "
            "coalesce(u.partner_id, t.partner_id), coalesce(u.regions, t.regions), t.label "
            "from web_sessions s "
            "left join users u on u.id = s.user_id and u.disabled_at is null "
            "left join tokens t on t.id = s.token_id and t.revoked_at is null "
            "where s.session_hash = :session_hash and s.expires_at > :now "
            "and (u.id is not null or t.id is not null)",
            {"session_hash": session_hash, "now": _now().isoformat()}).fetchone()
        if row is None:
            return None
        created, user_id, token_id, username, role, association, partner, regions, label = row
        principal = Principal(
            role=Role(role), association_id=association, partner_id=partner,
            regions=frozenset(json.loads(regions or "[]")), token_id=token_id,
            label=f"user {username}" if username else (label or ""))
        return principal, {"created_at": created, "username": username, "user_id": user_id}

    def end_web_session(self, session_hash: str) -> None:
        with self.writing():
            self.db.execute("delete from web_sessions where session_hash = :session_hash",
                            {"session_hash": session_hash})

    def web_secret(self) -> bytes:
        """The key the web pages sign CSRF tokens with: made once per database, kept in it, so
        every worker and every restart agree."""
        row = self.db.execute("select value from meta where key = 'web_secret'").fetchone()
        if row is None:
            with self.writing():
                self.db.execute("insert into meta (key, value) values ('web_secret', :value) "
                                "on conflict (key) do nothing", {"value": secrets.token_hex(32)})
            row = self.db.execute("select value from meta where key = 'web_secret'").fetchone()
        return bytes.fromhex(row[0])
