"""The background workloads a runbook starts, each from set-up to the checkers that judge it.

A workload is what the scenarios do in one test body, cut at the places a
drill needs to stop: ``setup`` makes its users, event or subscriptions
through the admin client; ``start`` drives the operations with
``run_clients`` in a background thread, recording into the drill's history;
``wait`` lets it finish (and, for async work, lets the tasks settle);
``final_reads`` reads back what the service kept, after healing; ``checks``
names the checkers that judge the history against those reads.

A workload is bounded by its clients and its seconds. The seconds are drill
time: the engine adds the time an operator spends reading at a prompt
(``extend``), so an interactive drill sees the load it describes however
slowly the operator reads. Users are new for every drill run (a prefix with
the run id), so a drill on a stack someone else started needs no data reset.
"""
from __future__ import annotations

import itertools
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import requests

from chaos.checkers import async_invoices, capacity, distribution, fails_closed, idempotency, invoices, locks
from chaos.checkers import errors as error_checker
from chaos.checkers import pool as pool_checker
from chaos.checkers.result import Result
from chaos.cluster.controller import Cluster
from chaos.errors import ChaosError
from chaos.history import Op, Recorder
from chaos.target import DEFAULT_PROFILE, load_profile
from chaos.target.client import TargetClient
from chaos.workload import operations as ops
from chaos.workload.client import BillingClient
from chaos.workload.operations import Operation
from chaos.workload.runner import Client, run_clients

Number = int | float
Check = Callable[[], Result]
MAX_EXTENSION_S = 600.0     # the longest an operator may keep a workload going by reading slowly
JOIN_GRACE_S = 60.0         # in-flight calls finish within their client timeout (30 s) plus a hold
FINISHED = frozenset({"SUCCESS", "FAILURE"})
ADMIN_EMAIL = os.environ.get("ADMIN_EMAIL", "admin@billing.test")        # the compose file's defaults
ADMIN_PASSWORD = os.environ.get("ADMIN_PASSWORD", "admin-password")


class WorkloadError(ChaosError, ValueError):
    """A workload could not be set up, started or read back; one line saying why."""


@dataclass(frozen=True)
class Param:
    name: str
    type: type[int] | type[float]
    default: Number
    help: str

    def parse(self, kind: str, text: str) -> Number:
        try:
            value = self.type(text)
        except ValueError:
            whole = "a whole number" if self.type is int else "a number"
            raise WorkloadError(f"workload {kind}: {self.name}= must be {whole}, not {text!r}") from None
        if value < 0 or (self.name in ("clients", "seconds", "count", "users", "subscriptions") and value == 0):
            raise WorkloadError(f"workload {kind}: {self.name}= must be more than 0, not {text!r}")
        return value


@dataclass
class Context:
    """What every workload of one drill run shares."""

    cluster: Cluster
    recorder: Recorder
    admin: Callable[[], BillingClient]   # logged in on first use: a drill without load needs no service
    seed: int
    prefix: str                          # unique per drill run: users of earlier runs never collide


def period(n: int) -> str:
    """The n-th billing period from 2001-01: keys a workload can count through."""
    return f"{2001 + n // 12}-{n % 12 + 1:02d}"


def read_json(call: Callable[[], requests.Response], what: str, attempts: int = 5) -> Any:
    """A final read, retried: right after a heal or a scale-down the lb may drop one request."""
    problem = ""
    for attempt in range(attempts):
        try:
            response = call()
            if response.status_code in (200, 201):
                return response.json()
            problem = f"{response.status_code} {response.text[:120]}"
        except requests.RequestException as exc:
            problem = type(exc).__name__
        if attempt < attempts - 1:
            time.sleep(1.0)
    raise WorkloadError(f"could not read {what}: {problem}")


def target_client(url: str, token: str | None = None, timeout_s: float | None = None) -> TargetClient:
    """A workload client of billing's profile: drills act on the stack of `chaos up`, which is billing.
    (The admin stays a ``BillingClient``: its set-up calls and final reads read billing's own bodies.)"""
    profile = load_profile(DEFAULT_PROFILE)
    return TargetClient(profile, url, token) if timeout_s is None else TargetClient(profile, url, token, timeout_s)


def admin_client(base_url: str) -> BillingClient:
    """The admin, logged in through ``base_url`` (the lb): set-up calls and final reads."""
    client = BillingClient(base_url)
    read_json(partial(client.login, ADMIN_EMAIL, ADMIN_PASSWORD), "the admin login (is the stack healthy?)")
    return client


def final_invoices(admin: BillingClient, user_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The final read: every invoice of every user, after the faults healed."""
    return {user: read_json(partial(admin.invoices, user), f"the invoices of user {user}")
            for user in sorted(set(user_ids))}


def bulk_users(admin: BillingClient, count: int, prefix: str) -> tuple[list[int], str]:
    """``count`` new users in one call (test endpoint): their ids (in email order) and password."""
    body = read_json(partial(admin.bulk_users, count, prefix), f"{count} new users")
    return list(body["user_ids"]), str(body["password"])


class Workload:
    """One kind of background load. Subclasses set ``kind``, ``summary``, ``params`` and the hooks."""

    kind: ClassVar[str]
    summary: ClassVar[str]
    params: ClassVar[tuple[Param, ...]]

    def __init__(self, context: Context, values: Mapping[str, Number] | None = None) -> None:
        self.context = context
        self.values: dict[str, Number] = {p.name: (values or {}).get(p.name, p.default) for p in self.params}
        self.rng = random.Random(f"{context.seed}:{self.kind}")
        self.processes: set[str] = set()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._deadline = 0.0
        self._thread: threading.Thread | None = None
        self._waited: str | None = None

    # the runbook's parameters

    @classmethod
    def parse_params(cls, words: Iterable[str]) -> dict[str, Number]:
        known = {p.name: p for p in cls.params}
        values: dict[str, Number] = {}
        for word in words:
            name, equals, text = word.partition("=")
            if not equals or name not in known:
                raise WorkloadError(f"workload {cls.kind} takes {cls.allowed()}; not {word!r}")
            if name in values:
                raise WorkloadError(f"workload {cls.kind}: {name}= is given twice")
            values[name] = known[name].parse(cls.kind, text)
        return values

    @classmethod
    def allowed(cls) -> str:
        return ", ".join(f"{p.name}= (default {p.default})" for p in cls.params)

    # life cycle

    def setup(self) -> str:
        """Create what the operations need; return what was made, for the narration."""
        return ""

    def clients(self) -> list[Client]:
        raise NotImplementedError

    def start(self) -> None:
        """Drive the operations in a background thread, bounded by ``seconds`` of drill time."""
        clients = self.clients()
        self.processes.update(c.process for c in clients)
        self._deadline = time.monotonic() + float(self.values.get("seconds", 60))
        self._thread = threading.Thread(target=self._drive, args=(clients,), name=f"workload-{self.kind}",
                                        daemon=True)
        self._thread.start()

    def _drive(self, clients: list[Client]) -> None:
        try:
            self.run(clients)
        except BaseException as exc:  # reported by wait(); the drill still heals and checks
            self.error = exc

    def run(self, clients: list[Client]) -> None:
        run_clients(self.context.recorder, clients,
                    time_limit_s=float(self.values.get("seconds", 60)) + MAX_EXTENSION_S)

    @property
    def running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def extend(self, seconds: float) -> None:
        """Time the operator spent at a prompt does not count against the workload."""
        self._deadline += seconds

    def stop(self) -> None:
        """End early (the operator quit, or an error): each client finishes its call in flight."""
        self._stop.set()

    def paced(self, make: Callable[[], Operation], think_s: float) -> Iterator[Operation]:
        """Operations made one at a time while the workload runs, ``think_s`` apart."""
        first = True
        while self.running:
            if not first and think_s > 0 and self._stop.wait(think_s):
                return
            if not self.running:
                return
            first = False
            yield make()

    def waiting_note(self) -> str:
        left = max(0.0, self._deadline - time.monotonic())
        if self._thread is None or not self._thread.is_alive() or left < 1:
            return f"{self.kind}: finishing the calls in flight"
        return f"{self.kind}: {left:.0f} s of load left"

    def wait(self) -> str:
        """Until the load is over (idempotent); returns what it did, for the narration."""
        if self._waited is not None:
            return self._waited
        if self._thread is not None:
            self._thread.join(max(0.0, self._deadline - time.monotonic()) + JOIN_GRACE_S)
            if self._thread.is_alive():
                self.stop()
                self._thread.join(JOIN_GRACE_S)
        if self.error is not None:
            raise WorkloadError(f"workload {self.kind} failed: {type(self.error).__name__}: {self.error}")
        self._waited = f"{self.kind}: {self.outcomes()}{self.after_wait()}"
        return self._waited

    def after_wait(self) -> str:
        """More to do once the clients stopped (async tasks settle); returns more narration."""
        return ""

    def outcomes(self) -> str:
        done = [op for op in self.context.recorder.completions() if op.process in self.processes]
        counts = Counter(op.type for op in done)
        errors = Counter(op.error or str(op.status) for op in done if op.type != "ok")
        common = ", ".join(f"{error} x{n}" for error, n in errors.most_common(3))
        return (f"{len(done)} operations ({counts['ok']} ok, {counts['fail']} fail, {counts['info']} info)"
                + (f"; most frequent errors: {common}" if common else ""))

    def final_reads(self) -> Any:
        return None

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        raise NotImplementedError

    # helpers for subclasses

    @property
    def admin(self) -> BillingClient:
        return self.context.admin()

    def instance_urls(self, minimum: int = 1) -> list[tuple[str, str]]:
        """(name, url) of each api instance's own client link, api_1 first."""
        urls = list(self.context.cluster.api_urls().items())
        if len(urls) < minimum:
            raise WorkloadError(f"workload {self.kind} needs at least {minimum} api instances, the cluster has "
                                f"{len(urls)}; start the drill with --api {minimum}")
        return urls

    def spread(self, count: int, operations: Callable[[int], Iterable[Operation]],
               token: Callable[[int], str | None] | None = None) -> list[Client]:
        """``count`` clients round-robin over the api instances' own links, each its own session."""
        urls = [url for _, url in self.instance_urls()]
        tokens = [token(i) if token else self.admin.token for i in range(count)]
        return [Client(f"{self.kind}-{i}", target_client(urls[i % len(urls)], tokens[i]), operations(i))
                for i in range(count)]


class Invoices(Workload):
    """Sync generate-invoice calls; every key asked ``dup`` times at once over different instances."""

    kind = "invoices"
    summary = "sync invoices over every api instance's own link, each key asked by several clients at once"
    params = (Param("clients", int, 6, "concurrent clients, round-robin over the api instances"),
              Param("seconds", float, 30, "how long the load runs"),
              Param("users", int, 20, "new users whose invoices are generated"),
              Param("dup", int, 3, "how many calls ask for each (user, period) key"),
              Param("think_ms", int, 200, "pause between one client's calls"))

    def setup(self) -> str:
        self.users, _ = bulk_users(self.admin, int(self.values["users"]), f"{self.context.prefix}-invoices")
        self.rng.shuffle(self.users)   # the seed decides which users are asked for first
        self._keys = itertools.count()
        return f"{len(self.users)} new users; keys (user, period) taken in turn, each by {self.values['dup']} calls"

    def _next(self) -> Operation:
        n = next(self._keys) // int(self.values["dup"])
        return ops.generate_invoice(self.users[n % len(self.users)], period(n // len(self.users)))

    def clients(self) -> list[Client]:
        think = float(self.values["think_ms"]) / 1000
        return self.spread(int(self.values["clients"]), lambda _: self.paced(self._next, think))

    def final_reads(self) -> Any:
        return final_invoices(self.admin, self.users)

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        claims = ("none_from_nowhere", "at_most_once") if int(self.values["dup"]) > 1 else ("none_from_nowhere",)
        return {"invoices": partial(invoices.check, history, final, claims=claims),
                "fails_closed": partial(fails_closed.check, history)}


class AsyncInvoices(Workload):
    """One async invoice per new user; then the tasks settle (a killed worker's come back after the
    visibility timeout)."""

    kind = "async-invoices"
    summary = "async invoices (202 + a Celery task), one per new user; waits until the tasks settle"
    params = (Param("clients", int, 3, "concurrent submitters"),
              Param("count", int, 6, "async invoice requests, one per new user"),
              Param("hold_s", float, 3.0, "each task's work before its write (test parameter)"),
              Param("linger_s", float, 3.0, "each task's wait after its write, before the ack (test parameter)"),
              Param("settle_s", float, 90.0, "how long to wait for the tasks to finish"),
              Param("seconds", float, 30, "the longest the submissions may take"))

    def setup(self) -> str:
        self.users, _ = bulk_users(self.admin, int(self.values["count"]), f"{self.context.prefix}-async")
        return f"{len(self.users)} new users, one async invoice each (period {period(0)})"

    def clients(self) -> list[Client]:
        count = min(int(self.values["clients"]), len(self.users))
        test = {"hold_s": float(self.values["hold_s"]), "linger_s": float(self.values["linger_s"])}
        return self.spread(count, lambda i: (ops.generate_invoice_async(user, period(0), **test)
                                             for user in self.users[i::count] if self.running))

    def waiting_note(self) -> str:
        return (f"{self.kind}: waiting up to {self.values['settle_s']:.0f} s for the tasks to finish (a killed "
                "worker's tasks come back after the 30 s visibility timeout; Ctrl-C stops waiting)")

    def task_ids(self) -> list[str]:
        return [op.value["task_id"] for op in self.context.recorder.completions()
                if op.process in self.processes and op.type == "ok" and op.value.get("task_id")]

    def after_wait(self) -> str:
        started = time.monotonic()
        states = settle(self.admin, self.task_ids(), float(self.values["settle_s"]))
        self._mark_workers()
        return (f"; {len(states)} tasks accepted, {dict(Counter(states.values()))} after "
                f"{time.monotonic() - started:.0f} s")

    def _mark_workers(self) -> None:
        """The worker that ran each task, for the report's work-per-worker (best effort)."""
        for op in self.context.recorder.completions():
            if op.process in self.processes and op.type == "ok" and op.value.get("task_id"):
                try:
                    result = self.admin.task(op.value["task_id"]).json().get("result")
                except (requests.RequestException, ValueError):
                    continue
                if isinstance(result, dict) and result.get("worker"):
                    op.value["worker"] = result["worker"]

    def final_reads(self) -> Any:
        return final_invoices(self.admin, self.users)

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        return {"async_invoices": partial(async_invoices.check, history, final, claims=("none_lost",))}


def settle(admin: BillingClient, task_ids: list[str], timeout_s: float) -> dict[str, str]:
    """Poll task states until every task finished or the time is up (the checker judges either way)."""
    deadline = time.monotonic() + timeout_s
    states: dict[str, str] = {}
    while True:
        for task_id in task_ids:
            if states.get(task_id) not in FINISHED:
                try:
                    states[task_id] = admin.task(task_id).json().get("state", "?")
                except (requests.RequestException, ValueError):
                    states[task_id] = "?"
        if all(state in FINISHED for state in states.values()) or time.monotonic() > deadline:
            return states
        time.sleep(1.0)


class Tickets(Workload):
    """Buyers of one event's tickets on every instance, until sold out and beyond."""

    kind = "tickets"
    summary = "ticket purchases for one new event over every api instance; sold out before the end"
    params = (Param("clients", int, 3, "concurrent buyers, round-robin over the api instances"),
              Param("seconds", float, 30, "how long the load runs"),
              Param("capacity", int, 100, "the event's tickets"),
              Param("think_ms", int, 500, "pause between one buyer's purchases"))

    def setup(self) -> str:
        created = read_json(partial(self.admin.create_event, int(self.values["capacity"]),
                                    f"{self.context.prefix}-event"), "a new event")
        self.event_id = int(created["event_id"])
        return f"event {self.event_id} with {self.values['capacity']} tickets"

    def clients(self) -> list[Client]:
        think = float(self.values["think_ms"]) / 1000
        return self.spread(int(self.values["clients"]),
                           lambda _: self.paced(lambda: ops.purchase_ticket(self.event_id), think))

    def final_reads(self) -> Any:
        return {"events": {self.event_id: read_json(partial(self.admin.event, self.event_id),
                                                    f"event {self.event_id}")}}

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        return {"capacity": partial(capacity.check, history, final, claims=("counters_match",))}


class LockContention(Workload):
    """A slow holder keeps one invoice lock on api_1 while contenders on the other instances ask for
    the same invoice: the drill pauses the holder past the lock's expiry."""

    kind = "lock-contention"
    summary = ("a slow invoice holding its lock on api_1 (hold_s), and contenders for the same invoice on "
               "the other instances")
    params = (Param("hold_s", float, 3.0, "how long the holder keeps the lock before its write"),
              Param("clients", int, 2, "contenders, round-robin over api_2, api_3, ..."),
              Param("seconds", float, 24, "how long the contenders keep asking"),
              Param("think_ms", int, 1000, "pause between one contender's calls"))
    HOLDER_HEAD_START_S = 0.5   # the holder takes the lock before any contender asks

    def setup(self) -> str:
        (self.user,), _ = bulk_users(self.admin, 1, f"{self.context.prefix}-lock")
        self.period = period(0)
        (self.holder_name, self.holder_url), *self.others = self.instance_urls(minimum=2)
        return (f"user {self.user}, period {self.period}: the holder on {self.holder_name}, contenders on "
                f"{', '.join(name for name, _ in self.others)}")

    def clients(self) -> list[Client]:
        think = float(self.values["think_ms"]) / 1000
        holder = Client("lock-holder", target_client(self.holder_url, self.admin.token, timeout_s=120),
                        iter([ops.slow_invoice(self.user, self.period, float(self.values["hold_s"]))]))
        contenders = [Client(f"lock-contender-{i}", target_client(self.others[i % len(self.others)][1],
                                                                  self.admin.token),
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
        key = f"invoice:{self.user}:{self.period}"
        journal = read_json(self.admin.lock_events, "the lock journal")
        return {"invoices": final_invoices(self.admin, [self.user]),
                "lock_events": [event for event in journal if event.get("key") == key]}

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        return {"locks": partial(locks.check, final["lock_events"]),
                "invoices": partial(invoices.check, history, final["invoices"], claims=("none_from_nowhere",))}


class Reads(Workload):
    """Reads of the tariff plans through the lb: what a scale change must not disturb."""

    kind = "reads"
    summary = "reads through the lb (GET /api/tariff_plans); every api instance must get its share"
    params = (Param("clients", int, 8, "concurrent readers, each its own session"),
              Param("seconds", float, 30, "how long the load runs"),
              Param("think_ms", int, 50, "pause between one reader's calls"))

    def clients(self) -> list[Client]:
        think = float(self.values["think_ms"]) / 1000
        return [Client(f"reads-{i}", target_client(self.context.cluster.lb_url), self.paced(ops.read_plans, think))
                for i in range(int(self.values["clients"]))]

    def after_wait(self) -> str:
        self.api_at_end = len(self.context.cluster.of("api"))
        return ""

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        expected = getattr(self, "api_at_end", None) or len(self.context.cluster.of("api"))
        return {"distribution": partial(distribution.check, history, min_instances=expected),
                "errors": partial(error_checker.check, history, ("read",))}


class Pool(Workload):
    """Each api instance's database pool, sampled through its own link: what a slow database fills."""

    kind = "pool"
    summary = "samples GET /api/metrics/db-pool on every api instance (checked out, overflow)"
    params = (Param("seconds", float, 30, "how long to sample"),
              Param("every_ms", int, 1000, "pause between one instance's samples"))

    def clients(self) -> list[Client]:
        every = float(self.values["every_ms"]) / 1000
        return [Client(f"pool-{name}", target_client(url), self.paced(ops.pool_metrics, every))
                for name, url in self.instance_urls()]

    def final_reads(self) -> Any:
        """The samples are the history's own pool_metrics completions (each carries the pool's numbers)."""
        return [{"t": op.time, **op.value} for op in self.context.recorder.completions()
                if op.process in self.processes and op.f == "pool_metrics" and op.type == "ok"]

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        return {"pool": partial(pool_checker.check, final)}


class Activations(Workload):
    """Subscriptions activated with an Idempotency-Key, the same key from several clients and instances,
    the first call held in flight so the others meet it."""

    kind = "activations"
    summary = "idempotent activations: each subscription's key sent again and again from every instance"
    params = (Param("subscriptions", int, 2, "new users, each with one pending subscription"),
              Param("clients", int, 4, "concurrent clients, round-robin over subscriptions and instances"),
              Param("seconds", float, 20, "how long the load runs"),
              Param("think_ms", int, 500, "pause between one client's calls"),
              Param("hold_s", float, 1.0, "each client's first call keeps the key in flight that long"))

    def setup(self) -> str:
        count = int(self.values["subscriptions"])
        prefix = f"{self.context.prefix}-activations"
        self.users, password = bulk_users(self.admin, count, prefix)
        plans = read_json(self.admin.tariff_plans, "the tariff plans")
        plan = int(plans[0]["id"])
        self.subscriptions: list[tuple[int, str, int]] = []  # (subscription, token, user)
        for i in range(count):
            with BillingClient(self.context.cluster.lb_url) as client:
                login = read_json(partial(client.login, f"{prefix}-{i}@bulk.test", password), "a login")
                client.token = login["access_token"]
                made = read_json(partial(client.subscribe, plan), "a new subscription")
                self.subscriptions.append((int(made["subscription_id"]), client.token, int(login["user_id"])))
        return f"{count} users with one pending subscription each (plan {plan})"

    def clients(self) -> list[Client]:
        think = float(self.values["think_ms"]) / 1000
        hold = float(self.values["hold_s"])

        def calls(i: int) -> Iterator[Operation]:
            subscription = self.subscriptions[i % len(self.subscriptions)][0]
            key = f"{self.context.prefix}-key-{subscription}"
            first = [True]

            def make() -> Operation:
                held, first[0] = hold if first[0] else 0.0, False
                return ops.activate(subscription, key, hold_s=held)
            return self.paced(make, think)

        return self.spread(int(self.values["clients"]), calls,
                           token=lambda i: self.subscriptions[i % len(self.subscriptions)][1])

    def final_reads(self) -> Any:
        reads: dict[Any, list[dict[str, Any]]] = {subscription: [] for subscription, _, _ in self.subscriptions}
        for user, made in final_invoices(self.admin, [user for _, _, user in self.subscriptions]).items():
            for invoice in made:
                if invoice.get("subscription_id") is not None:  # an activation's invoice names its subscription
                    reads.setdefault(invoice["subscription_id"], []).append(invoice)
        return reads

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        return {"idempotency": partial(idempotency.check, history, final, claims=("one_execution_per_key",),
                                       reads_by="subscription")}


class Mixed(Workload):
    """The hunt's generated mix (chaos.workload.generator) as a drill's background load: every kind of
    round the target offers, paced over ``seconds``, its replays once the load is over, judged by every
    checker the hunt uses. One generator drives the hunts, the catalogue's hunt and this drill load."""

    kind = "mixed"
    summary = "the hunt's generated mix: invoices, activations, purchases, bookings, sign-ups, paced and replayed"
    params = (Param("clients", int, 4, "calls released together per round, over the api instances"),
              Param("seconds", float, 30, "how long the rounds are paced over"),
              Param("rounds", int, 40, "rounds of calls"),
              Param("users", int, 6, "new users the rounds act as"))

    def setup(self) -> str:
        from chaos.target.setup import resolve
        from chaos.workload.generator import WorkloadParams, generate
        from chaos.workload.rounds import Bound

        self.profile = load_profile(DEFAULT_PROFILE)
        self.target_admin = target_client(self.context.cluster.lb_url, self.admin.token)
        params = WorkloadParams(seed=self.context.seed, rounds=int(self.values["rounds"]),
                                clients=int(self.values["clients"]), users=int(self.values["users"]),
                                seconds=float(self.values["seconds"]))
        self.plan = generate(params, self.profile)
        self.bound = Bound.make(self.plan, self.target_admin, target_client, resolve(self.target_admin))
        return (f"{self.plan.operations} calls in {len(self.plan.rounds)} rounds ({', '.join(self.plan.kinds)}) "
                f"for {len(self.bound.users)} new users")

    def clients(self) -> list[Client]:
        return []   # the rounds' player makes one client per lane and actor

    def run(self, clients: list[Client]) -> None:
        from chaos.workload.rounds import Player

        self.player = Player(self.plan, self.bound, self.context.recorder,
                             [url for _, url in self.instance_urls()], target_client, self.admin.token)
        self.player.main(float(self.values["seconds"]) + MAX_EXTENSION_S)
        self.processes.update(op.process for op in self.context.recorder.snapshot() if op.process.startswith("lane_"))

    def after_wait(self) -> str:
        if not hasattr(self, "player"):
            return ""
        time.sleep(self.plan.params.replay_after_s)
        try:
            self.player.final()
        finally:
            self.player.close()
        self.processes.update(op.process for op in self.context.recorder.snapshot() if op.process.startswith("lane_"))
        return f"; {sum(len(r.calls) for r in self.plan.rounds if r.final)} replays of the keys used"

    def final_reads(self) -> Any:
        from chaos.hunt.judge import Final
        from chaos.workload.accounts import final_invoices as read_invoices
        from chaos.workload.accounts import final_read

        return Final(read_invoices(self.target_admin, self.bound.users),
                     {"events": {e: final_read(self.target_admin, "event", event_id=e) for e in self.bound.events},
                      "slots": {s: final_read(self.target_admin, "slot", slot_id=s) for s in self.bound.slots}})

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        from chaos.hunt.judge import judge

        results = judge(self.profile, history, final)
        return {r.checker: (lambda r=r: r) for r in results}


WORKLOADS: Mapping[str, type[Workload]] = {w.kind: w for w in (
    Invoices, AsyncInvoices, Tickets, LockContention, Reads, Pool, Activations, Mixed)}
