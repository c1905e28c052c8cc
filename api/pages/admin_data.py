"""The admin's pages for the service itself: the scorers (weights and health) and the
exchange in bulk (import a file, all or nothing; export everything). Admins only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.deps import EngineDep
from api.limits import PAGE_IMPORT, Limits
from api.pages.admin_forms import AdminDep
from api.pages.deps import CtxDep
from api.pages.i18n import N_
from api.pages.render import SECURITY_HEADERS, render
from api.pages.session import Upload, WebContext, check_csrf, read_upload
from matcher.errors import Forbidden, InvalidInput
from matcher.services import rights
from matcher.services.rights import ImportReport
from matcher.services.scorers import fusion_table, scorer_table

router = APIRouter(include_in_schema=False)

DATA = "/admin/data"
TABLES = {"partners": N_("Partners"), "offerings": N_("Offerings"),
          "associations": N_("Associations"), "needs": N_("Needs"),
          "practices": N_("Practices")}
HEALTH = {"idle": N_("Not called yet"), "ok": N_("Working"), "failing": N_("Failing"),
          "busy": N_("Busy: a slow call is still running")}
KIND_NAMES = {"partner": N_("Partners"), "peer": N_("Peer associations")}


# ---------------------------------------------------------------------- scorers
@router.get("/admin/plugins")
def plugins_page(ctx: CtxDep, who: AdminDep, engine: EngineDep):
    return render(ctx, "admin/plugins.html", scorers=scorer_table(engine),
                  fusion=fusion_table(engine), health=HEALTH, kind_names=KIND_NAMES)


# ---------------------------------------------------------------------- import and export
def _import_cap(request: Request) -> int:
    limits: Limits = getattr(request.app.state, "limits", None) or Limits()
    return limits.import_bytes


async def _checked_upload(ctx: CtxDep, request: Request) -> dict[str, Upload]:
    """The uploaded file of a multipart form, after its CSRF field was checked (as
    :data:`api.pages.deps.FormDep` does for the other forms)."""
    form, files = await read_upload(request, ctx.settings, _import_cap(request))
    check_csrf(ctx, form)
    return files


UploadDep = Annotated[dict[str, Upload], Depends(_checked_upload)]


def _data_page(ctx: WebContext, status: int = 200, report: ImportReport | None = None,
               error: str | None = None, problem: str | None = None, filename: str = ""):
    counts = [{"table": TABLES[t], "new": report.inserted[t], "updated": report.updated[t],
               "unchanged": report.unchanged[t]} for t in TABLES] if report else None
    cap = _import_cap(ctx.request)
    return render(ctx, "admin/data.html", status=status, counts=counts,
                  changed=report.changed if report else None, error=error, problem=problem,
                  filename=filename, cap_mib=cap / 2**20, action=PAGE_IMPORT)


@router.get(DATA)
def data_page(ctx: CtxDep, who: AdminDep):
    return _data_page(ctx)


@router.post(PAGE_IMPORT)
def import_file(ctx: CtxDep, files: UploadDep, who: AdminDep, engine: EngineDep):
    """All or nothing, as the CLI and the API import: the counts per table, or the first
    problem (naming the record and the field) with nothing written."""
    upload = files.get("file")
    if upload is None or not upload.content:
        return _data_page(ctx, 422, error=N_("Choose an exchange file (JSON) to import."))
    try:
        report = rights.import_bytes(engine, who, upload.content)
    except (InvalidInput, Forbidden) as exc:
        return _data_page(ctx, 422, error=N_("Nothing was imported: the file has a problem."),
                          problem=str(exc), filename=upload.filename)
    return _data_page(ctx, report=report, filename=upload.filename)


@router.get(f"{DATA}/export")
def export_file(ctx: CtxDep, who: AdminDep, engine: EngineDep):
    """The whole store in the exchange format, as a file to save (``matcher export``'s)."""
    document = rights.export_for(who, engine)
    body = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    name = f"delve-matcher-{datetime.now(UTC):%Y-%m-%d}.json"
    response = Response(body.encode("utf-8"), media_type="application/json", headers={
        **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})
    return ctx.apply_cookies(response)
