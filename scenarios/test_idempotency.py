"""An activation with an Idempotency-Key happens at most once; every replay returns the first outcome."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from chaos.checkers import idempotency as idempotency_checker
from chaos.nemesis.link_faults import Toxic
from chaos.target.client import TargetClient
from chaos.workload import operations as ops
from chaos.workload.runner import perform, run_clients
from scenarios.conftest import final_invoices, register, spread

pytestmark = pytest.mark.chaos
SUBSCRIBER = ["register", "login", "subscribe", "activate"]  # what subscribed_user and the activations call


@dataclass(frozen=True)
class Subscriber:
    user_id: int
    token: str
    subscription: int


def subscribed_user(make_client, url: str) -> Subscriber:
    """A new user with one pending subscription (the first plan, when the target lists its plans)."""
    with make_client(url) as client:
        user_id, token = register(client, f"idem-{uuid.uuid4().hex[:10]}@scenario.test")
        plans = client.call("list_plans").get("plans") if client.offers("list_plans") else None
        plan_id = plans[0].get("plan_id", 1) if plans and isinstance(plans[0], dict) else 1
        made = client.call("subscribe", plan_id=plan_id, payment_method="card")
        assert made.ok, f"subscribe: {made.status} {made.body!r}"
        return Subscriber(user_id, token, int(made["subscription_id"]))


def activation_reads(admin: TargetClient, history, user_id: int) -> dict[int, list[dict]]:
    """Activation invoices per subscription, from the final read of the user's invoices; every op of the
    history is marked with the user, as the checker pairs activations with the user's reads."""
    for op in history.ops:
        op.value["user_id"] = user_id
    reads: dict[int, list[dict]] = {}
    for invoice in final_invoices(admin, [user_id])[user_id]:
        if str(invoice["period"]).startswith("activation-"):
            reads.setdefault(int(str(invoice["period"]).split("-", 1)[1]), []).append(invoice)
    return reads


@pytest.mark.needs(operations=SUBSCRIBER, params=["activate.key", "activate.hold_s"])
def test_same_key_concurrently_on_every_instance_activates_once(fresh_cluster, admin, target_client, history,
                                                                record_verdict) -> None:
    user = subscribed_user(target_client, fresh_cluster.lb_url)
    urls = list(fresh_cluster.api_urls().values())
    # every first call holds the key 1 s (test endpoint), so the others meet it in flight; then each retries
    calls = [ops.activate(user.subscription, "same-key", hold_s=1.0)] + [ops.activate(user.subscription, "same-key")] * 2
    run_clients(history, spread(target_client, urls, user.token, [calls] * 10))
    result = record_verdict(idempotency_checker.check(history.ops, activation_reads(admin, history, user.user_id)))
    assert result.valid is True, result.anomalies


@pytest.mark.needs(operations=SUBSCRIBER, params=["activate.key"])
def test_same_key_with_other_params_is_rejected(fresh_cluster, admin, target_client, history, record_verdict) -> None:
    user = subscribed_user(target_client, fresh_cluster.lb_url)
    first, second = list(fresh_cluster.api_urls().values())[:2]
    perform(history, "client_0", target_client(first, user.token), ops.activate(user.subscription, "key-1", "card"))
    perform(history, "client_1", target_client(second, user.token),
            ops.activate(user.subscription, "key-1", "paypal"))
    result = record_verdict(idempotency_checker.check(history.ops, activation_reads(admin, history, user.user_id)))
    assert result.valid is True, result.anomalies
    assert [op.status for op in history.completions()] == [200, 422]


@pytest.mark.needs(operations=SUBSCRIBER, params=["activate.key"], faults=["client_link"])
def test_a_reset_after_commit_then_a_retry_elsewhere_returns_the_first_outcome(fresh_cluster, admin, target_client,
                                                                               history, nemesis,
                                                                               record_verdict) -> None:
    """The response is cut after its first byte (limit_data downstream of client->api_i), so the
    activation committed but the client cannot know: the retry on another instance must replay it."""
    user = subscribed_user(target_client, fresh_cluster.lb_url)
    (first_name, first_url), (_, second_url) = list(fresh_cluster.api_urls().items())[:2]
    nemesis.start_fault(Toxic(f"client->{first_name}", "limit_data", {"bytes": 1}))
    perform(history, "client", target_client(first_url, user.token, timeout_s=10), ops.activate(user.subscription, "k"))
    nemesis.heal()
    retry = perform(history, "client", target_client(second_url, user.token), ops.activate(user.subscription, "k"))
    result = record_verdict(idempotency_checker.check(history.ops, activation_reads(admin, history, user.user_id)))
    assert result.valid is True, result.anomalies  # the verdict first: an unsafe target shows its anomaly
    first_op, retry_op = history.completions()
    assert first_op.type == "info"
    assert retry.status == 200
    assert retry.get("replayed") is True, "the first attempt must have committed"
