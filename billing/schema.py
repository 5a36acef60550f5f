"""Schema creation and seed data, safe when five instances start at once.

Every instance runs this at start. A PostgreSQL advisory lock serialises
them, and every statement is idempotent, so the second to fifth instance find
the work done. The unique index on invoices, the CHECK on events.available and
the unique constraint on users.email follow the variant each time, so
restarting the service with another ``BILLING_UNSAFE`` re-applies them. A
protection that cannot be re-created because an unsafe run left data breaking
it (duplicates, a negative counter) stops the start: reset the data first.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine, select, text
from sqlalchemy.dialects.postgresql import insert

from billing.auth import hash_password
from billing.db import Base
from billing.models import (AVAILABLE_CHECK_NAME, AVAILABLE_CHECK_SQL, EMAIL_UNIQUE_NAME, Event, Slot,
                            TariffPlan, User)
from billing.settings import Settings
from billing.unsafe import Protection

SCHEMA_LOCK_ID = 0x6269_6C6C  # "bill"
INVOICE_UNIQUE_INDEX = "uq_invoices_user_period"

PLANS = [
    ("Starter", "For one person", Decimal("9.99")),
    ("Team", "Up to ten seats", Decimal("29.99")),
    ("Business", "Up to fifty seats", Decimal("99.00")),
    ("Enterprise", "Unlimited seats", Decimal("499.00")),
    ("Annual Starter", "Starter, billed yearly", Decimal("99.90")),
]
SEED_EVENTS = 5        # the seed's locustfile buys tickets for events 1..5
SEED_EVENT_CAPACITY = 100_000
SEED_SLOTS = 10        # and books services 1..10
SEED_SLOT_CAPACITY = 100_000


def ensure_schema(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": SCHEMA_LOCK_ID})
        Base.metadata.create_all(conn)
        if settings.protected(Protection.UNIQUE_INVOICE):
            conn.execute(text(f"CREATE UNIQUE INDEX IF NOT EXISTS {INVOICE_UNIQUE_INDEX} "
                              "ON invoices (user_id, period)"))
        else:
            conn.execute(text(f"DROP INDEX IF EXISTS {INVOICE_UNIQUE_INDEX}"))
        # The oversell variant oversells with this CHECK in place (its lost
        # updates never go below zero); quantity_unchecked needs it gone.
        _follow(conn, settings.protected(Protection.AVAILABLE_CHECK), "events", AVAILABLE_CHECK_NAME,
                f"CHECK ({AVAILABLE_CHECK_SQL})", f"NOT ({AVAILABLE_CHECK_SQL})")
        _follow(conn, settings.protected(Protection.EMAIL_UNIQUE), "users", EMAIL_UNIQUE_NAME,
                "UNIQUE (email)", "email IN (SELECT email FROM users GROUP BY email HAVING count(*) > 1)")
        seed(conn, settings)


def _follow(conn, wanted: bool, table: str, name: str, definition: str, breaking: str) -> None:
    """Make constraint ``name`` on ``table`` exist exactly when ``wanted``; idempotent.

    ``breaking`` is a WHERE clause selecting the rows that would make adding it
    fail; they are named in the error instead of deleted or skipped over.
    """
    # Looked up first, so that an instance starting beside running ones takes
    # no table lock when there is nothing to change (ALTER TABLE always would).
    exists = conn.execute(text("SELECT 1 FROM pg_constraint WHERE conrelid = CAST(:table AS regclass) "
                               "AND conname = :name"), {"table": table, "name": name}).first() is not None
    if exists == wanted:
        return
    if not wanted:
        conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"))
        return
    ids = conn.execute(text(f"SELECT id FROM {table} WHERE {breaking} ORDER BY id LIMIT 10")).scalars().all()
    if ids:
        raise RuntimeError(f"cannot re-create {name} on {table}: rows {ids} (left by an unsafe variant) "
                           "break it; reset the data before starting this build")
    conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))


def seed(conn, settings: Settings) -> None:
    admin = dict(email=settings.admin_email, password_hash=hash_password(settings.admin_password),
                 name="Administrator", is_admin=True)
    if settings.protected(Protection.EMAIL_UNIQUE):
        conn.execute(insert(User).values(admin).on_conflict_do_nothing(index_elements=["email"]))
    elif conn.execute(select(User.id).where(User.email == settings.admin_email)).first() is None:
        # No unique constraint to conflict on (email_check_then_insert): check
        # first, safe here because the advisory lock serialises the instances.
        conn.execute(insert(User).values(admin))
    conn.execute(insert(TariffPlan).values([
        dict(name=n, description=d, price=p, currency_code="USD",
             billing_period="year" if n.startswith("Annual") else "month")
        for n, d, p in PLANS]).on_conflict_do_nothing(index_elements=["name"]))
    if conn.execute(text("SELECT count(*) FROM events")).scalar_one() == 0:
        conn.execute(insert(Event).values([
            dict(name=f"Seed event {i}", capacity=SEED_EVENT_CAPACITY, available=SEED_EVENT_CAPACITY)
            for i in range(1, SEED_EVENTS + 1)]))
    if conn.execute(text("SELECT count(*) FROM slots")).scalar_one() == 0:
        conn.execute(insert(Slot).values([
            dict(service_id=i, capacity=SEED_SLOT_CAPACITY, booked=0) for i in range(1, SEED_SLOTS + 1)]))


RESETTABLE = ("idempotency_records", "invoice_fences", "invoices", "tickets", "bookings",
              "subscriptions", "async_requests")


def reset_data(engine: Engine, settings: Settings) -> None:
    """Clear what scenarios write, keep the admin, plans and seed rows: a clean slate in one call."""
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": SCHEMA_LOCK_ID})
        conn.execute(text(f"TRUNCATE {', '.join(RESETTABLE)} RESTART IDENTITY CASCADE"))
        conn.execute(text("DELETE FROM events WHERE id > :n"), {"n": SEED_EVENTS})
        conn.execute(text("DELETE FROM slots WHERE id > :n"), {"n": SEED_SLOTS})
        conn.execute(text("UPDATE events SET available = capacity"))
        conn.execute(text("UPDATE slots SET booked = 0"))
        conn.execute(text("DELETE FROM users WHERE NOT is_admin"))
