"""The hunt's pure parts: the seeded workload plan, the seeded fault schedule, the shrink, the kept
reproduction, the judge's naming, and the nemesis playing overlapping steps (with recording fakes)."""
from __future__ import annotations

import ast
import importlib.util
import json
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from chaos.checkers.result import Anomaly, Evidence, Result
from chaos.hunt.engine import HUNT_FAULTS
from chaos.hunt.judge import evidence, found
from chaos.hunt.reproduction import Reproduction
from chaos.hunt.shrink import Shrinker, ddmin, describe_steps
from chaos.nemesis import generator as nemesis_generator
from chaos.nemesis.generator import Topology
from chaos.nemesis.link_faults import Partition, Toxic, latency
from chaos.nemesis.process_faults import Disconnect, Kill, Pause
from chaos.nemesis.runner import Nemesis
from chaos.nemesis.schedule import Step, to_json
from chaos.target import DEFAULT_PROFILE, load_profile
from chaos.workload.generator import (ADMIN, KINDS, Call, Plan, Ref, Round, WorkloadParams, generate,
                                      offered_kinds)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "tests" / "shop_service" / "profile.yaml"
TEST_SERVICE = ROOT / "tests" / "target_service" / "profile.yaml"
SEEDS = range(25)


@pytest.fixture(scope="module")
def billing():
    return load_profile(DEFAULT_PROFILE)


@pytest.fixture(scope="module")
def shop():
    return load_profile(SHOP)


def main_rounds(plan: Plan) -> list[Round]:
    return [r for r in plan.rounds if not r.final]


def final_rounds(plan: Plan) -> list[Round]:
    return [r for r in plan.rounds if r.final]


def calls_of(plan: Plan, kind: str) -> list[list[Call]]:
    return [list(r.calls) for r in plan.rounds if r.kind == kind]


# ---------------------------------------------------------------------------------------------------
# the workload generator
# ---------------------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_plan(billing) -> None:
    params = WorkloadParams(seed=11, rounds=30, clients=5)
    first = generate(params, billing)
    assert first == generate(params, billing)
    assert first.to_json() == generate(params, billing).to_json()


def test_a_plan_survives_its_json_round_trip(billing) -> None:
    plan = generate(WorkloadParams(seed=3, rounds=40, kinds=(), weights={"purchase": 5.0}), billing)
    text = json.dumps(plan.to_json())   # through real JSON text, as a reproduction stores it
    again = Plan.from_json(json.loads(text))
    assert again == plan
    assert again.to_json() == plan.to_json()
    assert any(isinstance(v, Ref) for r in again.rounds for c in r.calls for v in c.params.values())


def test_another_seed_gives_another_plan(billing) -> None:
    plans = [generate(WorkloadParams(seed=seed), billing).to_json()["rounds"] for seed in (1, 2, 3)]
    assert plans[0] != plans[1] and plans[1] != plans[2] and plans[0] != plans[2]


def test_billing_offers_every_kind_and_the_other_targets_fewer(billing, shop) -> None:
    assert offered_kinds(billing) == list(KINDS)
    for profile in (shop, load_profile(TEST_SERVICE)):
        kinds = offered_kinds(profile)
        assert {"purchase", "book", "invoice_async"}.isdisjoint(kinds), profile.name
        assert {"invoice", "activate_same_key", "register"} <= set(kinds), profile.name
        for kind in kinds:
            assert all(profile.offers(op) for op in KINDS[kind][0])


@pytest.mark.parametrize("which", ["billing", "shop", "test_service"])
def test_kinds_the_profile_does_not_offer_are_never_generated(which: str, billing, shop) -> None:
    profile = {"billing": billing, "shop": shop, "test_service": load_profile(TEST_SERVICE)}[which]
    offered = set(offered_kinds(profile))
    seen: set[str] = set()
    for seed in SEEDS:
        plan = generate(WorkloadParams(seed=seed), profile)
        for rnd in plan.rounds:
            assert rnd.kind in offered or (rnd.final and rnd.kind == "replay"), rnd.kind
            for call in rnd.calls:
                assert profile.offers(call.operation), (profile.name, call.operation)
        seen |= {r.kind for r in main_rounds(plan)}
    assert seen == offered   # and every kind it does offer is played, over a few seeds


def test_slow_holders_only_where_the_target_has_the_hook(billing, shop) -> None:
    ops = {c.operation for seed in SEEDS for r in generate(WorkloadParams(seed=seed), billing).rounds for c in r.calls}
    assert "slow_invoice" in ops
    ops = {c.operation for seed in SEEDS for r in generate(WorkloadParams(seed=seed), shop).rounds for c in r.calls}
    assert "slow_invoice" not in ops and "generate_invoice" in ops


def test_params_kinds_restricts_the_plan(billing, shop) -> None:
    for seed in SEEDS:
        plan = generate(WorkloadParams(seed=seed, kinds=("purchase", "register")), billing)
        assert {r.kind for r in main_rounds(plan)} <= {"purchase", "register"}
        assert not final_rounds(plan)   # no activation, nothing to replay
    # a kind the target does not offer is left out, not faked
    plan = generate(WorkloadParams(seed=1, kinds=("purchase", "invoice")), shop)
    assert {r.kind for r in plan.rounds} == {"invoice"}
    with pytest.raises(ValueError, match="offers none of the workload kinds"):
        generate(WorkloadParams(seed=1, kinds=("purchase", "book")), shop)


def test_a_plans_refs_count_what_the_set_up_must_make(billing) -> None:
    plan = Plan(WorkloadParams(), (
        Round("purchase", (Call("purchase_ticket", {"event_id": Ref("event", 2), "quantity": 1}, 4, 0),
                           Call("purchase_ticket", {"event_id": Ref("event", 0), "quantity": 2}, 1, 1))),
        Round("invoice", (Call("generate_invoice", {"user_id": Ref("user", 6), "period": "2001-02"}, ADMIN, 0),)),
    ))
    assert plan.refs() == {"event": 3, "user": 7}   # indexes count from 0; the admin is no user
    assert Plan(WorkloadParams(), ()).refs() == {}
    for seed in SEEDS:
        generated = generate(WorkloadParams(seed=seed), billing)
        refs = generated.refs()
        top: dict[str, int] = {}
        for rnd in generated.rounds:
            for call in rnd.calls:
                named = [v for v in call.params.values() if isinstance(v, Ref)]
                named += [Ref("user", call.actor)] if isinstance(call.actor, int) else []
                for ref in named:
                    top[ref.kind] = max(top.get(ref.kind, 0), ref.index + 1)
        assert refs == top
        assert refs.get("user", 0) <= generated.params.users


def test_same_key_rounds_share_one_key_across_several_lanes(billing) -> None:
    rounds = [calls for seed in SEEDS
              for calls in calls_of(generate(WorkloadParams(seed=seed, clients=4), billing), "activate_same_key")]
    assert rounds
    for calls in rounds:
        assert len(calls) >= 2
        assert len({c.params["key"] for c in calls}) == 1
        assert len({(c.actor, c.params["subscription_id"], c.params["payment_method"]) for c in calls}) == 1
        assert len({c.lane for c in calls}) == len(calls)   # each from its own client, so its own instance
        assert all(isinstance(c.actor, int) and c.retry >= 1 for c in calls)


@pytest.mark.parametrize("users", [3, 8])   # few users: keys are often shared, and shared back
def test_final_replay_rounds_repeat_every_key_with_its_first_params(billing, users: int) -> None:
    for seed in range(60):
        plan = generate(WorkloadParams(seed=seed, users=users), billing)
        first: dict[tuple[Any, str], tuple[Ref, str]] = {}
        for rnd in main_rounds(plan):
            for call in rnd.calls:
                if call.operation == "activate":
                    first.setdefault((call.actor, call.params["key"]),
                                     (call.params["subscription_id"], call.params["payment_method"]))
        replays = [c for r in final_rounds(plan) for c in r.calls]
        assert first and replays, seed
        assert all(r.kind == "replay" for r in final_rounds(plan))
        assert all(c.operation == "activate" and c.kind == "replay" for c in replays)
        replayed = Counter((c.actor, c.params["key"]) for c in replays)
        assert set(replayed) == set(first), seed
        assert set(replayed.values()) == {1}, (seed, [k for k, n in replayed.items() if n > 1])
        for call in replays:
            assert (call.params["subscription_id"], call.params["payment_method"]) \
                == first[(call.actor, call.params["key"])], seed
        # the final rounds come after every main round, each no wider than the clients
        assert plan.rounds[-len(final_rounds(plan)):] == tuple(final_rounds(plan))
        assert all(len(r.calls) <= plan.params.clients for r in final_rounds(plan))


def test_purchases_ask_one_to_max_quantity(billing) -> None:
    quantities = Counter()
    for seed in SEEDS:
        for calls in calls_of(generate(WorkloadParams(seed=seed, max_quantity=3), billing), "purchase"):
            assert len({c.params["event_id"] for c in calls}) == 1   # one event, contended
            quantities.update(c.params["quantity"] for c in calls)
    assert set(quantities) == {1, 2, 3}


def test_rounds_are_paced_over_the_seconds(billing) -> None:
    for seed in SEEDS:
        params = WorkloadParams(seed=seed, rounds=25, seconds=12.5)
        plan = generate(params, billing)
        at = [r.at_s for r in main_rounds(plan)]
        assert at[0] >= 0.0
        assert all(a < b for a, b in zip(at, at[1:]))
        assert at[-1] < params.seconds
        indexes = [r.index for r in plan.rounds]
        assert indexes == sorted(set(indexes))


def test_register_calls_carry_the_profiles_password(billing, shop) -> None:
    for profile in (billing, shop):
        template = re.escape(profile.credentials.password).replace(re.escape("{n}"), r"\d+")
        emails = []
        for seed in SEEDS:
            for calls in calls_of(generate(WorkloadParams(seed=seed), profile), "register"):
                # one mailbox from several clients at once, the first as generated, the others in any case
                assert len({c.params["email"].lower() for c in calls}) == 1
                assert calls[0].params["email"] == calls[0].params["email"].lower()
                assert len({c.params["password"] for c in calls}) == 1
                assert all(re.fullmatch(template, c.params["password"]) for c in calls), profile.name
                emails.append((seed, calls[0].params["email"]))
        assert emails and len(set(emails)) == len(emails)   # each round a new email
    assert profile.credentials.password != billing.credentials.password   # the shop's policy differs


# ---------------------------------------------------------------------------------------------------
# the nemesis generator
# ---------------------------------------------------------------------------------------------------

APIS = ("api_1", "api_2", "api_3")
WORKERS = ("worker_1", "worker_2")
FAMILIES = ("locks", "idempotency", "queue")
EVERYTHING = Topology(APIS, WORKERS, frozenset(HUNT_FAULTS), FAMILIES)


def kinds_needed(step: Step) -> set[str]:
    """The fault kinds (chaos.target.needs.FAULTS) a step needs of its target."""
    fault, target = step.fault, step.fault.target
    if isinstance(fault, (Toxic, Partition)):
        party, _, dependency = target.partition("->")
        kinds = {"client_link"} if party == "client" else {f"{dependency}_link"}
        return kinds | ({"workers"} if party.startswith("worker") else set())
    return {fault.kind} | ({"workers"} if target.startswith("worker") else set())


def test_the_same_seed_gives_the_same_fault_schedule() -> None:
    first = to_json(nemesis_generator.generate(9, EVERYTHING, total_s=20, faults=5))
    assert first == to_json(nemesis_generator.generate(9, EVERYTHING, total_s=20, faults=5))
    assert first != to_json(nemesis_generator.generate(10, EVERYTHING, total_s=20, faults=5))
    assert len(first) >= 2


def test_a_client_link_only_topology_gives_only_client_link_toxics() -> None:
    topology = Topology(APIS, WORKERS, frozenset({"client_link"}))
    steps = [s for seed in SEEDS for s in nemesis_generator.generate(seed, topology, total_s=20, faults=4)]
    assert steps
    for step in steps:
        assert isinstance(step.fault, Toxic)
        party, _, api = step.fault.target.partition("->")
        assert party == "client" and api in APIS


def test_without_workers_no_worker_is_faulted() -> None:
    for topology in (Topology(APIS, (), frozenset(HUNT_FAULTS)),                     # none there
                     Topology(APIS, WORKERS, frozenset(HUNT_FAULTS) - {"workers"})):  # not allowed
        for seed in SEEDS:
            for step in nemesis_generator.generate(seed, topology, total_s=20, faults=6):
                assert "worker" not in step.fault.target
                assert not isinstance(step.fault, Kill)   # kill is only ever of a worker


def test_only_allowed_fault_kinds_appear() -> None:
    rng = random.Random(0)
    every: set[str] = set()
    for seed in range(60):
        allowed = frozenset(k for k in HUNT_FAULTS if rng.random() < 0.5)
        topology = Topology(APIS, WORKERS, allowed, FAMILIES)
        for step in nemesis_generator.generate(seed, topology, total_s=20, faults=5):
            assert kinds_needed(step) <= allowed, (seed, sorted(allowed), step.fault.describe())
            every |= kinds_needed(step)
    assert every == set(HUNT_FAULTS)   # and each of them does appear somewhere
    assert nemesis_generator.generate(1, Topology(APIS, WORKERS, frozenset()), total_s=20, faults=5) == []


def test_the_data_layer_is_one_class_and_forget_only_names_the_profiles_families() -> None:
    steps = [s for seed in SEEDS for s in nemesis_generator.generate(seed, EVERYTHING, total_s=20, faults=6)]
    data = [s.fault for s in steps if s.fault.kind in {"restart", "forget", "exhaust"}]
    assert {f.target for f in data if f.kind == "restart"} <= {"redis", "postgres"}
    assert {f.target for f in data if f.kind == "forget"} <= set(FAMILIES)
    assert {f.kind for f in data} == {"restart", "forget", "exhaust"}
    assert len(data) < len(steps) / 3   # one class of seven: the data layer does not crowd out the rest
    without = Topology(APIS, WORKERS, frozenset(HUNT_FAULTS))   # no families named: no forget
    assert not [s for seed in SEEDS for s in nemesis_generator.generate(seed, without, total_s=20, faults=6)
                if s.fault.kind == "forget"]


@pytest.mark.parametrize("overlap", [True, False])
def test_no_two_overlapping_steps_share_a_target(overlap: bool) -> None:
    overlapped = 0
    for seed in range(60):
        steps = nemesis_generator.generate(seed, EVERYTHING, total_s=15, faults=8, overlap=overlap)
        for i, a in enumerate(steps):
            for b in steps[i + 1:]:
                if a.at_s < b.at_s + b.duration_s and b.at_s < a.at_s + a.duration_s:
                    overlapped += 1
                    assert a.fault.target != b.fault.target, (seed, a.describe(), b.describe())
    if overlap:
        assert overlapped   # overlapping steps are really generated


def test_without_overlap_each_step_begins_after_the_last_ended() -> None:
    for seed in range(60):
        steps = nemesis_generator.generate(seed, EVERYTHING, total_s=30, faults=4, overlap=False)
        for a, b in zip(steps, steps[1:]):
            assert a.at_s + a.duration_s <= b.at_s, (seed, a.describe(), b.describe())


@pytest.mark.parametrize("overlap", [True, False])
def test_steps_are_within_the_total_time(overlap: bool) -> None:
    for seed in range(60):
        steps = nemesis_generator.generate(seed, EVERYTHING, total_s=18, faults=6, overlap=overlap)
        assert [s.at_s for s in steps] == sorted(s.at_s for s in steps)
        for step in steps:
            assert 0.0 <= step.at_s and step.duration_s > 0
            assert step.at_s + step.duration_s <= 18, (seed, step.describe())


def test_pauses_last_at_least_the_shortest_pause() -> None:
    pauses = [s for seed in range(60) for s in nemesis_generator.generate(
        seed, EVERYTHING, total_s=30, faults=6, pause_s=(5.5, 9.0)) if isinstance(s.fault, Pause)]
    assert pauses
    assert all(5.5 <= s.duration_s <= 9.0 for s in pauses)
    others = [s for seed in range(20) for s in nemesis_generator.generate(
        seed, EVERYTHING, total_s=30, faults=6, min_s=0.5, max_s=2.0) if not isinstance(s.fault, Pause)]
    assert others and all(0.5 <= s.duration_s <= 2.0 for s in others)


# ---------------------------------------------------------------------------------------------------
# the shrink
# ---------------------------------------------------------------------------------------------------

SCHEDULE = [Step(0.5, 3.0, Pause("api_1")), Step(1.0, 2.0, latency("client->api_3", 200, 100)),
            Step(2.0, 4.0, Partition("api_2->redis")), Step(4.0, 5.0, Pause("api_2")),
            Step(6.0, 2.0, Disconnect("api_3")), Step(8.0, 3.0, Kill("worker_1"))]


def size(plan: Plan, schedule: list[Step]) -> tuple[int, int, int, float]:
    """Faults, operations, rounds, then how long the main rounds take (back to back is smaller)."""
    return (len(schedule), plan.operations, len(plan.rounds), max((r.at_s for r in plan.rounds if not r.final),
                                                                  default=0.0))


@dataclass
class FakeRuns:
    """A ``still_fails`` that fails iff its rule holds, and checks every proposal is smaller than the best."""

    rule: Any
    best: tuple[int, int, int]
    asked: list[tuple[Plan, list[Step], bool]] = field(default_factory=list)

    def __call__(self, plan: Plan, schedule: list[Step]) -> bool:
        assert size(plan, schedule) < self.best, "proposed something not smaller"
        assert plan.operations > 0
        fails = bool(self.rule(plan, schedule))
        self.asked.append((plan, list(schedule), fails))
        if fails:
            self.best = size(plan, schedule)
        return fails


def pause_of_api_2_and_a_purchase(plan: Plan, schedule: list[Step]) -> bool:
    return any(s.fault == Pause("api_2") for s in schedule) and any(r.kind == "purchase" for r in plan.rounds)


@pytest.fixture(scope="module")
def mixed_plan(billing) -> Plan:
    plan = generate(WorkloadParams(seed=4, rounds=30, clients=5), billing)
    assert "purchase" in plan.kinds and len(plan.kinds) >= 6 and final_rounds(plan)
    return plan


@pytest.mark.parametrize("involved", [(), ("purchase",)])
def test_the_shrink_ends_with_the_one_fault_and_only_purchase_rounds(mixed_plan: Plan, involved) -> None:
    runs = FakeRuns(pause_of_api_2_and_a_purchase, size(mixed_plan, SCHEDULE))
    shrunk = Shrinker(runs, max_tries=500).shrink(mixed_plan, SCHEDULE, involved)
    assert [s.fault for s in shrunk.schedule] == [Pause("api_2")]
    assert shrunk.plan.kinds == ["purchase"]
    assert len(shrunk.plan.rounds) == 1 and len(shrunk.plan.rounds[0].calls) <= 2   # one round, narrowed
    assert shrunk.stopped == "nothing smaller shows the anomaly"
    assert pause_of_api_2_and_a_purchase(shrunk.plan, shrunk.schedule)
    assert shrunk.tries == len(runs.asked)


def test_only_the_involved_kinds_cut_most_in_one_try(mixed_plan: Plan) -> None:
    runs = FakeRuns(pause_of_api_2_and_a_purchase, size(mixed_plan, SCHEDULE))
    with_hint = Shrinker(runs, max_tries=500).shrink(mixed_plan, SCHEDULE, ("purchase",))
    assert with_hint.steps[0].what == "only purchase" and with_hint.steps[0].kept
    without = Shrinker(FakeRuns(pause_of_api_2_and_a_purchase, size(mixed_plan, SCHEDULE)),
                       max_tries=500).shrink(mixed_plan, SCHEDULE)
    assert with_hint.tries < without.tries


def test_the_steps_record_what_was_kept_and_dropped(mixed_plan: Plan) -> None:
    runs = FakeRuns(pause_of_api_2_and_a_purchase, size(mixed_plan, SCHEDULE))
    shrunk = Shrinker(runs, max_tries=500).shrink(mixed_plan, SCHEDULE)
    assert [s.kept for s in shrunk.steps] == [fails for _, _, fails in runs.asked]
    assert [(s.operations, s.faults) for s in shrunk.steps] == [(p.operations, len(sch)) for p, sch, _ in runs.asked]
    assert {True, False} == {s.kept for s in shrunk.steps}
    assert shrunk.steps[0].what == "no faults" and not shrunk.steps[0].kept   # the faults pass comes first
    assert any(s.what.startswith("without ") for s in shrunk.steps)
    described = describe_steps(shrunk.steps)
    assert described[0].keys() == {"what", "operations", "faults", "kept", "seconds"}
    assert [d["kept"] for d in described] == [s.kept for s in shrunk.steps]


def test_a_fault_free_anomaly_loses_every_fault_in_one_try(mixed_plan: Plan) -> None:
    runs = FakeRuns(lambda plan, schedule: any(r.kind == "register" for r in plan.rounds),
                    size(mixed_plan, SCHEDULE))
    shrunk = Shrinker(runs, max_tries=500).shrink(mixed_plan, SCHEDULE)
    assert shrunk.schedule == [] and shrunk.plan.kinds == ["register"]
    assert not any(s.what.endswith("of the faults") for s in shrunk.steps)   # no delta debugging needed


def test_max_tries_stops_the_shrink_and_keeps_the_best_so_far(mixed_plan: Plan) -> None:
    runs = FakeRuns(pause_of_api_2_and_a_purchase, size(mixed_plan, SCHEDULE))
    shrunk = Shrinker(runs, max_tries=4).shrink(mixed_plan, SCHEDULE)
    assert shrunk.stopped == "stopped after 4 tries"
    assert shrunk.tries == 4 == len(runs.asked)
    kept = [(p, s) for p, s, fails in runs.asked if fails]
    assert kept, "some proposal was kept in 4 tries"
    assert (shrunk.plan, shrunk.schedule) == kept[-1]
    assert size(shrunk.plan, shrunk.schedule) < size(mixed_plan, SCHEDULE)


def test_a_deadline_stops_the_shrink_and_keeps_the_best_so_far(mixed_plan: Plan) -> None:
    now = [100.0]

    def clock() -> float:
        return now[0]

    def slow_run(plan: Plan, schedule: list[Step]) -> bool:
        now[0] += 10.0   # each re-run takes 10 s of the fake clock
        return runs(plan, schedule)

    runs = FakeRuns(pause_of_api_2_and_a_purchase, size(mixed_plan, SCHEDULE))
    shrunk = Shrinker(slow_run, max_tries=500, deadline=135.0, clock=clock).shrink(mixed_plan, SCHEDULE)
    assert shrunk.stopped == "stopped: the shrink's time ran out"
    assert shrunk.tries == 4 == len(runs.asked)   # at 100, 110, 120, 130; at 140 the time is out
    assert all(s.seconds == 10.0 for s in shrunk.steps)
    kept = [(p, s) for p, s, fails in runs.asked if fails]
    if kept:
        assert (shrunk.plan, shrunk.schedule) == kept[-1]
    else:
        assert (shrunk.plan, shrunk.schedule) == (mixed_plan, SCHEDULE)


def test_a_shrink_with_no_time_left_keeps_the_input(mixed_plan: Plan) -> None:
    runs = FakeRuns(pause_of_api_2_and_a_purchase, size(mixed_plan, SCHEDULE))
    shrunk = Shrinker(runs, deadline=0.0, clock=lambda: 1.0).shrink(mixed_plan, SCHEDULE)
    assert shrunk.stopped == "stopped: the shrink's time ran out" and shrunk.tries == 0
    assert shrunk.plan is mixed_plan and shrunk.schedule == SCHEDULE


def test_a_shrink_drops_replays_of_keys_no_longer_used(billing) -> None:
    plan = generate(WorkloadParams(seed=2, rounds=20, kinds=("activate_same_key", "invoice")), billing)
    assert final_rounds(plan)
    first_key = next(c.params["key"] for r in main_rounds(plan) for c in r.calls if r.kind == "activate_same_key")

    def rule(candidate: Plan, schedule: list[Step]) -> bool:
        return any(c.params.get("key") == first_key for r in candidate.rounds if not r.final for c in r.calls)

    shrunk = Shrinker(FakeRuns(rule, size(plan, [])), max_tries=500).shrink(plan, [])
    assert len(main_rounds(shrunk.plan)) == 1
    assert {c.params["key"] for r in final_rounds(shrunk.plan) for c in r.calls} <= {first_key}


def fails_with_3_and_7(items) -> bool:
    return {3, 7} <= set(items)


def test_ddmin_finds_a_one_minimal_subset() -> None:
    asked: list[tuple[int, ...]] = []

    def fails(items) -> bool:
        asked.append(tuple(items))
        return fails_with_3_and_7(items)

    assert sorted(ddmin(list(range(10)), fails)) == [3, 7]
    assert all(len(a) < 10 for a in asked)   # the whole is known to fail: never asked again
    assert len(asked) == len(set(asked)), [a for a, n in Counter(asked).items() if n > 1]   # no run wasted


@pytest.mark.parametrize("n", [1, 2, 5, 8, 13, 32])
def test_ddmin_is_one_minimal_whatever_the_size(n: int) -> None:
    rng = random.Random(n)
    needed = set(rng.sample(range(n), min(n, 3)))
    asked: list[tuple[int, ...]] = []

    def fails(items) -> bool:
        asked.append(tuple(items))
        return needed <= set(items)

    result = list(ddmin(list(range(n)), fails))
    assert set(result) == needed
    for i in range(len(result)):   # 1-minimal: without any one of them it passes
        assert not (needed <= set(result[:i] + result[i + 1:]))
    assert len(asked) == len(set(asked))
    assert result == sorted(result)   # the order of the input is kept


def test_ddmin_with_one_item_asks_nothing() -> None:
    assert ddmin(["only"], lambda items: pytest.fail("asked")) == ["only"]
    assert ddmin([], lambda items: pytest.fail("asked")) == []


def test_ddmin_stops_when_the_callback_raises() -> None:
    class Enough(Exception):
        pass

    calls = []

    def fails(items) -> bool:
        calls.append(items)
        if len(calls) == 3:
            raise Enough
        return fails_with_3_and_7(items)

    with pytest.raises(Enough):
        ddmin(list(range(10)), fails)
    assert len(calls) == 3


# ---------------------------------------------------------------------------------------------------
# the reproduction
# ---------------------------------------------------------------------------------------------------


@pytest.fixture
def reproduction(billing) -> Reproduction:
    plan = generate(WorkloadParams(seed=8, rounds=12, clients=3), billing)
    return Reproduction("idempotency/replay_mismatch", 8, plan, SCHEDULE[:4], target="billing",
                        unsafe="no_idempotency", api=3, workers=2, attempts=2,
                        found={"after_s": 12.5, "steps": [{"what": "no faults", "kept": False}]})


def test_a_reproduction_survives_its_json_round_trip(reproduction: Reproduction) -> None:
    data = json.loads(json.dumps(reproduction.to_json()))
    again = Reproduction.from_json(data)
    assert again == reproduction
    assert again.to_json() == reproduction.to_json()


def test_a_reproduction_of_another_version_is_refused(reproduction: Reproduction) -> None:
    data = {**reproduction.to_json(), "version": 99}
    with pytest.raises(ValueError, match="version 99"):
        Reproduction.from_json(data)


@pytest.mark.parametrize("text", ["not json {", "[]", "42", '{"version": 1}', '{"version": 2, "anomaly": "x"}',
                                  '{"version": 1, "anomaly": "a/b", "seed": 1, "workload": {"params": {}, '
                                  '"rounds": []}, "schedule": [{"fault": "meteor", "at_s": 0, "duration_s": 1}]}',
                                  '{"version": 1, "anomaly": "a/b", "seed": 1, "workload": {"params": {}, '
                                  '"rounds": []}, "schedule": ["api_1"]}'])
def test_loading_a_broken_file_names_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(str(path)) + ": not a reproduction"):
        Reproduction.load(path)


def test_loading_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "gone.json"))):
        Reproduction.load(tmp_path / "gone.json")


def test_writing_makes_the_json_and_a_test_that_compiles_and_names_the_anomaly(
        tmp_path: Path, reproduction: Reproduction) -> None:
    data, test = reproduction.write(tmp_path / "hunt", "idempotency_replay_mismatch_seed8")
    assert data == tmp_path / "hunt" / "idempotency_replay_mismatch_seed8.json"
    assert test == tmp_path / "hunt" / "test_idempotency_replay_mismatch_seed8.py"
    assert Reproduction.load(data) == reproduction

    source = test.read_text(encoding="utf-8")
    code = compile(source, str(test), "exec")
    assert code is not None
    tree = ast.parse(source)
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert functions == ["test_no_idempotency_replay_mismatch"]
    docstring = ast.get_docstring(tree) or ""
    assert "idempotency/replay_mismatch" in docstring and "seed 8" in docstring and "no_idempotency" in docstring
    assert f"{reproduction.plan.operations} operations and 4 faults" in docstring
    assert data.name in source

    # importing it loads the JSON beside it (the test itself needs a cluster: not run here)
    spec = importlib.util.spec_from_file_location("generated_reproduction", test)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.REPRODUCTION == reproduction


def test_an_anomaly_with_odd_characters_still_makes_a_valid_test_name(tmp_path: Path, reproduction) -> None:
    reproduction.anomaly = "contract/5xx-outside-fault.window"
    _, test = reproduction.write(tmp_path, "odd")
    tree = ast.parse(test.read_text(encoding="utf-8"))
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] \
        == ["test_no_contract_5xx_outside_fault_window"]


# ---------------------------------------------------------------------------------------------------
# the judge's naming
# ---------------------------------------------------------------------------------------------------


def test_found_names_each_anomaly_once_as_checker_slash_kind_in_order() -> None:
    results = [Result("invoices", False, [Anomaly("duplicate", "a"), Anomaly("duplicate", "b"),
                                          Anomaly("lost", "c")]),
               Result("capacity", True),
               Result("idempotency", False, [Anomaly("replay_mismatch", "d"), Anomaly("duplicate", "e")])]
    assert found(results) == ["invoices/duplicate", "invoices/lost", "idempotency/replay_mismatch",
                              "idempotency/duplicate"]
    assert found([Result("capacity", True)]) == [] and found([]) == []


def test_evidence_counts_each_checkers_situations_even_unreached() -> None:
    results = [Result("invoices", True, evidence={"contention": Evidence("calls for one invoice together", 4)}),
               Result("capacity", "unknown", evidence={"last_seat": Evidence("buyers for the last seat", 0)})]
    assert evidence(results) == {"invoices.contention: calls for one invoice together": 4,
                                 "capacity.last_seat: buyers for the last seat": 0}


# ---------------------------------------------------------------------------------------------------
# the nemesis playing a schedule
# ---------------------------------------------------------------------------------------------------


class Log:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def add(self, event: str, name: str) -> None:
        with self.lock:
            self.events.append((event, name))


@dataclass(eq=False)
class RecordingFault:
    target: str
    log: Log
    kind: str = "recording"

    def start(self, cluster) -> None:
        self.log.add("started", self.target)

    def stop(self, cluster) -> None:
        self.log.add("stopped", self.target)

    def describe(self) -> dict[str, Any]:
        return {"fault": self.kind, "target": self.target}


def fake_cluster(log: Log):
    toxiproxy = SimpleNamespace(reset=lambda: log.add("reset", "toxiproxy"))
    cluster = SimpleNamespace(toxiproxy=toxiproxy, instances={"api_1": SimpleNamespace(name="api_1")},
                              unpause=lambda name: log.add("unpaused", name))
    return cluster


def nemesis_with_log() -> tuple[Nemesis, Log, list[tuple[str, dict[str, Any]]]]:
    log = Log()
    recorded: list[tuple[str, dict[str, Any]]] = []
    return Nemesis(fake_cluster(log), lambda event, fault: recorded.append((event, fault))), log, recorded


def test_overlapping_steps_both_start_before_either_stops() -> None:
    nemesis, log, recorded = nemesis_with_log()
    a, b = RecordingFault("api_1", log), RecordingFault("api_2", log)
    nemesis.run([Step(0.0, 0.15, a), Step(0.05, 0.15, b)])
    nemesis.join(5)
    assert log.events == [("started", "api_1"), ("started", "api_2"), ("stopped", "api_1"), ("stopped", "api_2")]
    assert recorded == [("start", a.describe()), ("start", b.describe()), ("stop", a.describe()),
                        ("stop", b.describe())]
    assert nemesis.active == []


def test_each_step_starts_at_its_offset_and_stops_when_its_own_window_ends() -> None:
    nemesis, log, recorded = nemesis_with_log()
    times: dict[tuple[str, str], float] = {}
    began = time.monotonic()

    class Timed(RecordingFault):
        def start(self, cluster) -> None:
            times[("start", self.target)] = time.monotonic() - began

        def stop(self, cluster) -> None:
            times[("stop", self.target)] = time.monotonic() - began

    # b lies inside a's window; c begins after both
    nemesis.run([Step(0.0, 0.3, Timed("a", log)), Step(0.05, 0.05, Timed("b", log)),
                 Step(0.35, 0.05, Timed("c", log))])
    nemesis.join(5)
    order = sorted(times, key=times.get)
    assert order == [("start", "a"), ("start", "b"), ("stop", "b"), ("stop", "a"), ("start", "c"), ("stop", "c")]
    assert times[("start", "b")] >= 0.05 and times[("stop", "b")] >= 0.1 and times[("stop", "a")] >= 0.3
    assert [e for e, _ in recorded] == ["start", "start", "stop", "stop", "start", "stop"]


def test_a_step_with_no_window_still_stops() -> None:
    nemesis, log, _ = nemesis_with_log()
    nemesis.run([Step(0.02, 0.0, RecordingFault("api_1", log))])
    nemesis.join(5)
    assert log.events == [("started", "api_1"), ("stopped", "api_1")]
    assert nemesis.active == []


def test_heal_stops_what_is_active_and_what_was_to_come_never_starts() -> None:
    nemesis, log, recorded = nemesis_with_log()
    long, later = RecordingFault("api_1", log), RecordingFault("api_2", log)
    nemesis.run([Step(0.0, 30.0, long), Step(20.0, 1.0, later)])
    deadline = time.monotonic() + 5
    while not nemesis.active and time.monotonic() < deadline:
        time.sleep(0.01)
    assert nemesis.active == [long]
    began = time.monotonic()
    nemesis.heal()
    assert time.monotonic() - began < 2   # the schedule's thread is cancelled, not waited out
    assert nemesis.active == []
    assert log.events == [("started", "api_1"), ("stopped", "api_1"), ("reset", "toxiproxy"), ("unpaused", "api_1")]
    assert recorded == [("start", long.describe()), ("stop", long.describe())]
    time.sleep(0.05)
    assert ("started", "api_2") not in log.events


def test_a_fault_that_fails_to_start_is_reported_by_join() -> None:
    nemesis, log, _ = nemesis_with_log()

    class Broken(RecordingFault):
        def start(self, cluster) -> None:
            raise OSError("no such container")

    nemesis.run([Step(0.0, 0.05, Broken("api_9", log))])
    with pytest.raises(RuntimeError, match="the nemesis failed: no such container"):
        nemesis.join(5)
    nemesis.heal()
    assert nemesis.active == []


# ---------------------------------------------------------------------------------------------------
# rounds aimed at the schedule's faults
# ---------------------------------------------------------------------------------------------------


def aimed_plan(billing, *steps: Step, apis=("api_1", "api_2", "api_3"), seed: int = 5) -> Plan:
    from chaos.hunt.aims import aims

    params = WorkloadParams(seed=seed, rounds=40, seconds=20.0)
    topology = Topology(apis, ("worker_1", "worker_2"), frozenset(HUNT_FAULTS))
    return generate(replace(params, aims=aims(list(steps), topology, params)), billing)


def round_at(plan: Plan, at_s: float) -> Round:
    return max((r for r in main_rounds(plan) if r.at_s <= at_s), key=lambda r: r.at_s)


def test_a_worker_stopped_meets_async_invoices_of_every_lane_each_its_own_sent_just_before(billing) -> None:
    plan = aimed_plan(billing, Step(8.0, 2.0, Kill("worker_2")))
    before = round_at(plan, 8.0 - 0.5)
    assert before.kind == "invoice_async" and len(before.calls) == plan.params.clients
    identities = {(c.params["user_id"], c.params["period"]) for c in before.calls}
    assert len(identities) == len(before.calls), "a task lost with its worker must be its invoice's only one"


def test_an_api_stalled_meets_a_slow_holder_on_it_and_revisits_of_its_invoice_while_held(billing) -> None:
    plan = aimed_plan(billing, Step(6.0, 12.0, Pause("api_2")))
    holder_round = round_at(plan, 5.0)
    slow = [c for c in holder_round.calls if c.operation == "slow_invoice"]
    assert len(slow) == 1 and list(holder_round.calls) == slow, "nothing beside the holder may take its lock first"
    assert ["api_1", "api_2", "api_3"][(slow[0].lane + holder_round.index) % 3] == "api_2"  # as the Player routes
    identity = (slow[0].params["user_id"], slow[0].params["period"])
    for at in (6.0 + 6.0, 6.0 + 12.0 - 0.7):   # halfway, and just before the instance comes back
        revisit = round_at(plan, at)
        assert revisit.kind == "invoice" and revisit.at_s > 6.0
        assert {(c.params["user_id"], c.params["period"]) for c in revisit.calls} == {identity}
        assert all(c.operation == "generate_invoice" for c in revisit.calls)


def test_aims_are_in_the_plan_and_survive_its_json(billing) -> None:
    plan = aimed_plan(billing, Step(3.0, 9.0, Disconnect("api_3")), Step(12.0, 1.0, Pause("worker_1")))
    assert plan.params.aims and Plan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


def test_faults_that_stall_nothing_aim_at_nothing(billing) -> None:
    from chaos.hunt.aims import aims

    params = WorkloadParams(seed=1)
    topology = Topology(("api_1",), ("worker_1",), frozenset(HUNT_FAULTS))
    assert aims([Step(2.0, 3.0, latency("client->api_1", ms=200)), Step(5.0, 2.0, Partition("api_1->redis"))],
                topology, params) == ()


def test_overlapping_stalls_each_revisit_their_own_holders_invoice(billing) -> None:
    plan = aimed_plan(billing, Step(4.0, 13.0, Pause("api_1")), Step(8.0, 4.0, Disconnect("api_3")))
    first, second = round_at(plan, 3.0), round_at(plan, 7.0)
    held = {r.index: {(c.params["user_id"], c.params["period"]) for c in r.calls} for r in (first, second)}
    assert held[first.index] != held[second.index]
    assert {(c.params["user_id"], c.params["period"]) for c in round_at(plan, 4.0 + 13.0 - 0.7).calls} == \
        held[first.index]
    assert {(c.params["user_id"], c.params["period"]) for c in round_at(plan, 8.0 + 4.0 - 0.7).calls} == \
        held[second.index]
