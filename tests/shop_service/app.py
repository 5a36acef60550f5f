"""A third billing service, built only for the tests: a small Flask + SQLite shop backend.

Modelled on a real open-source Flask billing backend, and unlike billing/ and
tests/target_service wherever a service can differ:

- UUID strings for every id (users, plans, subscriptions, invoices);
- 201 on creation; errors are English sentences with no machine code,
  ``{"detail": "An invoice for this subscription already exists."}``;
- no header names the instance (instances are told apart by their URL only);
  ``GET /health`` is ``{"ok": true}``;
- a password policy (at least 10 characters, a digit and an upper-case letter);
- a per-IP login rate limit kept in the shared database (30 logins per 10 s by
  default, ``--login-limit N/S``), cleared by
  ``python -m tests.shop_service.app --db FILE --reset-rate-limits``;
- invoices carry no billing period: paying a subscription (checkout, then
  pay) invoices it, and an admin may invoice a customer's subscription.

Routes (``Authorization: Token <token>``; * = admin only)::

    POST /auth/signup                      {email, password, full_name} -> 201 {id, email, token}
    POST /auth/token                       {email, password} -> {token, user: {id}}
    GET  /me                               {id, email, full_name, role, is_staff}
    GET  /catalog/plans                    {results: [{uuid, title, price_cents}]}
    POST /checkout                         {plan} -> 201 {subscription: {uuid, state: pending, plan}}
    GET  /subscriptions                    {results: [{uuid, plan, state, method}]}
    POST /subscriptions/<uuid>/pay         {method}, Idempotency-Key ->
                                           201 {subscription, state: active, invoice: {uuid, amount_cents}}
  * POST /admin/customers/<uuid>/invoices  {} (the customer's latest subscription) or {subscription}
                                           -> 201 {uuid, subscription, customer, amount_cents, created}
  * GET  /admin/customers/<uuid>/invoices  {data: [{uuid, subscription, customer, amount_cents, created}]}
    GET  /health                           {ok: true}

Variants (``--variant``):

``default`` is safe in some operations and deliberately unsafe in others:

- registration (a UNIQUE email), login, the rate limit, checkout and the reads
  are safe;
- **pay's idempotency is check-then-insert**: the key's stored record is looked
  up, then the payment provider is called (a 0.05-0.1 s pause), and only then
  are the invoice and the record written, with no lock and no unique index: a
  key's parallel pays each invoice (one activation becomes several);
- **the record is looked up by key and request fingerprint together**, so a key
  reused with another ``method`` is simply a new key: accepted (201), and it
  invoices again;
- **pay never looks at the subscription's state**: a pay with a fresh key on an
  already active (or already invoiced) subscription charges and invoices again;
- **the admin invoice is check-then-insert** ("no invoice for this subscription
  yet?", a 0.1 s pause for pricing, insert): parallel calls for one customer's
  subscription each make an invoice.

``correct`` does the same work safely: a key is claimed atomically (a UNIQUE
(customer, key) row inserted under BEGIN IMMEDIATE) before the provider call,
and the invoice, the subscription's activation and the key's outcome are
written in one BEGIN IMMEDIATE transaction; a replay returns the first
outcome (same status, same body), a key reused with other parameters is
refused (422), a key whose first request is still running is refused (409);
a subscription has at most one invoice (a UNIQUE index on
invoices(subscription)), so a second admin invoice, or a pay of an already
active subscription, is refused (409). Paying a subscription an admin already
invoiced settles that invoice rather than making another.

Instances sharing one SQLite file (WAL, autocommit connections, so races are
real) are the service's horizontal scale::

    python -m tests.shop_service.app --port 18091 --db /tmp/shop.db --name shop-1 [--variant correct]
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import random
import re
import secrets
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from flask import Flask, Response
# Flask and werkzeug are imported where the service is built, so that --reset-rate-limits (the profile's
# reset hook) runs on any Python 3, whichever `python` the suite's PATH finds.

VARIANTS = ("default", "correct")
NAMESPACE = uuid.UUID("6f1c2a4e-9a57-4c1e-8f0e-5b7d3c2a1e90")  # seeded ids are the same for every instance
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@shop.test", "Admin-Passw0rd"
PLANS = (("starter", "Starter", 900), ("pro", "Pro", 2900))
PROVIDER_S = (0.05, 0.1)   # the payment provider's answer time: pay's check-then-insert window (default variant)
PRICING_S = 0.1            # pricing an admin invoice: generate's check-then-insert window (default variant)
IN_FLIGHT_TTL_S = 30.0     # a claimed key whose request died may be claimed again after this (correct variant)
BUSY_TIMEOUT_S = 10.0
LOCK_RETRIES = 5
HASH_METHOD = "pbkdf2:sha256:2000"  # cheap on purpose: a thousand sign-ups must take seconds
DEFAULT_LOGIN_LIMIT = "30/10"
PASSWORD_POLICY = "Password must be at least 10 characters and contain a digit and an uppercase letter."
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
METHOD = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, full_name TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'customer', created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, user_id TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS plans (uuid TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
    price_cents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (uuid TEXT PRIMARY KEY, customer TEXT NOT NULL, plan TEXT NOT NULL,
    state TEXT NOT NULL, method TEXT, created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS subscriptions_by_customer ON subscriptions (customer);
CREATE TABLE IF NOT EXISTS invoices (uuid TEXT PRIMARY KEY, subscription TEXT NOT NULL, customer TEXT NOT NULL,
    amount_cents INTEGER NOT NULL, kind TEXT NOT NULL, created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS invoices_by_customer ON invoices (customer);
CREATE INDEX IF NOT EXISTS invoices_by_subscription ON invoices (subscription);
CREATE TABLE IF NOT EXISTS idempotency_keys (customer TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    claim TEXT, status INTEGER, body TEXT, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_key ON idempotency_keys (customer, key);
CREATE TABLE IF NOT EXISTS login_attempts (ip TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_attempts_by_ip ON login_attempts (ip, at);
"""
# only the correct variant has them (the default variant's duplicates would make them fail to build)
CORRECT_SCHEMA = """
CREATE UNIQUE INDEX IF NOT EXISTS invoices_one_per_subscription ON invoices (subscription);
CREATE UNIQUE INDEX IF NOT EXISTS idempotency_keys_unique ON idempotency_keys (customer, key);
"""

T = TypeVar("T")


class Refusal(Exception):
    """An answer decided inside a transaction: (status, sentence)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def connect(db_path: str) -> sqlite3.Connection:
    """Autocommit: every statement is its own transaction unless a handler says BEGIN IMMEDIATE."""
    connection = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    return connection


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """``work`` inside BEGIN IMMEDIATE (the write lock from the start, so no upgrade can fail), retried when
    the database stays locked past the busy timeout; a ``Refusal`` rolls back and propagates."""
    for attempt in range(LOCK_RETRIES):
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_busy(exc) and attempt < LOCK_RETRIES - 1:
                time.sleep(0.05 * (attempt + 1))
                continue
            raise
        try:
            result = work(db)
            db.execute("COMMIT")
            return result
        except sqlite3.OperationalError as exc:
            db.execute("ROLLBACK")
            if is_busy(exc) and attempt < LOCK_RETRIES - 1:
                time.sleep(0.05 * (attempt + 1))
                continue
            raise
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    raise AssertionError("unreachable")


def initialise(db_path: str, variant: str) -> None:
    """Tables and the seed (admin, two plans), the same for every instance (INSERT OR IGNORE, fixed ids)."""
    from werkzeug.security import generate_password_hash

    setup = connect(db_path)
    try:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.executescript(SCHEMA)
        if variant == "correct":
            try:
                setup.executescript(CORRECT_SCHEMA)
            except sqlite3.IntegrityError as exc:
                raise SystemExit(f"{db_path}: holds duplicates the correct variant forbids ({exc}); "
                                 "use a fresh database file") from None
        setup.execute("INSERT OR IGNORE INTO users (id, email, password_hash, full_name, role, created) "
                      "VALUES (?, ?, ?, 'Shop Admin', 'admin', ?)",
                      (str(uuid.uuid5(NAMESPACE, ADMIN_EMAIL)), ADMIN_EMAIL,
                       generate_password_hash(ADMIN_PASSWORD, HASH_METHOD), now_iso()))
        for code, title, cents in PLANS:
            setup.execute("INSERT OR IGNORE INTO plans (uuid, code, title, price_cents) VALUES (?, ?, ?, ?)",
                          (str(uuid.uuid5(NAMESPACE, f"plan:{code}")), code, title, cents))
    finally:
        setup.close()


def parse_limit(text: str) -> tuple[int, float]:
    """``"30/10"``: 30 logins per 10 s."""
    count, _, seconds = text.partition("/")
    try:
        limit = (int(count), float(seconds))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected N/S, e.g. 30/10 (N logins per S seconds)") from None
    if limit[0] < 1 or limit[1] <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: N and S must be positive")
    return limit


def create_app(db_path: str, name: str = "shop-1", variant: str = "default",
               login_limit: tuple[int, float] = (30, 10.0)) -> Flask:
    from flask import Flask, Response, abort, g, jsonify, make_response, request
    from werkzeug.exceptions import HTTPException
    from werkzeug.security import check_password_hash, generate_password_hash

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    correct = variant == "correct"
    initialise(db_path, variant)
    app = Flask(__name__)
    app.config.update(SHOP_NAME=name, SHOP_VARIANT=variant)

    def db() -> sqlite3.Connection:
        if "db" not in g:
            g.db = connect(db_path)
        return g.db

    def refuse(status: int, detail: str, headers: dict[str, str] | None = None) -> NoReturn:
        response = make_response(jsonify(detail=detail), status)
        response.headers.update(headers or {})
        abort(response)

    def body() -> dict[str, Any]:
        raw = request.get_data(cache=True)
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            refuse(400, "Request body must be a JSON object.")
        if not isinstance(data, dict):
            refuse(400, "Request body must be a JSON object.")
        return data

    def text_field(data: dict[str, Any], field: str, required: bool = True, limit: int = 255) -> str:
        value = data.get(field)
        if value is None or value == "":
            if required:
                refuse(400, f"This field is required: {field}.")
            return ""
        if not isinstance(value, str) or len(value) > limit:
            refuse(400, f"The field {field} must be a string of at most {limit} characters.")
        return value

    def caller(admin: bool = False) -> sqlite3.Row:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            refuse(401, "Authentication credentials were not provided.")
        if scheme != "Token" or not token.strip():
            refuse(401, "Invalid token header. Use: Authorization: Token <token>.")
        user = db().execute("SELECT u.* FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token = ?",
                            (token.strip(),)).fetchone()
        if user is None:
            refuse(401, "Invalid token.")
        if admin and user["role"] != "admin":
            refuse(403, "You do not have permission to perform this action.")
        return user

    @app.teardown_appcontext
    def close(_: object) -> None:
        if "db" in g:
            g.pop("db").close()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if exc.response is not None:  # abort(response): already a sentence
            return exc.response
        sentences = {404: "Not found.", 405: "Method not allowed.", 415: "Unsupported media type."}
        response = jsonify(detail=sentences.get(exc.code or 500, "Bad request."))
        response.status_code = exc.code or 500
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
            response = jsonify(detail="The service is busy, please retry.")  # only past every retry
            response.status_code = 503
            response.headers["Retry-After"] = "1"
            return response
        app.logger.exception("unexpected error")
        response = jsonify(detail="Something went wrong on our side.")
        response.status_code = 500
        return response

    # accounts

    @app.post("/auth/signup")
    def signup():
        data = body()
        email = text_field(data, "email").strip().lower()
        password = text_field(data, "password", limit=128)
        full_name = text_field(data, "full_name", required=False)
        if not EMAIL.match(email):
            refuse(400, "Enter a valid email address.")
        if len(password) < 10 or not re.search(r"\d", password) or not re.search(r"[A-Z]", password):
            refuse(400, PASSWORD_POLICY)
        user_id, token = str(uuid.uuid4()), secrets.token_hex(20)
        try:  # the UNIQUE email decides, whatever runs in parallel
            db().execute("INSERT INTO users (id, email, password_hash, full_name, created) VALUES (?, ?, ?, ?, ?)",
                         (user_id, email, generate_password_hash(password, HASH_METHOD), full_name, now_iso()))
        except sqlite3.IntegrityError:
            refuse(409, "Email already registered.")
        # signing up logs the new customer in (no login, so no rate limit, for a fresh account)
        db().execute("INSERT INTO tokens (token, user_id, created) VALUES (?, ?, ?)", (token, user_id, now_iso()))
        return jsonify(id=user_id, email=email, token=token), 201

    def count_login(connection: sqlite3.Connection) -> bool:
        """One more login from this IP: False when it is over the limit (the attempt is not counted)."""
        limit, window = login_limit
        ip, now = request.remote_addr or "unknown", time.time()
        connection.execute("DELETE FROM login_attempts WHERE ip = ? AND at < ?", (ip, now - window))
        (recent,) = connection.execute("SELECT COUNT(*) FROM login_attempts WHERE ip = ?", (ip,)).fetchone()
        if recent >= limit:
            return False
        connection.execute("INSERT INTO login_attempts (ip, at) VALUES (?, ?)", (ip, now))
        return True

    @app.post("/auth/token")
    def login():
        data = body()
        email = text_field(data, "email").strip().lower()
        password = text_field(data, "password", limit=128)
        if not transaction(db(), count_login):
            refuse(429, "Too many requests, slow down.", {"Retry-After": str(int(login_limit[1]))})
        user = db().execute("SELECT id, password_hash FROM users WHERE email = ?", (email,)).fetchone()
        if user is None or not check_password_hash(user["password_hash"], password):
            refuse(401, "Invalid credentials.")
        token = secrets.token_hex(20)
        db().execute("INSERT INTO tokens (token, user_id, created) VALUES (?, ?, ?)", (token, user["id"], now_iso()))
        return jsonify(token=token, user={"id": user["id"]})

    @app.get("/me")
    def me():
        user = caller()
        return jsonify(id=user["id"], email=user["email"], full_name=user["full_name"], role=user["role"],
                       is_staff=user["role"] == "admin")

    # catalogue and subscriptions

    @app.get("/catalog/plans")
    def plans():
        rows = db().execute("SELECT uuid, title, price_cents FROM plans ORDER BY price_cents").fetchall()
        return jsonify(results=[dict(row) for row in rows])

    @app.post("/checkout")
    def checkout():
        user = caller()
        plan_id = text_field(body(), "plan")
        if db().execute("SELECT 1 FROM plans WHERE uuid = ?", (plan_id,)).fetchone() is None:
            refuse(404, "Plan not found.")
        subscription = str(uuid.uuid4())
        db().execute("INSERT INTO subscriptions (uuid, customer, plan, state, created) VALUES (?, ?, ?, 'pending', ?)",
                     (subscription, user["id"], plan_id, now_iso()))
        return jsonify(subscription={"uuid": subscription, "state": "pending", "plan": plan_id}), 201

    @app.get("/subscriptions")
    def subscriptions():
        user = caller()
        rows = db().execute("SELECT uuid, plan, state, method FROM subscriptions WHERE customer = ? ORDER BY rowid",
                            (user["id"],)).fetchall()
        return jsonify(results=[dict(row) for row in rows])

    def invoice_json(row: sqlite3.Row | dict[str, Any]) -> dict[str, Any]:
        return {"uuid": row["uuid"], "subscription": row["subscription"], "customer": row["customer"],
                "amount_cents": row["amount_cents"], "created": row["created"]}

    def insert_invoice(connection: sqlite3.Connection, subscription: sqlite3.Row, kind: str) -> dict[str, Any]:
        (price,) = connection.execute("SELECT price_cents FROM plans WHERE uuid = ?",
                                      (subscription["plan"],)).fetchone()
        invoice = {"uuid": str(uuid.uuid4()), "subscription": subscription["uuid"],
                   "customer": subscription["customer"], "amount_cents": price, "created": now_iso()}
        connection.execute("INSERT INTO invoices (uuid, subscription, customer, amount_cents, kind, created) "
                           "VALUES (?, ?, ?, ?, ?, ?)", (invoice["uuid"], invoice["subscription"],
                                                         invoice["customer"], price, kind, invoice["created"]))
        return invoice

    def paid(subscription: str, invoice: dict[str, Any]) -> dict[str, Any]:
        return {"subscription": subscription, "state": "active",
                "invoice": {"uuid": invoice["uuid"], "amount_cents": invoice["amount_cents"]}}

    def provider_call() -> None:
        time.sleep(random.uniform(*PROVIDER_S))

    @app.post("/subscriptions/<subscription_id>/pay")
    def pay(subscription_id: str):
        user = caller()
        method = text_field(body(), "method", limit=32)
        if not METHOD.match(method):
            refuse(400, "Unsupported payment method.")
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 255:
            refuse(400, "Idempotency key must be at most 255 characters.")
        subscription = db().execute("SELECT * FROM subscriptions WHERE uuid = ? AND customer = ?",
                                    (subscription_id, user["id"])).fetchone()
        if subscription is None:
            refuse(404, "Subscription not found.")
        fingerprint = hashlib.sha256(json.dumps({"subscription": subscription_id, "method": method},
                                                sort_keys=True).encode()).hexdigest()
        if correct:
            status, answer = pay_safely(user["id"], subscription_id, method, key, fingerprint)
        else:
            status, answer = pay_unsafely(user["id"], subscription, method, key, fingerprint)
        return jsonify(answer), status

    def pay_unsafely(customer: str, subscription: sqlite3.Row, method: str, key: str | None,
                     fingerprint: str) -> tuple[int, dict[str, Any]]:
        """Check, call the provider, insert: no lock, no unique index, no look at the subscription's state."""
        if key is not None:
            # BUG: looked up by key AND fingerprint, so a key with other parameters is just a new key
            stored = db().execute("SELECT status, body FROM idempotency_keys WHERE customer = ? AND key = ? "
                                  "AND fingerprint = ? AND status IS NOT NULL ORDER BY rowid LIMIT 1",
                                  (customer, key, fingerprint)).fetchone()
            if stored is not None:
                return stored["status"], json.loads(stored["body"])
        provider_call()  # BUG: the window between the check above and the inserts below
        db().execute("UPDATE subscriptions SET state = 'active', method = ? WHERE uuid = ?",
                     (method, subscription["uuid"]))
        answer = paid(subscription["uuid"], insert_invoice(db(), subscription, "activation"))
        if key is not None:
            db().execute("INSERT INTO idempotency_keys (customer, key, fingerprint, status, body, created) "
                         "VALUES (?, ?, ?, 201, ?, ?)", (customer, key, fingerprint, json.dumps(answer), time.time()))
        return 201, answer

    def pay_safely(customer: str, subscription_id: str, method: str, key: str | None,
                   fingerprint: str) -> tuple[int, dict[str, Any]]:
        claim = None
        if key is not None:
            claimed = transaction(db(), lambda c: claim_key(c, customer, key, fingerprint))
            if isinstance(claimed, tuple):
                return claimed  # the first outcome again
            claim = claimed
        try:
            provider_call()
            return transaction(db(), lambda c: activate(c, customer, subscription_id, method, key, claim))
        except Refusal as refusal:
            return refusal.status, {"detail": refusal.detail}
        except BaseException:
            if claim is not None:  # nothing happened: free the key for a retry
                db().execute("DELETE FROM idempotency_keys WHERE customer = ? AND key = ? AND claim = ?",
                             (customer, key, claim))
            raise

    def claim_key(connection: sqlite3.Connection, customer: str, key: str,
                  fingerprint: str) -> str | tuple[int, dict[str, Any]]:
        """The claim's id, or the first outcome to replay; refusals for a mismatch or a request in flight."""
        row = connection.execute("SELECT * FROM idempotency_keys WHERE customer = ? AND key = ?",
                                 (customer, key)).fetchone()
        claim = secrets.token_hex(8)
        if row is None:
            connection.execute("INSERT INTO idempotency_keys (customer, key, fingerprint, claim, created) "
                               "VALUES (?, ?, ?, ?, ?)", (customer, key, fingerprint, claim, time.time()))
            return claim
        if row["fingerprint"] != fingerprint:
            return 422, {"detail": "Idempotency key was already used with a different request."}
        if row["status"] is not None:
            return row["status"], json.loads(row["body"])
        if time.time() - row["created"] < IN_FLIGHT_TTL_S:
            return 409, {"detail": "A request with this idempotency key is still in progress."}
        connection.execute("UPDATE idempotency_keys SET claim = ?, created = ? WHERE customer = ? AND key = ?",
                           (claim, time.time(), customer, key))  # its holder died: take it over
        return claim

    def activate(connection: sqlite3.Connection, customer: str, subscription_id: str, method: str,
                 key: str | None, claim: str | None) -> tuple[int, dict[str, Any]]:
        """Activation, invoice and the key's outcome in one transaction."""
        if claim is not None and connection.execute(
                "SELECT 1 FROM idempotency_keys WHERE customer = ? AND key = ? AND claim = ?",
                (customer, key, claim)).fetchone() is None:
            raise Refusal(409, "A request with this idempotency key is still in progress.")  # taken over
        subscription = connection.execute("SELECT * FROM subscriptions WHERE uuid = ?", (subscription_id,)).fetchone()
        status, answer = 201, {}
        if subscription["state"] == "active":
            status, answer = 409, {"detail": "This subscription is already active."}
        else:
            open_invoice = connection.execute("SELECT * FROM invoices WHERE subscription = ?",
                                              (subscription_id,)).fetchone()
            invoice = dict(open_invoice) if open_invoice is not None else insert_invoice(connection, subscription,
                                                                                        "activation")
            connection.execute("UPDATE subscriptions SET state = 'active', method = ? WHERE uuid = ?",
                               (method, subscription_id))
            answer = paid(subscription_id, invoice)
        if claim is not None:
            connection.execute("UPDATE idempotency_keys SET status = ?, body = ?, claim = NULL "
                               "WHERE customer = ? AND key = ?", (status, json.dumps(answer), customer, key))
        return status, answer

    # invoices (admin)

    def customer_subscription(customer_id: str, data: dict[str, Any]) -> sqlite3.Row:
        if db().execute("SELECT 1 FROM users WHERE id = ?", (customer_id,)).fetchone() is None:
            refuse(404, "Customer not found.")
        chosen = text_field(data, "subscription", required=False)
        if chosen:
            subscription = db().execute("SELECT * FROM subscriptions WHERE uuid = ? AND customer = ?",
                                        (chosen, customer_id)).fetchone()
            if subscription is None:
                refuse(404, "Subscription not found.")
            return subscription
        subscription = db().execute("SELECT * FROM subscriptions WHERE customer = ? ORDER BY rowid DESC LIMIT 1",
                                    (customer_id,)).fetchone()
        if subscription is None:
            refuse(404, "This customer has no subscription.")
        return subscription

    @app.post("/admin/customers/<customer_id>/invoices")
    def generate_invoice(customer_id: str):
        caller(admin=True)
        subscription = customer_subscription(customer_id, body())
        exists = "An invoice for this subscription already exists."
        if not correct:
            if db().execute("SELECT 1 FROM invoices WHERE subscription = ?", (subscription["uuid"],)).fetchone():
                refuse(409, exists)
            time.sleep(PRICING_S)  # BUG: pricing between the check and the insert, and no lock across it
            return jsonify(insert_invoice(db(), subscription, "manual")), 201

        time.sleep(PRICING_S)  # pricing first, outside the write lock

        def once(connection: sqlite3.Connection) -> dict[str, Any]:
            if connection.execute("SELECT 1 FROM invoices WHERE subscription = ?",
                                  (subscription["uuid"],)).fetchone():
                raise Refusal(409, exists)
            return insert_invoice(connection, subscription, "manual")

        try:
            return jsonify(transaction(db(), once)), 201
        except (Refusal, sqlite3.IntegrityError):  # the unique index is the last word
            refuse(409, exists)

    @app.get("/admin/customers/<customer_id>/invoices")
    def invoices(customer_id: str):
        caller(admin=True)
        if db().execute("SELECT 1 FROM users WHERE id = ?", (customer_id,)).fetchone() is None:
            refuse(404, "Customer not found.")
        rows = db().execute("SELECT * FROM invoices WHERE customer = ? ORDER BY rowid", (customer_id,)).fetchall()
        return jsonify(data=[invoice_json(row) for row in rows])

    @app.get("/health")
    def health():
        db().execute("SELECT 1").fetchone()
        return jsonify(ok=True)

    return app


def reset_rate_limits(db_path: str) -> int:
    if not os.path.isfile(db_path):
        print(f"{db_path}: no such database file", file=sys.stderr)
        return 1
    connection = connect(db_path)
    try:
        cleared = connection.execute("DELETE FROM login_attempts").rowcount
    except sqlite3.OperationalError as exc:
        print(f"{db_path}: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    print(f"cleared {cleared} login attempts")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.shop_service.app",
                                     description="the shop test service (see tests/shop_service/profile.yaml)")
    parser.add_argument("--port", type=int, help="serve on 127.0.0.1:PORT")
    parser.add_argument("--db", default=os.environ.get("SHOP_DB"),
                        help="SQLite file (default $SHOP_DB); instances sharing it are one scaled service")
    parser.add_argument("--name", help="this instance's name, for logs only (no header carries it)")
    parser.add_argument("--variant", choices=VARIANTS, default="default",
                        help="default: unsafe pay idempotency and admin invoices; correct: every operation safe")
    parser.add_argument("--login-limit", type=parse_limit, default=parse_limit(DEFAULT_LOGIN_LIMIT),
                        metavar="N/S", help=f"logins per IP per S seconds (default {DEFAULT_LOGIN_LIMIT})")
    parser.add_argument("--reset-rate-limits", action="store_true",
                        help="clear the login rate limit's table in --db and exit")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if not args.db:
        parser.error("--db (or $SHOP_DB) is required")
    if args.reset_rate_limits:
        return reset_rate_limits(args.db)
    if args.port is None:
        parser.error("--port is required to serve")
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    name = args.name or f"shop-{args.port}"
    server = make_server("127.0.0.1", args.port, create_app(args.db, name, args.variant, args.login_limit),
                         threaded=True)
    print(f"{name} ({args.variant}) serving http://127.0.0.1:{server.port} on {args.db}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
