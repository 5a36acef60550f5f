"""Which document operation serves which of the suite's operations.

Each suite operation has a ``Rule`` (method, path words, path parameter,
request fields); every (rule, endpoint) pair is scored and the best pairs win,
one document operation per suite operation. The rules are data, so a new
service's vocabulary is a line here, not a new branch in the code.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chaos.target.openapi.endpoint import Endpoint
from chaos.target.openapi.names import best_name


@dataclass(frozen=True)
class Rule:
    """How a suite operation is recognised: its method, words of which one must appear (``words``; and
    one of ``also``, when given), none of ``avoid``, its path parameter, and request fields that count."""

    method: str
    words: frozenset[str]
    path_param: str | None = None
    fields: tuple[str, ...] = ()
    needs_fields: bool = False
    also: frozenset[str] = frozenset()
    avoid: frozenset[str] = frozenset()


def _rule(method: str, words_: str, path_param: str | None = None, fields: str = "", needs_fields: bool = False,
          also: str = "", avoid: str = "") -> Rule:
    return Rule(method, frozenset(words_.split()), path_param, tuple(fields.split()), needs_fields,
                frozenset(also.split()), frozenset(avoid.split()))


INVOICE_WORDS = "invoice bill charge billing"
RULES: Mapping[str, Rule] = {
    "register": _rule("POST", "register signup account user customer member", fields="email password",
                      needs_fields=True, avoid="login session signin token bulk test"),
    "login": _rule("POST", "login session signin token auth", fields="email password", needs_fields=True,
                   avoid="register signup refresh logout"),
    "profile": _rule("GET", "me profile self whoami current"),
    "list_plans": _rule("GET", "plan tariff catalogue catalog product price pricing"),
    "list_subscriptions": _rule("GET", "subscription order"),
    "subscribe": _rule("POST", "subscription subscribe order checkout", fields="plan_id payment_method",
                       avoid="activate pay"),
    "activate": _rule("POST", "activate pay confirm payment capture", "subscription_id"),
    "generate_invoice": _rule("POST", INVOICE_WORDS, "user_id", fields="period",
                              avoid="async slow test task job queue"),
    "generate_invoice_async": _rule("POST", INVOICE_WORDS, "user_id", also="async queue job task background"),
    "slow_invoice": _rule("POST", INVOICE_WORDS, "user_id", also="slow"),
    "task_status": _rule("GET", "task job", "task_id"),
    "list_invoices": _rule("GET", INVOICE_WORDS, "user_id"),
    "create_event": _rule("POST", "event", fields="capacity", avoid="lock"),
    "event": _rule("GET", "event", "event_id", avoid="lock"),
    "purchase_ticket": _rule("POST", "ticket purchase", fields="event_id quantity"),
    "create_slot": _rule("POST", "slot", fields="capacity"),
    "slot": _rule("GET", "slot", "slot_id"),
    "book_slot": _rule("POST", "booking book reservation reserve", fields="slot_id"),
    "pool_metrics": _rule("GET", "pool metric", also="pool"),
    "health": _rule("GET", "health healthz ping ready readiness liveness live status up"),
    "reset": _rule("POST", "reset flush clear truncate"),
    "bulk_users": _rule("POST", "bulk user", fields="count", needs_fields=True),
    "lock_events": _rule("GET", "lock", also="lock"),
}


def score(rule: Rule, endpoint: Endpoint) -> int:
    """How well ``endpoint`` looks like the operation; 0: not at all."""
    if endpoint.method != rule.method or len(endpoint.path_params) != (1 if rule.path_param else 0):
        return 0
    if endpoint.words & rule.avoid or (rule.also and not endpoint.words & rule.also):
        return 0
    hits = len(endpoint.words & rule.words)
    fields = sum(1 for name in rule.fields if best_name(name, endpoint.body) is not None)
    if (rule.needs_fields and not fields) or not (hits or fields):
        return 0
    return 3 * hits + 2 * fields


def match(found: list[Endpoint]) -> dict[str, Endpoint]:
    """The suite operation -> the document operation that serves it; each document operation serves one
    suite operation (admin_login shares login's, see ``draft``). Best scores are assigned first."""
    candidates = sorted(((score(rule, e), name, i) for name, rule in RULES.items() for i, e in enumerate(found)),
                        key=lambda c: (-c[0], c[1], c[2]))
    matched: dict[str, Endpoint] = {}
    used: set[int] = set()
    for points, name, index in candidates:
        if points and name not in matched and index not in used:
            matched[name] = found[index]
            used.add(index)
    return matched
