"""``chaos target check PROFILE``: call each mapped operation once against every instance of a target.

The point is to find a profile's mistakes before a chaos run does: a route
that 404s, a token path that finds nothing, an ``extract`` path that misses
its field on a reply that was ok, and a value the checkers need that the
profile does not extract at all. Operations run in the order a customer's
life needs them (register, log in, subscribe, activate; then the admin's
invoices and reads), each fed by what the earlier ones returned; a step
whose input never came is skipped with the reason, not failed: after a
failed login every call that needs the customer's token is "skipped: no
token". ``reset`` is destructive and runs only when asked.

Every instance is checked (each instance URL of a running target, each api
instance of the ``chaos up`` stack), and each row says which instance it is
about. Beside the rows:

- *gaps*: a value a checker needs that an ok reply did not carry, as
  ``not extracted: <field> (needed by <checker>)``. A gap does not fail the
  check (the scenario still runs) but that checker will say ``unknown``;
- *notes* about the profile itself, e.g. ``identities.invoice: not declared:
  the at-most-once invoice checks will be unknown``.
"""
from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from chaos.target.admin import AdminError, ExecIn, admin_token
from chaos.target.client import TargetClient
from chaos.target.model import TargetProfile
from chaos.target.operations import OPERATIONS
from chaos.target.reply import Reply

State = Literal["works", "fails", "unknown", "lacked", "skipped"]
PASSWORD = "check-password-1"
Context = dict[str, Any]
NO_TOKEN_NEEDED = frozenset({"health", "register", "login", "admin_login"})
_accounts = itertools.count(1)


@dataclass(frozen=True)
class CheckRow:
    operation: str
    state: State
    status: int | None = None
    detail: str = ""
    instance: str = ""                    # which instance answered (api_1...), "" when only one was asked
    gaps: tuple[str, ...] = ()            # "not extracted: invoice_id (needed by idempotency)"

    @property
    def broken(self) -> bool:
        """Did the operation not work as the profile says (a failure, an unknown, a declared value missing)?"""
        return self.state in ("fails", "unknown") or "NOT FOUND" in self.detail

    def where(self) -> str:
        return f"{self.instance}: {self.operation}" if self.instance else self.operation


@dataclass(frozen=True)
class Step:
    operation: str
    params: Callable[[Context], dict[str, Any]]
    needs: tuple[str, ...] = ()                         # context keys the params read
    remember: tuple[tuple[str, str], ...] = ()          # (context key, reply value)


@dataclass(frozen=True)
class FieldNeed:
    """A value a checker reads from an operation's reply: ``field``, or ``list[].field`` for a field of each
    item of a list value."""

    operation: str
    field: str
    checker: str

    @property
    def list_and_item(self) -> tuple[str, str | None]:
        name, _, item = self.field.partition("[].")
        return name, item or None


def _first_plan(reply: Reply) -> Any:
    plans = reply.get("plans") or []
    return plans[0].get("plan_id") if plans and isinstance(plans[0], dict) else None


STEPS: tuple[Step, ...] = (
    Step("health", lambda c: {}),
    Step("register", lambda c: {"email": c["email"], "password": c["password"]}, remember=(("user_id", "user_id"),)),
    Step("login", lambda c: {"email": c["email"], "password": c["password"]}, remember=(("user_id", "user_id"),)),
    Step("profile", lambda c: {}, remember=(("user_id", "user_id"),)),
    Step("list_plans", lambda c: {}),
    Step("list_subscriptions", lambda c: {}),
    Step("subscribe", lambda c: {"plan_id": c.get("plan_id", 1)}, remember=(("subscription_id", "subscription_id"),)),
    Step("activate", lambda c: {"subscription_id": c["subscription_id"], "key": f"check-{uuid.uuid4().hex}"},
         needs=("subscription_id",), remember=(("activation_invoice_id", "invoice_id"),)),
    Step("admin_login", lambda c: {}),
    Step("generate_invoice", lambda c: {"user_id": c["user_id"], "period": "2099-01"}, needs=("user_id",),
         remember=(("generated_invoice_id", "invoice_id"),)),
    Step("generate_invoice_async", lambda c: {"user_id": c["user_id"], "period": "2099-02"}, needs=("user_id",),
         remember=(("task_id", "task_id"),)),
    Step("task_status", lambda c: {"task_id": c["task_id"]}, needs=("task_id",)),
    Step("slow_invoice", lambda c: {"user_id": c["user_id"], "hold_s": 0.1, "period": "2099-03"}, needs=("user_id",)),
    Step("list_invoices", lambda c: {"user_id": c["user_id"]}, needs=("user_id",)),
    Step("create_event", lambda c: {"capacity": 1}, remember=(("event_id", "event_id"),)),
    Step("purchase_ticket", lambda c: {"event_id": c["event_id"]}, needs=("event_id",)),
    Step("event", lambda c: {"event_id": c["event_id"]}, needs=("event_id",)),
    Step("create_slot", lambda c: {"capacity": 1}, remember=(("slot_id", "slot_id"),)),
    Step("book_slot", lambda c: {"slot_id": c["slot_id"]}, needs=("slot_id",)),
    Step("slot", lambda c: {"slot_id": c["slot_id"]}, needs=("slot_id",)),
    Step("pool_metrics", lambda c: {}),
    Step("bulk_users", lambda c: {"count": 1, "prefix": c["email"].split("@")[0]}),
    Step("lock_events", lambda c: {}),
    Step("reset", lambda c: {}),
)

# What the checkers read from each operation's reply (beyond the identities, added by ``field_needs``).
NEEDED: tuple[FieldNeed, ...] = (
    FieldNeed("list_plans", "plans[].plan_id", "the scenarios' subscribe (which plan to subscribe to)"),
    FieldNeed("subscribe", "subscription_id", "idempotency"),
    FieldNeed("activate", "invoice_id", "idempotency"),
    FieldNeed("generate_invoice", "invoice_id", "invoices"),
    FieldNeed("slow_invoice", "invoice_id", "invoices"),
    FieldNeed("generate_invoice_async", "task_id", "async_invoices"),
    FieldNeed("task_status", "state", "async_invoices (waiting for the tasks to settle)"),
    FieldNeed("list_invoices", "invoices[].invoice_id", "invoices"),
    FieldNeed("create_event", "event_id", "capacity"),
    FieldNeed("purchase_ticket", "ticket_id", "capacity"),
    FieldNeed("event", "capacity", "capacity"),
    FieldNeed("event", "available", "capacity"),
    FieldNeed("event", "tickets", "capacity"),
    FieldNeed("create_slot", "slot_id", "capacity"),
    FieldNeed("book_slot", "booking_id", "capacity"),
    FieldNeed("slot", "capacity", "capacity"),
    FieldNeed("slot", "booked", "capacity"),
    FieldNeed("slot", "bookings", "capacity"),
)


def field_needs(profile: TargetProfile) -> list[FieldNeed]:
    """Every value the checkers need of this target: ``NEEDED`` and the fields of its declared identities."""
    needs = list(NEEDED)
    identities = getattr(profile, "identities", None) or {}
    for kind, checker in (("invoice", "invoices"), ("activation", "idempotency")):
        identity = identities.get(kind)
        if isinstance(identity, (tuple, list)):
            needs += [FieldNeed("list_invoices", f"invoices[].{name}", f"{checker}: identities.{kind}")
                      for name in identity if name != "invoice_id"]
    return needs


def profile_notes(profile: TargetProfile) -> list[str]:
    """What the profile itself leaves the checkers unable to judge (no call needed to know it)."""
    identities = getattr(profile, "identities", None) or {}
    notes = []
    if profile.offers("list_invoices") and identities.get("invoice") is None:
        notes.append("identities.invoice: not declared: the at-most-once invoice checks will be unknown")
    return notes


@dataclass
class CheckReport:
    """The rows of every instance checked, and the notes about the profile."""

    rows: dict[str, list[CheckRow]] = field(default_factory=dict)   # instance -> rows, in STEPS order
    notes: list[str] = field(default_factory=list)

    def broken(self) -> list[str]:
        """``api_2: list_plans`` for each operation that did not work as the profile says."""
        return [row.where() for rows in self.rows.values() for row in rows if row.broken]

    def gaps(self) -> list[str]:
        """``api_1: activate: not extracted: invoice_id (needed by idempotency)``, and the notes."""
        return [f"{row.where()}: {gap}" for rows in self.rows.values() for row in rows for gap in row.gaps] + \
            list(self.notes)


def check_instances(profile: TargetProfile, urls: Mapping[str, str], *, destructive: bool = False,
                    timeout_s: float = 10.0, exec_in: ExecIn | None = None) -> CheckReport:
    """``check_target`` on every instance (name -> base URL), each with an account of its own."""
    report = CheckReport(notes=profile_notes(profile))
    for instance, url in urls.items():
        report.rows[instance] = check_target(profile, url, destructive=destructive, timeout_s=timeout_s,
                                             exec_in=exec_in, instance=instance)
    return report


def check_target(profile: TargetProfile, base_url: str, *, destructive: bool = False, timeout_s: float = 10.0,
                 exec_in: ExecIn | None = None, instance: str | None = None) -> list[CheckRow]:
    """One row per operation, in ``STEPS`` order, against one instance (``instance`` names it in the rows)."""
    context: Context = {"email": f"check-{uuid.uuid4().hex[:8]}@check.test", "password": _password(profile)}
    rows = []
    needs = field_needs(profile)
    with TargetClient(profile, base_url, timeout_s=timeout_s, instance=instance) as user, \
            TargetClient(profile, base_url, timeout_s=timeout_s, instance=instance) as admin:
        admin_problem = _admin(admin, exec_in)
        if getattr(profile, "setup", None):
            rows.append(_setup(admin, admin_problem, context))
        for step in STEPS:
            row, reply = _run(step, profile, user, admin, admin_problem, context, destructive)
            if reply is not None and row.state == "works":
                gaps = _gaps(profile, [n for n in needs if n.operation == step.operation], reply, context)
                row = CheckRow(row.operation, row.state, row.status, row.detail, gaps=tuple(gaps))
            rows.append(row)
    return [CheckRow(r.operation, r.state, r.status, r.detail, instance or "", r.gaps) for r in rows]


def _password(profile: TargetProfile) -> str:
    credentials = getattr(profile, "credentials", None)
    return credentials.password_for(next(_accounts)) if credentials is not None else PASSWORD


def _admin(admin: TargetClient, exec_in: ExecIn | None) -> str | None:
    try:
        admin_token(admin, exec_in)
    except AdminError as exc:
        return str(exc)
    return None


def _setup(admin: TargetClient, admin_problem: str | None, context: Context) -> CheckRow:
    """The profile's per-run values (a plan's id...), found as the scenarios will find them."""
    from chaos.target.setup import SetupError, resolve

    if admin_problem:
        return CheckRow("setup", "skipped", detail=admin_problem)
    try:
        values = resolve(admin)
    except SetupError as exc:
        return CheckRow("setup", "fails", detail=str(exc))
    context.update(values)
    return CheckRow("setup", "works", detail=", ".join(f"{k}={str(v)[:32]}" for k, v in values.items()))


def _run(step: Step, profile: TargetProfile, user: TargetClient, admin: TargetClient, admin_problem: str | None,
         context: Context, destructive: bool) -> tuple[CheckRow, Reply | None]:
    name = step.operation
    if not profile.offers(name):
        how = "declared in lacks" if name in profile.declared_lacks else "not mapped"
        return CheckRow(name, "lacked", detail=how), None
    if OPERATIONS[name].destructive and not destructive:
        return CheckRow(name, "skipped", detail="destructive: clears the target's data; ask for it to run it"), None
    as_admin = OPERATIONS[name].as_admin or name == "admin_login"
    if not as_admin and name not in NO_TOKEN_NEEDED and context.get("no_token"):
        return CheckRow(name, "skipped", detail=f"no token: {context['no_token']}"), None
    missing = [key for key in step.needs if context.get(key) is None]
    if missing:
        return CheckRow(name, "skipped", detail=f"needs {', '.join(missing)}, which no earlier step returned"), None
    if as_admin and admin_problem:
        return CheckRow(name, "skipped", detail=admin_problem), None
    client = admin if as_admin else user
    if name == "admin_login":
        reply = admin.admin_login()
    elif name == "login":
        reply = user.login(context["email"], context["password"])
        if not reply.ok or not user.token:
            how = f"status {reply.status}" if reply.status is not None else reply.error
            context["no_token"] = (f"login {reply.outcome} ({how})" if not reply.ok else
                                   "login was ok but its reply has no token where auth.token says")
    else:
        reply = client.call(name, **step.params(context))
    if name == "list_plans" and reply.ok and context.get("plan_id") is None:
        context["plan_id"] = _first_plan(reply)
    for key, value in step.remember:
        if reply.ok and reply.get(value) is not None:
            context[key] = reply[value]
    row = CheckRow(name, {"ok": "works", "fail": "fails", "info": "unknown"}[reply.outcome], reply.status,
                   _describe(profile, name, reply))
    return row, reply


def _describe(profile: TargetProfile, operation: str, reply: Reply) -> str:
    if reply.exception is not None:
        return f"{type(reply.exception).__name__}: {str(reply.exception)[:120]}"
    if not reply.ok:
        return f"error {reply.error}" if reply.error else f"body {str(reply.body)[:80]}"
    declared = set(profile.mapping(operation).extract)
    if operation in ("login", "admin_login"):
        declared.add("token")
    seen = [f"{k}: {len(v)} items" if isinstance(v, list) else f"{k}={str(v)[:32]}"
            for k, v in reply.values.items() if k != "token"]
    if "token" in reply.values:
        seen.append("token")
    absent = sorted(declared - set(reply.values))
    return ", ".join(seen) + (f"; NOT FOUND in the reply: {', '.join(absent)}" if absent else "")


def _gaps(profile: TargetProfile, needs: list[FieldNeed], reply: Reply, context: Context) -> list[str]:
    """The needed values an ok reply does not carry. A declared value that is missing is already a
    ``NOT FOUND`` failure of the row and is not repeated here."""
    declared = profile.mapping(reply.operation).extract
    gaps = []
    for need in needs:
        name, item = need.list_and_item
        if name not in reply.values:
            if name not in declared:
                gaps.append(f"not extracted: {name} (needed by {need.checker})")
            continue
        if item is None:
            continue
        items = reply.values[name]
        if not isinstance(items, list) or not items:
            gaps.append(f"not verified: {need.field} (needed by {need.checker}): the reply listed no item")
        elif any(not isinstance(i, Mapping) or i.get(item) is None for i in items):
            gaps.append(f"not extracted: {need.field} (needed by {need.checker})")
    if reply.operation == "list_invoices":
        listed = [i.get("invoice_id") for i in reply.get("invoices") or [] if isinstance(i, Mapping)]
        made = context.get("generated_invoice_id")
        if made is not None and listed and made not in listed:
            gaps.append(f"generate_invoice's invoice_id {made!r} is not among list_invoices' invoice_ids "
                        f"{listed[:5]!r}: the invoices checker would report it lost (same id, other type?)")
    return gaps


def format_table(rows: list[CheckRow]) -> str:
    """Plain columns (the CLI may render it with rich instead)."""
    header = ("operation", "state", "status", "detail")
    table = [header, *((r.where(), r.state, str(r.status or ""),
                        "; ".join([r.detail, *r.gaps]) if r.gaps else r.detail) for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    return "\n".join(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}".rstrip()
                     for row in table)
