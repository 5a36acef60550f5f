"""The abstract operations: what the workload asks of any target, whatever its routes are called.

A scenario says ``generate_invoice(user_id=7, period="2026-01")``; a target
profile says how that becomes an HTTP request and where the answer's values
are. The set is closed: a profile may map or lack an operation, never invent
one, because every checker reads values by the names given here (an invoice
is ``{invoice_id, user_id, period, amount}`` whether the target calls it a
bill, an ``invoice`` or a ``charge``).

Names are the history's own where the history already had one
(``generate_invoice``, ``activate``, ``purchase_ticket`` ...): ``history_f``
is what a recorded operation's ``f`` becomes, so that the checkers keep
working unchanged (``slow_invoice`` is recorded as ``generate_invoice``,
``list_plans`` as ``read``).

``write`` decides how an ambiguous outcome is classified (see
``chaos.history.classify``): a write that may have happened is ``info``, a
read that failed changed nothing and is ``fail``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

ValueKind = Literal["value", "flag", "list"]
# An id is whatever JSON scalar the target chose (7, "7", a UUID): the suite passes it on and compares it,
# and never casts it.
Id = int | str
REQUIRED = frozenset({"health", "list_invoices"})  # without them no run can be judged


@dataclass(frozen=True)
class Param:
    """One parameter of an operation. An optional parameter left out is left out of the request too."""

    name: str
    type: Any
    required: bool = True
    default: Any = None


@dataclass(frozen=True)
class Value:
    """One value a caller may read from the reply.

    ``flag`` values are booleans (a header such as ``Idempotent-Replayed: true``);
    ``list`` values are lists, and ``fields`` are the names their items are
    normalised to (empty for a list of scalars, e.g. user ids).
    """

    name: str
    kind: ValueKind = "value"
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class OperationSpec:
    name: str
    params: tuple[Param, ...]
    values: tuple[Value, ...]
    write: bool
    doc: str
    history_f: str = ""
    as_admin: bool = False      # the suite calls it with the admin's token
    test_only: bool = False     # billing serves it only with BILLING_TEST_ENDPOINTS
    destructive: bool = False   # clears data: `chaos target check` calls it only when asked
    holds: bool = False         # hold_s keeps this request open that long: the client waits as much longer
    idempotent: bool = False    # takes the idempotency key (``key``) in the profile's idempotency header
    fingerprint: tuple[str, ...] = ()  # params the key's request fingerprint covers (history: value.params)

    def __post_init__(self) -> None:
        if not self.history_f:
            object.__setattr__(self, "history_f", self.name)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def required_params(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.required)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def value(self, name: str) -> Value | None:
        return next((v for v in self.values if v.name == name), None)


def _p(name: str, type_: Any = Id, required: bool = True, default: Any = None) -> Param:
    return Param(name, type_, required and default is None, default)


def _opt(name: str, type_: type = str) -> Param:
    return Param(name, type_, required=False)


def _v(*names: str) -> tuple[Value, ...]:
    return tuple(Value(n) for n in names)


INVOICE_FIELDS = ("invoice_id", "user_id", "period", "amount", "subscription_id", "instance", "fencing_token",
                  "created_at")
_CREDENTIALS = (_p("email", str), _p("password", str))

_SPECS = (
    # accounts
    OperationSpec("register", (*_CREDENTIALS, _opt("name")), _v("user_id", "email", "token"), True,
                  "create an account (a target whose sign-up answers with a token logs the user in with it)"),
    OperationSpec("login", _CREDENTIALS, _v("token", "user_id"), False,
                  "log a user in; the client keeps the token"),
    OperationSpec("admin_login", _CREDENTIALS, _v("token", "user_id"), False,
                  "log the administrator in (invoices and final reads are admin calls)"),
    OperationSpec("profile", (), _v("user_id", "email", "is_admin"), False, "the caller's own account"),
    # catalogue and subscriptions
    OperationSpec("list_plans", (), (Value("plans", "list", ("plan_id", "name", "price", "currency_code",
                                                             "billing_period")),), False,
                  "the tariff plans (the seed's read baseline)", history_f="read"),
    OperationSpec("list_subscriptions", (), (Value("subscriptions", "list", ("subscription_id", "plan_id",
                                                                             "status", "payment_method")),),
                  False, "the caller's subscriptions"),
    OperationSpec("subscribe", (_p("plan_id"), _p("payment_method", str, default="card")),
                  _v("subscription_id", "status"), True, "create a pending subscription (checkout)"),
    OperationSpec("activate", (_p("subscription_id"), _opt("key"), _p("payment_method", str, default="card"),
                               _opt("hold_s", float)),
                  (*_v("subscription_id", "status", "invoice_id", "amount"), Value("replayed", "flag")), True,
                  "activate (pay for) a subscription once per idempotency key; hold_s keeps the first call "
                  "in flight (billing's test endpoints)", holds=True, idempotent=True, fingerprint=("payment_method",)),
    # invoices (admin)
    OperationSpec("generate_invoice", (_p("user_id"), _opt("period")), _v("invoice_id", "user_id", "period",
                                                                          "amount", "subscription_id"), True,
                  "invoice one user for one period, synchronously", as_admin=True),
    OperationSpec("generate_invoice_async", (_p("user_id"), _opt("period"), _opt("hold_s", float),
                                             _opt("linger_s", float), _opt("spike_mb", int)),
                  _v("task_id", "user_id", "period"), True, "accept an invoice request for a worker (202); "
                  "spike_mb: its task's first run needs that much memory (a test hook)", as_admin=True),
    OperationSpec("slow_invoice", (_p("user_id"), _p("hold_s", float), _opt("period")),
                  _v("invoice_id", "user_id", "period", "amount"), True,
                  "generate an invoice holding the lock hold_s seconds before the write",
                  history_f="generate_invoice", as_admin=True, holds=True, test_only=True),
    OperationSpec("task_status", (_p("task_id", str),), _v("task_id", "state", "result"), False,
                  "an async invoice task's state", as_admin=True),
    OperationSpec("list_invoices", (_p("user_id"),), (Value("invoices", "list", INVOICE_FIELDS),), False,
                  "every invoice of a user: the final read", as_admin=True),
    # tickets and bookings
    OperationSpec("create_event", (_p("capacity", int), _p("name", str, default="event")), _v("event_id"), True,
                  "an event with capacity tickets", as_admin=True),
    OperationSpec("event", (_p("event_id"),), (*_v("event_id", "capacity", "available"),
                                               Value("tickets", "list", ("ticket_id", "quantity", "user_id"))),
                  False, "an event's counters and tickets (final read)"),
    OperationSpec("purchase_ticket", (_p("event_id"), _p("quantity", int, default=1)),
                  _v("ticket_id", "event_id", "quantity"), True, "buy tickets"),
    OperationSpec("create_slot", (_p("capacity", int), _p("name", str, default="slot")), _v("slot_id"), True,
                  "a bookable slot with capacity places", as_admin=True),
    OperationSpec("slot", (_p("slot_id"),), (*_v("slot_id", "capacity", "booked"),
                                             Value("bookings", "list", ("booking_id", "user_id"))),
                  False, "a slot's counters and bookings (final read)"),
    OperationSpec("book_slot", (_p("slot_id"),), _v("booking_id", "slot_id"), True, "book a place"),
    # operations
    OperationSpec("pool_metrics", (), _v("instance", "pool_size", "checkedout", "overflow", "checkedin"), False,
                  "the answering instance's database pool"),
    OperationSpec("health", (), _v("status", "instance", "redis", "db"), False,
                  "is the instance up, and its dependencies"),
    # test support (billing's test endpoints)
    OperationSpec("reset", (), _v("status"), True, "clear what scenarios wrote", as_admin=True,
                  test_only=True, destructive=True),
    OperationSpec("bulk_users", (_p("count", int), _p("prefix", str, default="bulk")),
                  (Value("user_ids", "list"), Value("password")), True, "create many users at once",
                  as_admin=True, test_only=True),
    OperationSpec("lock_events", (), (Value("events", "list", ("kind", "key", "token", "instance", "t",
                                                               "expire_s", "fence", "accepted")),),
                  False, "the invoice locks' journal", as_admin=True, test_only=True),
)

OPERATIONS: Mapping[str, OperationSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})
NAMES: frozenset[str] = frozenset(OPERATIONS)


def spec(name: str) -> OperationSpec:
    """The operation called ``name``; a KeyError names the ones that exist."""
    try:
        return OPERATIONS[name]
    except KeyError:
        raise KeyError(f"no operation {name!r}; the operations are {', '.join(sorted(NAMES))}") from None
