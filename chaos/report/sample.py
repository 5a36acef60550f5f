"""A synthetic run: concurrent clients, a fault schedule, final reads, and (optionally) planted anomalies.

It exists so that the report can be looked at, tested and timed without a
cluster: ``python -m chaos.report --sample reports/sample`` renders one, the
unit tests check its pages, ``benchmarks/checkers.py`` times the checkers and
the report on 10 000 operations. The clients follow the target contract's
rules (one invoice per key, replays of a finished key, capacity), so with
``anomalies=False`` every checker passes; with ``anomalies=True`` each
checker has exactly the anomalies planted for it. The run opens with a burst
released together (as the scenarios' barrier does): clients compete for one
invoice identity and one idempotency key, and one activation's answer is cut
after it committed and is retried, so the checkers' claims have evidence.
"""
from __future__ import annotations

import heapq
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from chaos.checkers import async_invoices, capacity, distribution, idempotency, invoices, latency, locks
from chaos.checkers.result import Result
from chaos.history import Op, Recorder
from chaos.report.model import ScenarioRecord

WALL = 1_760_000_000.0          # lock journal wall clock at the history's origin
MIX = (("generate_invoice", 40), ("activate", 15), ("purchase_ticket", 15), ("book_slot", 5),
       ("generate_invoice_async", 10), ("read", 15))
SCHEDULE = ({"fault": "latency", "target": "api_2->redis", "latency": 300, "at": 0.15, "for": 0.15},
            {"fault": "partition", "target": "api_3->redis", "at": 0.40, "for": 0.12},
            {"fault": "pause", "target": "api_1", "at": 0.62, "for": 0.10},
            {"fault": "kill", "target": "worker_2", "at": 0.80, "for": 0.05})
TIMEOUT_S = 2.0                 # the clients' read timeout: a paused instance answers nothing


class _Clock:
    """The simulated clock the recorder reads: histories come out in time order, reproducibly."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


@dataclass
class SampleRun:
    history: list[Op]
    invoices: dict[int, list[dict[str, Any]]]
    activations: dict[int, list[dict[str, Any]]]
    capacity: dict[str, dict[int, dict[str, Any]]]
    lock_events: list[dict[str, Any]]
    flower: dict[str, dict[str, Any]]
    schedule: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0

    def results(self) -> dict[str, Result]:
        return {"invoices": invoices.check(self.history, self.invoices),
                "async_invoices": async_invoices.check(self.history, self.invoices),
                "idempotency": idempotency.check(self.history, self.activations),
                "capacity": capacity.check(self.history, self.capacity),
                "locks": locks.check(self.lock_events),
                "distribution": distribution.check(self.history, min_instances=5, min_workers=3,
                                                   flower_workers=self.flower, max_share=0.5),
                "latency": latency.check(self.history, {"read": {"p50": 0.5}})}

    def scenario(self, name: str = "scenarios/test_sample.py::test_mixed_workload_under_faults",
                 outcome: str | None = None) -> ScenarioRecord:
        results = self.results()
        failed = any(r.valid is False for r in results.values())
        return ScenarioRecord(name, self.history, results, seed=self.seed, schedule=self.schedule,
                              outcome=outcome or ("failed" if failed else "passed"),
                              duration_s=self.history[-1].time / 1e9 if self.history else 0.0)


def sample_run(calls: int = 600, processes: int = 12, seed: int = 7, anomalies: bool = True,
               duration_s: float | None = None) -> SampleRun:
    """``calls`` client calls (twice as many operations) by ``processes`` clients over about
    ``duration_s`` seconds (default: scaled to the calls), under the fault schedule."""
    return _Simulation(random.Random(seed), calls, processes, duration_s or max(4.0, calls / 60), anomalies,
                       seed).run()


class _Simulation:
    def __init__(self, rng: random.Random, calls: int, processes: int, duration_s: float, anomalies: bool,
                 seed: int) -> None:
        self.rng, self.calls, self.processes, self.anomalies, self.seed = rng, calls, processes, anomalies, seed
        self.duration_ns = int(duration_s * 1e9)
        self.clock = _Clock()
        self.recorder = Recorder(clock=self.clock)
        self.faults = [(int(f["at"] * self.duration_ns), int((f["at"] + f["for"]) * self.duration_ns), f)
                       for f in SCHEDULE]
        self.invoices: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.invoiced: dict[tuple[int, str], int] = {}
        self.activated: dict[int, dict[str, Any]] = {}
        self.activations: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.tickets: list[dict[str, Any]] = []
        self.bookings: list[dict[str, Any]] = []
        self.lock_events: list[dict[str, Any]] = []
        self.tasks: dict[str, int] = defaultdict(int)
        self.next_id = 1000
        self.fence = 0
        self.places = max(3, calls // 100)
        # the opening burst, released together as the scenarios' barrier does: clients compete for one
        # invoice identity, one idempotency key (client_1's answer is cut after it committed, and it
        # retries; client_3 reuses the key with other parameters) and the last tickets, and every
        # worker gets a task; so every claim of the checkers has evidence
        self.tickets_for_sale = max(3, calls // 25)   # fewer than the burst's buyers once processes > 3
        key = {"subscription_id": 1, "key": "key-1", "params": {"payment_method": "card"}}
        self.burst: dict[int, list[tuple[str, dict[str, Any], bool]]] = {}
        for p in range(processes):
            first = ("generate_invoice", {"user_id": 1, "period": "2026-01"}, False) if p % 2 == 0 else \
                ("activate", key, p == 1)
            self.burst[p] = [first, ("purchase_ticket", {"event_id": 1, "quantity": 1}, False),
                             ("generate_invoice_async", {"user_id": 2 + p, "period": "2026-03"}, False)]
        if processes > 1:
            self.burst[1].insert(1, ("activate", key, False))
        if processes > 3:
            self.burst[3].insert(1, ("activate", {**key, "params": {"payment_method": "paypal"}}, False))
        self.next_instance = self.next_worker = 0  # the lb and the broker hand out work in turn

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def run(self) -> SampleRun:
        queue: list[tuple[int, int, str, Any]] = []
        per_process = max(1, self.calls // self.processes)
        gap = self.duration_ns // (per_process + 1)
        for p in range(self.processes):
            heapq.heappush(queue, (self.rng.randrange(1000), p, "invoke", None))  # the burst: all at once
        made = 0
        events = sorted(((s, e, f) for s, e, f in self.faults), key=lambda x: x[0])
        nemesis = [(s, "start", f) for s, _, f in events] + [(e, "stop", f) for _, e, f in events]
        for t, kind, fault in nemesis:
            heapq.heappush(queue, (t, -1, kind, {k: v for k, v in fault.items() if k not in ("at", "for")}))
        while queue:
            t, p, kind, payload = heapq.heappop(queue)
            self.clock.now = t
            if p < 0:
                self.recorder.nemesis(kind, payload)
            elif kind == "invoke" and made < self.calls:
                made += 1
                call = self._invoke(f"client_{p}", t, self.burst.get(p))
                heapq.heappush(queue, (t + int(call["latency"] * 1e9), p, "complete", call))
            elif kind == "complete":
                self._complete(payload, t)
                heapq.heappush(queue, (t + self.rng.randrange(gap // 2, gap * 3 // 2 + 1), p, "invoke", None))
        if self.anomalies:
            self._plant()
        return SampleRun(self.recorder.ops, dict(self.invoices), dict(self.activations), self._capacity(),
                         self.lock_events, self._flower(), [
                             {"at_s": round(f["at"] * self.duration_ns / 1e9, 3),
                              "duration_s": round(f["for"] * self.duration_ns / 1e9, 3),
                              **{k: v for k, v in f.items() if k not in ("at", "for")}} for f in SCHEDULE],
                         self.seed)

    def _invoke(self, process: str, t: int,
                burst: list[tuple[str, dict[str, Any], bool]] | None = None) -> dict[str, Any]:
        forced = burst.pop(0) if burst else None
        f = forced[0] if forced else self.rng.choices([m[0] for m in MIX], [m[1] for m in MIX])[0]
        self.next_instance += 1
        instance = f"api_{self.next_instance % 5 + 1}"
        value: dict[str, Any] = {}
        if forced:
            value = dict(forced[1])
        elif f in ("generate_invoice", "generate_invoice_async"):
            value = {"user_id": self.rng.randint(1, 25), "period": self.rng.choice(["2026-01", "2026-02"])}
            if f == "generate_invoice_async":
                value["period"] = "2026-03"
        elif f == "activate":
            subscription = self.rng.randint(1, 12)
            method = "paypal" if self.rng.random() < 0.08 else "card"
            value = {"subscription_id": subscription, "key": f"key-{subscription}",
                     "params": {"payment_method": method}}
        elif f == "purchase_ticket":
            value = {"event_id": 1, "quantity": 1}
        elif f == "book_slot":
            value = {"slot_id": 1}
        latency = self.rng.lognormvariate(-3.6, 0.5)
        faults = self._faults_at(t, instance)
        if "latency" in faults:
            latency += 0.3 * self.rng.uniform(0.7, 1.3)
        if "pause" in faults:
            latency = TIMEOUT_S if self.rng.random() < 0.6 else latency + 0.5
        handle = self.recorder.invoke(process, f, value)
        cut = forced is not None and forced[2]
        return {"handle": handle, "f": f, "value": value, "instance": instance, "latency": min(latency, TIMEOUT_S),
                "t0": t, "cut": cut}

    def _faults_at(self, t: int, instance: str) -> set[str]:
        return {fault["fault"] for start, stop, fault in self.faults
                if start <= t <= stop and fault["target"].split("->")[0] == instance}

    def _complete(self, call: dict[str, Any], t: int) -> None:
        f, value, instance = call["f"], call["value"], call["instance"]
        handle, latency = call["handle"], call["latency"]
        faults = self._faults_at(call["t0"], instance)
        if call.get("cut"):  # it committed; the connection was reset before the answer
            getattr(self, f"_{f}")(value, call, t)
            self.recorder.complete(handle, "info", error="ConnectionResetError", instance=instance, latency=latency)
            return
        if latency >= TIMEOUT_S:
            self.recorder.complete(handle, "info", error="ReadTimeout", latency=latency)
            if (f == "generate_invoice" and (value["user_id"], value["period"]) not in self.invoiced
                    and self.rng.random() < 0.5):
                self._invoice(value, call["t0"], t, instance)  # it committed; the answer never came
            return
        if "partition" in faults and f in ("generate_invoice", "activate"):
            self.recorder.complete(handle, "info", status=503, error="redis_unavailable", instance=instance,
                                   latency=latency)
            return
        answer = getattr(self, f"_{f}")(value, call, t)
        kind, fields = answer
        self.recorder.complete(handle, kind, instance=instance, latency=latency, **fields)

    def _invoice(self, value: dict[str, Any], t0: int, t1: int, instance: str) -> int:
        key = (value["user_id"], value["period"])
        invoice_id = self._id()
        self.invoiced[key] = invoice_id
        self.invoices[value["user_id"]].append({"invoice_id": invoice_id, "user_id": value["user_id"],
                                                "period": value["period"], "amount": "19.99"})
        token, lock_key = f"tok-{invoice_id}", f"invoice:{key[0]}:{key[1]}"
        self.fence += 1
        for kind, t, extra in (("acquire", t0, {"expire_s": 10.0}), ("write", (t0 + t1) // 2,
                               {"fence": self.fence, "accepted": True}), ("release", t1, {})):
            self.lock_events.append({"kind": kind, "key": lock_key, "token": token, "instance": instance,
                                     "t": WALL + t / 1e9, **extra})
        return invoice_id

    def _generate_invoice(self, value: dict[str, Any], call: dict[str, Any], t: int) -> tuple[str, dict[str, Any]]:
        key = (value["user_id"], value["period"])
        if key in self.invoiced:
            error = "lock_timeout" if self.rng.random() < 0.15 else "invoice_exists"
            return "fail", {"status": 409, "error": error}
        invoice_id = self._invoice(value, call["t0"], t, call["instance"])
        return "ok", {"status": 200, "value": {"invoice_id": invoice_id}}

    def _generate_invoice_async(self, value: dict[str, Any], call: dict[str, Any], t: int) -> tuple[str, dict]:
        key = (value["user_id"], value["period"])
        self.next_worker += 1
        worker = f"celery@worker_{self.next_worker % 3 + 1}"
        if key not in self.invoiced:
            self._invoice(value, call["t0"], t, worker)
        task = f"task-{self._id()}"
        self.tasks[worker] += 1
        return "ok", {"status": 202, "value": {"task_id": task, "worker": worker}}

    def _activate(self, value: dict[str, Any], call: dict[str, Any], t: int) -> tuple[str, dict[str, Any]]:
        subscription = value["subscription_id"]
        first = self.activated.get(subscription)
        if first is None:
            invoice_id = self._id()
            first = self.activated[subscription] = {
                "params": value["params"],
                "body": {"subscription_id": subscription, "status": "active", "invoice_id": invoice_id}}
            self.activations[subscription].append({"invoice_id": invoice_id, "user_id": 100 + subscription,
                                                   "period": f"activation-{subscription}"})
            return "ok", {"status": 200, "value": {"body": first["body"], "replayed": False}}
        if value["params"] != first["params"]:
            return "fail", {"status": 422, "error": "idempotency_mismatch"}
        return "ok", {"status": 200, "value": {"body": first["body"], "replayed": True}}

    def _purchase_ticket(self, value: dict[str, Any], call: dict[str, Any], t: int) -> tuple[str, dict]:
        if len(self.tickets) >= self.tickets_for_sale:
            return "fail", {"status": 409, "error": "sold_out"}
        ticket = {"ticket_id": self._id(), "quantity": 1}
        self.tickets.append(ticket)
        return "ok", {"status": 201, "value": {"ticket_id": ticket["ticket_id"]}}

    def _book_slot(self, value: dict[str, Any], call: dict[str, Any], t: int) -> tuple[str, dict[str, Any]]:
        if len(self.bookings) >= self.places:
            return "fail", {"status": 409, "error": "slot_full"}
        booking = {"booking_id": self._id()}
        self.bookings.append(booking)
        return "ok", {"status": 201, "value": {"booking_id": booking["booking_id"]}}

    def _read(self, value: dict[str, Any], call: dict[str, Any], t: int) -> tuple[str, dict[str, Any]]:
        return "ok", {"status": 200}

    def _capacity(self) -> dict[str, dict[int, dict[str, Any]]]:
        sale = self.tickets_for_sale
        return {"events": {1: {"capacity": sale, "available": sale - len(self.tickets), "tickets": list(self.tickets)}},
                "slots": {1: {"capacity": self.places, "booked": len(self.bookings), "bookings": list(self.bookings)}}}

    def _flower(self) -> dict[str, dict[str, Any]]:
        return {worker: {"stats": {"total": {"billing.generate_invoice": n, "celery.backend_cleanup": 1}}}
                for worker, n in self.tasks.items()}

    def _plant(self) -> None:
        """One anomaly of each kind the checkers exist for, at a known place in the history."""
        oks = [op for op in self.recorder.ops if op.type == "ok" and op.f == "generate_invoice"]
        if len(oks) >= 2:
            dup, gone = oks[len(oks) // 3], oks[2 * len(oks) // 3]
            user, period = dup.value["user_id"], dup.value["period"]
            self.invoices[user].append({"invoice_id": self._id(), "user_id": user, "period": period,
                                        "amount": "19.99"})
            lost_user = gone.value["user_id"]
            self.invoices[lost_user] = [i for i in self.invoices[lost_user]
                                        if i["invoice_id"] != gone.value["invoice_id"]]
        replays = [op for op in self.recorder.ops if op.f == "activate" and op.value.get("replayed")]
        if replays:
            odd = replays[len(replays) // 2]
            odd.value["body"] = {**odd.value["body"], "invoice_id": odd.value["body"]["invoice_id"] + 1}
        self.tickets.append({"ticket_id": self._id(), "quantity": 1})  # a row beyond capacity
        if len(self.lock_events) >= 3:
            holder = self.lock_events[0]
            self.lock_events.append({**holder, "kind": "acquire", "token": "tok-intruder", "instance": "api_9",
                                     "t": holder["t"] + 0.001})
