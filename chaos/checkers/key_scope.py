"""Idempotency keys scoped too widely: a key is the caller's, for one request.

Two anomalies of ``chaos.checkers.idempotency`` come from a service that
scopes its keys wider than that, and they need a view of the calls the rest
of the checker does not (by user, across subscriptions), so they live here:
``answered_for_other`` (a fingerprint that ignores the path replays A's
answer to the same key on B) and ``fresh_key_refused`` (keys global instead
of per user), with the counts that are their evidence (``keys_on_several``,
``keys_of_several_users``).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from chaos.checkers.reads import ident
from chaos.checkers.result import Anomaly
from chaos.history import Op, Pair

MISMATCH = "idempotency_mismatch"
MISMATCH_STATUS = 422
KeyOf = tuple[Any, Any]        # (subscription, idempotency key)


def is_mismatch(done: Op) -> bool:
    """A refusal as "this key was used with other parameters": 422 or the mismatch code."""
    return done.type == "fail" and (done.status == MISMATCH_STATUS or done.error == MISMATCH)


def keys_on_several(groups: Mapping[KeyOf, list[Pair]]) -> int:
    """How many keys were used on two or more subscriptions (one key in several (subscription, key) groups)."""
    subscriptions: dict[Any, set[Any]] = defaultdict(set)
    for subscription, key in groups:
        subscriptions[key].add(subscription)
    return sum(1 for found in subscriptions.values() if len(found) >= 2)


def by_user(every: Iterable[Pair]) -> dict[tuple[Any, Any], list[Pair]]:
    """The calls per (user, key), for the calls whose invoke names its user."""
    found: dict[tuple[Any, Any], list[Pair]] = defaultdict(list)
    for pair in every:
        user = pair.invoke.value.get("user_id")
        if user is not None:
            found[(ident(user), ident(pair.invoke.value["key"]))].append(pair)
    return found


def keys_of_several_users(by_user: Mapping[tuple[Any, Any], list[Pair]]) -> int:
    users: dict[Any, set[Any]] = defaultdict(set)
    for user, key in by_user:
        users[key].add(user)
    return sum(1 for found in users.values() if len(found) >= 2)


def answered_for_other(groups: Mapping[KeyOf, list[Pair]]) -> list[Anomaly]:
    """An ok activation of one subscription whose reply names another: the answer of another request."""
    found = []
    for (subscription, key), calls in groups.items():
        for pair in calls:
            done = pair.completion
            named = ident(done.value.get("subscription_id")) if done.type == "ok" else None
            if named is None or named == subscription:
                continue
            theirs = sorted((p.completion.index for p in groups.get((named, key), []) if p.completion.type == "ok"
                             and p.invoke.time < done.time))
            found.append(Anomaly("answered_for_other", f"key {key!r} on subscription {subscription} was answered "
                                 f"for subscription {named}" + (" (that subscription's answer to the key, replayed)"
                                                                if theirs else ""),
                                 (*theirs[:1], pair.invoke.index, done.index)))
    return found


def fresh_key_refused(by_user: Mapping[tuple[Any, Any], list[Pair]]) -> list[Anomaly]:
    """A mismatch refusal of a key that its user had not used with another subscription or other params.

    The calls the service may have seen first are those invoked before the refusal completed (earlier
    ones and those in flight with it), so a race between two of the user's own uses is never blamed."""
    found = []
    for (user, key), calls in by_user.items():
        for pair in calls:
            done = pair.completion
            if not is_mismatch(done):
                continue
            asked = (ident(pair.invoke.value.get("subscription_id")), pair.invoke.value.get("params"))
            before = [p for p in calls if p is not pair and p.invoke.time < done.time]
            if any((ident(p.invoke.value.get("subscription_id")), p.invoke.value.get("params")) != asked
                   for p in before):
                continue
            why = (f"its {len(before)} earlier call(s) by the user had the same subscription and parameters"
                   if before else "the user had never used it")
            others = sorted(((u, p) for (u, k), theirs in by_user.items() if k == key and u != user
                             for p in theirs if p.invoke.time < done.time), key=lambda up: up[1].invoke.index)
            if others:
                why += f" (user {others[0][0]} had used it: the key is not scoped to its user)"
            found.append(Anomaly("fresh_key_refused", f"key {key!r} of user {user} on subscription {asked[0]} was "
                                 f"refused as a mismatch ({done.status} {done.error}), but {why}",
                                 (*(p.completion.index for _, p in others[:1]),
                                  *(p.completion.index for p in before), pair.invoke.index, done.index)))
    return found
