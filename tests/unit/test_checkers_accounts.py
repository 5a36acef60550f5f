"""The accounts checker: one account per email, whatever the letter case or the instance that answered;
a taken address is refused; unknown when no two sign-ups for one email ever competed."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from chaos.checkers import accounts
from chaos.history import Call, build, sequential
from chaos.target.operations import spec
from chaos.target.record import request_value

pytestmark = pytest.mark.unit
CLAIM = ["one_account_per_email"]


def register(kind: str, email: str = "ann@example.com", user: Any = None, **fields: Any):
    """A sign-up as a profile records it: the request without its password, the reply's user id."""
    value = request_value(spec("register"), {"email": email, "password": "secret"})
    if kind == "ok":
        fields = {"status": 201, "result": {"user_id": user, "email": email} if user is not None else {}, **fields}
    return (spec("register").history_f, value, kind, fields)


def taken(email: str = "ann@example.com"):
    return register("fail", email, status=409, error="email_taken")


def together(*calls: tuple[str, Any, str, dict]) -> list:
    """The calls in flight together, one client each, released at once (0.0 s) and answered by 0.5 s."""
    return build([Call(f"client_{n}", f, value, kind, 0.0, 0.5 + n * 0.01, **fields)
                  for n, (f, value, kind, fields) in enumerate(calls)])


def kinds(result) -> list[str]:
    return sorted(a.kind for a in result.anomalies)


def test_the_history_names_registrations_as_the_workload_records_them() -> None:
    f, value, _, _ = register("ok", user=1)
    assert f == "register" and value == {"email": "ann@example.com"}  # never the password


def test_two_accepted_registrations_of_one_email_in_flight_together_are_a_duplicate_account() -> None:
    history = together(register("ok", user=1), register("ok", user=2))
    result = accounts.check(history, claims=CLAIM)
    assert result.valid is False and kinds(result) == ["duplicate_account"]
    duplicate = result.anomalies[0]
    assert set(duplicate.ops) == {0, 1, 2, 3} and "1" in duplicate.message and "2" in duplicate.message
    assert result.evidence["one_account_per_email"].count == 1 and result.checker == "accounts"


def test_one_email_in_other_letter_case_or_with_spaces_is_the_same_email() -> None:
    history = sequential([register("ok", "Ann@Example.com", user=1), register("ok", " ann@example.COM ", user=2)])
    assert kinds(accounts.check(history)) == ["duplicate_account"]


def test_a_second_registration_after_the_first_succeeded_must_be_refused() -> None:
    accepted = sequential([register("ok", user=1), register("ok", user=2)])
    assert kinds(accounts.check(accepted)) == ["duplicate_account"]
    refused = sequential([register("ok", user=1), taken()])
    result = accounts.check(refused, claims=CLAIM)
    assert result.valid is True and result.evidence["one_account_per_email"].count == 1
    assert result.stats["refused_409"] == 1


def test_racing_registrations_where_one_wins_and_the_others_are_refused_are_valid() -> None:
    """A service of another shape: UUID user ids, a refusal without billing's code."""
    history = together(register("ok", user=str(uuid.uuid4())),
                       *[register("fail", status=409, error=None) for _ in range(9)])
    result = accounts.check(history, claims=CLAIM)
    assert result.valid is True and result.evidence["one_account_per_email"].count == 1


def test_answers_without_user_ids_are_each_an_account() -> None:
    history = together(register("ok"), register("ok"))
    assert kinds(accounts.check(history)) == ["duplicate_account"]


def test_a_repeated_sign_up_answered_with_the_existing_account_is_one_account() -> None:
    """A service whose sign-up is idempotent: the same address gets the same user back."""
    user = str(uuid.uuid4())
    history = together(register("ok", user=user), register("ok", user=user))
    result = accounts.check(history, claims=CLAIM)
    assert result.valid is True


def test_an_ambiguous_registration_beside_an_accepted_one_is_not_a_duplicate_by_itself() -> None:
    history = together(register("info", error="ReadTimeout"), register("ok", user=1))
    assert kinds(accounts.check(history)) == []
    both = accounts.check(history, {"ann@example.com": [{"user_id": 1}, {"user_id": 2}]})
    assert kinds(both) == ["duplicate_account"] and set(both.anomalies[0].ops) == {0, 1, 2, 3}


def test_a_final_read_with_two_accounts_for_one_email_is_a_duplicate_account() -> None:
    history = sequential([register("ok", user=1)])
    assert kinds(accounts.check(history, {"ANN@example.com": [1]})) == []
    assert kinds(accounts.check(history, {"ANN@example.com": [1, "2"]})) == ["duplicate_account"]
    assert kinds(accounts.check(history, {"ANN@example.com": [1, "1"]})) == []  # one id, as int or string


def test_distinct_emails_registered_together_are_no_evidence() -> None:
    history = together(*[register("ok", f"user-{n}@example.com", user=n) for n in range(100)])
    result = accounts.check(history, claims=CLAIM)
    assert result.valid == "unknown" and result.anomalies == []
    assert result.reason == ("not exercised (one email registered by calls in flight together, or again after "
                             "the first succeeded)")
    assert result.stats["emails"] == 100


def test_calls_one_after_another_with_no_success_between_them_are_no_evidence() -> None:
    """Only calls in flight together, or a call after a success, are competition for the address."""
    history = sequential([register("fail", status=400, error="invalid"), register("info", error="ReadTimeout")])
    assert accounts.check(history, claims=CLAIM).evidence["one_account_per_email"].count == 0


def test_no_registration_at_all_is_not_exercised() -> None:
    result = accounts.check(sequential([("read", {}, "ok", {"status": 200})]))
    assert result.valid == "unknown" and result.evidence["one_account_per_email"].count == 0
