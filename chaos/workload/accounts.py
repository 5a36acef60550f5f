"""Accounts, subscriptions and final reads through a target's profile: what every workload sets up first.

Everything goes through ``TargetClient``, so it reads the same whichever
service it drives: ids are whatever the target returns (never cast),
passwords follow the profile's credentials, a plan is the one the profile's
set-up found. A failed set-up call raises ``SetupFailed`` (an
``AssertionError``, so a scenario reports it as the failing line it is).
"""
from __future__ import annotations

import concurrent.futures
import itertools
import time
from collections.abc import Callable, Iterable
from typing import Any

from chaos.errors import ChaosError
from chaos.target.client import TargetClient
from chaos.target.model import TargetProfile

_accounts = itertools.count(1)
REGISTRATION_THREADS = 16
MakeClient = Callable[..., TargetClient]


class SetupFailed(ChaosError, AssertionError):
    """A set-up call or a final read of the target did not succeed; the message says which and how."""


def billable(profile: TargetProfile) -> bool:
    """Does invoicing a user need a subscription first (the invoice identity names one)?"""
    identity = profile.identity("invoice")
    return isinstance(identity, tuple) and "subscription_id" in identity


def register(client: TargetClient, email: str, password: str | None = None) -> tuple[Any, str]:
    """A new account, logged in on ``client``: (its user id, its token). A sign-up that answers with a
    token and the user's id needs no login (a target may rate-limit logins)."""
    password = password or client.profile.credentials.password_for(next(_accounts))
    registered = client.call("register", email=email, password=password)
    if not registered.ok:
        raise SetupFailed(f"register {email}: {registered.status} {registered.error or registered.body!r}")
    if registered.get("token") and registered.get("user_id") is not None:
        client.token = str(registered["token"])
        return registered["user_id"], client.token
    login = client.login(email, password)
    if not (login.ok and client.token):
        raise SetupFailed(f"login {email}: {login.status} {login.error or login.body!r}")
    user_id = registered.get("user_id", login.get("user_id"))
    if user_id is None:
        raise SetupFailed("neither register nor login says the user id (extract user_id in the profile)")
    return user_id, client.token


def subscribe(client: TargetClient, setup_values: dict[str, Any]) -> Any:
    """A pending subscription of ``client``'s user to the profile's set-up plan (else the first plan
    listed): its id."""
    plan_id = setup_values.get("plan_id")
    if plan_id is None and client.offers("list_plans"):
        plans = client.call("list_plans").get("plans") or []
        plan_id = plans[0].get("plan_id") if plans and isinstance(plans[0], dict) else None
    if plan_id is None:
        raise SetupFailed("no plan to subscribe to: set setup.plan_id in the profile or map list_plans")
    made = client.call("subscribe", plan_id=plan_id, payment_method="card")
    if not made.ok:
        raise SetupFailed(f"subscribe: {made.status} {made.error or made.body!r}")
    return made["subscription_id"]


def user_operations(profile: TargetProfile) -> frozenset[str]:
    """What ``new_users`` calls on this target: billing's one-call test hook where it has one, else a
    sign-up per user (and a subscription each, where an invoice belongs to one)."""
    if profile.offers("bulk_users") and not billable(profile):
        return frozenset({"bulk_users"})
    return frozenset({"register", "subscribe"} if billable(profile) else {"register"})


def new_users(admin: TargetClient, make_client: MakeClient, count: int, prefix: str,
              setup_values: dict[str, Any]) -> list[Any]:
    """``count`` new users that can be invoiced, their ids in order: in one ``bulk_users`` call where the
    target offers it, else registered in parallel (each also subscribed where the profile's invoice
    identity names a subscription). ``prefix`` must be new: the target's data may not have been cleared."""
    if user_operations(admin.profile) == {"bulk_users"}:
        reply = admin.call("bulk_users", count=count, prefix=prefix)
        if not reply.ok:
            raise SetupFailed(f"bulk_users: {reply.status} {reply.error or reply.body!r}")
        return list(reply["user_ids"])

    def one(i: int) -> Any:
        with make_client(admin.base_url) as client:
            user_id, _ = register(client, f"{prefix}-{i}@workload.test")
            if billable(client.profile):
                subscribe(client, setup_values)
            return user_id

    with concurrent.futures.ThreadPoolExecutor(min(REGISTRATION_THREADS, max(1, count))) as pool:
        return list(pool.map(one, range(count)))


def created(admin: TargetClient, operation: str, value: str, **params: Any) -> Any:
    """Something the admin makes (an event, a slot): the id the reply names."""
    reply = admin.call(operation, **params)
    if not reply.ok:
        raise SetupFailed(f"{operation}: {reply.status} {reply.error or reply.body!r}")
    return reply[value]


def final_read(admin: TargetClient, operation: str, **params: Any) -> dict[str, Any]:
    """One resource's state after the faults healed (an event's seats, a slot's places)."""
    reply = admin.call(operation, **params)
    if not reply.ok:
        raise SetupFailed(f"{operation}: {reply.status} {reply.error or reply.body!r}")
    return dict(reply.values)


def final_invoices(admin: TargetClient, user_ids: Iterable[Any]) -> dict[Any, list[dict[str, Any]]]:
    """The final read: every invoice of every user, after the faults healed."""
    reads = {}
    for user_id in dict.fromkeys(user_ids):
        reply = admin.call("list_invoices", user_id=user_id)
        if not reply.ok:
            raise SetupFailed(f"list_invoices {user_id}: {reply.status} {reply.error or reply.body!r}")
        reads[user_id] = list(reply["invoices"])
    return reads


SETTLE_S = 90.0   # a killed worker's unacknowledged task comes back after the 30 s visibility timeout (+ the sweep)
FINISHED = frozenset({"SUCCESS", "FAILURE"})
UNKNOWN = "UNKNOWN"      # the target answers 404 for the task: it has forgotten it (or never had it)
FORGOTTEN_S = 5.0        # ... for this long on end, which waiting longer will not change


def wait_until_settled(admin: TargetClient, task_ids: list[str], timeout_s: float = SETTLE_S,
                       forgotten_s: float = FORGOTTEN_S, clock: Callable[[], float] = time.monotonic,
                       sleep: Callable[[float], None] = time.sleep) -> dict[str, str]:
    """Poll task states until every task finished or the time is up (the checker judges either way): each
    task's last state seen. A task the target has answered 404 for over ``forgotten_s`` on end counts as
    settled, as ``UNKNOWN`` (a Redis restart took it, say): the checker still finds whether it invoiced,
    and the wait does not run to its end for what no waiting brings back."""
    deadline = clock() + timeout_s
    states: dict[str, str] = {}
    missing_since: dict[str, float] = {}
    while clock() < deadline:
        now = clock()
        for task_id in task_ids:
            reply = admin.call("task_status", task_id=task_id)
            if reply.status == 404:
                missing_since.setdefault(task_id, now)
                states[task_id] = UNKNOWN
            else:
                missing_since.pop(task_id, None)
                states[task_id] = reply.get("state", "?")
        if all(state in FINISHED or (state == UNKNOWN and now - missing_since[task_id] >= forgotten_s)
               for task_id, state in states.items()):
            break
        sleep(1.0)
    return states
