"""Unsafe variants: each one turns off protections the way a hurried developer would.

The suite is trusted only if it catches every variant and passes the safe
build, so each variant is a *realistic* mistake, not a sabotage: the code
paths stay the same and only the protection named here is skipped.
"""
from __future__ import annotations

from enum import Enum


class Protection(Enum):
    LOCK = "redis lock per (user, period)"
    UNIQUE_INVOICE = "unique (user_id, period) on invoices"
    FENCING = "fencing token checked by the database"
    IDEMPOTENCY_SHARED = "idempotency records in Redis, backed by the database"
    IDEMPOTENCY_INFLIGHT = "in-flight marker claimed before the work"
    ROW_LOCKS = "atomic conditional updates for tickets and bookings"
    ACKS_LATE = "acks_late + task_reject_on_worker_lost"
    TASK_IDEMPOTENT = "idempotent task body"
    OUTBOX = "outbox of accepted async requests, stranded ones re-published"


P = Protection

# variant -> (protections it removes, the invariant of DESIGN.md it breaks)
VARIANTS: dict[str, tuple[frozenset[Protection], str]] = {
    "check_then_insert": (frozenset({P.LOCK, P.UNIQUE_INVOICE, P.FENCING}),
                          "1: at most one invoice per (user, period)"),
    "lock_only": (frozenset({P.UNIQUE_INVOICE, P.FENCING}),
                  "5: a holder that lost its lock cannot write"),
    "idempotency_local": (frozenset({P.IDEMPOTENCY_SHARED}),
                          "3: an activation happens at most once, replays return the first outcome"),
    "idempotency_no_inflight": (frozenset({P.IDEMPOTENCY_INFLIGHT}),
                                "3: concurrent same-key activations run once"),
    "oversell": (frozenset({P.ROW_LOCKS}),
                 "4: tickets sold <= capacity, bookings <= slot capacity"),
    # The seed's Celery set-up: early acks and nothing that remembers an accepted request.
    "acks_early": (frozenset({P.ACKS_LATE, P.OUTBOX}),
                   "2: every accepted async request yields an invoice (none lost)"),
    # A team that dropped the unique index because retried tasks kept raising
    # IntegrityError, and whose task body inserts unconditionally.
    "task_not_idempotent": (frozenset({P.TASK_IDEMPOTENT, P.UNIQUE_INVOICE, P.FENCING}),
                            "2: every accepted async request yields exactly one invoice (none doubled)"),
}


def removed_protections(spec: str) -> frozenset[Protection]:
    """Parse ``BILLING_UNSAFE=<name>[,<name>]``; an unknown name is an error, never ignored."""
    removed: set[Protection] = set()
    for name in (part.strip() for part in spec.split(",")):
        if not name:
            continue
        if name not in VARIANTS:
            raise ValueError(f"BILLING_UNSAFE: unknown variant {name!r}; known: {', '.join(VARIANTS)}")
        removed |= VARIANTS[name][0]
    return frozenset(removed)
