"""The ``Idempotency-Key`` header of the creates: a retry with the same key (and the same
request) returns the record the first request created instead of creating another."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Header, Request
from pydantic import BaseModel

from matcher.principals import Principal
from matcher.services.profiles import Claim

KEY_DESCRIPTION = (
    "Optional. A client-chosen unique key (e.g. a UUID) for this create. A retry with the "
    "same key and the same request returns the same status and record, and writes nothing "
    "more; the same key with another request is a 409. Keys are per caller, and kept "
    "30 days.")

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$",
    description=KEY_DESCRIPTION, examples=["5f0c7a8e-4c1b-4f7e-9d2a-1b3c5d7e9f00"])]


def claim_for(request: Request, who: Principal, key: str | None,
              body: BaseModel | None = None) -> Claim | None:
    """The claim of a create under ``key`` (None without one): its caller, key, and a hash
    of the method, path and validated body (never the body itself)."""
    if key is None:
        return None
    digest = hashlib.sha256()
    for part in (request.method, request.url.path,
                 body.model_dump_json() if body is not None else ""):
        digest.update(part.encode("utf-8") + b"\0")
    return Claim(owner=who.actor, key=key, fingerprint=digest.hexdigest())
