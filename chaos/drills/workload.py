"""A background workload of a drill: one kind of load, cut at the places a drill needs to stop.

A workload is what a scenario does in one test body: ``setup`` makes its
users, event or subscriptions through the admin; ``start`` drives the
operations with ``run_clients`` in a background thread, recording into the
drill's history; ``wait`` lets it finish (and, for async work, lets the
tasks settle); ``final_reads`` reads back what the service kept, after
healing; ``checks`` names the checkers that judge the history against
those reads.

Before any of it, ``refuse_unmet`` compares what the workload calls
(``operations``, ``sent``) with the target's profile: a target without
them gets a one-line WorkloadError naming what it lacks, never a load that
pretends (404s recorded as refusals, checks judged on nothing).

A workload is bounded by its clients and its seconds. The seconds are drill
time: the engine adds the time an operator spends reading at a prompt
(``extend``), so an interactive drill sees the load it describes however
slowly the operator reads. Users are new for every drill run (a prefix with
the run id), so a drill on a target someone else started needs no data reset.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from chaos.drills.context import Context
from chaos.drills.params import Check, Number, Param, WorkloadError, retried
from chaos.history import Op
from chaos.target.client import TargetClient
from chaos.target.model import TargetProfile
from chaos.target.needs import Needs, unmet
from chaos.target.setup import resolve
from chaos.workload.accounts import new_users, user_operations
from chaos.workload.operations import Operation
from chaos.workload.runner import Client, run_clients

MAX_EXTENSION_S = 600.0     # the longest an operator may keep a workload going by reading slowly
JOIN_GRACE_S = 60.0         # in-flight calls finish within their client timeout (30 s) plus a hold


class Workload:
    """One kind of background load. Subclasses set ``kind``, ``summary``, ``params``, what they call of the
    target (``operations``; ``makes_users`` adds what making users takes there; ``sent``: parameters the
    target must carry, ``operation.param``) and the hooks."""

    kind: ClassVar[str]
    summary: ClassVar[str]
    params: ClassVar[tuple[Param, ...]]
    operations: ClassVar[frozenset[str]] = frozenset()
    makes_users: ClassVar[bool] = False
    sent: ClassVar[frozenset[str]] = frozenset()

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
        self._setup_values: dict[str, Any] | None = None

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

    # what it needs of the target

    @classmethod
    def needs(cls, profile: TargetProfile) -> Needs:
        users = user_operations(profile) if cls.makes_users else frozenset()
        return Needs(operations=cls.operations | users, params=cls.sent)

    @classmethod
    def unmet(cls, profile: TargetProfile) -> list[str]:
        """One sentence per operation or parameter the target cannot give this workload."""
        return unmet(profile, cls.needs(profile))

    def refuse_unmet(self) -> None:
        reasons = self.unmet(self.context.profile)
        if reasons:
            raise WorkloadError(f"workload {self.kind} cannot run: {'; '.join(reasons)}")

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
    def admin(self) -> TargetClient:
        return self.context.admin()

    @property
    def setup_values(self) -> dict[str, Any]:
        """The profile's per-run values (``setup``: a plan id...), found once as the admin."""
        if self._setup_values is None:
            self._setup_values = resolve(self.admin)
        return self._setup_values

    def new_users(self, count: int, name: str) -> list[Any]:
        """``count`` new users that can be invoiced (``chaos.workload.accounts.new_users``)."""
        prefix = f"{self.context.prefix}-{name}"
        return retried(lambda: new_users(self.admin, self.context.client, count, prefix, self.setup_values),
                       f"{count} new users", attempts=1)

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
        return [Client(f"{self.kind}-{i}", self.context.client(urls[i % len(urls)], tokens[i]), operations(i))
                for i in range(count)]
