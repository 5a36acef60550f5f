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
    OUTBOX_DURABLE = "the outbox in PostgreSQL, written before the request is answered 202"
    QUANTITY_CHECK = "availability checked for the whole quantity"
    AVAILABLE_CHECK = "CHECK (available >= 0) on events"
    SOLD_OUT_ANSWER = "sold out decided by the conditional update and answered 409 sold_out"
    FINGERPRINT_PATH = "idempotency fingerprint covers the request path"
    EMAIL_UNIQUE = "unique constraint on users.email"
    EMAIL_CASE = "emails compared in one case (lower-cased when stored and looked up)"
    IDEMPOTENCY_DURABLE = "idempotency records backed by the database"
    IDEMPOTENCY_SCOPE = "idempotency keys scoped to their user"


P = Protection

# variant -> (protections it removes, what it breaks: "<n>: " an invariant of
# docs/architecture.md, "contract: " a promise of billing's contract table there)
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
    # The outbox was put beside the queue it guards ("Redis is already there"):
    # a Redis restart without persistence loses the queued message and the
    # entry that would have re-published it at once, and the task's status too.
    "outbox_in_redis": (frozenset({P.OUTBOX_DURABLE}),
                        "2: every accepted async request yields an invoice, even when Redis restarts"),
    # A team that dropped the unique index because retried tasks kept raising
    # IntegrityError, and whose task body inserts unconditionally.
    "task_not_idempotent": (frozenset({P.TASK_IDEMPOTENT, P.UNIQUE_INVOICE, P.FENCING}),
                            "2: every accepted async request yields exactly one invoice (none doubled)"),
    # The purchase check was written when every purchase was one ticket
    # (``available > 0``); quantity came later and nobody revisited the WHERE.
    # The same team never had the CHECK on events that would have refused the
    # negative counter, so it removes that too: with the CHECK in place the
    # mistake is refused by the database and shows as a 503 (what
    # ``sold_out_unhandled`` is about), not as the oversell it is. Every other
    # build keeps the CHECK (``oversell``'s lost updates never go below zero).
    "quantity_unchecked": (frozenset({P.QUANTITY_CHECK, P.AVAILABLE_CHECK}),
                           "4: tickets sold <= capacity"),
    # "The database's CHECK (available >= 0) stops overselling": it does, but the
    # refusal reaches the client as a 503 db_error, not the 409 sold_out promised.
    "sold_out_unhandled": (frozenset({P.SOLD_OUT_ANSWER}),
                           "contract: a sold-out purchase is a definite 409 sold_out, never a 503"),
    # The fingerprint was written for one endpoint, so hashing the body seemed
    # enough: the same key on another subscription replays the first answer.
    "fingerprint_without_path": (frozenset({P.FINGERPRINT_PATH}),
                                 "contract: the same key with other parameters is refused (422), never replayed"),
    # Email validation moved into code and the unique constraint was dropped in
    # a migration: check-then-insert across instances.
    "email_check_then_insert": (frozenset({P.EMAIL_UNIQUE}),
                                "contract: one account per email, a second registration is 409 email_taken"),
    # The idempotency_records table "seemed redundant with Redis": once Redis
    # forgets a key (its TTL, an eviction, a failover) a retry runs the work
    # again, which finds the subscription active: 409, not the first outcome.
    "idempotency_redis_only": (frozenset({P.IDEMPOTENCY_DURABLE}),
                               "3: every replay returns the first outcome, even after Redis forgets the key"),
    # Keys looked up by the key alone, as if clients made them globally unique:
    # one user's key blocks or answers for another user's.
    # The email is stored as typed: the unique constraint is case-sensitive, so
    # Ann@shop.test and ann@shop.test are two accounts for one mailbox.
    "email_case_sensitive": (frozenset({P.EMAIL_CASE}),
                             "contract: one account per email, whatever its case"),
    "idempotency_key_global": (frozenset({P.IDEMPOTENCY_SCOPE}),
                               "contract: a key is its user's own; another user's first use of it runs"),
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
