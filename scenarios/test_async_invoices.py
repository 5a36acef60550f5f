"""Every accepted async request yields exactly one invoice once faults heal; work spreads over workers."""
from __future__ import annotations

import time

import pytest
import requests

from chaos.nemesis.link_faults import Partition, latency
from chaos.nemesis.process_faults import Kill, Restart
from chaos.target.client import Reply, TargetClient
from chaos.report.checks import deferred
from chaos.workload import operations as ops
from chaos.workload.runner import run_clients
from chaos.workload.accounts import final_invoices, wait_until_settled
from scenarios.conftest import explain, spread

# Every scenario here submits async invoices and waits for the workers; the kinds of fault are per scenario.
pytestmark = [pytest.mark.chaos, pytest.mark.needs(operations=["generate_invoice_async", "task_status"],
                                                   faults=["workers"])]


def flower_workers(cluster) -> dict[str, dict]:
    return requests.get(f"{cluster.flower_url}/api/workers", params={"refresh": "true"}, timeout=30).json()


def accepted_task_ids(history) -> list[str]:
    return [op.value["task_id"] for op in history.completions()
            if op.f == "generate_invoice_async" and op.type == "ok"]


def task_state(admin: TargetClient, task_id: str) -> Reply:
    return admin.call("task_status", task_id=task_id)


def async_verdict(profile, history, final, *claims: str):
    return deferred("async_invoices", final, identity=profile.identity("invoice"), claims=list(claims) or None)


def every_accepted_request_is_invoiced(admin, history, users, judge, target_profile) -> None:
    """Once the tasks settle: none lost (the checker, on the final read), and every task SUCCESS."""
    states = wait_until_settled(admin, accepted_task_ids(history))
    result = judge(async_verdict(target_profile, history, final_invoices(admin, users), "none_lost"))
    assert result.valid is True, explain(result)
    assert set(states.values()) == {"SUCCESS"}, states


def submit_async(cluster, target_client, admin, history, users: list, period: str,
                 **test_params: float) -> None:
    urls = list(cluster.api_urls().values())
    run_clients(history, spread(target_client, urls, admin.token,
                                [[ops.generate_invoice_async(user, period, **test_params)] for user in users]))


def test_20_async_invoices_spread_over_workers(fresh_cluster, admin, target_client, history, make_users, new_period,
                                               judge, target_profile) -> None:
    users = make_users(20)
    period = new_period()
    before = flower_workers(fresh_cluster)
    submit_async(fresh_cluster, target_client, admin, history, users, period, hold_s=0.3)
    states = wait_until_settled(admin, accepted_task_ids(history))
    assert set(states.values()) == {"SUCCESS"}, states
    for op in history.completions():  # the worker that ran each task, for the distribution checker
        op.value["worker"] = task_state(admin, op.value["task_id"])["result"]["worker"]
    result = judge(async_verdict(target_profile, history, final_invoices(admin, users), "none_lost"),
                   deferred("distribution", min_instances=len(fresh_cluster.api_urls()), min_workers=2,
                            flower_workers=flower_workers(fresh_cluster), flower_baseline=before))
    assert result.valid is True, explain(result)


@pytest.mark.needs(faults=["kill"])
def test_a_worker_killed_mid_task_loses_and_doubles_nothing(fresh_cluster, admin, target_client, history, nemesis,
                                                             make_users, new_period, judge, target_profile) -> None:
    """Tasks hold 3 s before their write and linger 3 s after it (before the ack): one worker is killed
    before its tasks wrote (a lost task shows), the others after (a doubled one shows)."""
    users = make_users(6)
    period = new_period()
    submit_async(fresh_cluster, target_client, admin, history, users, period, hold_s=3.0, linger_s=3.0)
    before_write, *after_write = fresh_cluster.of("worker")
    time.sleep(1.5)
    nemesis.start_fault(Kill(before_write.name))
    time.sleep(3.0)
    for worker in after_write:
        nemesis.start_fault(Kill(worker.name))
    time.sleep(1.0)
    nemesis.heal()
    states = wait_until_settled(admin, accepted_task_ids(history))
    result = judge(async_verdict(target_profile, history, final_invoices(admin, users), "none_lost", "none_doubled"))
    assert result.valid is True, explain(result)
    assert set(states.values()) == {"SUCCESS"}, f"not redelivered after the visibility timeout: {states}"


@pytest.mark.needs(faults=["redis_link"])
def test_workers_cut_off_from_the_broker_complete_after_heal(fresh_cluster, admin, target_client, history, nemesis,
                                                             make_users, new_period, judge, target_profile) -> None:
    """Latency, then a partition, between workers and the broker. This scenario found kombu's BRPOP gap
    (a message popped while the reply is cut off is lost, and acks_late cannot help): billing's outbox
    re-publishes such a task after the visibility timeout."""
    users = make_users(10)
    period = new_period()
    for worker in fresh_cluster.of("worker"):
        nemesis.start_fault(latency(f"{worker.name}->redis", ms=300, jitter_ms=100))
    submit_async(fresh_cluster, target_client, admin, history, users[:5], period, hold_s=0.5)
    worker = fresh_cluster.of("worker")[0]
    nemesis.start_fault(Partition(f"{worker.name}->redis"))
    submit_async(fresh_cluster, target_client, admin, history, users[5:], period, hold_s=0.5)
    time.sleep(5.0)
    nemesis.heal()
    wait_until_settled(admin, accepted_task_ids(history))
    result = judge(async_verdict(target_profile, history, final_invoices(admin, users), "none_lost"))
    assert result.valid is True, explain(result)


@pytest.mark.needs(faults=["redis_link"])
def test_a_message_the_broker_lost_is_republished_from_the_outbox(fresh_cluster, admin, target_client, history,
                                                                  nemesis, make_users, new_period,
                                                                  judge, target_profile) -> None:
    """The BRPOP gap made deterministic: every worker is cut off from Redis, the requests are accepted,
    and their messages are taken off the queue before any worker gets them. Only the outbox knows."""
    users = make_users(3)
    period = new_period()
    for worker in fresh_cluster.of("worker"):
        nemesis.start_fault(Partition(f"{worker.name}->redis"))
    submit_async(fresh_cluster, target_client, admin, history, users, period)
    dropped = fresh_cluster.fixed["redis"].exec_run(
        ["redis-cli", "-n", "1", "EVAL", "local n = 0 for _, k in ipairs(redis.call('KEYS', 'celery*')) do "
         "n = n + redis.call('DEL', k) end return n", "0"])
    assert dropped.exit_code == 0 and dropped.output.strip() != b"0", f"no queued message to drop: {dropped.output!r}"
    nemesis.heal()
    every_accepted_request_is_invoiced(admin, history, users, judge, target_profile)


def queued_messages(cluster) -> int:
    """How many messages wait in the broker's queue: the lists among the keys of the profile's ``queue``
    family (billing's: db 1, ``celery``), counted without deleting them."""
    count = ("local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do "
             "if redis.call('TYPE', k).ok == 'list' then n = n + redis.call('LLEN', k) end end return n")
    total = 0
    for db, pattern in cluster.family_keys("queue"):
        answer = cluster.fixed["redis"].exec_run(["redis-cli", "-n", str(db), "EVAL", count, "0", pattern])
        assert answer.exit_code == 0 and answer.output.strip().isdigit(), answer.output
        total += int(answer.output.strip())
    return total


@pytest.mark.needs(faults=["redis_link", "restart"])
def test_requests_queued_when_redis_restarts_are_not_lost(fresh_cluster, admin, target_client, history, nemesis,
                                                          make_users, new_period, judge, target_profile) -> None:
    """Every worker is cut off from the broker, so the accepted requests wait in Redis's queue; then Redis
    restarts without persistence, and the queue, Celery's results and anything else kept there are gone.
    The outbox must bring every accepted request back: billing's lived in Redis too, and lost them all
    (``outbox_in_redis``), until it moved to PostgreSQL."""
    if "queue" not in fresh_cluster.redis_families():
        pytest.skip("the profile names no queue key family (run.containerised.redis_keys.queue)")
    users = make_users(4)
    period = new_period()
    for worker in fresh_cluster.of("worker"):
        nemesis.start_fault(Partition(f"{worker.name}->redis"))
    submit_async(fresh_cluster, target_client, admin, history, users, period)
    assert len(accepted_task_ids(history)) == len(users), [op for op in history.completions() if op.type != "ok"]
    queued = queued_messages(fresh_cluster)
    assert queued >= len(users), f"the work in flight: {queued} queued messages, {len(users)} accepted requests"
    nemesis.start_fault(Restart("redis"))
    assert queued_messages(fresh_cluster) == 0, "Redis kept its queue across the restart: nothing was lost"
    nemesis.heal()
    every_accepted_request_is_invoiced(admin, history, users, judge, target_profile)


def oom_kills(worker) -> int:
    """How many of the worker's processes the kernel has killed for memory (its cgroup's count)."""
    for path, word in (("/sys/fs/cgroup/memory.events", "oom_kill"),              # cgroup v2
                       ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill")):  # cgroup v1
        answer = worker.container.exec_run(["cat", path])
        if answer.exit_code == 0:
            counts = dict(line.split() for line in answer.output.decode().splitlines() if len(line.split()) == 2)
            return int(counts.get(word, 0))
    raise AssertionError(f"{worker.name}: no cgroup memory events to read")


@pytest.mark.needs(params=["generate_invoice_async.spike_mb"])
def test_a_task_the_kernel_kills_for_memory_runs_again_and_invoices_once(fresh_cluster, admin, target_client,
                                                                         history, make_users, new_period, judge,
                                                                         target_profile) -> None:
    """One task's first run needs more memory than its worker may have (the compose file's mem_limit,
    512 MB), so the kernel kills that pool process mid-task, as it does in production; the other tasks
    run beside it. The killed one was not acknowledged (acks_late), so it must run again and invoice
    once; nothing else may be lost."""
    users = make_users(4)
    period = new_period()
    workers = fresh_cluster.of("worker")
    before = sum(oom_kills(w) for w in workers)
    submit_async(fresh_cluster, target_client, admin, history, users[:1], period, spike_mb=768)
    submit_async(fresh_cluster, target_client, admin, history, users[1:], period, hold_s=1.0)
    states = wait_until_settled(admin, accepted_task_ids(history))
    assert sum(oom_kills(w) for w in workers) > before, "no process was killed for memory: the fault hit nothing"
    final = final_invoices(admin, users)
    result = judge(async_verdict(target_profile, history, final, "none_lost"))
    assert result.valid is True, explain(result)
    assert all(len(final[u]) == 1 for u in users), final
    assert set(states.values()) == {"SUCCESS"}, states
