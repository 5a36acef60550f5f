"""One account per email: a sign-up the service accepted twice for one address made two accounts.

The seed's concurrent registrations race a "SELECT by email, then INSERT"
across instances: without a unique constraint (on the normalised address)
two calls for one email both succeed. Emails are compared as a person
means them: stripped and case-insensitively (``Ann@X.io `` is
``ann@x.io``).

Input: the history's ``register`` calls (the operation's ``history_f``;
the invoke records {email, name?}, never the password; an ok completion
adds the reply's ``user_id`` and ``email`` where the profile extracts
them), and optionally final reads ``{email: [accounts]}`` (user ids, or
rows with ``user_id``) where the target can list accounts by address.

Anomaly: ``duplicate_account``: two or more ok registrations of one email
that do not name one same account (a service that answers a repeated
sign-up with the existing account, the same ``user_id``, still has one
account; an answer without a user id is taken as its own account), or a
final read holding two or more accounts for one email. The witnesses are
the ok registrations (invoke and completion; for a final read, every
registration of the email that may have happened); the message names the
user ids. An ``info`` registration beside an ok one is not a
duplicate by itself (it may have failed; only a final read can tell),
and a refused second registration (409 taken, or any fail) is the right
answer.

Evidence (claim ``one_account_per_email``): the emails whose register
calls competed, i.e. two of them were in flight together
(``chaos.history.overlap.max_in_flight``), or one was invoked after
another had succeeded (the plain "this address is taken" case, which a
service that forgets its accounts, or checks a replica, gets wrong too).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chaos.checkers.reads import count, ident
from chaos.checkers.result import Anomaly, Evidence, Result, judged
from chaos.history import Op, Pair, pairs
from chaos.history.overlap import max_in_flight
from chaos.target.operations import spec

F = spec("register").history_f
SITUATIONS = {"one_account_per_email": "one email registered by calls in flight together, or again after the "
                                       "first succeeded"}

Accounts = Mapping[Any, Sequence[Any]]   # {email: [user id, or a row with user_id]}


def normalised(email: Any) -> str | None:
    """An email as it is compared: stripped and case-folded; None for no email."""
    if email is None:
        return None
    text = str(email).strip().casefold()
    return text or None


def check(history: Sequence[Op], final: Accounts | None = None, *, claims: Iterable[str] | None = None) -> Result:
    """``final``: {email: [accounts]} the target holds after the run (optional). ``claims``: the claims
    the scenario makes (None: all)."""
    by_email: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs(history):
        if pair.invoke.f == F:
            email = normalised(pair.invoke.value.get("email"))
            if email is not None:
                by_email[email].append(pair)
    anomalies: list[Anomaly] = []
    duplicated: set[str] = set()
    for email, calls in by_email.items():
        found = _registrations(email, calls)
        if found:
            duplicated.add(email)
            anomalies.append(found)
    read = _final(final)
    for email, accounts in read.items():
        ids = sorted({ident(a) for a in accounts}, key=str)
        if len(ids) >= 2 and email not in duplicated:  # the answers already showed it
            duplicated.add(email)
            makers = [p for p in by_email.get(email, []) if p.completion.type != "fail"]  # ok or maybe
            anomalies.append(Anomaly("duplicate_account", f"email {email!r} has {len(ids)} accounts in the final "
                                     f"read: user ids {ids}",
                                     _witnesses(makers) or tuple({"email": email, "user_id": a} for a in ids)))
    every = [p for calls in by_email.values() for p in calls]
    competed = sum(1 for calls in by_email.values() if _competed(calls))
    stats = {"emails": len(by_email), "calls": len(every), **count(p.completion.type for p in every),
             "refused_409": sum(1 for p in every if p.completion.type == "fail" and p.completion.status == 409),
             "emails_competed": competed, "emails_read": len(read),
             "duplicate_emails": len(duplicated)}
    evidence = {"one_account_per_email": Evidence(SITUATIONS["one_account_per_email"], competed)}
    return judged("accounts", anomalies, stats, evidence, claims)


def _registrations(email: str, calls: list[Pair]) -> Anomaly | None:
    oks = sorted((p for p in calls if p.completion.type == "ok"), key=lambda p: p.completion.index)
    if len(oks) < 2:
        return None
    ids = [ident(p.completion.value.get("user_id")) for p in oks]
    accounts = {i for i in ids if i is not None} | {("unnamed", n) for n, i in enumerate(ids) if i is None}
    if len(accounts) < 2:
        return None  # every answer names one same account: a repeated sign-up answered with it
    shown = ", ".join("no user id" if i is None else repr(i) for i in ids)
    return Anomaly("duplicate_account", f"email {email!r} was registered {len(oks)} times (user ids: {shown}); "
                   "a second registration must be refused",
                   _witnesses(oks))


def _witnesses(calls: Iterable[Pair]) -> tuple[int, ...]:
    """Each call's invoke and completion (once: a call that never completed is its invoke alone)."""
    return tuple(dict.fromkeys(i for p in calls for i in (p.invoke.index, p.completion.index)))


def _competed(calls: list[Pair]) -> bool:
    """Two calls for the email in flight together, or one invoked once another had succeeded."""
    if len(calls) < 2:
        return False
    if max_in_flight(calls) >= 2:
        return True
    oks = [p for p in calls if p.completion.type == "ok"]
    if not oks:
        return False
    first = min(oks, key=lambda p: p.completion.time)
    return any(p is not first and p.invoke.time >= first.completion.time for p in calls)


def _final(final: Accounts | None) -> dict[str, list[Any]]:
    """The final read as {normalised email: [user ids]} (rows give their ``user_id``; a row without one
    is counted as an account of its own)."""
    read: dict[str, list[Any]] = defaultdict(list)
    for email, accounts in (final or {}).items():
        key = normalised(email)
        if key is None:
            continue
        for n, account in enumerate(accounts or ()):
            user = account.get("user_id") if isinstance(account, Mapping) else account
            read[key].append(user if user is not None else f"<row {n} without user_id>")
    return dict(read)
