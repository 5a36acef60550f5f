"""Faults of the data layer: Redis restarted without persistence, PostgreSQL restarted mid-transaction.

Each scenario shows first that the fault hit work in flight (a lock held, a
transaction open, a task queued), so a pass says the protection held, not
that the fault missed. The queued-task case is in test_async_invoices.py.
"""
from __future__ import annotations

import threading
import time

import pytest

from chaos.history.pairs import nemesis_windows
from chaos.nemesis.data_faults import Exhaust
from chaos.nemesis.process_faults import Restart
from chaos.workload import operations as ops
from chaos.workload.accounts import final_invoices
from chaos.workload.runner import perform, run_clients
from scenarios.conftest import explain, invoices_verdict, spread

pytestmark = pytest.mark.chaos


def spanning(history, process: str, window_start_ns: int) -> None:
    """Assert that ``process``'s one call began before the fault and ended after it."""
    invoked = next(op for op in history.ops if op.process == process and op.type == "invoke")
    completed = next(op for op in history.completions() if op.process == process)
    assert invoked.time < window_start_ns < completed.time, "the call was not in flight when the fault began"


def every_user_is_invoiced_once_when_asked_everywhere(cluster, admin, target_client, history, users, period, judge,
                                                      target_profile) -> None:
    """After the fault: every user asked on every instance. The pools recovered (each call definite),
    nothing is doubled and nothing lost, judged by the invoices checker on the whole history."""
    urls = list(cluster.api_urls().values())
    run_clients(history, spread(target_client, urls, admin.token,
                                [[ops.generate_invoice(u, period) for u in users]] * len(urls), "after"))
    final = final_invoices(admin, users)
    result = judge(invoices_verdict(target_profile, history, final))
    assert result.valid is True, explain(result)
    assert all(len(final[u]) == 1 for u in users), final


def fault_start(history, kind: str) -> int:
    return next(w.start for w in nemesis_windows(history.ops) if w.fault.get("fault") == kind)


@pytest.mark.needs(operations=["generate_invoice", "slow_invoice"], faults=["restart"])
def test_a_lock_held_while_redis_restarts_admits_one_invoice(fresh_cluster, admin, target_client, history, nemesis,
                                                            make_users, new_period, judge, target_profile) -> None:
    """A holder keeps the invoice lock for 4 s; Redis restarts under it, so the lock (and the fencing
    counter) is gone and a second request takes the lock at once. One invoice, and afterwards every key
    can still be invoiced (a fencing counter that restarts below the tokens the database holds would
    refuse every later writer)."""
    user_id, = make_users(1)
    period, later = new_period(), new_period()
    (_, holder_url), *others = fresh_cluster.api_urls().items()
    holder = threading.Thread(target=perform, args=(history, "holder", target_client(holder_url, admin.token),
                                                     ops.slow_invoice(user_id, period, 4)))
    holder.start()
    time.sleep(1.0)  # the holder has the lock and is inside its hold
    nemesis.start_fault(Restart("redis"))
    run_clients(history, spread(target_client, [url for _, url in others], admin.token,
                                [[ops.generate_invoice(user_id, period)]] * len(others), "contender"))
    holder.join(60)
    nemesis.heal()
    spanning(history, "holder", fault_start(history, "restart"))
    run_clients(history, spread(target_client, list(fresh_cluster.api_urls().values()), admin.token,
                                [[ops.generate_invoice(user_id, later)]] * len(fresh_cluster.api_urls()), "after"))
    after = [op for op in history.completions() if op.process.startswith("after")]
    assert sum(op.type == "ok" for op in after) == 1, f"one new key after the restart, one invoice: {after}"
    result = judge(invoices_verdict(target_profile, history, final_invoices(admin, [user_id])))
    assert result.valid is True, explain(result)


@pytest.mark.needs(operations=["generate_invoice", "slow_invoice"], faults=["restart"])
def test_postgres_restarted_mid_transaction_loses_and_doubles_nothing(fresh_cluster, admin, target_client, history,
                                                                     nemesis, make_users, new_period,
                                                                     judge, target_profile) -> None:
    """A holder is inside its invoice transaction when PostgreSQL is killed and started again (it recovers
    from its WAL); invoices are asked on every instance before, during and after. Every connection in
    every pool is dead at once: the pools must notice (pre-ping) and the instances answer again."""
    users = make_users(8)
    period = new_period()
    urls = list(fresh_cluster.api_urls().values())
    holder = threading.Thread(target=perform, args=(history, "holder", target_client(urls[0], admin.token),
                                                     ops.slow_invoice(users[0], period, 4)))
    before = spread(target_client, urls, admin.token, [[ops.generate_invoice(u, period)] for u in users[1:4]])
    run_clients(history, before)
    holder.start()
    time.sleep(1.0)  # the holder's transaction is open
    nemesis.start_fault(Restart("postgres"))
    nemesis.heal()
    holder.join(60)
    spanning(history, "holder", fault_start(history, "restart"))
    every_user_is_invoiced_once_when_asked_everywhere(fresh_cluster, admin, target_client, history, users, period,
                                                      judge, target_profile)


@pytest.mark.needs(operations=["generate_invoice"], faults=["restart", "exhaust"])
def test_exhausted_connections_are_refused_cleanly_and_recovered(fresh_cluster, admin, target_client, history,
                                                                 nemesis, make_users, new_period, judge,
                                                                 target_profile) -> None:
    """Something else takes every free PostgreSQL connection. api_1 was just restarted, so its pool is
    nearly empty and its calls need new connections, which are refused; the others keep the ones their
    pools hold. Every answer must be definite or an outage (no hang until a pool timeout, no wrong
    data), and once the connections are let go every user is invoiced once."""
    users = make_users(16)
    period = new_period()
    (first, first_url), *_ = fresh_cluster.api_urls().items()
    nemesis.start_fault(Restart(first))   # its pool starts again from nothing
    exhausted = Exhaust()
    nemesis.start_fault(exhausted)
    assert exhausted.held > 0, "PostgreSQL had no free connection to take"
    run_clients(history, spread(target_client, [first_url], admin.token, [[ops.generate_invoice(u, period)]
                                                                        for u in users], "starved"),
                time_limit_s=120)
    nemesis.heal()
    starved = [op for op in history.completions() if op.process.startswith("starved")]
    assert any(op.type != "ok" for op in starved), "no call needed a new connection: the fault hit nothing"
    every_user_is_invoiced_once_when_asked_everywhere(fresh_cluster, admin, target_client, history, users, period,
                                                      judge, target_profile)
