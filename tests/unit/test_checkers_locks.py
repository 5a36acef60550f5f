"""The lock checker: holders of one key never overlap; a holder past its expiry never writes."""
from __future__ import annotations

from typing import Any

import pytest

from chaos.checkers import locks

pytestmark = pytest.mark.unit
T0 = 1_760_000_000.0
KEY = "invoice:1:2026-01"


def ev(kind: str, token: str, t: float, **fields: Any) -> dict:
    event = {"kind": kind, "key": KEY, "token": token, "instance": f"api_{token}", "t": T0 + t, **fields}
    if kind in ("acquire", "renew"):
        event.setdefault("expire_s", 10.0)
    return event


def kinds(result) -> list[str]:
    return sorted(a.kind for a in result.anomalies)


def test_holders_one_after_another_with_fenced_writes_are_valid() -> None:
    events = [ev("acquire", "a", 0), ev("write", "a", 1, fence=1, accepted=True), ev("release", "a", 2),
              ev("acquire", "b", 2.5), ev("write", "b", 3, fence=2, accepted=False), ev("release", "b", 3.5)]
    result = locks.check(events)
    assert result.valid is True and result.stats["holdings"] == 2 and result.stats["writes"] == 2


def test_a_second_holder_before_the_first_released_or_expired_is_an_overlap() -> None:
    events = [ev("acquire", "a", 0), ev("acquire", "b", 5), ev("release", "b", 6), ev("release", "a", 7)]
    result = locks.check(events)
    assert kinds(result) == ["overlap"]
    first, second = result.anomalies[0].ops
    assert (first["token"], second["token"]) == ("a", "b") and second["lock_event"] == 1
    assert "08:53:25.000" in result.anomalies[0].message  # journal times as the services' logs show them


def test_a_long_first_holding_overlapping_the_third_holder_is_found_too() -> None:
    events = [ev("acquire", "a", 0, expire_s=60), ev("acquire", "b", 1), ev("acquire", "c", 30)]
    pairs_ = {(a.ops[0]["token"], a.ops[1]["token"]) for a in locks.check(events).anomalies}
    assert pairs_ == {("a", "b"), ("a", "c")}


def test_renewals_extend_the_holding() -> None:
    assert kinds(locks.check([ev("acquire", "a", 0), ev("renew", "a", 8), ev("acquire", "b", 12)])) == ["overlap"]
    assert locks.check([ev("acquire", "a", 0), ev("renew", "a", 8), ev("acquire", "b", 18.5)]).valid is True


def test_a_holder_paused_past_expiry_is_no_overlap_and_its_write_must_be_refused() -> None:
    """Kleppmann's case: a stalls past its expiry, b takes the lock and writes, a wakes and writes."""
    base = [ev("acquire", "a", 0), ev("acquire", "b", 11), ev("write", "b", 11.5, fence=2, accepted=True),
            ev("release", "b", 12)]
    refused = locks.check([*base, ev("write", "a", 13, fence=None, accepted=False)])
    assert refused.valid is True and refused.stats["stale_writes_rejected"] == 1
    accepted = locks.check([*base, ev("write", "a", 13, fence=1, accepted=True)])
    assert kinds(accepted) == ["stale_write_accepted"]
    holder, write = accepted.anomalies[0].ops
    assert holder["kind"] == "acquire" and write["kind"] == "write" and write["token"] == "a"


def test_a_write_after_another_holder_acquired_is_stale_even_before_expiry() -> None:
    events = [ev("acquire", "a", 0), ev("acquire", "b", 1), ev("write", "a", 2, fence=1, accepted=True)]
    assert kinds(locks.check(events)) == ["overlap", "stale_write_accepted"]


def test_a_write_after_its_own_release_is_stale() -> None:
    events = [ev("acquire", "a", 0), ev("release", "a", 1), ev("write", "a", 2, fence=1, accepted="True")]
    assert kinds(locks.check(events)) == ["stale_write_accepted"]


def test_an_accepted_write_with_an_older_fencing_token_is_stale() -> None:
    events = [ev("acquire", "a", 0), ev("write", "a", 1, fence=5, accepted=True), ev("release", "a", 2),
              ev("acquire", "b", 3), ev("write", "b", 4, fence=4, accepted=True), ev("release", "b", 5)]
    result = locks.check(events)
    assert kinds(result) == ["stale_write_accepted"] and "token 4" in result.anomalies[0].message


def test_journal_values_as_stored_strings_are_read() -> None:
    events = [{"kind": "acquire", "key": KEY, "token": "a", "instance": "api_1", "t": str(T0), "expire_s": "10"},
              {"kind": "write", "key": KEY, "token": "a", "instance": "api_1", "t": str(T0 + 1), "fence": "None",
               "accepted": "False"},
              {"kind": "release", "key": KEY, "token": "a", "instance": "api_1", "t": str(T0 + 2)}]
    assert locks.check(events).valid is True


def test_writes_without_an_acquire_in_the_journal_are_counted_not_judged() -> None:
    result = locks.check([ev("write", "z", 1, fence=1, accepted=True)])
    assert result.valid is True and result.stats["writes_without_acquire"] == 1


def test_keys_are_independent() -> None:
    other = {**ev("acquire", "b", 1), "key": "invoice:2:2026-01"}
    assert locks.check([ev("acquire", "a", 0), other]).valid is True
