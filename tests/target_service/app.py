"""A second billing service, built only for the tests: other routes, other names, and deliberately unsafe.

It differs from billing/ wherever a profile can differ: routes under /v2,
customers, bills and months instead of users, invoices and periods, the
token in ``jwt`` sent bare in ``X-Session``, ``X-Request-Id`` as its
idempotency header, ``X-Served-By`` naming the instance, errors as
``{"problem": code}``. And it has none of billing's protections: a bill is
check-then-insert with a pause in between (no lock, no unique index), and
paying ignores ``X-Request-Id``. The suite must report both. Instances that
share one SQLite file are its horizontal scale.

    python -m tests.target_service.app --port 18081 --db /tmp/svc.db
"""
from __future__ import annotations

import argparse
import secrets
import sqlite3
import time

from flask import Flask, abort, g, jsonify, make_response, request
from werkzeug.serving import make_server

RACE_WINDOW_S = 0.1  # between "no bill yet?" and the insert: where concurrent calls duplicate
ROOT = ("root", "root-secret")
PLANS = [{"code": 1, "label": "basic", "monthly": "9.99"}, {"code": 2, "label": "pro", "monthly": "29.99"}]
SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, login TEXT UNIQUE, secret TEXT, root INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (jwt TEXT PRIMARY KEY, account INTEGER);
CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer INTEGER, plan INTEGER, state TEXT);
CREATE TABLE IF NOT EXISTS bills (bill_no INTEGER PRIMARY KEY, customer INTEGER, month TEXT, total TEXT);
"""


def connect(db_path: str) -> sqlite3.Connection:
    """Autocommit: every statement is its own transaction, so check and insert can interleave."""
    return sqlite3.connect(db_path, timeout=10, isolation_level=None, check_same_thread=False)


def create_app(db_path: str, name: str = "svc-1") -> Flask:
    app = Flask(__name__)
    setup = connect(db_path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.executescript(SCHEMA)
    setup.execute("INSERT OR IGNORE INTO accounts (login, secret, root) VALUES (?, ?, 1)", ROOT)
    setup.close()

    def db() -> sqlite3.Connection:
        if "db" not in g:
            g.db = connect(db_path)
        return g.db

    def problem(status: int, code: str):
        return abort(make_response(jsonify(problem=code), status))

    def caller(root: bool = False) -> int:
        row = db().execute("SELECT a.id, a.root FROM sessions s JOIN accounts a ON a.id = s.account "
                           "WHERE s.jwt = ?", (request.headers.get("X-Session", ""),)).fetchone()
        if row is None:
            problem(401, "no_session")
        if root and not row[1]:
            problem(403, "not_root")
        return row[0]

    @app.teardown_appcontext
    def close(_: object) -> None:
        if "db" in g:
            g.pop("db").close()

    @app.after_request
    def served_by(response):
        response.headers["X-Served-By"] = name
        return response

    @app.post("/v2/accounts")
    def open_account():
        data = request.get_json(force=True)
        try:
            cursor = db().execute("INSERT INTO accounts (login, secret) VALUES (?, ?)", (data["login"], data["secret"]))
        except sqlite3.IntegrityError:
            return problem(409, "login_taken")
        return jsonify(account={"id": cursor.lastrowid, "login": data["login"]}), 201

    @app.post("/v2/sessions")
    def open_session():
        data = request.get_json(force=True)
        row = db().execute("SELECT id FROM accounts WHERE login = ? AND secret = ?",
                           (data.get("login"), data.get("secret"))).fetchone()
        if row is None:
            return problem(401, "bad_login")
        jwt = secrets.token_hex(16)
        db().execute("INSERT INTO sessions VALUES (?, ?)", (jwt, row[0]))
        return jsonify(jwt=jwt, customer_id=row[0])

    @app.get("/v2/me")
    def me():
        row = db().execute("SELECT id, login, root FROM accounts WHERE id = ?", (caller(),)).fetchone()
        return jsonify(id=row[0], login=row[1], root=bool(row[2]))

    @app.get("/v2/catalogue")
    def catalogue():
        return jsonify(plans=PLANS)

    @app.post("/v2/orders")
    def place_order():
        cursor = db().execute("INSERT INTO orders (customer, plan, state) VALUES (?, ?, 'new')",
                              (caller(), request.get_json(force=True)["plan"]))
        return jsonify(order=cursor.lastrowid, state="new"), 201

    @app.post("/v2/orders/<int:order>/pay")
    def pay(order: int):
        customer = caller()  # X-Request-Id is not even read: a retry pays (and bills) again
        if db().execute("SELECT 1 FROM orders WHERE id = ? AND customer = ?", (order, customer)).fetchone() is None:
            return problem(404, "no_order")
        db().execute("UPDATE orders SET state = 'paid' WHERE id = ?", (order,))
        cursor = db().execute("INSERT INTO bills (customer, month, total) VALUES (?, ?, '9.99')",
                              (customer, f"activation-{order}"))
        return jsonify(order=order, state="paid", bill_no=cursor.lastrowid, paid_at=time.time())

    @app.post("/v2/customers/<int:customer>/bills")
    def bill(customer: int):
        caller(root=True)
        month = (request.get_json(force=True, silent=True) or {}).get("month") or time.strftime("%Y-%m")
        if db().execute("SELECT 1 FROM bills WHERE customer = ? AND month = ?", (customer, month)).fetchone():
            return problem(409, "already_billed")
        time.sleep(RACE_WINDOW_S)  # pricing, tax, a PDF...: and no lock held across it
        cursor = db().execute("INSERT INTO bills (customer, month, total) VALUES (?, ?, '9.99')", (customer, month))
        return jsonify(bill_no=cursor.lastrowid, customer=customer, month=month, total="9.99"), 201

    @app.get("/v2/customers/<int:customer>/bills")
    def bills(customer: int):
        caller(root=True)
        rows = db().execute("SELECT bill_no, customer, month, total FROM bills WHERE customer = ? ORDER BY bill_no",
                            (customer,)).fetchall()
        return jsonify(bills=[dict(zip(("bill_no", "customer", "month", "total"), row)) for row in rows])

    @app.get("/v2/ping")
    def ping():
        return jsonify(up=True, served_by=name)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the test-only target service (see tests/target_service/profile.yaml)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="SQLite file; instances sharing it are one scaled service")
    parser.add_argument("--name", help="the X-Served-By name (default svc-PORT)")
    args = parser.parse_args(argv)
    make_server("127.0.0.1", args.port, create_app(args.db, args.name or f"svc-{args.port}"),
                threaded=True).serve_forever()


if __name__ == "__main__":
    main()
