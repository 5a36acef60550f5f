"""At most one invoice per (user, period), whatever the instances, locks and faults do."""
from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest

from chaos.nemesis.link_faults import Partition, latency
from chaos.nemesis.process_faults import Pause
from chaos.nemesis.schedule import random_schedule, to_json
from chaos.report.checks import deferred
from chaos.workload import operations as ops
from chaos.workload.runner import Client, perform, run_clients
from chaos.workload.accounts import final_invoices
from scenarios.conftest import explain, invoices_verdict, spread

pytestmark = pytest.mark.chaos


@pytest.mark.needs(operations=["generate_invoice"])
def test_10_concurrent_generates_over_instances_make_one_invoice(fresh_cluster, admin, target_client, history,
                                                                 make_users, new_period, judge,
                                                                 target_profile) -> None:
    """Ten clients over every instance, released together at a barrier, ask for one user's invoice."""
    user_id, = make_users(1)
    period = new_period()
    urls = list(fresh_cluster.api_urls().values())
    run_clients(history, spread(target_client, urls, admin.token, [[ops.generate_invoice(user_id, period)]] * 10),
                together=True)
    result = judge(invoices_verdict(target_profile, history, final_invoices(admin, [user_id]),
                                    "at_most_once", "none_lost"))
    assert result.valid is True, explain(result)
    outcomes = Counter(op.type for op in history.completions())
    assert outcomes == {"ok": 1, "fail": 9}, f"one invoice made, nine definite refusals: {outcomes}"
    answered = {op.instance for op in history.completions()}
    assert None in answered or len(answered) == len(urls), f"every instance took part: {answered}"


@pytest.mark.needs(operations=["generate_invoice", "slow_invoice"])
def test_a_slow_holder_makes_the_others_time_out(fresh_cluster, admin, target_client, history, make_users,
                                                 new_period, judge, target_profile) -> None:
    user_id, = make_users(1)
    period = new_period()
    holder, *others = fresh_cluster.api_urls().values()
    clients = [Client("holder", target_client(holder, admin.token), iter([ops.slow_invoice(user_id, period, 5)]))]
    clients += spread(target_client, others, admin.token, [[ops.generate_invoice(user_id, period)]] * len(others))
    holder_thread = threading.Thread(target=run_clients, args=(history, clients[:1]))
    holder_thread.start()
    time.sleep(1.5)
    run_clients(history, clients[1:])
    holder_thread.join()
    errors = Counter(op.error for op in history.completions() if op.process != "holder")
    assert errors == {"lock_timeout": len(others)}
    result = judge(invoices_verdict(target_profile, history, final_invoices(admin, [user_id]), "at_most_once"))
    assert result.valid is True, explain(result)


@pytest.mark.needs(operations=["generate_invoice"], faults=["redis_link"])
def test_duplicate_invoice_storm_with_latency_on_api_to_redis(fresh_cluster, admin, target_client, history, nemesis,
                                                              make_users, new_period, chaos_seed, request,
                                                              judge, target_profile) -> None:
    users = make_users(20)
    periods = [new_period() for _ in range(3)]
    rng = random.Random(chaos_seed)
    links = [f"{name}->redis" for name in fresh_cluster.api_urls()]
    schedule = random_schedule(chaos_seed, [latency(link, ms=rng.choice([100, 300, 600]), jitter_ms=50)
                                            for link in links], total_s=6, faults=3)  # the workload's span
    request.node.chaos_schedule = to_json(schedule)
    batches = [[ops.generate_invoice(rng.choice(users), rng.choice(periods)) for _ in range(30)]
               for _ in range(20)]
    nemesis.run(schedule)
    urls = list(fresh_cluster.api_urls().values())
    run_clients(history, spread(target_client, urls, admin.token, batches), time_limit_s=60)
    nemesis.join()
    nemesis.heal()
    result = judge(invoices_verdict(target_profile, history, final_invoices(admin, users), "at_most_once"))
    assert result.valid is True, explain(result)


@pytest.mark.needs(operations=["generate_invoice", "slow_invoice", "lock_events"], faults=["pause"])
def test_a_lock_holder_paused_past_expiry_is_stopped_by_the_database(fresh_cluster, admin, target_client, history,
                                                                     nemesis, make_users, new_period,
                                                                     judge, target_profile) -> None:
    """The holder's lock expires (10 s) while it is paused; a second holder invoices; the first must not."""
    user_id, = make_users(1)
    period = new_period()
    (stale_name, stale_url), (_, fresh_url) = list(fresh_cluster.api_urls().items())[:2]
    stale = threading.Thread(target=perform, args=(history, "stale_holder", target_client(stale_url, admin.token),
                                                    ops.slow_invoice(user_id, period, 3)))
    stale.start()
    time.sleep(1.0)  # the holder has the lock and is inside its hold
    nemesis.start_fault(Pause(stale_name))
    time.sleep(11.0)  # past the lock's 10 s expiry
    perform(history, "second_holder", target_client(fresh_url, admin.token), ops.generate_invoice(user_id, period))
    nemesis.heal()
    stale.join(60)
    final = final_invoices(admin, [user_id])
    result = judge(deferred("locks", admin.call("lock_events")["events"]),
                   invoices_verdict(target_profile, history, final, "none_lost", "none_from_nowhere"))
    assert not result.anomalies, explain(result)
    assert result.stats["locks"]["stale_writes_rejected"] == 1, "the stale holder must have tried and been refused"
    stale_op = next(op for op in history.completions() if op.process == "stale_holder")
    assert stale_op.type in {"fail", "info"} and stale_op.error in {"lock_lost", "invoice_exists", None}


@pytest.mark.needs(operations=["generate_invoice"], faults=["redis_link"])
def test_an_instance_cut_off_from_redis_fails_closed(fresh_cluster, admin, target_client, history, nemesis,
                                                     make_users, new_period, judge, target_profile) -> None:
    users = make_users(5)
    period = new_period()
    cut_name, cut_url = next(iter(fresh_cluster.api_urls().items()))
    nemesis.start_fault(Partition(f"{cut_name}->redis"))
    time.sleep(1.2)  # past the checker's grace: a call begun at the cut may hold a connection from before it
    clients = spread(target_client, [cut_url], admin.token, [[ops.generate_invoice(user, period)] for user in users])
    run_clients(history, clients, time_limit_s=60)
    nemesis.heal()
    outcomes = Counter(op.type for op in history.completions())
    assert "ok" not in outcomes, f"an instance without its lock service invoiced: {outcomes}"
    final = final_invoices(admin, users)
    assert not any(final.values()), f"invoiced without a lock: {final}"
    result = judge(deferred("fails_closed"))  # and the contract: only the outages the profile names
    assert result.valid is True, explain(result)
