"""The one workload generator: seeded mixed operations over everything a target profile offers.

A plan is rounds of calls. The calls of one round are released together
(many clients at a barrier): that is how the dangerous interleavings are
forced on any target, without a test hook. Every kind of round aims at one
situation a checker guards against:

- ``invoice``: several clients generate the invoice of one (user, period),
  sometimes one holding it slowly (where the target offers ``slow_invoice``),
  sometimes a (user, period) of a recent round again (a lock that expired
  under a paused holder is taken by the revisit);
- ``invoice_async``: several async requests for one (user, period);
- ``activate_same_key``: one key from several clients at once, each to
  another instance; ``activate_new_key``: a new key for a subscription an
  earlier round activated (already paid); ``activate_other_params``: an old
  key with another payment method, or on the user's other subscription;
  ``activate_shared_key``: another user's key (keys are scoped per user);
- ``purchase``: 1..N tickets each, near an event's capacity; ``book``: the
  last places of a slot;
- ``register``: one email from several clients at once, in several cases
  (people type ``Ann@`` and ``ann@``: one mailbox); ``read``: reads.

A hunt also aims rounds at its fault schedule (``Aim``): the round just
before a worker is killed or paused sends async invoices (the task is
running when the worker dies), the round just before an api instance is
paused or cut off puts a slow invoice holder on that instance, and rounds
while it is held revisit that (user, period) (a lock that expired under the
stalled holder is taken by the revisit, and the holder then resumes).

After the main rounds (which the fault schedule plays over) come the final
rounds: each activation key retried with its first parameters (a replay must
repeat the first outcome, whether that first call was ok, refused or lost),
after ``replay_after_s``, when the faults have healed.

References to what the set-up makes (users, subscriptions, events, slots)
are symbolic (``Ref``): the plan is pure data, the same for the same seed and
parameters, printed in a reproduction and replayed on any cluster.
"""
from __future__ import annotations

import random
from dataclasses import replace

from chaos.target.model import TargetProfile
from chaos.workload.plan import ADMIN, Aim, Call, Plan, Ref, Round, WorkloadParams

__all__ = ["ADMIN", "KINDS", "Aim", "Call", "Plan", "Ref", "Round", "WorkloadParams", "generate", "offered_kinds"]

PAYMENT_METHODS = ("card", "paypal", "invoice")

# kind -> (the operations it needs of the target, its default weight)
KINDS: dict[str, tuple[tuple[str, ...], float]] = {
    "invoice": (("generate_invoice",), 3.0),
    "invoice_async": (("generate_invoice_async", "task_status"), 1.5),
    "activate_same_key": (("subscribe", "activate"), 2.0),
    "activate_new_key": (("subscribe", "activate"), 1.0),
    "activate_other_params": (("subscribe", "activate"), 1.0),
    "activate_shared_key": (("subscribe", "activate"), 0.5),
    "purchase": (("create_event", "purchase_ticket", "event"), 2.0),
    "book": (("create_slot", "book_slot", "slot"), 1.0),
    "register": (("register",), 1.0),
    "read": (("list_plans",), 0.5),
}


def offered_kinds(profile: TargetProfile) -> list[str]:
    """The kinds whose every operation the target offers: what a hunt can exercise on it."""
    return [kind for kind, (needs, _) in KINDS.items() if all(profile.offers(op) for op in needs)]


def generate(params: WorkloadParams, profile: TargetProfile) -> Plan:
    """The plan for ``params`` on ``profile``: the same seed and parameters give the same plan."""
    offered = offered_kinds(profile)
    kinds = [k for k in (params.kinds or offered) if k in offered]
    if not kinds:
        raise ValueError(f"target {profile.name!r} offers none of the workload kinds {list(params.kinds or KINDS)}")
    weights = [params.weights.get(k, KINDS[k][1]) for k in kinds]
    state = _State(params, profile)
    aimed = {a.index: a for a in params.aims if ("invoice" if a.kind == "invoice_again" else a.kind) in kinds}
    rounds = []
    for i in range(params.rounds):
        rng = random.Random(f"{params.seed}:{i}")
        kind = rng.choices(kinds, weights)[0]
        rnd = state.aimed(rng, aimed[i], i) if i in aimed else state.round(rng, kind)
        rounds.append(replace(rnd, at_s=round(i * params.pace_s, 3), index=i))
    rounds += [replace(r, index=params.rounds + i) for i, r in
               enumerate(state.final_rounds(random.Random(f"{params.seed}:final")))]
    return Plan(params, tuple(r for r in rounds if r.calls))


class _State:
    """What the rounds so far have made, so later rounds can come back to it."""

    def __init__(self, params: WorkloadParams, profile: TargetProfile) -> None:
        self.p = params
        self.slow = profile.offers("slow_invoice")
        self.credentials = profile.credentials
        self.async_test = {name: value for name, value in (("hold_s", params.async_hold_s),
                                                           ("linger_s", params.async_linger_s))
                           if profile.sends("generate_invoice_async", name)}
        self.periods = 0
        self.invoiced: list[tuple[int, str]] = []
        self.held: dict[int, tuple[int, str]] = {}             # aimed invoices by round, with a slow holder
        self.subscriptions = 0
        self.activated: list[tuple[int, int, str, str]] = []   # (user, subscription, key, method)
        self.keys: list[tuple[int, int, str, str]] = []        # every first use of a key
        self.events = 0
        self.slots = 0
        self.emails = 0
        self.sold: dict[int, int] = {}

    def width(self, rng: random.Random, low: int = 2) -> int:
        return rng.randint(min(low, self.p.clients), self.p.clients)

    def round(self, rng: random.Random, kind: str) -> Round:
        return self._round(kind, getattr(self, kind)(rng))

    def aimed(self, rng: random.Random, aim: Aim, index: int) -> Round:
        if aim.kind == "invoice_async":
            return self._round(aim.kind, self.invoice_async(rng, spread=True))
        if aim.kind == "invoice_again":
            return self._round("invoice", self.invoice(rng, again=self.held.get(aim.of)))
        calls = self.invoice(rng, held_on=aim.lane)
        self.held[index] = (calls[0].params["user_id"].index, calls[0].params["period"])
        return self._round("invoice", calls)

    def _round(self, kind: str, calls: list[Call]) -> Round:
        return Round(kind, tuple(replace(c, kind=kind) for c in calls))

    def _period(self) -> str:
        self.periods += 1
        return f"{2001 + self.periods // 12}-{self.periods % 12 + 1:02d}"

    def _user(self, rng: random.Random) -> int:
        return rng.randrange(self.p.users)

    def _subscription(self, user: int) -> tuple[Ref, int]:
        self.subscriptions += 1
        return Ref("subscription", self.subscriptions - 1), user

    def _key(self, rng: random.Random) -> str:
        return f"hunt-{self.p.seed}-{rng.getrandbits(40):010x}"

    # the kinds of round

    def invoice(self, rng: random.Random, held_on: int | None = None,
                again: tuple[int, str] | None = None) -> list[Call]:
        if again is not None:
            user, period = again
        elif held_on is None and self.invoiced and rng.random() < 0.4:
            user, period = rng.choice(self.invoiced[-8:])   # a recent one again
        else:
            user, period = self._user(rng), self._period()
            self.invoiced.append((user, period))
        width = self.width(rng)   # drawn for a held round too: the rounds after it stay as they were
        if held_on is not None:
            # the holder alone: a plain call beside it could take the lock first, invoice, and leave the
            # holder (and the revisits while it is stalled) nothing but invoice_exists
            return [self._invoice_call(user, period, held_on % self.p.clients, slow=self.slow)]
        return [self._invoice_call(user, period, lane,
                                   slow=lane == 0 and self.slow and again is None and rng.random() < 0.5)
                for lane in range(width)]

    def _invoice_call(self, user: int, period: str, lane: int, slow: bool) -> Call:
        params = {"user_id": Ref("user", user), "period": period}
        if slow:
            return Call("slow_invoice", {**params, "hold_s": self.p.slow_hold_s}, ADMIN, lane)
        return Call("generate_invoice", params, ADMIN, lane)

    def invoice_async(self, rng: random.Random, spread: bool = False) -> list[Call]:
        """Several async requests for one (user, period); ``spread``: one for each of as many (user,
        period)s, one per lane (a task lost with its worker is then the only one of its invoice)."""
        width = self.p.clients if spread else self.width(rng, 1)
        identities = [(self._user(rng), self._period()) for _ in range(width if spread else 1)]
        return [Call("generate_invoice_async", {"user_id": Ref("user", user), "period": period, **self.async_test},
                     ADMIN, lane)
                for lane, (user, period) in zip(range(width), identities * (1 if spread else width))]

    def activate_same_key(self, rng: random.Random) -> list[Call]:
        user = self._user(rng)
        subscription, _ = self._subscription(user)
        key, method = self._key(rng), rng.choice(PAYMENT_METHODS)
        self.activated.append((user, subscription.index, key, method))
        self.keys.append((user, subscription.index, key, method))
        return [Call("activate", {"subscription_id": subscription, "key": key, "payment_method": method}, user, lane,
                     retry=1) for lane in range(self.width(rng))]

    def activate_new_key(self, rng: random.Random) -> list[Call]:
        if not self.activated:
            return self.activate_same_key(rng)
        user, subscription, _, _ = rng.choice(self.activated)
        key, method = self._key(rng), rng.choice(PAYMENT_METHODS)
        self.keys.append((user, subscription, key, method))
        return [Call("activate", {"subscription_id": Ref("subscription", subscription), "key": key,
                                  "payment_method": method}, user, 0)]

    def activate_other_params(self, rng: random.Random) -> list[Call]:
        if not self.keys:
            return self.activate_same_key(rng)
        user, subscription, key, method = rng.choice(self.keys)
        if rng.random() < 0.5:   # the key on the user's other, new, subscription
            other, _ = self._subscription(user)
            params = {"subscription_id": other, "key": key, "payment_method": method}
        else:
            params = {"subscription_id": Ref("subscription", subscription), "key": key,
                      "payment_method": next(m for m in PAYMENT_METHODS if m != method)}
        return [Call("activate", params, user, lane) for lane in range(rng.randint(1, 2))]

    def activate_shared_key(self, rng: random.Random) -> list[Call]:
        if not self.keys:
            return self.activate_same_key(rng)
        owner, _, key, method = rng.choice(self.keys)
        user = (owner + 1 + rng.randrange(max(self.p.users - 1, 1))) % self.p.users
        if user == owner or any(u == user and k == key for u, _, k, _ in self.keys):
            return []   # not another user's key for this user: it used the key already
        subscription, _ = self._subscription(user)
        self.keys.append((user, subscription.index, key, method))
        return [Call("activate", {"subscription_id": subscription, "key": key, "payment_method": method}, user, 0)]

    def purchase(self, rng: random.Random) -> list[Call]:
        if not self.events or self.sold.get(self.events - 1, 0) >= self.p.event_capacity + self.p.max_quantity:
            self.events += 1
        event = self.events - 1
        calls = []
        for lane in range(self.width(rng)):
            quantity = rng.randint(1, self.p.max_quantity)
            self.sold[event] = self.sold.get(event, 0) + quantity
            calls.append(Call("purchase_ticket", {"event_id": Ref("event", event), "quantity": quantity},
                              rng.randrange(self.p.users), lane))
        return calls

    def book(self, rng: random.Random) -> list[Call]:
        if not self.slots or rng.random() < 0.3:
            self.slots += 1
        slot = self.slots - 1
        return [Call("book_slot", {"slot_id": Ref("slot", slot)}, rng.randrange(self.p.users), lane)
                for lane in range(self.width(rng))]

    def register(self, rng: random.Random) -> list[Call]:
        self.emails += 1
        email = f"hunt-{self.p.seed}-{self.emails}@hunt.test"
        password = self.credentials.password_for(self.emails)   # the profile's policy; never recorded
        cases = (str.lower, str.capitalize, str.upper)             # one mailbox, as people type it
        return [Call("register", {"email": email if lane % 2 == 0 else rng.choice(cases)(email),
                                  "password": password}, ADMIN, lane) for lane in range(self.width(rng))]

    def read(self, rng: random.Random) -> list[Call]:
        return [Call("list_plans", {}, self._user(rng), lane) for lane in range(self.width(rng, 1))]

    def final_rounds(self, rng: random.Random) -> list[Round]:
        """Every key again with its first parameters, the lanes turned by a seeded offset (a replay may
        meet another instance than the key's first use: the instance is the lane turned by the round)."""
        offset = rng.randrange(self.p.clients)   # another lane (so another instance) than the first use
        calls = [Call("activate", {"subscription_id": Ref("subscription", sub), "key": key, "payment_method": method},
                      user, (i + offset) % self.p.clients, "replay")
                 for i, (user, sub, key, method) in enumerate(self.keys)]
        return [Round("replay", tuple(calls[i:i + self.p.clients]), final=True)
                for i in range(0, len(calls), self.p.clients)]
