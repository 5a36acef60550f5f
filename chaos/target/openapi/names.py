"""The suite's words in a target's words: synonyms, and the fields that carry errors and headers.

A service's document rarely says ``password`` or ``invoice_id``; these tables
are what lets the drafter map ``secret`` to ``password`` and ``bill_no`` to
``invoice_id`` without the team writing the mapping by hand. Kept apart from
the matching rules so the vocabulary can grow without touching the scoring.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

# the codes the suite's own errors use: a target's code among them needs no mapping
SUITE_CODES = frozenset({"invoice_exists", "lock_timeout", "lock_lost", "sold_out", "slot_full",
                         "idempotency_mismatch", "idempotency_in_flight"})
# the target's names for the suite's: request fields, path parameters and reply values
SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "email": ("login", "username", "user_name", "mail", "user"),
    "password": ("secret", "pass", "passphrase", "pwd"),
    "name": ("label", "title", "display_name", "full_name"),
    "plan_id": ("tariff_plan_id", "plan", "plan_code", "code", "price_id", "product_id"),
    "payment_method": ("method", "payment", "pay_with"),
    "period": ("month", "billing_period", "billing_month"),
    "event_id": ("event",),
    "quantity": ("qty", "count", "tickets", "seats"),
    "slot_id": ("slot",),
    "capacity": ("seats", "size", "places", "limit"),
    "count": ("n", "number", "how_many"),
    "user_id": ("customer_id", "customer", "account_id", "account", "user", "uid"),
    "subscription_id": ("order_id", "order", "subscription"),
    "invoice_id": ("bill_no", "bill_id", "invoice_no", "invoice_number", "bill", "invoice", "number"),
    "amount": ("total", "price", "sum"),
    "status": ("state", "up", "healthy", "ok"),
    "state": ("status",),
    "task_id": ("job_id", "task", "job"),
    "token": ("access_token", "jwt", "id_token", "session_token", "session"),
    "is_admin": ("admin", "root", "superuser", "is_staff", "staff"),
    "instance": ("served_by", "hostname", "host", "node", "server"),
    "price": ("monthly", "amount", "cost"),
    "plans": ("items", "data", "results", "plan", "catalogue"),
    "invoices": ("bills", "charges", "items", "data", "results"),
    "subscriptions": ("orders", "items", "data", "results"),
    "replayed": ("idempotent-replayed", "idempotency-replayed", "replayed"),
}
# the reply value an answer's bare ``id`` is, per operation (its first created or read thing)
PRIMARY = {"register": "user_id", "login": "user_id", "admin_login": "user_id", "profile": "user_id",
           "subscribe": "subscription_id", "activate": "subscription_id", "generate_invoice": "invoice_id",
           "slow_invoice": "invoice_id", "generate_invoice_async": "task_id", "task_status": "task_id",
           "create_event": "event_id", "event": "event_id", "purchase_ticket": "ticket_id",
           "create_slot": "slot_id", "slot": "slot_id", "book_slot": "booking_id"}
REFUSALS = {("generate_invoice", 409): "invoice_exists", ("slow_invoice", 409): "invoice_exists",
            ("purchase_ticket", 409): "sold_out", ("book_slot", 409): "slot_full",
            ("activate", 422): "idempotency_mismatch"}
ERROR_CODE_FIELDS = ("error", "code", "problem", "error_code", "type")
ERROR_MESSAGE_FIELDS = ("message", "detail", "title", "description", "msg", "error_description")
IDEMPOTENCY_HEADER = re.compile(r"idempot|request-id|dedup", re.I)
INSTANCE_HEADER = re.compile(r"instance|served|host|node|server", re.I)


def best_name(ours: str, theirs: tuple[str, ...] | list[str], primary: bool = False) -> str | None:
    """The target's name among ``theirs`` for the suite's ``ours``: the same name, a synonym (in order),
    a name ending in ``_<ours>`` (``tariff_plan_id``), or a bare ``id`` for the operation's primary value."""
    lowered = {t.lower(): t for t in theirs}
    if ours in lowered:
        return lowered[ours]
    for synonym in SYNONYMS.get(ours, ()):
        if synonym in lowered:
            return lowered[synonym]
    for low, original in lowered.items():
        if low.endswith(f"_{ours}"):
            return original
    if primary and "id" in lowered:
        return lowered["id"]
    return None
