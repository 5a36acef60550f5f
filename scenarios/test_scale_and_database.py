"""Scaling under load spreads the work; database faults give errors, never wrong data; pools hold."""
from __future__ import annotations

import random
import threading
import time

import pytest

from chaos.nemesis.link_faults import Partition, latency
from chaos.nemesis.process_faults import Scale
from chaos.report.checks import deferred
from chaos.workload import operations as ops
from chaos.workload.operations import Operation
from chaos.workload.runner import run_clients
from chaos.workload.accounts import final_invoices
from scenarios.conftest import explain, invoices_verdict, spread

pytestmark = pytest.mark.chaos


@pytest.mark.needs(operations=["list_plans"], faults=["scale", "workers"])
def test_scaling_api_and_workers_under_load_spreads_the_work(fresh_cluster, admin, target_client, history, nemesis,
                                                             judge, target_profile) -> None:
    """Reads through the lb while api goes 5 -> 2 -> 5 and workers 3 -> 1 -> 3: every instance works,
    and no error outside the scale windows."""
    clients = spread(target_client, [fresh_cluster.lb_url], None, [[ops.read_plans()] * 400] * 8, "reader")
    load = threading.Thread(target=run_clients, args=(history, clients), kwargs={"time_limit_s": 40})
    load.start()
    time.sleep(3)
    for fault in (Scale("api", 2), Scale("worker", 1)):
        nemesis.start_fault(fault)
    time.sleep(3)
    nemesis.heal()
    load.join()
    windows = [(op.time, op.f) for op in history.ops if op.process == "nemesis"]
    first_start, last_stop = windows[0][0], windows[-1][0]
    outside = [op for op in history.completions() if op.type != "ok" and not first_start <= op.time <= last_stop + 2e9]
    assert not outside, outside[:5]
    result = judge(deferred("distribution", min_instances=len(fresh_cluster.api_urls())), deferred("latency"))
    assert result.stats["distribution"]["valid"] is True, explain(result)


@pytest.mark.needs(operations=["generate_invoice"], faults=["postgres_link"])
def test_database_latency_and_partition_give_errors_never_wrong_data(fresh_cluster, admin, target_client, history,
                                                                     nemesis, make_users, new_period, chaos_seed,
                                                                     judge, target_profile) -> None:
    users = make_users(10)
    period = new_period()
    rng = random.Random(chaos_seed)
    names = list(fresh_cluster.api_urls())
    nemesis.start_fault(latency(f"{names[0]}->postgres", ms=500, jitter_ms=100))
    nemesis.start_fault(Partition(f"{names[1]}->postgres"))
    urls = list(fresh_cluster.api_urls().values())
    batches = [[ops.generate_invoice(rng.choice(users), period) for _ in range(5)] for _ in range(10)]
    clients = spread(target_client, urls, admin.token, batches, timeout_s=10)
    run_clients(history, clients, time_limit_s=90)
    nemesis.heal()
    cut_off = [op for op in history.completions() if op.instance == names[1]]
    assert cut_off and not [op for op in cut_off if op.type == "ok"], "an instance without its database succeeded"
    result = judge(invoices_verdict(target_profile, history, final_invoices(admin, users), "none_lost",
                                    "none_from_nowhere"))
    assert result.valid is True, explain(result)


@pytest.mark.needs(operations=["list_invoices", "pool_metrics"])
def test_each_instance_keeps_its_own_pool_under_100_concurrent_requests(fresh_cluster, admin, target_client,
                                                                        history, make_users) -> None:
    # a read that reaches the database (an instance keeps the plan list, so reading plans uses no pool)
    user = make_users(1)[0]
    run_clients(history, spread(target_client, [fresh_cluster.lb_url], admin.token,
                                [[Operation("list_invoices", {"user_id": user})]] * 100))
    assert all(op.type == "ok" for op in history.completions())
    answered = set()
    for url in fresh_cluster.api_urls().values():
        with target_client(url) as client:
            metrics = client.call("pool_metrics")
        assert metrics.ok and metrics["pool_size"] == 20, metrics
        assert metrics.instance in (None, metrics["instance"]), "the pool is the answering instance's"
        assert metrics["checkedout"] < metrics["pool_size"]
        answered.add(metrics["instance"])
    assert len(answered) == len(fresh_cluster.api_urls()), f"each link reaches its own instance: {answered}"


@pytest.mark.needs(operations=["generate_invoice"])
def test_1000_invoice_stress(fresh_cluster, admin, target_client, history, make_users, new_period,
                             judge, target_profile) -> None:
    """The seed's stress: 1000 generate-invoice calls for 1000 users from 100 clients; average and p95 recorded."""
    users = make_users(1000)
    period = new_period()
    urls = list(fresh_cluster.api_urls().values())
    clients = spread(target_client, urls, admin.token,
                     [[ops.generate_invoice(user, period) for user in users[i::100]] for i in range(100)])
    run_clients(history, clients, time_limit_s=300)
    result = judge(invoices_verdict(target_profile, history, final_invoices(admin, users), "none_lost",
                                    "none_from_nowhere"), deferred("latency"))
    assert not result.anomalies and result.valid is not False, explain(result)
    invoices = result.stats["invoices"]
    assert invoices["valid"] is True, explain(result)
    stats = result.stats["latency"]["generate_invoice"]["all"]
    latencies = [op.latency for op in history.completions() if op.latency is not None]
    print(f"1000-invoice stress: {stats['count']} ok, average {sum(latencies) / len(latencies) * 1000:.0f} ms, "
          f"p95 {stats['p95'] * 1000:.0f} ms, {stats['throughput']:.0f}/s")
