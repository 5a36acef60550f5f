"""A shrunk reproduction is re-run before it is written: its rate sets its test's attempts, and an input
that never shows the anomaly again is given up for the next larger one (chaos.hunt.confirm)."""
from __future__ import annotations

import random

import pytest

from chaos.hunt.confirm import MAX_ATTEMPTS, MIN_ATTEMPTS, attempts_for, confirm
from chaos.hunt.shrink import Shrinker
from chaos.target import DEFAULT_PROFILE, load_profile
from chaos.workload.generator import Plan, WorkloadParams, generate


@pytest.mark.parametrize(("shown", "runs", "attempts"), [(4, 4, MIN_ATTEMPTS), (3, 4, 6), (2, 4, 10),
                                                         (1, 4, MAX_ATTEMPTS), (0, 4, MAX_ATTEMPTS)])
def test_a_rarer_showing_gets_more_attempts(shown: int, runs: int, attempts: int) -> None:
    assert attempts_for(shown, runs) == attempts


@pytest.mark.parametrize("shown", range(1, 5))
def test_a_build_with_the_bug_passes_all_attempts_rarely(shown: int) -> None:
    """At the rate estimated on the safe side, the chance that every attempt misses is at most 1 %
    (or the attempts are at their cap)."""
    rate, n = shown / 5, attempts_for(shown, 4)
    assert (1 - rate) ** n <= 0.01 or n == MAX_ATTEMPTS


def test_the_smallest_input_that_shows_again_is_chosen_with_its_rate() -> None:
    rates = {"shrunk": 0.0, "larger": 0.5, "found": 1.0}
    rng = random.Random(7)
    confirmed = confirm(["shrunk", "larger", "found"], lambda c: rng.random() < rates[c], runs=8)
    assert confirmed.chosen == "larger" and confirmed.stepped_back == 1
    assert 0 < confirmed.shown < 8 and confirmed.runs == 8
    assert confirmed.describe() == {"shown": confirmed.shown, "runs": 8, "stepped_back": 1,
                                    "attempts": attempts_for(confirmed.shown, 8)}


def test_an_input_that_always_shows_is_kept_with_the_fewest_attempts() -> None:
    asked: list[str] = []
    confirmed = confirm(["shrunk", "found"], lambda c: asked.append(c) or True)
    assert confirmed.chosen == "shrunk" and confirmed.stepped_back == 0 and asked == ["shrunk"] * 4
    assert confirmed.attempts == MIN_ATTEMPTS


def test_when_nothing_shows_again_the_found_input_is_written_with_the_most_attempts() -> None:
    confirmed = confirm(["shrunk", "larger", "found"], lambda c: False)
    assert confirmed.chosen == "found" and confirmed.shown == 0 and confirmed.stepped_back == 2
    assert confirmed.attempts == MAX_ATTEMPTS


def test_nothing_to_confirm_is_an_error() -> None:
    with pytest.raises(ValueError):
        confirm([], lambda c: True)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return generate(WorkloadParams(seed=4, rounds=30, clients=5), load_profile(DEFAULT_PROFILE))


def test_a_shrinks_candidates_are_its_result_then_what_it_replaced_then_where_it_began(plan: Plan) -> None:
    """Smallest first, at most four: the result, the two inputs it replaced last, and the original."""
    shrunk = Shrinker(lambda p, s: any(r.kind == "purchase" for r in p.rounds), max_tries=500).shrink(plan, [])
    assert len(shrunk.earlier) >= 4
    candidates = shrunk.candidates()
    assert candidates[0] == (shrunk.plan, shrunk.schedule)
    assert candidates[1:3] == list(reversed(shrunk.earlier))[:2]
    assert candidates[-1] == (plan, []) and len(candidates) == 4
    operations = [p.operations for p, _ in candidates]
    assert operations == sorted(operations)


def test_a_shrink_that_kept_nothing_has_only_its_input_to_confirm(plan: Plan) -> None:
    shrunk = Shrinker(lambda p, s: False, max_tries=500).shrink(plan, [])
    assert shrunk.candidates() == [(plan, [])]
