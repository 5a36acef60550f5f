"""Play a generated plan on a target: make what it refers to, then release each round's calls together.

The set-up (``Bound.make``) creates only what the plan refers to: its users
(registered and logged in, each its own token), their subscriptions, and
events and slots of the plan's capacities. The rounds then run one after
another; the calls of a round wait at a barrier so they are really in flight
at once, each lane on its own instance URL. The rounds keep to their
``at_s``: a round waits for its calls only until the next round is due
(``CATCH_UP_S`` at least, ``round_timeout_s`` at most), so calls stuck behind
a paused instance do not push the later rounds past the fault they were
aimed at (a revisit must take the lock that expired under the stalled
holder while it is stalled); a stuck call ends when its client times out. Everything is
bounded: the rounds by ``params.seconds``, each call by its client timeout.
"""
from __future__ import annotations

import concurrent.futures
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chaos.history import Recorder
from chaos.target import record
from chaos.target.client import TargetClient
from chaos.workload.accounts import created, register, subscribe
from chaos.workload.generator import ADMIN, Call, Plan, Ref, Round

MakeClient = Callable[[str], TargetClient]
REGISTRATION_THREADS = 8
ROUND_TIMEOUT_S = 3.0
CATCH_UP_S = 0.2   # a round behind its time waits this long for its calls, so late rounds catch up
POOL_THREADS = 192   # calls stuck behind a stalled instance hold theirs until their client times out
DEFINITE = frozenset({"ok", "fail"})


@dataclass
class Bound:
    """What the set-up made for one plan: the real ids and tokens behind its ``Ref``s."""

    users: list[Any] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    subscriptions: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    slots: list[Any] = field(default_factory=list)
    capacities: dict[str, dict[Any, int]] = field(default_factory=lambda: {"events": {}, "slots": {}})

    @classmethod
    def make(cls, plan: Plan, admin: TargetClient, make_client: MakeClient, setup_values: Mapping[str, Any]) -> "Bound":
        refs = plan.refs()
        owners = _owners(plan)
        bound = cls()
        prefix = f"hunt-{uuid.uuid4().hex[:8]}"   # the target's data may not have been cleared

        def user(i: int) -> tuple[Any, str]:
            with make_client(admin.base_url) as client:
                return register(client, f"{prefix}-{i}@hunt.test")

        with concurrent.futures.ThreadPoolExecutor(REGISTRATION_THREADS) as pool:
            for user_id, token in pool.map(user, range(refs.get("user", 0))):
                bound.users.append(user_id)
                bound.tokens.append(token)

            def subscription(j: int) -> Any:
                if j not in owners:
                    return None   # no call of a shrunk plan names it any more
                with make_client(admin.base_url) as client:
                    client.token = bound.tokens[owners[j]]
                    return subscribe(client, dict(setup_values))

            bound.subscriptions = list(pool.map(subscription, range(refs.get("subscription", 0))))
        for _ in range(refs.get("event", 0)):
            event = created(admin, "create_event", "event_id", capacity=plan.params.event_capacity)
            bound.events.append(event)
            bound.capacities["events"][event] = plan.params.event_capacity
        for _ in range(refs.get("slot", 0)):
            slot = created(admin, "create_slot", "slot_id", capacity=plan.params.slot_capacity)
            bound.slots.append(slot)
            bound.capacities["slots"][slot] = plan.params.slot_capacity
        return bound

    def value(self, ref: Ref) -> Any:
        return {"user": self.users, "subscription": self.subscriptions, "event": self.events,
                "slot": self.slots}[ref.kind][ref.index]

    def params(self, call: Call) -> dict[str, Any]:
        return {k: self.value(v) if isinstance(v, Ref) else v for k, v in call.params.items()}

    def token(self, call: Call, admin_token: str | None) -> str | None:
        return admin_token if call.actor == ADMIN else self.tokens[int(call.actor)]

    def user_of(self, call: Call) -> Any:
        return None if call.actor == ADMIN else self.users[int(call.actor)]


def _owners(plan: Plan) -> dict[int, int]:
    """Each subscription's user: the actor of the first call that names it."""
    owners: dict[int, int] = {}
    for rnd in plan.rounds:
        for call in rnd.calls:
            sub = call.params.get("subscription_id")
            if isinstance(sub, Ref) and isinstance(call.actor, int):
                owners.setdefault(sub.index, call.actor)
    return owners


@dataclass
class Progress:
    """What the rounds have done so far, for a live display."""

    rounds: int = 0
    operations: int = 0


class Player:
    """Plays a plan's rounds; one client per lane and actor, each its own session."""

    def __init__(self, plan: Plan, bound: Bound, recorder: Recorder, urls: Sequence[str] | Mapping[str, str],
                 make_client: MakeClient, admin_token: str | None, *,
                 round_timeout_s: float = ROUND_TIMEOUT_S) -> None:
        self.plan, self.bound, self.recorder = plan, bound, recorder
        self.urls = list(urls.values()) if isinstance(urls, Mapping) else list(urls)
        # the instance each URL reaches, where known: recorded with each call (an answer lost on the way
        # names no instance, and a report should still say where the call went)
        self.names = dict(zip(urls.values(), urls)) if isinstance(urls, Mapping) else {}
        self.make_client = make_client
        self.admin_token = admin_token
        self.round_timeout_s = round_timeout_s
        self.progress = Progress()
        self._idle: dict[tuple[str, Any], list[TargetClient]] = {}
        self._made: list[TargetClient] = []
        self._busy: set[str] = set()
        self._heals = 0                      # faults healed so far
        self._heals_seen: dict[int, int] = {}   # a client's id -> the heals when it last called
        self._guard = threading.Lock()
        # calls stuck behind a paused instance keep their thread while later rounds go on
        self._pool = concurrent.futures.ThreadPoolExecutor(POOL_THREADS, "hunt-client")

    def main(self, seconds: float) -> None:
        """The main rounds, each at its ``at_s``; none starts after ``seconds`` (plus a round's timeout)."""
        started = time.monotonic()
        main = [r for r in self.plan.rounds if not r.final]
        for rnd, after in zip(main, [*main[1:], None]):
            wait = started + rnd.at_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if time.monotonic() > started + seconds + self.round_timeout_s:
                break
            due = started + after.at_s - time.monotonic() if after is not None else self.round_timeout_s
            self._play(rnd, wait_s=min(self.round_timeout_s, max(due, CATCH_UP_S)))

    def final(self) -> None:
        """The final rounds (replays), each waited for to the end."""
        for rnd in (r for r in self.plan.rounds if r.final):
            self._play(rnd)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for client in self._made:
            client.close()

    def _play(self, rnd: Round, wait_s: float | None = None) -> None:
        """``wait_s``: how long to wait for the round's calls (None: until every one has ended)."""
        barrier = threading.Barrier(len(rnd.calls)) if len(rnd.calls) > 1 else None
        futures = [self._pool.submit(self._call, call, self.urls[(call.lane + rnd.index) % len(self.urls)], barrier)
                   for call in rnd.calls]
        done, _ = concurrent.futures.wait(futures, timeout=wait_s)
        self.progress.rounds += 1
        for future in done:   # a workload that cannot call is a broken run, never a quiet one
            if future.exception() is not None:
                raise future.exception()  # type: ignore[misc]

    def _call(self, call: Call, url: str, barrier: threading.Barrier | None) -> None:
        client = self._client(call, url)
        try:
            if barrier is not None:
                try:
                    barrier.wait(timeout=self.round_timeout_s)
                except threading.BrokenBarrierError:
                    pass
            params = self.bound.params(call)
            user = self.bound.user_of(call)
            process = self._process(call.lane)
            try:
                for _ in range(1 + call.retry):
                    reply = record.perform(self.recorder, process, client, call.operation, **params,
                                           known={"user_id": user} if _needs_user(call, params, user) else None,
                                           sent_to=self.names.get(url))
                    self.progress.operations += 1
                    if reply.outcome in DEFINITE:
                        break
            finally:
                with self._guard:
                    self._busy.discard(process)
        finally:
            self._release(call, url, client)

    def _process(self, lane: int) -> str:
        """The lane's name, or a new one while an earlier call of the lane is still in flight (stuck behind a
        pause): a process has one call in flight at a time, or a history cannot pair its completions."""
        with self._guard:
            name, n = f"lane_{lane}", 1
            while name in self._busy:
                n += 1
                name = f"lane_{lane}.{n}"
            self._busy.add(name)
            return name

    def fault_healed(self) -> None:
        """A fault has healed: every client drops its pooled connections before its next call.

        A keep-alive connection that lived through the fault (an instance cut off the network, a link
        reset) may be dead without either end knowing; the next request on it fails at once, before the
        service could answer. That is the fault's doing, not the service's, so a client starts afresh
        after each heal, as Jepsen reopens its clients after a fault."""
        with self._guard:
            self._heals += 1

    def _client(self, call: Call, url: str) -> TargetClient:
        """An idle client of ``url`` with the call's token, else a new one (its own session); one that
        last called before a fault healed first closes its connections."""
        with self._guard:
            idle = self._idle.setdefault((url, call.actor), [])
            client = idle.pop() if idle else None
            heals = self._heals
        if client is None:
            client = self.make_client(url)
            client.token = self.bound.token(call, self.admin_token)
            with self._guard:
                self._made.append(client)
        elif self._heals_seen.get(id(client), heals) < heals:
            client.close()   # the session opens new connections on its next request
        self._heals_seen[id(client)] = heals
        return client

    def _release(self, call: Call, url: str, client: TargetClient) -> None:
        with self._guard:
            self._idle.setdefault((url, call.actor), []).append(client)


def _needs_user(call: Call, params: Mapping[str, Any], user: Any) -> bool:
    """An activation records its caller (the idempotency checker scopes keys per user)."""
    return call.operation == "activate" and user is not None and "user_id" not in params
