"""Every accepted async request yields exactly one invoice once faults heal: none lost, none doubled.

A queue loses work when a worker dies holding an unacknowledged task, and
doubles it when a task is redelivered (``acks_late``, a visibility timeout)
and its body is not idempotent. Neither shows unless the run made it
possible: so the evidence is the accepted requests (``none_lost``) and the
accepted requests that could have run twice (``none_doubled``: their
identity saw more than one call, or a worker was killed or paused during
the run). Without it the verdict is "not exercised", not valid.

Which invoices are one is the profile's ``identity``, as for the invoice
checker (billing: (user_id, period); "per_call": one per accepted
request). A request is tied to its identity by what it asked, else by what
its accepted reply said; one tied only to its user is judged against that
user's invoices no other call accounts for. An invoice read that lacks an
identity field makes the verdict "not checked" naming it. An ``info``
request may have been queued or not; the stats say how it turned out.

Input: the history (``generate_invoice_async`` calls; an ok is the
acceptance, with ``task_id``) and final reads {user id: [invoices]} taken
after healing and after the tasks settled. Anomalies: ``lost`` (an accepted
request with no invoice), ``duplicate`` (more than one).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaos.checkers.invoices import BILLING_ACTIVATION, BILLING_IDENTITY, FS, PER_CALL, Identity, call_identity, \
    identity_fields, user_of
from chaos.checkers.reads import Invoice, Key, ident, identity_of, rows, show
from chaos.checkers.result import Anomaly, Evidence, Result, judged
from chaos.history import Op, Pair, nemesis_windows, pairs

F = "generate_invoice_async"
PROCESS_FAULTS = frozenset({"kill", "pause", "sigkill", "sigstop", "restart", "stop"})


@dataclass(frozen=True)
class UserOnly:
    """The group of requests whose identity is unknown: only their user is."""

    user: Any


SITUATIONS = {"none_lost": "an accepted async request",
              "none_doubled": "an accepted request that could run twice (its identity saw more than one call, or "
                              "a worker was killed or paused during the run)"}


def check(history: Sequence[Op], final: Mapping[Any, Sequence[Invoice]] | None, *,
          identity: Identity = BILLING_IDENTITY, claims: Iterable[str] | None = None,
          activation: Sequence[str] | None = BILLING_ACTIVATION) -> Result:
    """``identity``: the invoice identity the target profile declares (default billing's, for
    billing's callers; a scenario passes its profile's). See ``chaos.checkers.invoices.check``."""
    fields = identity_fields(identity)
    every = pairs(history)
    calls = [p for p in every if p.invoke.f in FS]
    missing: list[str] = []
    if fields is None:
        missing.append("the target profile declares no invoice identity (identity: fields, or per_call)")
    stored: dict[Key, list[Mapping[str, Any]]] = defaultdict(list)
    of_user: dict[Any, list[tuple[Key | None, Mapping[str, Any]]]] = defaultdict(list)
    lacking: list[str] = []
    for read_user, invoice in rows(final):
        if not isinstance(invoice, Mapping) or any(invoice.get(n) is not None for n in activation or ()):
            continue
        user = ident(invoice["user_id"]) if invoice.get("user_id") is not None else read_user
        key = None
        if isinstance(fields, tuple):
            key, absent = identity_of(invoice, fields, {"user_id": read_user})
            lacking.extend(absent)
            if key is not None:
                stored[key].append(invoice)
        of_user[user].append((key, invoice))
    if lacking:
        missing.extend(f"list_invoices does not extract {name} (invoice identity {list(fields or ())})"
                       for name in dict.fromkeys(lacking))
    accepted: dict[Any, list[Pair]] = defaultdict(list)   # identity (UserOnly when unknown) -> accepted
    unknown: dict[Any, list[Pair]] = defaultdict(list)
    seen: dict[Any, int] = defaultdict(int)               # calls (sync or async) per identity
    named: set[Key] = set()
    rejected = 0
    for pair in calls:
        key = call_identity(pair, fields) if isinstance(fields, tuple) else None
        if key is not None:
            named.add(key)
        group = key if key is not None else UserOnly(user_of(pair))
        seen[group] += 1
        if pair.invoke.f != F:
            continue
        kind = pair.completion.type
        if kind == "ok":
            accepted[group].append(pair)
        elif kind == "info":
            unknown[group].append(pair)
        else:
            rejected += 1
    anomalies: list[Anomaly] = []
    if fields == PER_CALL:
        anomalies.extend(_per_call(calls, of_user))
    elif isinstance(fields, tuple) and not lacking:
        anomalies.extend(_by_identity(fields, accepted, unknown, stored, of_user, named))
    killed = any(str(w.fault.get("fault", "")).lower() in PROCESS_FAULTS for w in nemesis_windows(history))
    doubled = sum(len(group) for key, group in accepted.items() if killed or seen[key] > 1)
    unresolved = {key: group for key, group in unknown.items() if key not in accepted}
    stats = {"accepted": sum(map(len, accepted.values())),
             "keys": sum(1 for key in accepted if not isinstance(key, UserOnly)),
             "rejected": rejected, "info": sum(map(len, unknown.values())),
             "info_keys_invoiced": sum(1 for key in unresolved if stored.get(key)),
             "info_keys_not_invoiced": sum(1 for key in unresolved if not stored.get(key))}
    evidence = {"none_lost": Evidence(SITUATIONS["none_lost"], stats["accepted"]),
                "none_doubled": Evidence(SITUATIONS["none_doubled"], doubled)}
    return judged("async_invoices", anomalies, stats, evidence, claims, missing)


def _by_identity(fields: tuple[str, ...], accepted: Mapping[Any, list[Pair]], unknown: Mapping[Any, list[Pair]],
                 stored: Mapping[Key, list[Mapping[str, Any]]],
                 of_user: Mapping[Any, list[tuple[Key | None, Mapping[str, Any]]]], named: set[Key]) -> list[Anomaly]:
    found: list[Anomaly] = []
    for key, calls in sorted(accepted.items(), key=lambda kv: str(kv[0])):
        witnesses = tuple(p.completion.index for p in calls)
        tasks = [p.completion.value.get("task_id") for p in calls]
        if isinstance(key, UserOnly):  # the user's invoices no named identity accounts for
            rest = [i for k, i in of_user.get(key.user, []) if k not in named]
            if not rest:
                found.append(Anomaly("lost", f"user {key.user} (identity unknown): {len(calls)} accepted "
                                     f"request(s) (tasks {tasks}) but no invoice after healing", witnesses))
            continue
        invoices, where = stored.get(key, []), show(key, fields)
        if not invoices:
            found.append(Anomaly("lost", f"{where}: {len(calls)} accepted request(s) (tasks {tasks}) but no invoice "
                                 "after healing", witnesses))
        elif len(invoices) > 1:
            found.append(Anomaly("duplicate", f"{where}: {len(invoices)} invoices "
                                 f"{[i.get('invoice_id') for i in invoices]} from accepted tasks {tasks}", witnesses))
    for key, calls in sorted(unknown.items(), key=lambda kv: str(kv[0])):
        if key in accepted or isinstance(key, UserOnly):
            continue
        if len(stored.get(key, [])) > 1:
            found.append(Anomaly("duplicate", f"{show(key, fields)}: {len(stored[key])} invoices "
                                 f"{[i.get('invoice_id') for i in stored[key]]} from requests whose answer was lost",
                                 tuple(p.completion.index for p in calls)))
    return found


def _per_call(calls: list[Pair], of_user: Mapping[Any, list[tuple[Key | None, Mapping[str, Any]]]]) -> list[Anomaly]:
    """One invoice per accepted request: per user, at least the accepted requests, at most every call
    (sync or async) that may have invoiced."""
    found: list[Anomaly] = []
    by_user: dict[Any, list[Pair]] = defaultdict(list)
    for pair in calls:
        by_user[user_of(pair)].append(pair)
    for user, group in sorted(by_user.items(), key=lambda kv: str(kv[0])):
        accepted = [p for p in group if p.invoke.f == F and p.completion.type == "ok"]
        if not accepted:
            continue
        may = [p for p in group if p.completion.type != "fail"]
        invoices = [i for _, i in of_user.get(user, [])]
        witnesses = tuple(p.completion.index for p in accepted)
        if len(invoices) < len(accepted):
            found.append(Anomaly("lost", f"user {user}: {len(accepted)} accepted request(s) but {len(invoices)} "
                                 "invoice(s) after healing", witnesses))
        elif len(invoices) > len(may):
            found.append(Anomaly("duplicate", f"user {user}: {len(invoices)} invoices "
                                 f"{[i.get('invoice_id') for i in invoices]} from {len(may)} call(s) that may have "
                                 "invoiced", witnesses))
    return found
