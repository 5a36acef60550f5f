"""Hostile input gets a definite 4xx with a JSON error, never a 5xx.

Each class here was a 5xx against a real stack (issue 17): a body nested a
thousand levels deep (500: the parser's RecursionError), a NUL character in a
text field (503 db_error: PostgreSQL refuses it), a path id past the database's
INTEGER (503 db_error: "integer out of range"). A 5xx says "the service could
not tell, retry"; these requests have a definite answer. Every one is refused
before any query, so the app runs here without a database or Redis.
"""
from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import NotFound

from billing.app import create_app
from billing.auth import issue_token
from billing.ids import MAX_ID
from billing.requests_json import MAX_DEPTH
from billing.settings import Settings

pytestmark = pytest.mark.unit
BEYOND_BIGINT = "99999999999999999999"
# every route that reads a body, with a token good enough to get past its guard
BODY_ROUTES = ["/api/auth/register", "/api/auth/login", "/api/subscriptions", "/api/subscriptions/1/activate",
               "/api/tickets/purchase", "/api/bookings", "/api/admin/events", "/api/admin/slots",
               "/api/admin/users/1/generate-invoice", "/api/admin/users/1/generate-invoice-async"]


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(Settings(instance="unit-1"), prepare_schema=False)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def admin_headers(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(1, True)}", **extra}


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()
    assert set(error) == {"error", "message"} and error["error"] == code
    assert response.headers["X-Instance"] == "unit-1"
    return error


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


# malformed JSON of any depth is 400 invalid_json

@pytest.mark.parametrize("route", BODY_ROUTES)
def test_a_body_nested_a_thousand_levels_is_invalid_json_on_every_route(client: FlaskClient, route: str) -> None:
    response = client.post(route, data=nested(1000), content_type="application/json", headers=admin_headers())
    assert_json_error(response, 400, "invalid_json")


@pytest.mark.parametrize("text", ["[" * 100_000, nested(MAX_DEPTH + 1), '{"email": ' + "[" * 5000 + "]" * 5000 + "}"])
def test_nesting_past_the_limit_is_invalid_json_however_it_is_built(client: FlaskClient, text: str) -> None:
    response = client.post("/api/auth/register", data=text, content_type="application/json")
    assert_json_error(response, 400, "invalid_json")


def test_nesting_within_the_limit_is_judged_by_its_fields(client: FlaskClient) -> None:
    response = client.post("/api/auth/register", data=nested(MAX_DEPTH), content_type="application/json")
    assert "email" in assert_json_error(response, 400, "invalid_request")["message"]


@pytest.mark.parametrize("text", ["", "{", "{'email': 1}", '{"email": "a@b.test"', "1e999999", "9" * 5000])
def test_any_unparsable_or_non_object_body_is_invalid_json(client: FlaskClient, text: str) -> None:
    if not text:  # no body at all is "no fields", not malformed JSON
        assert "email" in assert_json_error(client.post("/api/auth/register"), 400, "invalid_request")["message"]
        return
    response = client.post("/api/auth/register", data=text.encode("utf-8"), content_type="application/json")
    assert_json_error(response, 400, "invalid_json")


# text the database cannot store is 400 naming the field

@pytest.mark.parametrize("body, field", [
    ({"email": "a\u0000b@x.io", "password": "long-enough"}, "email"),
    ({"email": "a@x.io", "password": "long\u0000enough"}, "password"),
    ({"email": "a@x.io", "password": "long-enough", "name": "\u0000"}, "name"),
    ({"email": "a@x.io", "password": "long-enough", "extra": {"deep": ["ok", "n\u0000"]}}, "extra.deep[1]"),
    ({"email": "a@x.io", "password": "long-enough", "k\u0000ey": 1}, "k\\u0000ey"),
])
def test_a_nul_character_in_any_text_is_400_naming_the_field(client: FlaskClient, body: dict, field: str) -> None:
    response = client.post("/api/auth/register", json=body)
    message = assert_json_error(response, 400, "invalid_request")["message"]
    assert f"field '{field}' contains a NUL character" == message


def test_an_unpaired_surrogate_is_400_naming_the_field(client: FlaskClient) -> None:
    raw = '{"email": "a\\ud800@x.io", "password": "long-enough"}'  # valid JSON, not encodable as UTF-8
    response = client.post("/api/auth/register", data=raw, content_type="application/json")
    assert "field 'email'" in assert_json_error(response, 400, "invalid_request")["message"]


@pytest.mark.parametrize("route, body, field", [
    ("/api/auth/register", {"email": "a@x.io", "password": "long-enough", "name": "n" * 201}, "name"),
    ("/api/admin/events", {"capacity": 5, "name": "e" * 201}, "name"),
])
def test_text_longer_than_its_column_is_400_naming_the_field(client: FlaskClient, route: str, body: dict,
                                                             field: str) -> None:
    response = client.post(route, json=body, headers=admin_headers())
    assert f"field '{field}' is longer than 200" in assert_json_error(response, 400, "invalid_request")["message"]


def test_a_nul_in_the_idempotency_key_is_400(client: FlaskClient) -> None:
    response = client.post("/api/subscriptions/1/activate", json={},
                           headers=admin_headers(**{"Idempotency-Key": "k\u0000ey"}))
    assert "NUL" in assert_json_error(response, 400, "invalid_request")["message"]


@pytest.mark.parametrize("period", ["2026-01\n", "２０２６-01", "\u0662\u0660\u0662\u0666-01"])
def test_a_period_is_exactly_yyyy_mm_in_ascii(client: FlaskClient, period: str) -> None:
    response = client.post("/api/admin/users/1/generate-invoice", json={"period": period}, headers=admin_headers())
    assert "period" in assert_json_error(response, 400, "invalid_request")["message"]


# path ids past the database's keys are 404, never a database error

@pytest.mark.parametrize("method, path", [
    ("POST", f"/api/admin/users/{BEYOND_BIGINT}/generate-invoice"),
    ("POST", f"/api/admin/users/{BEYOND_BIGINT}/generate-invoice-async"),
    ("GET", f"/api/admin/users/{BEYOND_BIGINT}/invoices"),
    ("POST", f"/api/admin/test/slow-invoice/{BEYOND_BIGINT}"),
    ("POST", f"/api/subscriptions/{MAX_ID + 1}/activate"),
    ("GET", f"/api/events/{MAX_ID + 1}"),
    ("GET", f"/api/slots/{BEYOND_BIGINT}"),
])
def test_an_id_beyond_the_database_is_404_json(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method, json={}, headers=admin_headers())
    assert_json_error(response, 404, "not_found")


def test_every_int_route_is_bounded_from_1_to_the_largest_id(app: Flask) -> None:
    adapter = app.url_map.bind("billing.test")
    int_routes = [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    assert len(int_routes) >= 7
    for rule in int_routes:
        method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        at_max = re.sub(r"<int:\w+>", str(MAX_ID), rule.rule)
        assert adapter.match(at_max, method=method)[0] == rule.endpoint
        assert adapter.match(re.sub(r"<int:\w+>", "1", rule.rule), method=method)[0] == rule.endpoint
        for outside in (MAX_ID + 1, 0):   # ids are serial, from 1
            with pytest.raises(NotFound):
                adapter.match(re.sub(r"<int:\w+>", str(outside), rule.rule), method=method)


def test_error_answers_are_json_whatever_the_method(client: FlaskClient) -> None:
    response = client.delete("/api/tariff_plans")
    assert_json_error(response, 405, "method_not_allowed")
    assert json.loads(response.get_data())["message"]
