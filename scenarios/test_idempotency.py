"""An activation with an Idempotency-Key happens at most once; every replay returns the first outcome."""
from __future__ import annotations

import pytest

from chaos.checkers import idempotency as idempotency_checker
from chaos.nemesis.link_faults import Toxic
from chaos.workload import operations as ops
from chaos.workload.client import BillingClient
from chaos.workload.runner import Client, perform, run_clients

pytestmark = pytest.mark.chaos


def subscribed_user(cluster, admin: BillingClient) -> tuple[str, int]:
    """A user with one pending subscription: (its token, the subscription id)."""
    users = admin.bulk_users(1, f"idem-{id(cluster)}").json()
    with BillingClient(cluster.lb_url) as client:
        client.login(f"idem-{id(cluster)}-0@bulk.test", users["password"])
        subscription = client.subscribe(1, "card").json()["subscription_id"]
        return client.token, subscription


def activation_reads(admin: BillingClient, history) -> dict[int, list[dict]]:
    """Activation invoices per subscription, from the final read of each user seen in the history."""
    reads: dict[int, list[dict]] = {}
    for user_id in {op.value.get("user_id") for op in history.ops if op.value.get("user_id")}:
        for invoice in admin.invoices(user_id).json():
            if invoice["period"].startswith("activation-"):
                reads.setdefault(int(invoice["period"].split("-", 1)[1]), []).append(invoice)
    return reads


def test_same_key_concurrently_on_every_instance_activates_once(fresh_cluster, admin, history,
                                                                record_verdict) -> None:
    token, subscription = subscribed_user(fresh_cluster, admin)
    urls = list(fresh_cluster.api_urls().values())
    # every first call holds the key 1 s (test endpoint), so the others meet it in flight; then each retries
    clients = [Client(f"client_{i}", BillingClient(urls[i % len(urls)], token),
                      iter([ops.activate(subscription, "same-key", hold_s=1.0)] + [ops.activate(subscription, "same-key")] * 2))
               for i in range(10)]
    run_clients(history, clients)
    user_id = BillingClient(fresh_cluster.lb_url, token).profile().json()["user_id"]
    for op in history.ops:
        op.value["user_id"] = user_id
    result = record_verdict(idempotency_checker.check(history.ops, activation_reads(admin, history)))
    assert result.valid is True, result.anomalies


def test_same_key_with_other_params_is_rejected(fresh_cluster, admin, history, record_verdict) -> None:
    token, subscription = subscribed_user(fresh_cluster, admin)
    first, second = list(fresh_cluster.api_urls().values())[:2]
    perform(history, "client_0", BillingClient(first, token), ops.activate(subscription, "key-1", "card"))
    perform(history, "client_1", BillingClient(second, token), ops.activate(subscription, "key-1", "paypal"))
    result = record_verdict(idempotency_checker.check(history.ops, activation_reads(admin, history)))
    assert result.valid is True, result.anomalies
    assert [op.status for op in history.completions()] == [200, 422]


def test_a_reset_after_commit_then_a_retry_elsewhere_returns_the_first_outcome(fresh_cluster, admin, history,
                                                                               nemesis, record_verdict) -> None:
    """The response is cut after its first byte (limit_data downstream of client->api_i), so the
    activation committed but the client cannot know: the retry on another instance must replay it."""
    token, subscription = subscribed_user(fresh_cluster, admin)
    (first_name, first_url), (_, second_url) = list(fresh_cluster.api_urls().items())[:2]
    nemesis.start_fault(Toxic(f"client->{first_name}", "limit_data", {"bytes": 1}))
    perform(history, "client", BillingClient(first_url, token, timeout_s=10), ops.activate(subscription, "k"))
    nemesis.heal()
    retry = perform(history, "client", BillingClient(second_url, token), ops.activate(subscription, "k"))
    first_op, retry_op = history.completions()
    assert first_op.type == "info"
    assert retry is not None and retry.status_code == 200
    assert retry.headers.get("Idempotent-Replayed") == "true", "the first attempt must have committed"
    user_id = BillingClient(fresh_cluster.lb_url, token).profile().json()["user_id"]
    for op in history.ops:
        op.value["user_id"] = user_id
    result = record_verdict(idempotency_checker.check(history.ops, activation_reads(admin, history)))
    assert result.valid is True, result.anomalies
