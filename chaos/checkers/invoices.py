"""At most one invoice per identity; no confirmed invoice lost; none from nowhere; honest conflicts.

Which invoices are "the same" is the service's business, not ours: billing
says one per (user, period), a checkout service one per subscription, or one
per accepted call. The target profile declares it and the scenario passes it
as ``identity``; this checker never assumes billing's fields. When it cannot
see an identity (the profile declares none, or ``list_invoices`` does not
extract a field of it) the verdict is ``unknown`` naming the field: a
missing field is our blind spot, never the service's duplicate, phantom or
lost invoice.

A call is tied to an identity by what it asked (its invoke), else by what an
ok reply said (a service that picks the period itself names it in the
reply), else only to its user: such a call may account for any one invoice
of that user. An ``info`` call may or may not have invoiced; either is fine,
and the stats say how each one turned out.

Anomalies: ``duplicate`` (more than one invoice for one identity, witnessed
by the calls that made each copy), ``lost`` (an ok's invoice, or the one a
409 ``invoice_exists`` vouched for, is not in the final reads), ``phantom``
(an invoice no ok or info call could have made), ``bad_error`` (a 409 whose
code is not one the contract allows; a refusal with no code at all is not
judged). Invoices made by activations (``activation`` fields set) belong to
the idempotency checker and are only counted here.

Evidence: a clean result means something only if calls competed for one
identity (``at_most_once``), some ok could be looked for (``none_lost``) and
there were invoices to explain (``none_from_nowhere``).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from chaos.checkers.reads import Invoice, Key, count, ident, identity_of, rows, show
from chaos.checkers.result import Anomaly, Evidence, Result, Witness, judged
from chaos.history import Op, Pair, pairs
from chaos.history.overlap import contended

F = "generate_invoice"
ASYNC_F = "generate_invoice_async"
FS = (F, ASYNC_F)
ALLOWED_CONFLICTS = frozenset({"invoice_exists", "lock_timeout", "lock_lost"})
PER_CALL = "per_call"
BILLING_IDENTITY = ("user_id", "period")
BILLING_ACTIVATION = ("subscription_id",)
Identity = Sequence[str] | Literal["per_call"] | None

SITUATIONS = {"at_most_once": "two or more calls for one invoice identity in flight together",
              "none_lost": "an ok call whose invoice could be looked for in the final reads",
              "none_from_nowhere": "an invoice in the final reads"}


def check(history: Sequence[Op], final: Mapping[Any, Sequence[Invoice]] | None, *,
          identity: Identity = BILLING_IDENTITY, claims: Iterable[str] | None = None,
          activation: Sequence[str] | None = BILLING_ACTIVATION) -> Result:
    """``final``: {user id: [invoices]} read after healing. ``identity``: the invoice identity the
    target profile declares (field names, ``"per_call"``, or None: not declared). The default is
    billing's (user_id, period), for billing's callers only: a scenario passes its profile's.
    ``activation``: fields that, set on an invoice, mark it as an activation's."""
    fields = identity_fields(identity)
    calls = [p for p in pairs(history) if p.invoke.f in FS]
    judge = _Judge(fields, calls, final or {}, tuple(activation or ()))
    return judge.result(claims)


def identity_fields(identity: Identity) -> tuple[str, ...] | Literal["per_call"] | None:
    if identity is None or identity == PER_CALL:
        return identity  # type: ignore[return-value]
    if isinstance(identity, str):
        return (identity,)
    return tuple(identity) or None


def user_of(pair: Pair) -> Any:
    return ident(pair.invoke.value.get("user_id", pair.completion.value.get("user_id")))


def call_identity(pair: Pair, fields: Sequence[str]) -> Key | None:
    """The identity a call concerns: from what it asked, else from what its ok reply said."""
    key, _ = identity_of(pair.invoke.value, fields)
    if key is None and pair.completion.type == "ok":
        key, _ = identity_of(pair.completion.value, fields, pair.invoke.value)
    return key


def _indexes(calls: Iterable[Pair]) -> tuple[int, ...]:
    return tuple(sorted({pair.completion.index for pair in calls}))


class _Judge:
    def __init__(self, fields: tuple[str, ...] | str | None, calls: list[Pair],
                 final: Mapping[Any, Sequence[Invoice]], activation: tuple[str, ...]) -> None:
        self.fields = fields
        self.calls = calls
        self.anomalies: list[Anomaly] = []
        self.missing: list[str] = []
        self.lookable = 0
        self.resolved = {"info_invoiced": 0, "info_not_invoiced": 0, "info_unresolved": 0}
        self.tuple_mode = isinstance(fields, tuple)
        if fields is None:
            self.missing.append("the target profile declares no invoice identity (identity: fields, or per_call)")
        # the final reads
        self.other = 0
        self.invoices: list[tuple[Any, Mapping[str, Any]]] = []  # (user, invoice)
        self.stored: dict[Key, list[Mapping[str, Any]]] = defaultdict(list)
        self.read_users = {ident(user) for user in final}
        self.owner: dict[int, Any] = {}  # id(invoice) -> its user
        lacking: list[str] = []
        self.unreadable = False
        for read_user, invoice in rows(final):
            if not isinstance(invoice, Mapping):
                self.unreadable = True
                continue
            if any(invoice.get(name) is not None for name in activation):
                self.other += 1
                continue
            user = ident(invoice["user_id"]) if invoice.get("user_id") is not None else read_user
            self.read_users.add(user)
            self.invoices.append((user, invoice))
            self.owner[id(invoice)] = user
            if self.tuple_mode:
                key, absent = identity_of(invoice, fields, {"user_id": read_user})  # type: ignore[arg-type]
                if key is None:
                    lacking.extend(absent)
                else:
                    self.stored[key].append(invoice)
        for name in dict.fromkeys(lacking):
            self.missing.append(f"list_invoices does not extract {name} (invoice identity {list(fields or ())})")
        if self.unreadable:
            self.missing.append("list_invoices does not return invoice objects")
        self.by_identity = self.tuple_mode and not lacking and not self.unreadable
        self.ids_known = not self.unreadable and all(invoice.get("invoice_id") is not None
                                                     for _, invoice in self.invoices)
        self.user_ids: dict[Any, set[Any]] = defaultdict(set)
        for user, invoice in self.invoices:
            self.user_ids[user].add(ident(invoice.get("invoice_id")))
        # the calls
        self.keyed: dict[Key, list[Pair]] = defaultdict(list)       # every call tied to an identity
        self.unkeyed: dict[Any, list[Pair]] = defaultdict(list)     # tied only to its user
        for pair in calls:
            key = call_identity(pair, fields) if self.tuple_mode else None  # type: ignore[arg-type]
            (self.keyed[key] if key is not None else self.unkeyed[user_of(pair)]).append(pair)

    # -- verdicts

    def result(self, claims: Iterable[str] | None) -> Result:
        if self.fields == PER_CALL and not self.unreadable:
            self._per_call()
        elif self.by_identity:
            self._by_identity()
        else:
            self._lost_by_id(self.calls)
        self._bad_errors()
        sync = [p for p in self.calls if p.invoke.f == F]
        stats = {"generates": len(sync), **count(p.completion.type for p in sync), **self.resolved,
                 "conflicts": count(p.completion.error for p in sync if p.completion.status == 409),
                 "keys": len({key for key, group in self.keyed.items() if any(p.invoke.f == F for p in group)}),
                 "invoices": len(self.invoices), "other_invoices": self.other}
        groups = self._contention_groups()
        evidence = {"at_most_once": Evidence(SITUATIONS["at_most_once"], contended(groups)),
                    "none_lost": Evidence(SITUATIONS["none_lost"], self.lookable),
                    "none_from_nowhere": Evidence(SITUATIONS["none_from_nowhere"], len(self.invoices))}
        stats["contended_identities"] = evidence["at_most_once"].count
        return judged("invoices", self.anomalies, stats, evidence, claims, self.missing)

    def _by_identity(self) -> None:
        fields: tuple[str, ...] = self.fields  # type: ignore[assignment]
        makers = {key: [p for p in group if p.completion.type != "fail"] for key, group in self.keyed.items()}
        user_makers = {user: [p for p in group if p.completion.type != "fail"] for user, group in self.unkeyed.items()}
        by_invoice_id: dict[Any, list[Pair]] = defaultdict(list)
        for pair in self.calls:
            if pair.completion.type == "ok" and pair.completion.value.get("invoice_id") is not None:
                by_invoice_id[ident(pair.completion.value["invoice_id"])].append(pair)
        unexplained: dict[Any, list[Key]] = defaultdict(list)
        for key, invoices in sorted(self.stored.items(), key=lambda kv: str(kv[0])):
            users = {self._user(invoice) for invoice in invoices}
            if len(invoices) > 1:
                produced = [p for i in invoices for p in by_invoice_id.get(ident(i.get("invoice_id")), [])]
                witnesses: tuple[Witness, ...] = _indexes(produced + makers.get(key, []))
                if not witnesses:
                    witnesses = _indexes(p for u in users for p in user_makers.get(u, []))
                if not witnesses:
                    witnesses = tuple(invoices)
                self.anomalies.append(Anomaly("duplicate", f"{show(key, fields)} has {len(invoices)} invoices "
                                              f"{[i.get('invoice_id') for i in invoices]}", witnesses))
            if not makers.get(key):
                for user in sorted(users, key=str):
                    unexplained[user].append(key)
        for user, keys in sorted(unexplained.items(), key=lambda kv: str(kv[0])):
            available = user_makers.get(user, [])
            if len(keys) <= len(available):
                continue  # each call of unknown identity may have made one of them
            if not available:
                for key in keys:
                    asked = "only failed calls asked for it" if self.keyed.get(key) else "no call asked for it"
                    self.anomalies.append(Anomaly(
                        "phantom", f"invoice {self.stored[key][0].get('invoice_id')} for {show(key, fields)} "
                        f"exists, but {asked}", (*_indexes(self.keyed.get(key, [])), *self.stored[key])))
            else:
                found = [i for key in keys for i in self.stored[key]]
                self.anomalies.append(Anomaly(
                    "phantom", f"user {user} has invoices for {len(keys)} identities no call named "
                    f"({[i.get('invoice_id') for i in found]}), and only {len(available)} call(s) of unknown "
                    "identity could have made one each", (*_indexes(available), *found)))
        for key, group in self.keyed.items():
            self._judge_key(key, [p for p in group if p.invoke.f == F])
        self._lost_by_id([p for group in self.unkeyed.values() for p in group])

    def _user(self, invoice: Mapping[str, Any]) -> Any:
        return self.owner.get(id(invoice))

    def _covered(self, pair: Pair) -> bool:
        user = user_of(pair)
        return (user in self.read_users) if user is not None else bool(self.read_users)

    def _judge_key(self, key: Key, calls: list[Pair]) -> None:
        """One ``lost`` per invoice of ``key`` that went missing (with every call that vouched for it)."""
        fields: tuple[str, ...] = self.fields  # type: ignore[assignment]
        invoices = self.stored.get(key, [])
        present = {ident(i.get("invoice_id")) for i in invoices}
        missing: dict[Any, list[Pair]] = defaultdict(list)
        vouched: list[Pair] = []
        for pair in calls:
            done = pair.completion
            if done.type == "ok":
                if not self._covered(pair):
                    continue
                self.lookable += 1
                invoice_id = ident(done.value.get("invoice_id"))
                if not invoices or (invoice_id is not None and self.ids_known and invoice_id not in present):
                    missing[done.value.get("invoice_id")].append(pair)
            elif done.type == "info":
                self.resolved["info_invoiced" if invoices else "info_not_invoiced"] += 1
            elif done.status == 409 and done.error == "invoice_exists" and not invoices and self._covered(pair):
                vouched.append(pair)
        held = f"the final read holds {sorted((i.get('invoice_id') for i in invoices), key=str) or 'none'}"
        also = f"; {len(vouched)} call(s) answered 409 invoice_exists for it" if vouched else ""
        for invoice_id, confirming in missing.items():
            self.anomalies.append(Anomaly("lost", f"generate for {show(key, fields)} returned invoice {invoice_id}, "
                                          f"but {held}{also}", _indexes(confirming + vouched)))
        if vouched and not missing:
            self.anomalies.append(Anomaly("lost", f"{len(vouched)} call(s) for {show(key, fields)} answered 409 "
                                          f"invoice_exists, but {held}", _indexes(vouched)))

    def _lost_by_id(self, calls: Iterable[Pair]) -> None:
        """Calls whose identity is unknown: an ok is looked for by the invoice id its reply names."""
        for pair in calls:
            done = pair.completion
            if pair.invoke.f != F:
                continue
            if done.type == "info":
                self.resolved["info_unresolved"] += 1
                continue
            if done.type != "ok" or done.value.get("invoice_id") is None or not self._covered(pair):
                continue
            if not self.ids_known:
                if not self.unreadable:
                    self.missing.append("list_invoices does not extract invoice_id")
                continue
            self.lookable += 1
            user, invoice_id = user_of(pair), ident(done.value["invoice_id"])
            held = self.user_ids.get(user, set()) if user is not None else {
                i for ids in self.user_ids.values() for i in ids}
            if invoice_id not in held:
                self.anomalies.append(Anomaly("lost", f"generate for user {user} returned invoice "
                                              f"{done.value['invoice_id']}, but the final read of the user does "
                                              "not hold it", (pair.invoke.index, done.index)))

    def _per_call(self) -> None:
        """Each accepted call makes at most one invoice: per user, invoices <= calls that may have invoiced."""
        by_user: dict[Any, list[Pair]] = defaultdict(list)
        for pair in self.calls:
            by_user[user_of(pair)].append(pair)
        invoices_of: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
        for user, invoice in self.invoices:
            invoices_of[user].append(invoice)
        for user in sorted(set(by_user) | set(invoices_of), key=str):
            makers = [p for p in by_user.get(user, []) if p.completion.type != "fail"]
            found = invoices_of.get(user, [])
            ids = [i.get("invoice_id") for i in found]
            if found and not makers:
                asked = "only failed calls" if by_user.get(user) else "no call"
                self.anomalies.append(Anomaly("phantom", f"user {user} has {len(found)} invoice(s) {ids}, but {asked} "
                                              "asked for one", (*_indexes(by_user.get(user, [])), *found)))
            elif len(found) > len(makers):
                self.anomalies.append(Anomaly("duplicate", f"user {user} has {len(found)} invoices {ids}, but only "
                                              f"{len(makers)} call(s) could have made one each", _indexes(makers)))
            oks = [p for p in makers if p.completion.type == "ok" and p.invoke.f == F]
            if not oks or user not in self.read_users:
                continue
            self.lookable += len(oks)
            unnamed = [p for p in oks if p.completion.value.get("invoice_id") is None or not self.ids_known]
            for pair in oks:
                if pair.completion.value.get("invoice_id") is None or not self.ids_known:
                    continue
                if ident(pair.completion.value["invoice_id"]) not in self.user_ids.get(user, set()):
                    self.anomalies.append(Anomaly("lost", f"generate for user {user} returned invoice "
                                                  f"{pair.completion.value['invoice_id']}, but the final read does "
                                                  f"not hold it (it holds {ids or 'none'})",
                                                  (pair.invoke.index, pair.completion.index)))
            if len(found) < len(oks) and unnamed:
                self.anomalies.append(Anomaly("lost", f"user {user}: {len(oks)} ok call(s) but only {len(found)} "
                                              "invoice(s) in the final read", _indexes(oks)))
        for pair in self.calls:
            if pair.invoke.f == F and pair.completion.type == "info":
                self.resolved["info_unresolved"] += 1

    def _bad_errors(self) -> None:
        for pair in self.calls:
            done = pair.completion
            if (pair.invoke.f == F and done.type == "fail" and done.status == 409 and done.error is not None
                    and done.error not in ALLOWED_CONFLICTS):
                self.anomalies.append(Anomaly("bad_error", f"409 with error {done.error!r} for user {user_of(pair)}; "
                                              f"allowed: {sorted(ALLOWED_CONFLICTS)}", (pair.invoke.index, done.index)))

    def _contention_groups(self) -> dict[Any, list[Pair]]:
        """Calls per identity. A call of unknown identity joins its user's identity when the history
        names only one for that user (the race it lost was for it); per call, or with no identity
        declared, calls compete per user."""
        if not self.tuple_mode:
            groups: dict[Any, list[Pair]] = defaultdict(list)
            for pair in self.calls:
                groups[user_of(pair)].append(pair)
            return groups
        groups = {key: list(group) for key, group in self.keyed.items()}
        named: dict[Any, set[Key]] = defaultdict(set)
        for key, group in self.keyed.items():
            for pair in group:
                named[user_of(pair)].add(key)
        for user, group in self.unkeyed.items():
            if len(named.get(user, ())) == 1:
                groups[next(iter(named[user]))].extend(group)
        return groups
