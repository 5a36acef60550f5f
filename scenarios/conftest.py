"""Scenario helpers shared by the catalogue: users, final reads, clients spread over instances, verdicts.

Everything here goes through the target's profile (``TargetClient``), so a
scenario reads the same whichever service it drives: ids are whatever the
target returns (never cast), passwords follow the profile's credentials, a
plan is the one the profile's set-up found, and every verdict is judged
together with the contract checker (definite answers outside fault windows).
"""
from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest

from chaos.checkers import Result, merge
from chaos.history import nemesis_windows
from chaos.report.checks import Deferred, deferred
from chaos.target.client import TargetClient
from chaos.target.model import TargetProfile
from chaos.workload.accounts import new_users
from chaos.workload.operations import Operation
from chaos.workload.runner import Client

_periods = (f"{year}-{month:02d}" for year, month in itertools.product(range(2001, 2100), range(1, 13)))
MakeClient = Callable[..., TargetClient]


@pytest.fixture
def new_period() -> Callable[[], str]:
    """A billing period no other scenario in this session used."""
    return lambda: next(_periods)


@pytest.fixture
def make_users(admin: TargetClient, target_client: MakeClient, setup_values) -> Callable[[int], list[Any]]:
    """Create ``count`` users that can be invoiced, return their ids: in one call where the target offers
    ``bulk_users`` (billing's test endpoint), else by registering them in parallel; where an invoice
    belongs to a subscription (the profile's invoice identity), each one also subscribes."""
    counter = itertools.count()
    run = uuid.uuid4().hex[:6]  # the target's data may not have been cleared: never reuse an email

    def make(count: int) -> list[Any]:
        return new_users(admin, target_client, count, f"scenario-{run}-{next(counter)}", setup_values)

    return make


def invoices_verdict(profile: TargetProfile, history, final, *claims: str) -> Deferred:
    """The invoice checker with the profile's identities; ``claims``: what the scenario claims (all: none given).
    Deferred: ``judge`` runs it and keeps its inputs, so a stored run can be re-checked offline."""
    return deferred("invoices", final, identity=profile.identity("invoice"),
                    activation=profile.identity("activation"), claims=list(claims) or None)


def spread(make_client: MakeClient, urls: Sequence[str], token: str | None,
           operations_per_client: Sequence[Iterable[Operation]], prefix: str = "client",
           **options: Any) -> list[Client]:
    """One client per sequence of operations, round-robin over ``urls``, each its own session."""
    return [Client(f"{prefix}_{i}", make_client(urls[i % len(urls)], token, **options), iter(batch))
            for i, batch in enumerate(operations_per_client)]


@pytest.fixture
def judge(record_verdict, record_check, history, target_profile: TargetProfile) -> Callable[..., Result]:
    """``judge(*results)``: record each checker's result and the contract checker's (every call outside a
    fault window got a definite answer; inside one, only the outages the profile names), and return them
    merged: a scenario asserts one verdict, which is False on any anomaly and unknown without evidence.
    A ``Deferred`` check is run here and kept with its inputs (``chaos report --recheck`` judges it again);
    a ``Result`` is kept as it is."""

    def run(*results: Result | Deferred, contract: bool = True) -> Result:
        judged = [record_check(r.checker, r.reads, **r.args) if isinstance(r, Deferred) else record_verdict(r)
                  for r in results]
        if contract:  # a scenario with faults claims honest outages; one without, definite answers
            claim = "outage_answers" if _calls_during_faults(history.ops) else "definite_outside_faults"
            judged.append(record_check("contract", outage=list(target_profile.outages), claims=[claim]))
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
