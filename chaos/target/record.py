"""A target call recorded in the history: invoke, call, complete, in the history's own vocabulary.

This is ``chaos.workload.runner.perform`` for profiles: the invoke carries
the request's parameters under the operation's ``history_f`` (so the
checkers find ``generate_invoice`` calls whatever route served them), the
completion carries the reply's values by the suite's names. An activation
also records ``params`` (what its idempotency key fingerprints), the
``body`` and ``replayed``, which the idempotency checker compares; the body
gets the profile's names added (``invoice_id`` beside a target's
``bill_no``) so the checker can match it against the final reads.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chaos.history import Recorder
from chaos.target.client import TargetClient
from chaos.target.operations import OperationSpec, spec
from chaos.target.reply import Reply
from chaos.target.request import with_defaults

REQUEST_ONLY = frozenset({"password"})  # never written to a history


def perform(recorder: Recorder, process: str, client: TargetClient, operation: str, *,
            known: Mapping[str, Any] | None = None, sent_to: str | None = None, **params: Any) -> Reply:
    """Raises ``OperationMissing`` before anything is recorded when the target lacks ``operation``.
    ``known``: what the caller knows of the call and does not send (the calling user's id, by which the
    idempotency checker scopes keys), recorded in the invoke beside the parameters. ``sent_to``: the
    instance the client's URL reaches, recorded as the invoke's instance."""
    client.profile.mapping(operation)
    op = spec(operation)
    handle = recorder.invoke(process, op.history_f, {**(known or {}), **request_value(op, params)}, instance=sent_to)
    reply = client.call(operation, **params)
    recorder.complete(handle, reply.outcome, value=completion_value(op, reply), status=reply.status,
                      instance=reply.instance, latency=reply.latency, error=reply.error)
    return reply


def request_value(op: OperationSpec, params: Mapping[str, Any]) -> dict[str, Any]:
    """What the invoke records: the parameters given (defaults filled), fingerprinted ones under ``params``."""
    filled = with_defaults(op, params)
    value = {k: v for k, v in filled.items() if v is not None and k not in op.fingerprint and k not in REQUEST_ONLY}
    if op.fingerprint:
        value["params"] = {k: filled[k] for k in op.fingerprint if filled.get(k) is not None}
    return value


def completion_value(op: OperationSpec, reply: Reply) -> dict[str, Any]:
    """What the completion adds: the reply's single values (lists belong to final reads, not the history)."""
    kinds = {v.name: v.kind for v in op.values}
    value = {k: v for k, v in reply.values.items() if kinds.get(k) != "list" and k not in ("token", "password")}
    if op.idempotent:
        body_values = {k: v for k, v in value.items() if kinds.get(k) != "flag"}
        value["body"] = {**reply.body, **body_values} if isinstance(reply.body, dict) else reply.body
        value["replayed"] = bool(reply.values.get("replayed", False))
    return value
