"""Schema creation and seed data, safe when five instances start at once.

Every instance runs this at start. A PostgreSQL advisory lock serialises
them, and every statement is idempotent, so the second to fifth instance find
the work done. The unique index on invoices follows the variant each time, so
restarting the service with another ``BILLING_UNSAFE`` re-applies it.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine, text
from sqlalchemy.dialects.postgresql import insert

from billing.auth import hash_password
from billing.db import Base
from billing.models import Event, Slot, TariffPlan, User
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
        seed(conn, settings)


def seed(conn, settings: Settings) -> None:
    conn.execute(insert(User).values(
        email=settings.admin_email, password_hash=hash_password(settings.admin_password),
        name="Administrator", is_admin=True).on_conflict_do_nothing(index_elements=["email"]))
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
              "subscriptions")


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
