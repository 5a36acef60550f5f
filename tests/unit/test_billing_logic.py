"""billing/'s pure logic: variants, periods, fingerprints, tokens and error shapes.

The Flask app is built without touching a database (``prepare_schema=False``)
and driven single-threaded: these tests prove validation and error mapping,
not concurrency (that needs the real stack, tests/stack/).
"""
from __future__ import annotations

import re
import time

import jwt
import pytest
import redis
from flask import Blueprint
from sqlalchemy.exc import OperationalError

from billing.app import create_app
from billing.auth import hash_password, issue_token, password_matches
from billing.errors import ApiError
from billing.idempotency import fingerprint
from billing.invoicing import current_period, lock_key, valid_period
from billing.settings import Settings, from_environ
from billing.unsafe import VARIANTS, Protection, removed_protections

pytestmark = pytest.mark.unit


# unsafe variants

def test_the_safe_build_removes_nothing() -> None:
    assert removed_protections("") == frozenset()
    assert removed_protections(" , ") == frozenset()


def test_variants_combine_with_commas() -> None:
    removed = removed_protections("oversell, acks_early")
    assert removed == {Protection.ROW_LOCKS, Protection.ACKS_LATE, Protection.OUTBOX}


def test_an_unknown_variant_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown variant 'no_locks'.*check_then_insert"):
        removed_protections("no_locks")


def test_every_variant_removes_something_and_names_its_invariant() -> None:
    assert set(VARIANTS) == {"check_then_insert", "lock_only", "idempotency_local", "idempotency_no_inflight",
                             "oversell", "acks_early", "task_not_idempotent"}
    for removed, invariant in VARIANTS.values():
        assert removed and re.match(r"\d: ", invariant)


def test_settings_read_the_variant_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLING_UNSAFE", "lock_only")
    settings = from_environ()
    assert not settings.protected(Protection.UNIQUE_INVOICE)
    assert settings.protected(Protection.LOCK)


# periods, lock keys, fingerprints

@pytest.mark.parametrize("period", ["2026-01", "1999-12"])
def test_valid_periods_pass_through(period: str) -> None:
    assert valid_period(period) == period


@pytest.mark.parametrize("period", ["2026-13", "2026-00", "2026-1", "26-01", "", 202601, ["2026-01"],
                                    "activation-7"])
def test_bad_periods_are_400(period: object) -> None:
    with pytest.raises(ApiError) as error:
        valid_period(period)
    assert error.value.status == 400 and error.value.code == "invalid_request"


def test_no_period_means_the_current_month() -> None:
    assert valid_period(None) == current_period() == time.strftime("%Y-%m", time.gmtime())


def test_lock_key_names_user_and_period() -> None:
    assert lock_key(7, "2026-01") == "invoice:7:2026-01"


def test_fingerprint_ignores_key_order_but_not_values() -> None:
    a = fingerprint(1, "/api/subscriptions/3/activate", {"payment_method": "card", "x": 1})
    assert a == fingerprint(1, "/api/subscriptions/3/activate", {"x": 1, "payment_method": "card"})
    assert a != fingerprint(1, "/api/subscriptions/3/activate", {"payment_method": "paypal", "x": 1})
    assert a != fingerprint(2, "/api/subscriptions/3/activate", {"payment_method": "card", "x": 1})
    assert a != fingerprint(1, "/api/subscriptions/4/activate", {"payment_method": "card", "x": 1})


# passwords and tokens

def test_passwords_are_hashed_and_checked() -> None:
    stored = hash_password("correct horse")
    assert "correct horse" not in stored
    assert password_matches(stored, "correct horse") and not password_matches(stored, "wrong")


def test_tokens_carry_user_and_admin_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "unit-secret-long-enough-for-hs256!")
    from billing.settings import current
    current.cache_clear()
    try:
        claims = jwt.decode(issue_token(5, True), "unit-secret-long-enough-for-hs256!", algorithms=["HS256"])
    finally:
        current.cache_clear()
    assert claims["sub"] == "5" and claims["adm"] is True and claims["exp"] > time.time()


# the app's error mapping, without a database

@pytest.fixture
def client():
    app = create_app(Settings(instance="unit-1"), prepare_schema=False)
    failures = Blueprint("failures", __name__)

    @failures.get("/fail/<kind>")
    def fail(kind: str):
        raise {"redis": redis.ConnectionError("refused"),
               "db": OperationalError("SELECT 1", {}, Exception("server closed the connection")),
               "bug": ZeroDivisionError("division by zero")}[kind]

    app.register_blueprint(failures)
    return app.test_client()


@pytest.mark.parametrize("kind, status, code", [
    ("redis", 503, "redis_unavailable"), ("db", 503, "db_unavailable"), ("bug", 500, "internal_error")])
def test_failures_become_json_errors_without_a_trace(client, kind: str, status: int, code: str) -> None:
    response = client.get(f"/fail/{kind}")
    assert response.status_code == status
    assert response.get_json()["error"] == code
    assert "Traceback" not in response.get_data(as_text=True)
    assert "division by zero" not in response.get_data(as_text=True)
    assert response.headers["X-Instance"] == "unit-1"


@pytest.mark.parametrize("body, field", [
    ({"password": "long-enough"}, "email"), ({"email": "a@b.test"}, "password"),
    ({"email": 5, "password": "long-enough"}, "email"), ({"email": "a@b.test", "password": "x"}, "password")])
def test_registration_names_the_bad_field(client, body: dict, field: str) -> None:
    response = client.post("/api/auth/register", json=body)
    assert response.status_code == 400
    assert field in response.get_json()["message"]


@pytest.mark.parametrize("data", ["{", "[1, 2]", "null", "\xff"])
def test_a_body_that_is_not_a_json_object_is_400(client, data: str) -> None:
    response = client.post("/api/auth/login", data=data, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_json"


def test_unknown_routes_are_json_404(client) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_test_endpoints_are_404_unless_enabled(client) -> None:
    assert client.post("/api/admin/test/reset").status_code == 404
