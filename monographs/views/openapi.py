"""
The API's OpenAPI 3.1 document, built from the code so that it cannot drift:

- its paths are the API's URL patterns, read from the URLconf (a route's
  ``<slug:slug>`` becomes ``{slug}``); an API view without a description
  here fails the tests, as does a description of a path that resolves
  nowhere;
- the rows of a monograph are described from monographs.schema's row kinds
  and their model fields, the same definitions the API's views iterate over.
"""

import functools
import re

from django.db import models
from django.http import JsonResponse
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views.generic import TemplateView

from monographs.models import MagnesiumForm
from monographs.schema import STAFF_FORM_FIELDS, markdown_fields
from monographs.views.api import (
    ERROR_CODES,
    PAGE_SIZE,
    ROW_EXTRAS,
    api_view,
    detail_row_kinds,
)

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def _error_response(description):
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
        },
    }


def _json_response(description, schema):
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


SLUG_PARAMETER = {
    "name": "slug",
    "in": "path",
    "required": True,
    "description": "The form's address, e.g. magnesium-glycinate.",
    "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
}
PAGE_PARAMETER = {
    "name": "page",
    "in": "query",
    "required": False,
    "description": f"Page of {PAGE_SIZE} forms, from 1.",
    "schema": {"type": "integer", "minimum": 1, "default": 1},
}

# What each API view answers, by URL name. Every API URL pattern has one.
OPERATIONS = {
    "api-index": {
        "operationId": "index",
        "summary": "Where the endpoints and their description are",
        "responses": {
            "200": _json_response(
                "Links to the endpoints.", {"$ref": "#/components/schemas/Index"}
            ),
        },
    },
    "api-openapi": {
        "operationId": "openapi",
        "summary": "This OpenAPI 3.1 document",
        "responses": {
            "200": _json_response("The OpenAPI document.", {"type": "object"}),
        },
    },
    "api-form-list": {
        "operationId": "listForms",
        "summary": "Published magnesium forms, by name",
        "description": "Each form as last approved for publication, "
        f"{PAGE_SIZE} to a page. The Link header repeats the pagination links.",
        "parameters": [PAGE_PARAMETER],
        "responses": {
            "200": _json_response(
                "A page of forms.", {"$ref": "#/components/schemas/FormList"}
            ),
            "400": _error_response("page is not a whole number from 1."),
            "404": _error_response("There is no such page."),
        },
    },
    "api-form-detail": {
        "operationId": "getForm",
        "summary": "One published monograph",
        "description": "The whole monograph as approved for publication: its "
        "sections as HTML, its rows, its numbered references and who reviewed "
        "it, if a person did.",
        "parameters": [SLUG_PARAMETER],
        "responses": {
            "200": _json_response(
                "The monograph.", {"$ref": "#/components/schemas/FormDetail"}
            ),
            "301": {
                "description": "The slug is a former slug or a synonym's: "
                "Location is the form's address under its slug now.",
                "headers": {
                    "Location": {
                        "schema": {"type": "string", "format": "uri-reference"}
                    }
                },
            },
            "404": _error_response("No published form has this slug."),
        },
    },
}


def _routes(patterns, prefix=""):
    """(route, URL name) of every named pattern, includes followed."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield route, pattern.name


def api_routes():
    """{URL name: OpenAPI path} of the URL patterns under /api/v1/."""
    found = {}
    for route, name in _routes(get_resolver().url_patterns):
        if route.startswith("api/v1/") and "(?P<" not in route:
            found[name] = "/" + ROUTE_PARAMETER.sub(r"{\g<name>}", route)
    return found


def _field_schema(field):
    if isinstance(field, models.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, models.IntegerField):
        schema = {"type": "integer"}
        if isinstance(
            field,
            models.PositiveIntegerField
            | models.PositiveSmallIntegerField
            | models.PositiveBigIntegerField,
        ):
            schema["minimum"] = 0
    elif isinstance(field, models.ForeignKey):
        schema = {"type": "integer"}
    else:  # text, and decimals, which JSON carries as strings
        schema = {"type": "string"}
    if field.null:
        schema["type"] = [schema["type"], "null"]
    if field.choices:
        schema["description"] = "One of: " + ", ".join(
            str(value) for value, _ in field.flatchoices
        )
    return schema


def row_schema(kind):
    """A row of one kind, as monographs.views.api._row writes it."""
    properties = {}
    for name in kind.fields:
        field = kind.model._meta.get_field(name)
        if name in kind.markdown_fields:
            properties[f"{name}_html"] = {
                "type": "string",
                "description": f"{field.verbose_name}, rendered HTML",
            }
        elif name in (kind.topic, getattr(kind, "parent", None)):
            # A topic, or the row this one belongs to, by name and slug.
            properties[name] = {"type": "string", "description": "Its name"}
            properties[f"{name}_slug"] = {"type": "string"}
        elif name != "position":
            properties[name] = _field_schema(field)
    for name in ROW_EXTRAS.get(kind.name, {}):
        properties[name] = {"type": "string"}
    if kind.cites:
        properties["citations"] = {
            "type": "array",
            "items": {"type": "string"},
            "description": "Keys of the references the row cites.",
        }
    return {
        "type": "object",
        "title": str(kind.label),
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _nullable_uri():
    return {"type": ["string", "null"], "format": "uri"}


def components():
    summary_properties = {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "synonyms": {"type": "array", "items": {"type": "string"}},
        "category": {
            "type": "string",
            "description": "One of: "
            + ", ".join(str(value) for value in MagnesiumForm.Category.values),
        },
        "elemental_mg_percent": {
            "type": "string",
            "description": "Elemental magnesium, % by weight, as a decimal.",
        },
        "formula_basis": {"type": "string"},
        "revision": {"type": "integer", "minimum": 1},
        "published_at": {"type": "string", "format": "date-time"},
        "last_reviewed": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "When a named reviewer approved it; null if no one did.",
        },
        "reviewed_by": {
            "type": ["string", "null"],
            "description": "The reviewer's public name; null if no one reviewed it.",
        },
        "url": {"type": "string", "format": "uri"},
        "api_url": {"type": "string", "format": "uri"},
    }
    sections = [
        name
        for name in markdown_fields("MagnesiumForm")
        if name not in STAFF_FORM_FIELDS
    ]
    detail_properties = {
        **summary_properties,
        "sections_html": {
            "type": "object",
            "description": "The monograph's sections that have text, as HTML.",
            "properties": {name: {"type": "string"} for name in sections},
            "additionalProperties": False,
        },
        **{
            kind.name: {
                "type": "array",
                "items": {"$ref": f"#/components/schemas/{_row_name(kind)}"},
            }
            for kind in detail_row_kinds()
        },
        "references": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Reference"},
        },
    }
    schemas = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "additionalProperties": False,
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["status", "code", "message"],
                    "properties": {
                        "status": {"type": "integer"},
                        "code": {"type": "string", "enum": list(ERROR_CODES.values())},
                        "message": {"type": "string"},
                        "parameter": {
                            "type": "string",
                            "description": "The query parameter at fault (400).",
                        },
                    },
                }
            },
        },
        "Index": {
            "type": "object",
            "required": ["forms", "openapi", "documentation"],
            "properties": {
                name: {"type": "string", "format": "uri"}
                for name in ("forms", "openapi", "documentation")
            },
        },
        "FormSummary": {
            "type": "object",
            "properties": summary_properties,
            "required": list(summary_properties),
            "additionalProperties": False,
        },
        "FormList": {
            "type": "object",
            "required": [
                "count",
                "page",
                "pages",
                "next",
                "previous",
                "links",
                "results",
            ],
            "additionalProperties": False,
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
                "next": _nullable_uri(),
                "previous": _nullable_uri(),
                "links": {
                    "type": "object",
                    "required": ["first", "last", "next", "previous"],
                    "additionalProperties": False,
                    "properties": {
                        "first": {"type": "string", "format": "uri"},
                        "last": {"type": "string", "format": "uri"},
                        "next": _nullable_uri(),
                        "previous": _nullable_uri(),
                    },
                },
                "results": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/FormSummary"},
                },
            },
        },
        "FormDetail": {
            "type": "object",
            "properties": detail_properties,
            "required": [
                *summary_properties,
                "sections_html",
                *(kind.name for kind in detail_row_kinds()),
                "references",
            ],
            "additionalProperties": False,
        },
        "Reference": {
            "type": "object",
            "required": ["number", "key", "doi", "pmid"],
            "additionalProperties": False,
            "properties": {
                "number": {"type": "integer", "minimum": 1},
                "key": {"type": "string"},
                "doi": {"type": "string"},
                "pmid": {"type": "string"},
            },
        },
    }
    for kind in detail_row_kinds():
        schemas[_row_name(kind)] = row_schema(kind)
    return {"schemas": schemas}


def _row_name(kind):
    return "".join(part.capitalize() for part in kind.name.split("_")) + "Row"


@functools.cache
def openapi_document():
    paths = {}
    for name, path in sorted(api_routes().items(), key=lambda item: item[1]):
        operation = OPERATIONS.get(name)
        if operation is not None:
            paths[path] = {"get": {**operation, "tags": ["monographs"]}}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "mgref API",
            "version": API_VERSION,
            "summary": "Published magnesium-supplement monographs, read-only.",
            "description": "Every response is JSON, errors included. Readers "
            "see only what was approved for publication. Any origin may read it (CORS); "
            "only GET, HEAD and OPTIONS are allowed.",
        },
        "servers": [{"url": "/"}],
        "externalDocs": {
            "description": "The guide",
            "url": reverse("monographs:api-docs"),
        },
        "paths": paths,
        "components": components(),
    }


@api_view
def openapi_json(request):
    return JsonResponse(
        openapi_document(), json_dumps_params={"ensure_ascii": False, "indent": 1}
    )


class ApiDocsView(TemplateView):
    """The API explained for people, from the same document clients read."""

    template_name = "monographs/api.html"

    def get_context_data(self, **kwargs):
        document = openapi_document()
        endpoints = []
        for path, methods in document["paths"].items():
            operation = methods["get"]
            example = path.replace("{slug}", "magnesium-glycinate")
            endpoints.append(
                {
                    "path": path,
                    "example": example,
                    "summary": operation["summary"],
                    "description": operation.get("description", ""),
                    "parameters": operation.get("parameters", []),
                    "responses": sorted(operation["responses"].items()),
                }
            )
        return super().get_context_data(
            endpoints=endpoints,
            openapi_url=reverse("monographs:api-openapi"),
            page_size=PAGE_SIZE,
            error_codes=sorted(ERROR_CODES.items()),
            **kwargs,
        )
