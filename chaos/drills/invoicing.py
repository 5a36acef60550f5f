"""The invoice workloads: sync invoices over every instance, async invoices whose tasks must settle,
and a slow lock holder with contenders for the same invoice.

Each judges by the identities the target's profile declares (billing: one
invoice per user and period), never by billing's field names.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import Any

from chaos.checkers import async_invoices, fails_closed, invoices, locks
from chaos.drills.params import Check, Param, period, retried
from chaos.drills.workload import MAX_EXTENSION_S, Workload
from chaos.history import Op
from chaos.workload import operations as ops
from chaos.workload.accounts import final_invoices, final_read, wait_until_settled
from chaos.workload.operations import Operation
from chaos.workload.runner import Client, run_clients


class InvoiceWorkload(Workload):
    """What the invoice workloads share: new users, and the final read of their invoices."""

    makes_users = True
    users: list[Any]

    def final_reads(self) -> Any:
        return retried(lambda: final_invoices(self.admin, self.users), "the invoices of the workload's users")

    def invoices_check(self, history: Sequence[Op], final: Any, *claims: str) -> Check:
        profile = self.context.profile
        return partial(invoices.check, history, final, identity=profile.identity("invoice"),
                       activation=profile.identity("activation"), claims=claims)


class Invoices(InvoiceWorkload):
    """Sync generate-invoice calls; every key asked ``dup`` times at once over different instances."""

    kind = "invoices"
    summary = "sync invoices over every api instance's own link, each key asked by several clients at once"
    params = (Param.clients(6), Param.seconds(),
              Param("users", int, 20, "new users whose invoices are generated"),
              Param("dup", int, 3, "how many calls ask for each (user, period) key"), Param.think_ms(200))
    operations = frozenset({"generate_invoice", "list_invoices"})

    def setup(self) -> str:
        self.users = self.new_users(int(self.values["users"]), "invoices")
        self.rng.shuffle(self.users)   # the seed decides which users are asked for first
        self._keys = itertools.count()
        return f"{len(self.users)} new users; keys (user, period) taken in turn, each by {self.values['dup']} calls"

    def _next(self) -> Operation:
        n = next(self._keys) // int(self.values["dup"])
        return ops.generate_invoice(self.users[n % len(self.users)], period(n // len(self.users)))

    def clients(self) -> list[Client]:
        think = float(self.values["think_ms"]) / 1000
        return self.spread(int(self.values["clients"]), lambda _: self.paced(self._next, think))

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        claims = ("none_from_nowhere", "at_most_once") if int(self.values["dup"]) > 1 else ("none_from_nowhere",)
        return {"invoices": self.invoices_check(history, final, *claims),
                "fails_closed": partial(fails_closed.check, history)}


class AsyncInvoices(InvoiceWorkload):
    """One async invoice per new user; then the tasks settle (a killed worker's come back after the
    visibility timeout). ``hold_s`` and ``linger_s`` reach only a target whose profile sends them."""

    kind = "async-invoices"
    summary = "async invoices (202 + a Celery task), one per new user; waits until the tasks settle"
    params = (Param.clients(3, "concurrent submitters"),
              Param("count", int, 6, "async invoice requests, one per new user"),
              Param("hold_s", float, 3.0, "each task's work before its write (test parameter)"),
              Param("linger_s", float, 3.0, "each task's wait after its write, before the ack (test parameter)"),
              Param("settle_s", float, 90.0, "how long to wait for the tasks to finish"),
              Param.seconds(30, "the longest the submissions may take"))
    operations = frozenset({"generate_invoice_async", "task_status", "list_invoices"})

    def setup(self) -> str:
        self.users = self.new_users(int(self.values["count"]), "async")
        return f"{len(self.users)} new users, one async invoice each (period {period(0)})"

    def clients(self) -> list[Client]:
        count = min(int(self.values["clients"]), len(self.users))
        test = {"hold_s": float(self.values["hold_s"]), "linger_s": float(self.values["linger_s"])}
        return self.spread(count, lambda i: (ops.generate_invoice_async(user, period(0), **test)
                                             for user in self.users[i::count] if self.running))

    def waiting_note(self) -> str:
        return (f"{self.kind}: waiting up to {self.values['settle_s']:.0f} s for the tasks to finish (a killed "
                "worker's tasks come back after the 30 s visibility timeout; Ctrl-C stops waiting)")

    def accepted(self) -> list[Op]:
        return [op for op in self.context.recorder.completions()
                if op.process in self.processes and op.type == "ok" and op.value.get("task_id")]

    def after_wait(self) -> str:
        started = time.monotonic()
        states = wait_until_settled(self.admin, [op.value["task_id"] for op in self.accepted()],
                                    float(self.values["settle_s"]))
        self._mark_workers()
        return (f"; {len(states)} tasks accepted, {dict(Counter(states.values()))} after "
                f"{time.monotonic() - started:.0f} s")

    def _mark_workers(self) -> None:
        """The worker that ran each task, for the report's work-per-worker (best effort)."""
        for op in self.accepted():
            result = self.admin.call("task_status", task_id=op.value["task_id"]).get("result")
            if isinstance(result, dict) and result.get("worker"):
                op.value["worker"] = result["worker"]

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        return {"async_invoices": partial(async_invoices.check, history, final,
                                          identity=self.context.profile.identity("invoice"), claims=("none_lost",))}


class LockContention(InvoiceWorkload):
    """A slow holder keeps one invoice lock on api_1 while contenders on the other instances ask for
    the same invoice: the drill pauses the holder past the lock's expiry."""

    kind = "lock-contention"
    summary = ("a slow invoice holding its lock on api_1 (hold_s), and contenders for the same invoice on "
               "the other instances")
    params = (Param("hold_s", float, 3.0, "how long the holder keeps the lock before its write"),
              Param.clients(2, "contenders, round-robin over api_2, api_3, ..."),
              Param.seconds(24, "how long the contenders keep asking"),
              Param.think_ms(1000, "pause between one contender's calls"))
    operations = frozenset({"slow_invoice", "generate_invoice", "lock_events", "list_invoices"})
    HOLDER_HEAD_START_S = 0.5   # the holder takes the lock before any contender asks

    def setup(self) -> str:
        self.users = self.new_users(1, "lock")
        self.user, self.period = self.users[0], period(0)
        (self.holder_name, self.holder_url), *self.others = self.instance_urls(minimum=2)
        return (f"user {self.user}, period {self.period}: the holder on {self.holder_name}, contenders on "
                f"{', '.join(name for name, _ in self.others)}")

    def clients(self) -> list[Client]:
        think = float(self.values["think_ms"]) / 1000
        token = self.admin.token
        holder = Client("lock-holder", self.context.client(self.holder_url, token, timeout_s=120),
                        iter([ops.slow_invoice(self.user, self.period, float(self.values["hold_s"]))]))
        contenders = [Client(f"lock-contender-{i}", self.context.client(self.others[i % len(self.others)][1], token),
                             self.paced(lambda: ops.generate_invoice(self.user, self.period), think))
                      for i in range(int(self.values["clients"]))]
        return [holder, *contenders]

    def run(self, clients: list[Client]) -> None:
        holder, *contenders = clients
        holding = threading.Thread(target=run_clients, args=(self.context.recorder, [holder]),
                                   kwargs={"time_limit_s": MAX_EXTENSION_S}, name="lock-holder", daemon=True)
        holding.start()
        self._stop.wait(self.HOLDER_HEAD_START_S)
        run_clients(self.context.recorder, contenders,
                    time_limit_s=float(self.values["seconds"]) + MAX_EXTENSION_S)
        holding.join(MAX_EXTENSION_S)

    def final_reads(self) -> Any:
        key = f"invoice:{self.user}:{self.period}"   # the journal is billing's test hook: its keys are billing's
        journal = retried(lambda: final_read(self.admin, "lock_events"), "the lock journal")
        return {"invoices": super().final_reads(),
                "lock_events": [event for event in journal["events"] if event.get("key") == key]}

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        return {"locks": partial(locks.check, final["lock_events"]),
                "invoices": self.invoices_check(history, final["invoices"], "none_from_nowhere")}
