"""Idempotency keys (Stripe's semantics), judged from effects: one execution per key, the first outcome
on every replay, reuse with other parameters refused.

A replay header is a service's word about itself, and many services have
none; a key executed three times passes any test that only reads the header.
So this checker looks at what the key did: the distinct outcomes of its ok
calls (the reply's extracted values and status, not the raw body, which may
carry timestamps), and the invoices that appeared since the key's first call
(the final reads, less an optional baseline read). A replay is "the first
outcome again", with or without a header; where the profile has one
(``replay_flag``), a call it marks replayed must repeat the first outcome,
and is not counted as an execution.

Input: the history (``activate`` calls, value {key, subscription_id,
params, and user_id where the scenario knows it}; a completion carries the
extracted values plus ``body`` and ``replayed``), and final reads keyed by
subscription or by user. Invoices are attributed to a subscription by their
own ``subscription_id`` when the reads carry one; else a read keyed by a
subscription the history names is that subscription's, and a read keyed by
a user is shared by that user's keys (pass ``baseline``, the read before the
first call, so that older invoices of the user are not taken for
activations). ``reads_by`` forces either reading.

Anomalies: ``replay_mismatch`` (the key answered two different ways, a call
with the key's parameters failed after another succeeded other than "still
running", or a replay names an invoice the final read does not hold),
``double_activation`` (more executions than keys: several invoice ids in
the answers, or several new invoices), ``lost`` (a fresh activation's
invoice is not in the final read), ``reuse_accepted`` (the key with other
parameters succeeded beside a success with its first parameters: the first
parameters are those of the key's first success, since a call that failed
or was lost may never have reached the service), ``reuse_not_rejected``
(invoked after that first success, it was refused, definitely,
but not as a mismatch: neither 422 nor ``idempotency_mismatch`` nor
"still running").

A key is the caller's, for one request: two more anomalies come from keys
that a service scopes too widely. ``answered_for_other``: an ok activation
of subscription S whose reply's extracted ``subscription_id`` is present and
is another one (a fingerprint that ignores the path replays A's answer to
the same key on B); a service that scopes keys per subscription and
activates B, or that refuses the second use as a mismatch, is right.
``fresh_key_refused``: a call refused as a mismatch (422 or
``idempotency_mismatch``) although, in its user's scope (the invoke's
``user_id``; calls without one are not judged), no call with that key that
the service could have seen first (invoked before the refusal completed:
earlier, or in flight with it) had another subscription or other
parameters (keys global instead of per user: user B's first use of a key
user A used is refused). Their evidence: ``cross_subscription_key``, a key
used on two subscriptions; ``cross_user_key``, a key used by two users.
Those two claims are made only by name (``DEFAULT_CLAIMS`` leaves them out:
an ordinary idempotency run never uses one key twice over), while their
anomalies count in every run.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from chaos.checkers.key_scope import (MISMATCH, MISMATCH_STATUS, KeyOf, answered_for_other, by_user,
                                       fresh_key_refused, is_mismatch, keys_of_several_users, keys_on_several)
from chaos.checkers.reads import Invoice, count, ident, rows
from chaos.checkers.result import Anomaly, Evidence, Result, judged
from chaos.history import Op, Pair, pairs
from chaos.history.overlap import contended

F = "activate"
IN_FLIGHT = "idempotency_in_flight"
REFUSALS = frozenset({MISMATCH, IN_FLIGHT})
NOT_OUTCOME = frozenset({"replayed", "body"})
BODY_OUTCOME = ("subscription_id", "status", "invoice_id", "amount", "error")  # without extracted values
SITUATIONS = {"one_execution_per_key": "two or more calls with one key in flight together, or a retry of a key "
                                       "after its first call",
              "concurrent_same_key": "calls with one key in flight together",
              "reuse_refused": "a key reused with other parameters",
              "ambiguous_retry": "a key retried after an info (unknown) outcome",
              "cross_subscription_key": "a key used on two subscriptions",
              "cross_user_key": "a key used by two users"}
# The claims made when a scenario names none. The key-scope claims need a workload of their own (one key on
# two subscriptions, or by two users), which an ordinary idempotency run never has: a scenario makes them by
# name. Their anomalies count whatever the claims.
DEFAULT_CLAIMS = ("one_execution_per_key", "concurrent_same_key", "reuse_refused", "ambiguous_retry")

Group = tuple[str, Any]        # ("subscription", id) or ("user", id): whose invoices a read shows
Reads = Mapping[Any, Sequence[Invoice]]


def check(history: Sequence[Op], final: Reads | None = None, *, baseline: Reads | None = None,
          claims: Iterable[str] | None = None, replay_flag: bool = True,
          reads_by: Literal["auto", "subscription", "user"] = "auto") -> Result:
    """``final``/``baseline``: {subscription or user id: [invoices]} after the run / before its first
    call. ``replay_flag``: whether the target marks replays (billing's ``Idempotent-Replayed``);
    without one, ``replayed`` is ignored. ``claims``: the claims the scenario makes (None:
    ``DEFAULT_CLAIMS``, every claim but ``cross_subscription_key`` and ``cross_user_key``)."""
    groups: dict[KeyOf, list[Pair]] = defaultdict(list)
    for pair in pairs(history):
        if pair.invoke.f == F and pair.invoke.value.get("key") is not None:
            groups[(ident(pair.invoke.value.get("subscription_id")), ident(pair.invoke.value["key"]))].append(pair)
    judge = _Judge(groups, final, baseline, replay_flag, reads_by)
    anomalies: list[Anomaly] = []
    for key, calls in groups.items():
        anomalies.extend(judge.key(key, calls))
    anomalies.extend(judge.groups())
    every = [p for calls in groups.values() for p in calls]
    anomalies.extend(answered_for_other(groups))
    users = by_user(every)
    anomalies.extend(fresh_key_refused(users))
    done = [p.completion for p in every]
    stats = {"keys": len(groups), "calls": len(every), **count(op.type for op in done),
             "replays": sum(1 for op in done if replay_flag and op.value.get("replayed")),
             "rejected_422": sum(1 for op in done if is_mismatch(op)),
             "in_flight_409": sum(1 for op in done if op.error == IN_FLIGHT),
             "activation_invoices": judge.attributed, "new_activation_invoices": judge.new_total,
             "keys_without_reads": sum(1 for key in groups if judge.group_of(key) is None)}
    evidence = {
        "one_execution_per_key": Evidence(SITUATIONS["one_execution_per_key"],
                                          sum(1 for calls in groups.values() if len(calls) >= 2)),
        "concurrent_same_key": Evidence(SITUATIONS["concurrent_same_key"], contended(groups)),
        "reuse_refused": Evidence(SITUATIONS["reuse_refused"], judge.reused),
        "ambiguous_retry": Evidence(SITUATIONS["ambiguous_retry"],
                                    sum(1 for calls in groups.values() if _retried_after_info(calls))),
        "cross_subscription_key": Evidence(SITUATIONS["cross_subscription_key"], keys_on_several(groups)),
        "cross_user_key": Evidence(SITUATIONS["cross_user_key"], keys_of_several_users(users))}
    return judged("idempotency", anomalies, stats, evidence, DEFAULT_CLAIMS if claims is None else claims,
                  judge.missing)


def _retried_after_info(calls: list[Pair]) -> bool:
    return any(other is not info and other.invoke.time >= info.completion.time
               for info in calls if info.completion.type == "info" for other in calls)


def invoice_of(done: Op) -> Any:
    """The invoice an answer names: the extracted value, else the body's."""
    if done.value.get("invoice_id") is not None:
        return done.value["invoice_id"]
    body = done.value.get("body")
    return body.get("invoice_id") if isinstance(body, Mapping) else None


def outcome(pair: Pair) -> str:
    """What a replay must repeat: the kind, the status, the error and the reply's extracted values
    (those the request did not carry itself), never the raw body; without extracted values, the
    body's outcome fields."""
    done, asked = pair.completion, pair.invoke.value
    values = {k: v for k, v in done.value.items() if k not in NOT_OUTCOME and not (k in asked and asked[k] == v)}
    body = done.value.get("body")
    if not values and isinstance(body, Mapping):
        values = {k: body[k] for k in BODY_OUTCOME if k in body}
    shown = {k: ident(v) if not isinstance(v, (dict, list)) else v for k, v in sorted(values.items())}
    said = [done.type, str(done.status), *([done.error] if done.error else [])]
    return " ".join([*said, json.dumps(shown, sort_keys=True, default=str)])


class _Judge:
    def __init__(self, groups: Mapping[KeyOf, list[Pair]], final: Reads | None, baseline: Reads | None,
                 replay_flag: bool, reads_by: str) -> None:
        self.replay_flag = replay_flag
        self.missing: list[str] = []
        self.reused = 0
        self.executions: dict[KeyOf, int] = {}
        self.may_execute: dict[KeyOf, bool] = {}
        self.calls = groups
        subscriptions = {s for s, _ in groups}
        users_of: dict[KeyOf, set[Any]] = {key: {ident(p.invoke.value.get("user_id", p.completion.value.get(
            "user_id"))) for p in calls} - {None} for key, calls in groups.items()}
        users = set().union(*users_of.values()) if users_of else set()
        found = rows(final)
        self.before = {ident(i.get("invoice_id")) for _, i in rows(baseline) if isinstance(i, Mapping)}
        self.has_baseline = baseline is not None
        by_field = any(isinstance(i, Mapping) and "subscription_id" in i for _, i in found)
        self.reads: dict[Group, list[Mapping[str, Any]]] = defaultdict(list)   # attributed invoices
        self.covered: set[Group] = set()
        self.attributed = 0
        for read_key, invoice in found:
            if not isinstance(invoice, Mapping):
                self.missing.append("list_invoices does not return invoice objects")
                continue
            kind = self._read_kind(read_key, subscriptions, users, reads_by)
            if kind is not None:
                self.covered.add((kind, read_key))
            if by_field:
                if invoice.get("subscription_id") is None:
                    continue  # not an activation's invoice
                group: Group | None = ("subscription", ident(invoice["subscription_id"]))
            else:
                group = (kind, read_key) if kind is not None else None
            if group is not None:
                self.reads[group].append(invoice)
                self.attributed += 1
        for read_key in (final or {}):
            kind = self._read_kind(ident(read_key), subscriptions, users, reads_by)
            if kind is not None:
                self.covered.add((kind, ident(read_key)))
        self.by_field = by_field
        self.key_group: dict[KeyOf, Group | None] = {}
        for key in groups:
            subscription = key[0]
            if ("subscription", subscription) in self.covered or (by_field and (
                    ("subscription", subscription) in self.reads
                    or any(("user", u) in self.covered for u in users_of[key]))):
                self.key_group[key] = ("subscription", subscription)
            else:
                user = next((u for u in sorted(users_of[key], key=str) if ("user", u) in self.covered), None)
                self.key_group[key] = ("user", user) if user is not None else None
        self.sharing: dict[Group | None, int] = defaultdict(int)  # keys per group
        for group in self.key_group.values():
            self.sharing[group] += 1
        self.new: dict[Group, list[Mapping[str, Any]]] = {}
        for group, invoices in self.reads.items():
            if self.has_baseline and any(i.get("invoice_id") is None for i in invoices):
                self.missing.append("list_invoices does not extract invoice_id (needed to tell new invoices "
                                    "from the baseline's)")
            self.new[group] = [i for i in invoices if not self.has_baseline
                               or (i.get("invoice_id") is not None and ident(i["invoice_id"]) not in self.before)]
        self.new_total = sum(map(len, self.new.values()))

    @staticmethod
    def _read_kind(read_key: Any, subscriptions: set[Any], users: set[Any], reads_by: str) -> str | None:
        if reads_by in ("subscription", "user"):
            return reads_by
        if read_key in subscriptions:
            return "subscription"
        if read_key in users:
            return "user"
        return None

    def group_of(self, key: KeyOf) -> Group | None:
        return self.key_group.get(key)

    def _replayed(self, pair: Pair) -> bool:
        return self.replay_flag and bool(pair.completion.value.get("replayed"))

    def key(self, key: KeyOf, calls: list[Pair]) -> list[Anomaly]:
        subscription, name_key = key
        name = f"key {name_key!r} of subscription {subscription}"
        oks = sorted((p for p in calls if p.completion.type == "ok"), key=lambda p: p.completion.index)
        fresh = [p for p in oks if not self._replayed(p)]
        first = fresh[0] if fresh else oks[0] if oks else calls[0]
        params = first.invoke.value.get("params")
        own = [p for p in calls if p.invoke.value.get("params") == params]
        found: list[Anomaly] = []
        answers: dict[str, Pair] = {}
        for pair in sorted(own, key=lambda p: p.completion.index):
            if pair.completion.type == "ok" or (pair.completion.type == "fail" and self._replayed(pair)):
                answers.setdefault(outcome(pair), pair)
        if len(answers) > 1:
            found.append(Anomaly("replay_mismatch", f"{name} answered {len(answers)} different ways: "
                                 + "; ".join(answers), tuple(p.completion.index for p in answers.values())))
        if oks:
            for pair in own:
                done = pair.completion
                if done.type == "fail" and not self._replayed(pair) and done.error != IN_FLIGHT:
                    found.append(Anomaly("replay_mismatch", f"{name} answered {done.status} {done.error} although "
                                         "another call with it succeeded", (oks[0].completion.index, done.index)))
        # executions: the answers' invoices, and the invoices the reads show
        named = {ident(invoice_of(p.completion)) for p in own if p.completion.type == "ok" and not self._replayed(p)}
        named.discard(None)
        group = self.group_of(key)
        effects = len(self.new.get(group, [])) if group is not None and self._sole(key) else 0
        if group is not None and not self._sole(key):
            ids = {ident(invoice_of(p.completion)) for p in calls if p.completion.type == "ok"} - {None}
            effects = sum(1 for i in self.new.get(group, []) if ident(i.get("invoice_id")) in ids)
        executions = max(len(named), effects)
        self.executions[key] = executions
        self.may_execute[key] = any(p.completion.type != "fail" for p in calls)
        if executions > 1:
            seen = f"{len(named)} invoice id(s) in its answers" if len(named) > 1 else ""
            shown = f"{effects} new invoice(s) in the final read" if effects > 1 else ""
            found.append(Anomaly("double_activation", f"{name} was executed {executions} times ("
                                 + "; ".join(s for s in (seen, shown) if s) + ")",
                                 tuple(p.completion.index for p in own if p.completion.type != "fail")))
        if oks and not named and group is None:
            self.missing.append("activate does not extract invoice_id, and no final read shows the key's invoices")
        for pair in calls:
            if not oks or pair.invoke.value.get("params") == params:
                continue  # a key none of whose calls succeeded may never have reached the service: no first use
            if pair.completion.type != "ok" and pair.invoke.time < first.completion.time:
                continue  # in flight with the first success: the service may have taken this one first
            self.reused += 1
            done = pair.completion
            reused = f"{name} reused with {pair.invoke.value.get('params')} (first {params})"
            if done.type == "ok":
                found.append(Anomaly("reuse_accepted", f"{reused} was accepted, not refused",
                                     (first.completion.index, done.index)))
            elif (done.type == "fail" and done.status != MISMATCH_STATUS and done.error not in REFUSALS
                  and done.status is not None and done.status < 500):
                found.append(Anomaly("reuse_not_rejected", f"{reused} answered {done.status} {done.error}, not "
                                     f"{MISMATCH_STATUS} {MISMATCH}", (first.completion.index, done.index)))
        if group is not None:
            found.extend(self._against_reads(name, calls, group))
        return found

    def _sole(self, key: KeyOf) -> bool:
        return self.sharing.get(self.group_of(key), 0) == 1

    def _against_reads(self, name: str, calls: list[Pair], group: Group) -> list[Anomaly]:
        """An answer naming an invoice the final read does not hold: a replay that is not the first
        outcome (it may be the only answer seen when the first one was lost), or a lost activation."""
        held = {ident(i.get("invoice_id")) for i in self.reads.get(group, [])}
        if any(i.get("invoice_id") is None for i in self.reads.get(group, [])):
            return []  # cannot tell; the missing field is reported where it matters
        found = []
        for pair in calls:
            done = pair.completion
            invoice_id = invoice_of(done) if done.type == "ok" else None
            if invoice_id is None or ident(invoice_id) in held:
                continue
            replayed = self._replayed(pair)
            found.append(Anomaly("replay_mismatch" if replayed else "lost",
                                 f"{name} answered invoice {invoice_id}{' (replayed)' if replayed else ''}, but the "
                                 f"activation invoices are {sorted(held, key=str) or 'none'}",
                                 (pair.invoke.index, done.index)))
        return found

    def groups(self) -> list[Anomaly]:
        """A read shared by several keys: more new invoices than its keys' executions explain."""
        found = []
        members: dict[Group, list[KeyOf]] = defaultdict(list)
        for key in self.calls:
            group = self.group_of(key)
            if group is not None:
                members[group].append(key)
        for group, keys in members.items():
            if len(keys) < 2:
                continue
            new = self.new.get(group, [])
            explained = sum(max(self.executions.get(k, 0), 1 if self.may_execute.get(k) else 0) for k in keys)
            if len(new) > explained and len(new) > 1:
                witnesses = tuple(sorted(p.completion.index for k in keys for p in self.calls[k]
                                         if p.completion.type != "fail"))
                found.append(Anomaly("double_activation", f"{group[0]} {group[1]}: {len(new)} new activation "
                                     f"invoices {[i.get('invoice_id') for i in new]} for {len(keys)} key(s) that "
                                     f"explain at most {explained}", witnesses))
        return found
