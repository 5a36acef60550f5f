"""``chaos target check PROFILE``: call each mapped operation once against a running target.

The point is to find a profile's mistakes before a chaos run does: a route
that 404s, a token path that finds nothing, an ``extract`` path that misses
its field on a reply that was ok. Operations run in the order a customer's
life needs them (register, log in, subscribe, activate; then the admin's
invoices and reads), each fed by what the earlier ones returned; a step
whose input never came is skipped with the reason, not failed. ``reset`` is
destructive and runs only when asked.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from chaos.target.admin import AdminError, ExecIn, admin_token
from chaos.target.client import TargetClient
from chaos.target.model import TargetProfile
from chaos.target.operations import OPERATIONS
from chaos.target.reply import Reply

State = Literal["works", "fails", "unknown", "lacked", "skipped"]
PASSWORD = "check-password-1"
Context = dict[str, Any]


@dataclass(frozen=True)
class CheckRow:
    operation: str
    state: State
    status: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Step:
    operation: str
    params: Callable[[Context], dict[str, Any]]
    needs: tuple[str, ...] = ()                         # context keys the params read
    remember: tuple[tuple[str, str], ...] = ()          # (context key, reply value)


def _first_plan(reply: Reply) -> Any:
    plans = reply.get("plans") or []
    return plans[0].get("plan_id") if plans and isinstance(plans[0], dict) else None


STEPS: tuple[Step, ...] = (
    Step("health", lambda c: {}),
    Step("register", lambda c: {"email": c["email"], "password": PASSWORD}, remember=(("user_id", "user_id"),)),
    Step("login", lambda c: {"email": c["email"], "password": PASSWORD}, remember=(("user_id", "user_id"),)),
    Step("profile", lambda c: {}, remember=(("user_id", "user_id"),)),
    Step("list_plans", lambda c: {}),
    Step("list_subscriptions", lambda c: {}),
    Step("subscribe", lambda c: {"plan_id": c.get("plan_id", 1)}, remember=(("subscription_id", "subscription_id"),)),
    Step("activate", lambda c: {"subscription_id": c["subscription_id"], "key": f"check-{uuid.uuid4().hex}"},
         needs=("subscription_id",)),
    Step("admin_login", lambda c: {}),
    Step("generate_invoice", lambda c: {"user_id": c["user_id"], "period": "2099-01"}, needs=("user_id",)),
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


def check_target(profile: TargetProfile, base_url: str, *, destructive: bool = False, timeout_s: float = 10.0,
                 exec_in: ExecIn | None = None) -> list[CheckRow]:
    """One row per operation, in ``STEPS`` order."""
    context: Context = {"email": f"check-{uuid.uuid4().hex[:8]}@check.test"}
    rows = []
    with TargetClient(profile, base_url, timeout_s=timeout_s) as user, \
            TargetClient(profile, base_url, timeout_s=timeout_s) as admin:
        admin_problem = _admin(admin, exec_in)
        for step in STEPS:
            rows.append(_run(step, profile, user, admin, admin_problem, context, destructive))
    return rows


def _admin(admin: TargetClient, exec_in: ExecIn | None) -> str | None:
    try:
        admin_token(admin, exec_in)
    except AdminError as exc:
        return str(exc)
    return None


def _run(step: Step, profile: TargetProfile, user: TargetClient, admin: TargetClient, admin_problem: str | None,
         context: Context, destructive: bool) -> CheckRow:
    name = step.operation
    if not profile.offers(name):
        how = "declared in lacks" if name in profile.declared_lacks else "not mapped"
        return CheckRow(name, "lacked", detail=how)
    if OPERATIONS[name].destructive and not destructive:
        return CheckRow(name, "skipped", detail="destructive: clears the target's data; ask for it to run it")
    missing = [key for key in step.needs if context.get(key) is None]
    if missing:
        return CheckRow(name, "skipped", detail=f"needs {', '.join(missing)}, which no earlier step returned")
    as_admin = OPERATIONS[name].as_admin or name == "admin_login"
    if as_admin and admin_problem:
        return CheckRow(name, "skipped", detail=f"no admin token: {admin_problem}")
    client = admin if as_admin else user
    if name == "admin_login":
        reply = admin.admin_login()
    elif name == "login":
        reply = user.login(context["email"], PASSWORD)
    else:
        reply = client.call(name, **step.params(context))
    if name == "list_plans" and reply.ok:
        context["plan_id"] = _first_plan(reply)
    for key, value in step.remember:
        if reply.ok and reply.get(value) is not None:
            context[key] = reply[value]
    return CheckRow(name, {"ok": "works", "fail": "fails", "info": "unknown"}[reply.outcome], reply.status,
                    _describe(profile, name, reply))


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


def format_table(rows: list[CheckRow]) -> str:
    """Plain columns (the CLI may render it with rich instead)."""
    header = ("operation", "state", "status", "detail")
    table = [header, *((r.operation, r.state, str(r.status or ""), r.detail) for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    return "\n".join(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}".rstrip()
                     for row in table)
