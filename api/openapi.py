"""The OpenAPI document's finishing touches, and what it says about a request's path.

- Every operation whose body FastAPI reads documents FastAPI's own 400 (a body that is not
  UTF-8 text). The import reads its body itself (a 422 names the problem).
- A ``weight`` parameter names the registered scorers.
- The exchange document's records (the import's body) enumerate the reference vocabularies
  the import checks: partner types, categories, regions, commodities, country codes; and an
  association without a region names a country of a regional network.
- ``allowed_methods``: the methods the document lists for a path, for a 405's ``Allow``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from fastapi import FastAPI

from api.routes.suggestions import SCORER_NAME

OWN_BODY_READERS = {"import_exchange"}
BODY_ERROR = {"description": "The request body could not be read (not UTF-8 text)",
              "content": {"application/json": {
                  "schema": {"$ref": "#/components/schemas/ErrorMessage"}}}}
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_HTTP_METHODS = {m.lower() for m in METHOD_ORDER}


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, with the touches above."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for operations in schema["paths"].values():
                for operation in operations.values():
                    if ("requestBody" in operation
                            and operation.get("operationId") not in OWN_BODY_READERS):
                        operation["responses"].setdefault("400", BODY_ERROR)
                    _name_the_scorers(app, operation)
            _enumerate_the_exchange(app, schema["components"]["schemas"])
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _name_the_scorers(app: FastAPI, operation: dict[str, Any]) -> None:
    """A ``weight`` parameter's pattern lists the registered scorers, not any name."""
    for parameter in operation.get("parameters", []):
        if parameter["name"] != "weight":
            continue
        names = sorted(app.state.engines.get().scorers())
        for variant in parameter["schema"].get("anyOf", [parameter["schema"]]):
            items = variant.get("items", {})
            if "pattern" in items:
                items["pattern"] = items["pattern"].replace(
                    SCORER_NAME, "(?:" + "|".join(map(re.escape, names)) + ")", 1)


def _enumerate_the_exchange(app: FastAPI, schemas: dict[str, Any]) -> None:
    """The exchange records' code fields as enums of the reference data the import checks."""
    ref = app.state.engines.get().ref
    countries = ref.country_codes()

    def codes(values) -> dict[str, Any]:
        return {"type": "string", "enum": sorted(values)}

    def optional(values) -> dict[str, Any]:
        return {"anyOf": [codes(values), {"type": "null"}]}

    def listed(record: str, field: str, values) -> None:
        schemas[record]["properties"][field]["items"] = codes(values)

    def field(record: str, name: str, spec: dict[str, Any]) -> None:
        kept = {k: v for k, v in schemas[record]["properties"][name].items()
                if k in ("title", "default", "description")}
        schemas[record]["properties"][name] = {**spec, **kept}

    field("Partner", "type", codes(ref.partner_types))
    field("Offering", "category", codes(ref.categories))
    listed("Offering", "regions", ref.regions)
    listed("Offering", "countries", countries)
    listed("Offering", "commodities", ref.commodities)
    field("Association", "country", codes(countries))
    field("Association", "region", optional(ref.regions))
    listed("Association", "commodities", ref.commodities)
    for record in ("Need", "Practice"):
        field(record, "category", optional(ref.categories))
    # without a region, the country must belong to a regional network (it gives the region)
    schemas["Association"]["anyOf"] = [
        {"required": ["region"], "properties": {"region": {"type": "string"}}},
        {"properties": {"country": codes(ref.countries)}}]


@lru_cache(maxsize=64)
def _templates(paths: tuple[str, ...]) -> list[tuple[re.Pattern, str]]:
    return [(re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p)) + "$"), p)
            for p in paths]


def allowed_methods(app: FastAPI, path: str) -> list[str] | None:
    """The methods the OpenAPI document lists for ``path`` (a literal path before templates;
    HEAD wherever GET), or None when the document does not know the path."""
    paths = app.openapi()["paths"]
    if path in paths:
        found = [paths[path]]
    else:
        found = [paths[p] for regex, p in _templates(tuple(paths)) if regex.match(path)]
    if not found:
        return None
    methods = {m.upper() for operations in found for m in operations if m in _HTTP_METHODS}
    if "GET" in methods:
        methods.add("HEAD")
    return [m for m in METHOD_ORDER if m in methods]
