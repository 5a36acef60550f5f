"""billing/openapi.json is billing's contract: every route, every body, every answer and error code.

The document is written by hand, so these tests are what keep it true: the
Flask routes and the documented operations are the same set, path ids are
bounded as the routes bound them, every error code the code can raise is
documented under its status, billing's target profile only calls what the
document promises, and answers the app gives without a database conform to
it. A live run (tests/stack/test_openapi_fuzz.py) checks the rest.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from billing.api.contract import document
from billing.app import create_app
from billing.auth import issue_token
from billing.ids import MAX_ID
from billing.settings import Settings
from chaos.target.openapi import METHODS, operations, resolve

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "chaos/target/profiles/billing.yaml"
IGNORED_METHODS = {"HEAD", "OPTIONS"}  # Flask answers both for every route by itself


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(Settings(instance="unit-1"), prepare_schema=False)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return document()


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item if method in METHODS}


def routed(app: Flask) -> set[tuple[str, str]]:
    return {(method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
            for rule in app.url_map.iter_rules() for method in rule.methods - IGNORED_METHODS}


# the document is OpenAPI 3.1

def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator.validation", reason="openapi-spec-validator not "
                                    "installed; test_the_document_is_structurally_sound still runs")
    errors = [e.message for e in validator.OpenAPIV31SpecValidator(doc).iter_errors()]
    assert errors == []


def test_the_document_is_structurally_sound(doc: dict[str, Any]) -> None:
    """Without openapi-spec-validator: 3.1, every operation answers, every schema is JSON Schema 2020-12,
    every $ref resolves."""
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"]) and doc["info"]["title"] and doc["info"]["version"]
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids)), "operationIds are unique"
    for method, path, op in operations(doc):
        assert op["responses"], f"{method} {path} documents no answer"
        for status, response in op["responses"].items():
            assert re.fullmatch(r"[1-5]\d\d", status), f"{method} {path}: {status}"
            schema = response["content"]["application/json"]["schema"]
            Draft202012Validator.check_schema(schema)
            resolve(doc, schema)  # a dangling $ref raises
        for name in re.findall(r"{(\w+)}", path):
            assert name in {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}, f"{path}: {name}"


# the document and the routes are the same set

def test_every_route_is_documented_with_its_methods(app: Flask, doc: dict[str, Any]) -> None:
    assert routed(app) - documented(doc) == set()


def test_nothing_documented_is_missing_from_the_app(app: Flask, doc: dict[str, Any]) -> None:
    assert documented(doc) - routed(app) == set()


def test_path_ids_are_bounded_as_the_routes_bound_them(app: Flask, doc: dict[str, Any]) -> None:
    int_params = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), name)
                  for rule in app.url_map.iter_rules() for name in re.findall(r"<int:(\w+)>", rule.rule)}
    assert int_params
    for path, name in int_params:
        for item in doc["paths"][path].values():
            param = next(p for p in item["parameters"] if p["name"] == name)
            assert param["schema"] == {"type": "integer", "minimum": 0, "maximum": MAX_ID}


def test_the_app_serves_the_document_it_keeps(app: Flask, doc: dict[str, Any]) -> None:
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200 and response.get_json() == doc
    assert response.get_json() == json.loads((ROOT / "billing/openapi.json").read_text())


# every error code the code raises is documented under its status

def raised_codes() -> set[tuple[int, str]]:
    """(status, code) of every ``ApiError(...)`` and every error outcome a handler returns, from billing's source."""
    found: set[tuple[int, str]] = set()
    for source in (ROOT / "billing").rglob("*.py"):
        text = source.read_text()
        found |= {(int(s), c) for s, c in re.findall(r'ApiError\((\d{3}),\s*"(\w+)"', text)}
        found |= {(int(s), c) for s, c in re.findall(r'return (\d{3}), \{"error": "(\w+)"', text)}
        found |= {(int(s), c) for s, c in re.findall(r'error_response\((\d{3}),\s*"(\w+)"', text)}
    return found


def documented_codes(doc: dict[str, Any]) -> set[tuple[int, str]]:
    found = set()
    for _, _, op in operations(doc):
        for status, response in op["responses"].items():
            schema = response["content"]["application/json"]["schema"]
            found |= {(int(status), code) for code in schema.get("properties", {}).get("error", {}).get("enum", [])}
    return found


def test_every_error_code_billing_raises_is_documented_under_its_status(doc: dict[str, Any]) -> None:
    raised = raised_codes()
    assert len(raised) > 20 and (409, "invoice_exists") in raised
    internal = {(500, "internal_error")}  # a bug: documented by the no-5xx rule, never promised
    assert raised - internal - documented_codes(doc) == set()


# billing's target profile calls only what the document promises

IGNORED_FIELDS = {"create_slot": {"name"}}  # the suite names every slot it makes; billing's slots have no name


def profile_operations() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(PROFILE.read_text())["operations"]


@pytest.mark.parametrize("name", sorted(profile_operations()))
def test_each_profile_operation_is_a_documented_call_with_documented_fields(doc: dict[str, Any], name: str) -> None:
    mapped = profile_operations()[name]
    op = doc["paths"][mapped["path"]][mapped["method"].lower()]
    if mapped.get("body"):
        body = resolve(doc, op["requestBody"]["content"]["application/json"]["schema"])
        assert set(mapped["body"]) - set(body["properties"]) <= IGNORED_FIELDS.get(name, set())
    query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    assert set(mapped.get("query", {})) <= query
    success = next(r for s, r in sorted(op["responses"].items()) if s.startswith("2"))
    reply = resolve(doc, success["content"]["application/json"]["schema"])
    for path in mapped.get("extract", {}).values():
        text = path["path"] if isinstance(path, dict) else path
        if text.startswith("header:"):
            assert text.removeprefix("header:") in success["headers"]
        elif text.startswith("[*]"):
            assert reply["type"] == "array"
        else:
            assert text.split("[")[0].split(".")[0] in reply["properties"], f"{name}: {text}"


# answers given without a database conform

def validator_for(doc: dict[str, Any], method: str, path: str, status: int) -> Draft202012Validator:
    """The documented answer's schema, its "#/components/..." references resolved in the document."""
    pointer = "/".join(part.replace("~", "~0").replace("/", "~1") for part in
                       ("paths", path, method.lower(), "responses", str(status), "content", "application/json",
                        "schema"))
    registry = Registry().with_resource("urn:billing-openapi", Resource(doc, specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"urn:billing-openapi#/{pointer}"}, registry=registry)


@pytest.mark.parametrize("method, path, url, kwargs, status", [
    ("POST", "/api/auth/register", "/api/auth/register", {"json": {"email": "a\u0000@x.io", "password": "p" * 8}}, 400),
    ("POST", "/api/auth/login", "/api/auth/login", {"data": "{" * 2000}, 400),
    ("GET", "/api/user/profile", "/api/user/profile", {}, 401),
    ("POST", "/api/admin/events", "/api/admin/events", {"json": {"capacity": 1}, "user": True}, 403),
    ("GET", "/api/events/{event_id}", f"/api/events/{MAX_ID + 1}", {}, 404),
    ("POST", "/api/subscriptions/{subscription_id}/activate", "/api/subscriptions/1/activate",
     {"json": {}, "user": True}, 400),
    ("POST", "/api/admin/test/reset", "/api/admin/test/reset", {"admin": True}, 404),
])
def test_answers_given_before_any_query_conform_to_the_document(app: Flask, doc: dict[str, Any], method: str,
                                                                path: str, url: str, kwargs: dict, status: int) -> None:
    user, admin = kwargs.pop("user", False), kwargs.pop("admin", False)
    headers = {"Authorization": f"Bearer {issue_token(2, admin)}"} if user or admin else {}
    response = app.test_client().open(url, method=method, headers=headers, **kwargs)
    assert response.status_code == status
    errors = [e.message for e in validator_for(doc, method, path, status).iter_errors(response.get_json())]
    assert errors == []
    assert response.headers["X-Instance"]
