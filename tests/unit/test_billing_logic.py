"""billing/'s pure logic: variants, periods, fingerprints, tokens and error shapes.

The Flask app is built without touching a database (``prepare_schema=False``)
and driven single-threaded: these tests prove validation and error mapping,
not concurrency (that needs the real stack, tests/stack/). The variants' code
paths are driven with stand-ins for Redis, sessions and connections: which
statement each build sends, not what PostgreSQL does with it.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from contextlib import contextmanager
from typing import Any

import jwt
import pytest
import redis
from flask import Blueprint
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError, OperationalError

from billing.app import create_app
from billing.auth import hash_password, issue_token, password_matches
from billing.errors import ApiError
from billing import idempotency, schema
from billing.api import reservations
from billing.idempotency import IdempotentRunner, fingerprint, record_name
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
                             "oversell", "acks_early", "task_not_idempotent", "quantity_unchecked",
                             "sold_out_unhandled", "fingerprint_without_path", "email_check_then_insert",
                             "idempotency_redis_only", "idempotency_key_global", "email_case_sensitive",
                             "outbox_in_redis"}
    assert len(VARIANTS) == 15
    for removed, invariant in VARIANTS.values():
        assert removed and re.match(r"(\d|contract): ", invariant)


@pytest.mark.parametrize("name, removed", [
    # the CHECK on events goes too: with it the bad WHERE is refused as a 503, never an oversell
    ("quantity_unchecked", {Protection.QUANTITY_CHECK, Protection.AVAILABLE_CHECK}),
    ("sold_out_unhandled", {Protection.SOLD_OUT_ANSWER}),
    ("fingerprint_without_path", {Protection.FINGERPRINT_PATH}),
    ("email_check_then_insert", {Protection.EMAIL_UNIQUE}),
    ("idempotency_redis_only", {Protection.IDEMPOTENCY_DURABLE}),
    ("idempotency_key_global", {Protection.IDEMPOTENCY_SCOPE}),
    ("email_case_sensitive", {Protection.EMAIL_CASE}),
    ("outbox_in_redis", {Protection.OUTBOX_DURABLE}),
])
def test_each_new_variant_removes_only_its_own_protection(name: str, removed: set[Protection]) -> None:
    assert removed_protections(name) == removed
    others = set().union(*(protections for other, (protections, _) in VARIANTS.items() if other != name))
    own = removed - {Protection.AVAILABLE_CHECK}
    assert not own & others, "a new variant's protection is nobody else's"


def test_every_protection_is_removed_by_some_variant() -> None:
    assert set().union(*(removed for removed, _ in VARIANTS.values())) == set(Protection)


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


def test_the_safe_fingerprint_is_the_one_stored_before_the_variants() -> None:
    canonical = json.dumps({"user": 1, "path": "/p", "params": {"a": 1}}, sort_keys=True)
    assert fingerprint(1, "/p", {"a": 1}) == hashlib.sha256(canonical.encode()).hexdigest()


def test_a_fingerprint_without_the_path_matches_another_subscriptions_activation() -> None:
    a = fingerprint(1, "/api/subscriptions/3/activate", {"payment_method": "card"}, with_path=False)
    assert a == fingerprint(1, "/api/subscriptions/4/activate", {"payment_method": "card"}, with_path=False)
    assert a != fingerprint(2, "/api/subscriptions/3/activate", {"payment_method": "card"}, with_path=False)
    assert a != fingerprint(1, "/api/subscriptions/3/activate", {"payment_method": "card"})


def test_a_key_is_named_with_its_user_unless_keys_are_global() -> None:
    assert record_name(7, "k-1") == "idem:7:k-1"
    assert record_name(7, "k-1", scoped=False) == record_name(8, "k-1", scoped=False) == "idem:k-1"


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


# the new variants' code paths, without Redis or a database

class FakeStore:
    """Redis's SET NX / GET / DELETE, in a dict (what IdempotentRunner uses)."""

    def __init__(self) -> None:
        self.records: dict[str, str] = {}

    def set(self, name: str, value: str, nx: bool = False, ex: int | None = None) -> bool:
        if nx and name in self.records:
            return False
        self.records[name] = value
        return True

    def get(self, name: str) -> str | None:
        return self.records.get(name)

    def delete(self, name: str) -> None:
        self.records.pop(name, None)


class NoDatabase:
    """A sessionmaker whose transactions hold a session nothing may query."""

    @contextmanager
    def begin(self):
        yield object()


def runner(monkeypatch: pytest.MonkeyPatch, spec: str) -> tuple[IdempotentRunner, list[int]]:
    monkeypatch.setattr(idempotency.db, "sessions", lambda settings: NoDatabase())
    runs: list[int] = []
    idem = IdempotentRunner(Settings(unsafe=removed_protections(spec)))
    idem.store = FakeStore()
    return idem, runs


def activation(runs: list[int], subscription_id: int):
    def work(session: Any) -> tuple[int, dict[str, Any]]:
        runs.append(subscription_id)
        return 200, {"subscription_id": subscription_id, "status": "active"}
    return work


@pytest.mark.parametrize("spec, durable, with_path, scoped", [
    ("", True, True, True),
    ("idempotency_redis_only", False, True, True),
    ("fingerprint_without_path", True, False, True),
    ("idempotency_key_global", True, True, False),
])
def test_the_runner_skips_only_its_variants_protection(spec: str, durable: bool, with_path: bool,
                                                        scoped: bool) -> None:
    idem = IdempotentRunner(Settings(unsafe=removed_protections(spec)))
    assert (idem.shared, idem.inflight) == (True, True)
    assert (idem.backed, idem.with_path, idem.scoped) == (durable, with_path, scoped)


def test_redis_only_runs_the_work_again_once_redis_forgets_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    idem, runs = runner(monkeypatch, "idempotency_redis_only")
    first = idem.run(1, "k", "/api/subscriptions/3/activate", {}, activation(runs, 3))
    replay = idem.run(1, "k", "/api/subscriptions/3/activate", {}, activation(runs, 3))
    assert (first.replayed, replay.replayed, runs) == (False, True, [3])
    idem.store.records.clear()  # the record's TTL ran out
    again = idem.run(1, "k", "/api/subscriptions/3/activate", {}, activation(runs, 3))
    assert not again.replayed and runs == [3, 3]


def test_without_the_path_another_subscription_gets_the_first_ones_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    idem, runs = runner(monkeypatch, "fingerprint_without_path,idempotency_redis_only")
    idem.run(1, "k", "/api/subscriptions/3/activate", {}, activation(runs, 3))
    other = idem.run(1, "k", "/api/subscriptions/4/activate", {}, activation(runs, 4))
    assert other.replayed and other.body["subscription_id"] == 3 and runs == [3]


def test_with_the_path_another_subscription_is_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    idem, runs = runner(monkeypatch, "idempotency_redis_only")
    idem.run(1, "k", "/api/subscriptions/3/activate", {}, activation(runs, 3))
    with pytest.raises(ApiError) as error:
        idem.run(1, "k", "/api/subscriptions/4/activate", {}, activation(runs, 4))
    assert (error.value.status, error.value.code, runs) == (422, "idempotency_mismatch", [3])


@pytest.mark.parametrize("spec, outcome", [
    ("idempotency_redis_only", "runs"),
    ("idempotency_key_global,idempotency_redis_only", 422),
])
def test_a_global_key_refuses_another_users_first_use(monkeypatch: pytest.MonkeyPatch, spec: str,
                                                      outcome: object) -> None:
    idem, runs = runner(monkeypatch, spec)
    idem.run(1, "k", "/api/subscriptions/3/activate", {}, activation(runs, 3))
    if outcome == "runs":
        assert not idem.run(2, "k", "/api/subscriptions/4/activate", {}, activation(runs, 4)).replayed
        assert runs == [3, 4]
        return
    with pytest.raises(ApiError) as error:
        idem.run(2, "k", "/api/subscriptions/4/activate", {}, activation(runs, 4))
    assert error.value.status == outcome and runs == [3]


class RecordingSession:
    """Records the statements _take_seats sends; the UPDATE "matches" when told to."""

    def __init__(self, matches: bool, event_exists: bool = True) -> None:
        self.matches, self.event_exists, self.sql = matches, event_exists, []

    def execute(self, statement):
        self.sql.append(str(statement.compile(dialect=postgresql.dialect(),
                                              compile_kwargs={"literal_binds": True})))
        return self

    def first(self):
        return (1,) if self.matches else None

    def get(self, model, ident):
        return object() if self.event_exists else None


@pytest.fixture
def variant(monkeypatch: pytest.MonkeyPatch):
    from billing.settings import current

    def use(spec: str) -> None:
        monkeypatch.setenv("BILLING_UNSAFE", spec)
        current.cache_clear()

    yield use
    current.cache_clear()


@pytest.mark.parametrize("spec, condition", [
    ("", "events.available >= 3"), ("quantity_unchecked", "events.available > 0")])
def test_the_seat_update_asks_for_the_whole_quantity_unless_quantity_unchecked(variant, spec: str,
                                                                               condition: str) -> None:
    variant(spec)
    session = RecordingSession(matches=True)
    reservations._take_seats(session, 9, 3)
    assert len(session.sql) == 1 and condition in session.sql[0] and "events.id = 9" in session.sql[0]


@pytest.mark.parametrize("spec", ["", "quantity_unchecked"])
def test_a_seat_update_that_matches_nothing_is_sold_out_or_404(variant, spec: str) -> None:
    variant(spec)
    with pytest.raises(ApiError) as sold_out:
        reservations._take_seats(RecordingSession(matches=False), 9, 3)
    with pytest.raises(ApiError) as missing:
        reservations._take_seats(RecordingSession(matches=False, event_exists=False), 9, 3)
    assert (sold_out.value.status, sold_out.value.code) == (409, "sold_out")
    assert (missing.value.status, missing.value.code) == (404, "event_not_found")


def test_sold_out_unhandled_decrements_unconditionally_and_still_404s(variant) -> None:
    variant("sold_out_unhandled")
    session = RecordingSession(matches=True)
    reservations._take_seats(session, 9, 3)
    assert session.sql == ["UPDATE events SET available=(events.available - 3) WHERE events.id = 9 "
                           "RETURNING events.id"]
    with pytest.raises(ApiError) as missing:
        reservations._take_seats(RecordingSession(matches=False), 9, 3)
    assert (missing.value.status, missing.value.code) == (404, "event_not_found")


def test_a_check_violation_reaches_the_client_as_503_db_error(client) -> None:
    """What sold_out_unhandled's purchases get when the CHECK refuses them (not 409 sold_out)."""
    failures = Blueprint("check_violation", __name__)

    @failures.get("/fail/check")
    def fail():
        raise IntegrityError("UPDATE events", {}, Exception('violates check constraint "available_nonneg"'))

    client.application.register_blueprint(failures)
    response = client.get("/fail/check")
    assert response.status_code == 503 and response.get_json()["error"] == "db_error"


class SchemaConnection:
    """Answers ensure_schema's catalogue and data queries; records its ALTERs."""

    def __init__(self, constraints: set[str], breaking: dict[str, list[int]] | None = None) -> None:
        self.constraints, self.breaking, self.altered = constraints, breaking or {}, []
        self.rows: list = []

    def execute(self, statement, params: dict | None = None):
        sql = str(statement)
        self.rows = []
        if sql.startswith("ALTER"):
            self.altered.append(sql)
        elif "pg_constraint" in sql:
            self.rows = [(1,)] if params["name"] in self.constraints else []
        elif sql.startswith("SELECT id FROM"):
            self.rows = self.breaking.get(sql.split()[3], [])
        return self

    def first(self):
        return self.rows[0] if self.rows else None

    def scalars(self):
        return self

    def all(self):
        return self.rows


@pytest.fixture
def ensure_schema(monkeypatch: pytest.MonkeyPatch):
    """billing.schema.ensure_schema on a SchemaConnection: no create_all, no seed rows."""
    monkeypatch.setattr(schema.Base.metadata, "create_all", lambda conn: None)
    monkeypatch.setattr(schema, "seed", lambda conn, settings: None)

    def run(conn: SchemaConnection, spec: str) -> list[str]:
        class Engine:
            @contextmanager
            def begin(self):
                yield conn

        schema.ensure_schema(Engine(), Settings(unsafe=removed_protections(spec)))
        return conn.altered

    return run


BOTH = {"available_nonneg", "users_email_key"}  # what create_all makes
ADD_CHECK = "ALTER TABLE events ADD CONSTRAINT available_nonneg CHECK (available >= 0 OR available IS NULL)"
ADD_UNIQUE = "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)"


@pytest.mark.parametrize("spec", ["", "oversell", "sold_out_unhandled", "check_then_insert"])
def test_the_safe_build_and_other_variants_keep_the_constraints_create_all_made(ensure_schema,
                                                                                spec: str) -> None:
    assert ensure_schema(SchemaConnection(set(BOTH)), spec) == []


@pytest.mark.parametrize("spec, dropped", [
    ("quantity_unchecked", "ALTER TABLE events DROP CONSTRAINT IF EXISTS available_nonneg"),
    ("email_check_then_insert", "ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_key")])
def test_a_variant_drops_only_its_constraint(ensure_schema, spec: str, dropped: str) -> None:
    conn = SchemaConnection(set(BOTH))
    assert ensure_schema(conn, spec) == [dropped]
    conn.constraints -= {dropped.rsplit(" ", 1)[1]}
    assert ensure_schema(conn, spec) == [dropped], "the next instance to start finds it gone, alters nothing"


@pytest.mark.parametrize("missing, added", [
    ("available_nonneg", ADD_CHECK), ("users_email_key", ADD_UNIQUE)])
def test_a_constraint_an_earlier_variant_dropped_is_re_created(ensure_schema, missing: str, added: str) -> None:
    assert ensure_schema(SchemaConnection(BOTH - {missing}), "") == [added]


def test_rows_breaking_a_constraint_stop_the_start_and_are_kept(ensure_schema) -> None:
    conn = SchemaConnection({"available_nonneg"}, breaking={"users": [4, 5]})
    with pytest.raises(RuntimeError, match=r"users_email_key on users: rows \[4, 5\]"):
        ensure_schema(conn, "")
    assert conn.altered == []


def test_the_models_name_the_constraints_the_schema_follows() -> None:
    from billing.models import AVAILABLE_CHECK_NAME, EMAIL_UNIQUE_NAME, Event, User
    assert AVAILABLE_CHECK_NAME in {c.name for c in Event.__table__.constraints}
    assert User.__table__.c.email.unique and EMAIL_UNIQUE_NAME == "users_email_key"


class SeedConnection:
    """Records seed's statements as PostgreSQL; no admin yet, the seed rows already there."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def execute(self, statement, params: dict | None = None):
        self.sql.append(str(statement.compile(dialect=postgresql.dialect())))
        return self

    def first(self):
        return None

    def scalar_one(self):
        return 1


@pytest.mark.parametrize("spec, conflict", [("", True), ("email_check_then_insert", False)])
def test_the_admin_is_seeded_with_or_without_the_email_constraint(spec: str, conflict: bool) -> None:
    conn = SeedConnection()
    schema.seed(conn, Settings(unsafe=removed_protections(spec)))
    users = [sql for sql in conn.sql if "users" in sql]
    assert users[-1].startswith("INSERT INTO users")
    assert ("ON CONFLICT (email) DO NOTHING" in users[-1]) is conflict
    assert (users[0].startswith("SELECT users.id") and len(users) == 2) is not conflict


# the plan list, kept per instance

def test_the_plan_list_is_read_once_per_ttl_and_each_app_keeps_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from billing.api import catalog

    reads: list[str] = []
    monkeypatch.setattr(catalog, "_read_plans", lambda: reads.append("read") or [{"id": len(reads)}])
    clock = [1000.0]
    monkeypatch.setattr(catalog.time, "monotonic", lambda: clock[0])
    first, second = (create_app(Settings(instance=f"unit-{i}"), prepare_schema=False).test_client()
                     for i in (1, 2))
    assert [first.get("/api/tariff_plans").get_json() for _ in range(3)] == [[{"id": 1}]] * 3
    assert second.get("/api/tariff_plans").get_json() == [{"id": 2}], "another app reads for itself"
    clock[0] += catalog.PLAN_LIST_TTL_S + 0.1
    assert first.get("/api/tariff_plans").get_json() == [{"id": 3}], "after the ttl the list is read again"
    assert len(reads) == 3
