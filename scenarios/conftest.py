"""Scenario helpers shared by the catalogue: users, final reads, clients spread over instances, verdicts.

Everything here goes through the target's profile (``TargetClient``), so a
scenario reads the same whichever service it drives: ids are whatever the
target returns (never cast), passwords follow the profile's credentials, a
plan is the one the profile's set-up found, and every verdict is judged
together with the contract checker (definite answers outside fault windows).
"""
from __future__ import annotations

import concurrent.futures
import itertools
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest

from chaos.checkers import Result, merge
from chaos.checkers import contract as contract_checker
from chaos.checkers import invoices as invoice_checker
from chaos.history import nemesis_windows
from chaos.target.client import TargetClient
from chaos.target.model import TargetProfile
from chaos.workload.operations import Operation
from chaos.workload.runner import Client

_periods = (f"{year}-{month:02d}" for year, month in itertools.product(range(2001, 2100), range(1, 13)))
_accounts = itertools.count(1)
REGISTRATION_THREADS = 16
MakeClient = Callable[..., TargetClient]


@pytest.fixture
def new_period() -> Callable[[], str]:
    """A billing period no other scenario in this session used."""
    return lambda: next(_periods)


def billable(profile: TargetProfile) -> bool:
    """Does invoicing a user need a subscription first (the invoice identity names one)?"""
    identity = profile.identity("invoice")
    return isinstance(identity, tuple) and "subscription_id" in identity


@pytest.fixture
def make_users(admin: TargetClient, target_client: MakeClient, setup_values) -> Callable[[int], list[Any]]:
    """Create ``count`` users that can be invoiced, return their ids: in one call where the target offers
    ``bulk_users`` (billing's test endpoint), else by registering them in parallel; where an invoice
    belongs to a subscription (the profile's invoice identity), each one also subscribes."""
    counter = itertools.count()
    run = uuid.uuid4().hex[:6]  # the target's data may not have been cleared: never reuse an email

    def make(count: int) -> list[Any]:
        prefix = f"scenario-{run}-{next(counter)}"
        if admin.offers("bulk_users") and not billable(admin.profile):
            reply = admin.call("bulk_users", count=count, prefix=prefix)
            assert reply.ok, f"bulk_users: {reply.status} {reply.body!r}"
            return list(reply["user_ids"])

        def one(i: int) -> Any:
            with target_client(admin.base_url) as client:
                user_id, _ = register(client, f"{prefix}-{i}@scenario.test")
                if billable(client.profile):
                    subscribe(client, setup_values)
                return user_id

        with concurrent.futures.ThreadPoolExecutor(min(REGISTRATION_THREADS, max(1, count))) as pool:
            return list(pool.map(one, range(count)))

    return make


def register(client: TargetClient, email: str, password: str | None = None) -> tuple[Any, str]:
    """A new account, logged in on ``client``: (its user id, its token). A sign-up that answers with a
    token and the user's id needs no login (a target may rate-limit logins)."""
    password = password or client.profile.credentials.password_for(next(_accounts))
    registered = client.call("register", email=email, password=password)
    assert registered.ok, f"register {email}: {registered.status} {registered.error or registered.body!r}"
    if registered.get("token") and registered.get("user_id") is not None:
        client.token = str(registered["token"])
        return registered["user_id"], client.token
    login = client.login(email, password)
    assert login.ok and client.token, f"login {email}: {login.status} {login.error or login.body!r}"
    user_id = registered.get("user_id", login.get("user_id"))
    assert user_id is not None, "neither register nor login says the user id (extract user_id in the profile)"
    return user_id, client.token


def subscribe(client: TargetClient, setup_values: dict[str, Any]) -> Any:
    """A pending subscription of ``client``'s user to the profile's set-up plan (else the first plan
    listed): its id."""
    plan_id = setup_values.get("plan_id")
    if plan_id is None and client.offers("list_plans"):
        plans = client.call("list_plans").get("plans") or []
        plan_id = plans[0].get("plan_id") if plans and isinstance(plans[0], dict) else None
    assert plan_id is not None, "no plan to subscribe to: set setup.plan_id in the profile or map list_plans"
    made = client.call("subscribe", plan_id=plan_id, payment_method="card")
    assert made.ok, f"subscribe: {made.status} {made.error or made.body!r}"
    return made["subscription_id"]


def final_invoices(admin: TargetClient, user_ids: Iterable[Any]) -> dict[Any, list[dict[str, Any]]]:
    """The final read: every invoice of every user, after the faults healed."""
    reads = {}
    for user_id in dict.fromkeys(user_ids):
        reply = admin.call("list_invoices", user_id=user_id)
        assert reply.ok, f"list_invoices {user_id}: {reply.status} {reply.error or reply.body!r}"
        reads[user_id] = list(reply["invoices"])
    return reads


def invoices_verdict(profile: TargetProfile, history, final, *claims: str) -> Result:
    """The invoice checker with the profile's identities; ``claims``: what the scenario claims (all: none given)."""
    return invoice_checker.check(history.ops, final, identity=profile.identity("invoice"),
                                 activation=profile.identity("activation"), claims=claims or None)


def spread(make_client: MakeClient, urls: Sequence[str], token: str | None,
           operations_per_client: Sequence[Iterable[Operation]], prefix: str = "client",
           **options: Any) -> list[Client]:
    """One client per sequence of operations, round-robin over ``urls``, each its own session."""
    return [Client(f"{prefix}_{i}", make_client(urls[i % len(urls)], token, **options), iter(batch))
            for i, batch in enumerate(operations_per_client)]


@pytest.fixture
def judge(record_verdict, history, target_profile: TargetProfile) -> Callable[..., Result]:
    """``judge(*results)``: record each checker's result and the contract checker's (every call outside a
    fault window got a definite answer; inside one, only the outages the profile names), and return them
    merged: a scenario asserts one verdict, which is False on any anomaly and unknown without evidence."""

    def run(*results: Result, contract: bool = True) -> Result:
        judged = [record_verdict(result) for result in results]
        if contract:  # a scenario with faults claims honest outages; one without, definite answers
            claim = "outage_answers" if _calls_during_faults(history.ops) else "definite_outside_faults"
            judged.append(record_verdict(contract_checker.check(history.ops, outage=target_profile.outages,
                                                                claims=(claim,))))
        return merge(judged, "scenario")

    return run


def explain(result: Result) -> str:
    """What an assertion on a verdict should print: the anomalies, else why it is unknown."""
    return str(result.anomalies) if result.anomalies else result.reason or str(result.stats)


def _calls_during_faults(history) -> bool:
    """Did any client call complete inside a fault window (a fault begun after the calls claims nothing)?"""
    windows = nemesis_windows(history)
    return any(w.start <= op.time <= (w.stop if w.stop is not None else op.time) for w in windows
               for op in history if not op.is_nemesis and op.type != "invoke")
