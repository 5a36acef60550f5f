"""An activation with an Idempotency-Key happens at most once; every replay returns the first outcome.

Judged from effects: how many distinct outcomes each key's calls got, and how many invoices the
user's final read shows beyond the read taken before the first call. A replay header, where the
profile names one, is extra evidence, never the test.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from chaos.nemesis.link_faults import Toxic
from chaos.nemesis.data_faults import Forget
from chaos.target.client import TargetClient
from chaos.report.checks import deferred
from chaos.workload import operations as ops
from chaos.workload.runner import perform, run_clients
from chaos.workload.accounts import final_invoices, register, subscribe
from scenarios.conftest import explain, spread

pytestmark = pytest.mark.chaos
SUBSCRIBER = ["register", "login", "subscribe", "activate"]  # what subscribed_user and the activations call


@dataclass(frozen=True)
class Subscriber:
    user_id: Any
    token: str
    subscription: Any
    invoices_before: dict[Any, list[dict]]  # the baseline the effects are counted from


def subscribed_user(make_client, url: str, admin: TargetClient, setup_values: dict[str, Any]) -> Subscriber:
    """A new user with one pending subscription (the profile's set-up plan, else the first one listed)."""
    with make_client(url) as client:
        user_id, token = register(client, f"idem-{uuid.uuid4().hex[:10]}@scenario.test")
        subscription = subscribe(client, setup_values)
    return Subscriber(user_id, token, subscription, final_invoices(admin, [user_id]))


def verdict(admin: TargetClient, history, user: Subscriber, *claims: str):
    """The idempotency checker on this user's activations; every op is marked with the user, whose final
    read (against the baseline) shows how many times the key really executed."""
    for op in history.ops:
        op.value.setdefault("user_id", user.user_id)
    return deferred("idempotency", final_invoices(admin, [user.user_id]), baseline=user.invoices_before,
                    claims=list(claims) or None)


@pytest.mark.needs(operations=SUBSCRIBER, params=["activate.key"])
def test_same_key_concurrently_on_every_instance_activates_once(fresh_cluster, admin, target_client, history,
                                                                setup_values, target_profile, judge) -> None:
    """Ten clients over every instance send one key together (a barrier), then each retries twice. Where
    the target has billing's hold_s hook, each first call also holds the key 1 s, so more meet in flight."""
    user = subscribed_user(target_client, fresh_cluster.lb_url, admin, setup_values)
    urls = list(fresh_cluster.api_urls().values())
    hold = 1.0 if target_profile.sends("activate", "hold_s") else 0.0
    calls = [ops.activate(user.subscription, "same-key", hold_s=hold)] + [ops.activate(user.subscription, "same-key")] * 2
    run_clients(history, spread(target_client, urls, user.token, [calls] * 10), together=True)
    result = judge(verdict(admin, history, user, "one_execution_per_key", "concurrent_same_key"))
    assert result.valid is True, explain(result)


@pytest.mark.needs(operations=SUBSCRIBER, params=["activate.key"])
def test_same_key_with_other_params_is_rejected(fresh_cluster, admin, target_client, history, setup_values,
                                                judge) -> None:
    user = subscribed_user(target_client, fresh_cluster.lb_url, admin, setup_values)
    first, second = (list(fresh_cluster.api_urls().values()) * 2)[:2]
    perform(history, "client_0", target_client(first, user.token), ops.activate(user.subscription, "key-1", "card"))
    perform(history, "client_1", target_client(second, user.token),
            ops.activate(user.subscription, "key-1", "paypal"))
    result = judge(verdict(admin, history, user, "reuse_refused"))
    assert result.valid is True, explain(result)
    assert [op.type for op in history.completions()] == ["ok", "fail"]


@pytest.mark.needs(operations=SUBSCRIBER, params=["activate.key"], faults=["client_link"])
def test_a_reset_after_commit_then_a_retry_elsewhere_returns_the_first_outcome(fresh_cluster, admin, target_client,
                                                                               history, nemesis, setup_values,
                                                                               judge) -> None:
    """The response is cut after its first byte (limit_data downstream of client->api_i), so the
    activation committed but the client cannot know: the retry on another instance must replay it."""
    user = subscribed_user(target_client, fresh_cluster.lb_url, admin, setup_values)
    (first_name, first_url), (_, second_url) = (list(fresh_cluster.api_urls().items()) * 2)[:2]
    nemesis.start_fault(Toxic(f"client->{first_name}", "limit_data", {"bytes": 1}))
    perform(history, "client", target_client(first_url, user.token, timeout_s=10), ops.activate(user.subscription, "k"))
    nemesis.heal()
    retry = perform(history, "client", target_client(second_url, user.token), ops.activate(user.subscription, "k"))
    result = judge(verdict(admin, history, user, "ambiguous_retry", "one_execution_per_key"))
    assert result.valid is True, explain(result)  # the verdict first: an unsafe target shows its anomaly
    first_op, _ = history.completions()
    assert first_op.type == "info"
    assert retry.ok, f"the retry must return the first outcome: {retry.status} {retry.error}"


@pytest.mark.needs(operations=SUBSCRIBER, params=["activate.key"], faults=["forget"])
def test_a_key_redis_forgot_still_replays_the_first_outcome(fresh_cluster, admin, target_client, history, nemesis,
                                                            setup_values, judge) -> None:
    """A key's first call succeeds; then Redis forgets every idempotency key (an eviction, a TTL, a
    failover: the profile's ``idempotency`` family), and the same key is sent again on every instance. A
    service whose records live only in Redis runs the activation again; the first outcome must come back."""
    if "idempotency" not in fresh_cluster.redis_families():
        pytest.skip("the profile names no idempotency key family (run.containerised.redis_keys.idempotency)")
    user = subscribed_user(target_client, fresh_cluster.lb_url, admin, setup_values)
    urls = list(fresh_cluster.api_urls().values())
    perform(history, "client_0", target_client(urls[0], user.token), ops.activate(user.subscription, "key-1"))
    forgotten = Forget("idempotency")
    nemesis.start_fault(forgotten)
    nemesis.heal()
    assert forgotten.deleted >= 1, "Redis held no idempotency key to forget: the fault hit nothing"
    run_clients(history, spread(target_client, urls, user.token,
                                [[ops.activate(user.subscription, "key-1")]] * len(urls)))
    result = judge(verdict(admin, history, user, "one_execution_per_key"))
    assert result.valid is True, explain(result)
