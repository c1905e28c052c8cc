"""The five profile resources (associations, partners, needs, practices, offerings), each one
router built from one description (:class:`Resource`): list, create, read, change and, for needs,
practices and offerings, delete.

Routes translate HTTP into :mod:`matcher.services.profiles` calls and back; who may do what is
:mod:`matcher.policy`'s (the guards below only keep out roles that may never call an operation).
A need's text may be sensitive: the service returns it only to those allowed (others get the
neutral summary), it is never put in an error message, and no 422 carries the values sent
(:mod:`api.errors`). Associations and partners are deleted through the data-rights routes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel

from api.deps import EngineDep
from api.idempotency import IdempotencyKey, claim_for
from api.profile_schemas import (
    AssociationCreate,
    AssociationPublic,
    AssociationUpdate,
    CategoryFilter,
    CommodityFilter,
    CountryFilter,
    LanguageFilter,
    Limit,
    NeedCreate,
    NeedPublic,
    NeedUpdate,
    OfferingCreate,
    OfferingPublic,
    OfferingUpdate,
    Offset,
    Page,
    PartnerCreate,
    PartnerPublic,
    PartnerUpdate,
    PracticeCreate,
    PracticePublic,
    PracticeUpdate,
    RegionFilter,
    Search,
    errors,
    sort_param,
)
from api.schemas import Lang
from api.security import guard
from matcher.principals import Principal, Role
from matcher.services import profiles
from matcher.services.profiles import SORTABLE, ProfileQuery

ANYONE: tuple[Role, ...] = ()  # every role (the policy decides per record)
PEOPLE = (Role.ADMIN, Role.COORDINATOR, Role.ASSOCIATION)


def _owner_filter(description: str, example: str) -> Any:
    return Annotated[str | None, Query(max_length=128, description=description,
                                       examples=[example])]


# Every list filter a resource may take, in the order the parameters are documented.
FILTERS: dict[str, Any] = {
    "region": RegionFilter, "country": CountryFilter, "category": CategoryFilter,
    "commodity": CommodityFilter, "language": LanguageFilter,
    "active": Annotated[bool | None, Query(description="active or not")], "q": Search,
}
LangQuery = Annotated[Lang, Query(description="language of a neutral summary")]


@dataclass(frozen=True)
class Resource:
    """What differs between the profile resources; the routes are the same for all."""

    kind: str                          # the table and the URL segment: "needs"
    one: str                           # "need": operation ids and the id parameter
    example: str                       # an id, for the documentation
    public: type[BaseModel]
    create: type[BaseModel]
    update: type[BaseModel]
    filters: tuple[str, ...]           # names in FILTERS (and the owner's, below)
    sort: str                          # default sort column
    summaries: dict[str, str]          # per operation: list, create, get, update, delete
    roles: dict[str, tuple[Role, ...]] = field(default_factory=dict)  # per operation
    owner_filter: tuple[str, Any] | None = None  # ("association_id", its Query type)
    lang: bool = False                 # a ``lang`` query (needs: a neutral summary's)

    @property
    def owner(self) -> str | None:
        """Where records are created: under an association or a partner, or at the top."""
        return profiles.OWNER_OF.get(self.kind)

    @property
    def deletable(self) -> bool:
        return "delete" in self.summaries


RESOURCES = (
    Resource(
        "associations", "association", "demo-a-01", AssociationPublic, AssociationCreate,
        AssociationUpdate, ("region", "country", "commodity", "language", "q"), "name",
        {"list": "List associations (full profiles where the caller may, public otherwise)",
         "create": "Create an association (admins; coordinators in their regions)",
         "get": "One association's profile",
         "update": "Change an association's profile (itself, its region's coordinators, "
                   "admins)"},
        {"list": PEOPLE, "create": (Role.ADMIN, Role.COORDINATOR), "update": PEOPLE}),
    Resource(
        "needs", "need", "demo-n-001", NeedPublic, NeedCreate, NeedUpdate,
        ("region", "country", "category", "commodity", "language", "q"), "id",
        {"list": "List the needs the caller may read", "create": "Add a need to an association",
         "get": "One need", "update": "Change a need",
         "delete": "Delete a need (refused while matches refer to it)"},
        {"list": PEOPLE, "create": PEOPLE, "update": PEOPLE, "delete": PEOPLE},
        ("association_id", _owner_filter("one association's needs", "demo-a-01")), lang=True),
    Resource(
        "practices", "practice", "demo-pr-001", PracticePublic, PracticeCreate, PracticeUpdate,
        ("region", "country", "category", "commodity", "language", "q"), "id",
        {"list": "List practices (peer learning)", "create": "Add a practice to an association",
         "get": "One practice", "update": "Change a practice",
         "delete": "Delete a practice (refused while matches refer to it)"},
        {"list": PEOPLE, "create": PEOPLE, "update": PEOPLE, "delete": PEOPLE},
        ("association_id", _owner_filter("one association's practices", "demo-a-01"))),
    Resource(
        "partners", "partner", "demo-p-01", PartnerPublic, PartnerCreate, PartnerUpdate,
        ("region", "country", "category", "commodity", "language", "q"), "name",
        {"list": "List partners (region, country, category, commodity: of their offerings)",
         "create": "Create a partner (admins)", "get": "One partner",
         "update": "Change a partner's profile (the partner itself, admins)"},
        {"create": (Role.ADMIN,), "update": (Role.ADMIN, Role.PARTNER)}),
    Resource(
        "offerings", "offering", "demo-o-001", OfferingPublic, OfferingCreate, OfferingUpdate,
        ("region", "country", "category", "commodity", "language", "active", "q"), "id",
        {"list": "List offerings (region, country, commodity: those open to it)",
         "create": "Add an offering to a partner (the partner itself, admins)",
         "get": "One offering", "update": "Change an offering (the partner itself, admins)",
         "delete": "Delete an offering (refused while matches refer to it)"},
        {"create": (Role.ADMIN, Role.PARTNER), "update": (Role.ADMIN, Role.PARTNER),
         "delete": (Role.ADMIN, Role.PARTNER)},
        ("partner_id", _owner_filter("one partner's offerings", "demo-p-01"))),
)

_OWNER_EXAMPLE = {"associations": "demo-a-01", "partners": "demo-p-01"}


def _param(name: str, annotation: Any, default: Any = inspect.Parameter.empty
           ) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=default)


def _endpoint(name: str, body: Callable[..., Any], params: list[inspect.Parameter]
              ) -> Callable[..., Any]:
    """A route function with the signature FastAPI reads (``params``) calling ``body``."""
    def endpoint(**kwargs: Any) -> Any:
        return body(**kwargs)

    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return endpoint


def router_for(r: Resource) -> APIRouter:
    """The five (or four) routes of one profile resource."""
    router = APIRouter(tags=[r.kind])
    Id = Annotated[str, Path(max_length=128, examples=[r.example])]
    id_name = f"{r.one}_id"

    def who(operation: str) -> inspect.Parameter:
        op = f"{operation}_{r.kind if operation == 'list' else r.one}"
        return _param("who", Annotated[Principal, guard(op, *r.roles.get(operation, ANYONE))])

    def public(item: dict) -> BaseModel:
        return r.public.model_validate({k: item.get(k) for k in r.public.model_fields})

    engine = _param("engine", EngineDep)
    lang = [_param("lang", LangQuery, "en")] if r.lang else []

    # ------------------------------------------------------------------ list
    filters = ([_param(*r.owner_filter, None)] if r.owner_filter else []) + [
        _param(name, FILTERS[name], None) for name in r.filters]

    def list_body(engine, who, sort, limit, offset, lang="en", **chosen) -> Any:
        items, total = profiles.page(engine, who, r.kind, ProfileQuery(
            **chosen, sort=sort, limit=limit, offset=offset), lang)
        return Page[r.public](items=[public(i) for i in items],  # type: ignore[name-defined]
                              total=total, limit=limit, offset=offset)

    router.add_api_route(
        f"/{r.kind}", _endpoint(f"list_{r.kind}", list_body, [
            engine, who("list"), *filters,
            _param("sort", sort_param(SORTABLE[r.kind]), r.sort),
            _param("limit", Limit, 50), _param("offset", Offset, 0), *lang]),
        methods=["GET"], response_model=Page[r.public],  # type: ignore[name-defined]
        responses=errors(422), summary=r.summaries["list"], operation_id=f"list_{r.kind}")

    # ------------------------------------------------------------------ create
    owner_params: list[inspect.Parameter] = []
    path = f"/{r.kind}"
    if r.owner:
        owner_id = f"{r.owner[:-1]}_id"
        owner_params = [_param(owner_id, Annotated[str, Path(
            max_length=128, examples=[_OWNER_EXAMPLE[r.owner]])])]
        path = f"/{r.owner}/{{{owner_id}}}/{r.kind}"

    def create_body(engine, who, body, request, idempotency_key=None, **owner) -> Any:
        return public(profiles.create(
            engine, who, r.kind, body.model_dump(mode="json"), next(iter(owner.values()), None),
            claim_for(request, who, idempotency_key, body)))

    router.add_api_route(
        path, _endpoint(f"create_{r.one}", create_body, [
            engine, *owner_params, _param("body", r.create), who("create"),
            _param("request", Request), _param("idempotency_key", IdempotencyKey, None)]),
        methods=["POST"], response_model=r.public, status_code=status.HTTP_201_CREATED,
        responses=errors(*((404,) if r.owner else ()), 409, 422), summary=r.summaries["create"],
        operation_id=f"create_{r.one}")

    # ------------------------------------------------------------------ read, change, delete
    def get_body(engine, who, lang="en", **ids) -> Any:
        return public(profiles.read(engine, who, r.kind, ids[id_name], lang))

    router.add_api_route(
        f"/{r.kind}/{{{id_name}}}", _endpoint(f"get_{r.one}", get_body, [
            engine, _param(id_name, Id), who("get"), *lang]),
        methods=["GET"], response_model=r.public,
        responses=errors(404, *((422,) if r.lang else ())), summary=r.summaries["get"],
        operation_id=f"get_{r.one}")

    def update_body(engine, who, body, **ids) -> Any:
        return public(profiles.change(engine, who, r.kind, ids[id_name],
                                      body.model_dump(mode="json", exclude_unset=True)))

    router.add_api_route(
        f"/{r.kind}/{{{id_name}}}", _endpoint(f"update_{r.one}", update_body, [
            engine, _param(id_name, Id), _param("body", r.update), who("update")]),
        methods=["PATCH"], response_model=r.public, responses=errors(404, 422),
        summary=r.summaries["update"], operation_id=f"update_{r.one}")

    if r.deletable:
        def delete_body(engine, who, **ids) -> Response:
            profiles.remove(engine, who, r.kind, ids[id_name])
            return Response(status_code=status.HTTP_204_NO_CONTENT)

        router.add_api_route(
            f"/{r.kind}/{{{id_name}}}", _endpoint(f"delete_{r.one}", delete_body, [
                engine, _param(id_name, Id), who("delete")]),
            methods=["DELETE"], status_code=status.HTTP_204_NO_CONTENT,
            response_class=Response, responses=errors(404, 409),
            summary=r.summaries["delete"], operation_id=f"delete_{r.one}")
    return router


ROUTERS = {r.kind: router_for(r) for r in RESOURCES}
