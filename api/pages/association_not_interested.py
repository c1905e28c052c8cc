"""The association says it is not interested in one suggestion of its own need: it is not
suggested for that need again, and the fusion learns from it (``matcher train``)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.render import redirect
from api.pages.session import PageNotFound
from matcher.errors import Forbidden, InvalidInput, NotFound
from matcher.services.suggestions import not_interested

router = APIRouter(include_in_schema=False)


@router.post("/needs/{need_id}/not-interested")
def mark_not_interested(ctx: CtxDep, who: SignedInDep, engine: EngineDep, need_id: str,
                        form: FormDep):
    """Only the need's own association (or an admin); anyone else finds no such page."""
    kind, item_id = form.get("kind", ""), form.get("item_id", "")[:128]
    try:
        not_interested(engine, who, need_id, kind, item_id)
    except (NotFound, Forbidden, InvalidInput):
        raise PageNotFound() from None
    return redirect(ctx, f"/needs/{quote(need_id)}?hidden=1#hidden")
