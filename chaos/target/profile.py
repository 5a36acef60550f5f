"""Target profiles: how the suite drives one particular billing service.

billing's contract (docs/architecture.md) is billing/'s profile (``profiles/billing.yaml``,
the default and the example); a team points the suite at its own service by
writing one more. ``load_profile`` reads and validates a profile and raises
one ``ProfileError`` listing every problem as ``<file>: <field>: <what>``.

Schema (YAML; every key not marked required may be left out)::

    name: my-billing                 # required; lower-case letters, digits, - _ .
    description: free text
    auth:                            # how a token travels, and where login's reply has it
      header: Authorization          # default Authorization
      scheme: Bearer                 # default Bearer; null sends the bare token
      token: access_token            # reply path (see below); needed when login/admin_login is mapped
    idempotency_header: Idempotency-Key   # or null: the header activate's `key` goes in
    instance_header: X-Instance      # or null: which instance answered; from_url: the URL called
    error_code: error                # reply path of the error code (default "error"; null: none)
    error_codes: {already_billed: invoice_exists}  # the target's codes in the checkers' words
    error_message: message           # reply path of a refusal's sentence (default "message")
    error_patterns:                  # no machine codes: a sentence matching (regex, any case)
      "already exists": invoice_exists   #   means the suite's code
    identities:                      # what makes two effects one for the at-most-once checks;
      invoice: [user_id, period]     #   invoice fields, or per_call (each accepted call makes at
      activation: [subscription_id]  #   most one); not declared: those checks are unknown
    outages: [503]                   # what the target answers while a dependency is down (default
                                     #   ["5xx"]); the contract checker allows only these in faults
    setup:                           # per-run values, found once as the admin before scenarios run
      plan_id: {operation: list_plans, value: "plans[0].plan_id"}
    credentials: {password: "Chaos-{n}-Passw0rd"}   # meets the target's password policy
    reset: {command: [my-service, flush-rate-limits]}  # clears data between scenarios (this machine)
    statuses:                        # default for every operation; what no list names goes to
      ok: ["2xx"]                    #   chaos.history.classify; entries: 409, "4xx", "500-599"
      fail: ["4xx"]                  # fail = it certainly did not happen
      info: ["5xx"]                  # info = unknown (on a read it becomes fail)
    operations:                      # required; keys are operation names (chaos.target.operations)
      generate_invoice:
        method: POST                 # GET POST PUT PATCH DELETE
        path: /users/{user_id}/invoices   # placeholders: the operation's required parameters
        headers: {X-Tenant: "t-{user_id}"}
        query: {hold_s: "{hold_s}"}
        body: {period: "{period}", kind: monthly}  # "{p}" alone keeps p's type; a placeholder
                                     # whose parameter is not given drops its entry
        extract:                     # value name -> reply path
          invoice_id: data.id
          period: data.month
        statuses: {fail: [409, 422]} # checked before the profile's statuses
      list_invoices:
        method: GET
        path: /users/{user_id}/invoices
        extract:
          invoices: {path: "items[*]", fields: {invoice_id: id, period: month, user_id: customer}}
    lacks: [book_slot, pool_metrics] # operations the target does not offer (unmapped ones are
                                     # lacked too; lacks says it on purpose)
    admin:                           # how the suite gets an admin token (or leave out: none needed)
      login: {email: admin@x.test, password: secret}      # through operations.admin_login
      # or: command: [flask, admin-token], service: api   # stdout is the token; runs in the
      #     service's container (containerised) or on this machine (running, no service)
    run:                             # required: exactly one of
      containerised:                 # the suite starts it
        compose: my-target.compose.yaml  # override merged over docker-compose.chaos.yaml
                                     # (relative to this file; null: the base file alone)
        api_service: api             # the service scaled as api_1..N
        worker_service: worker       # or null (no workers: no worker faults, no async)
        port: 8000                   # the api's port in its container
        dependencies:                # env vars holding each dependency's URL: the
          redis: [REDIS_URL]         # controller points them at the instance's links
          postgres: [DATABASE_URL]
        instance_env: INSTANCE_NAME  # how an instance learns its name
        redis_keys:                  # key families `forget <family>` deletes while Redis runs:
          locks: ["0/lock:*"]        #   "db/pattern" (SCAN MATCH); none: no forget faults
          queue: ["1/celery"]
      # running:                     # already running on this machine
      #   instances: [http://127.0.0.1:5001, http://127.0.0.1:5002]

Reply paths: ``key``, ``a.b``, ``items[0].id``, ``items[*]`` (a list), ``[*]``
(the body is a list), ``$`` (the whole body), ``header:Name``.

Mistakes reported (each with the dotted field): unknown keys, unknown
operation names, a bad method, path placeholders that are not (required)
parameters of the operation, template syntax, reply values the operation
does not have, list values without ``[*]``, bad status entries and a status
claimed by two outcomes, operations both mapped and lacked, health or
list_invoices missing, a token nowhere, an admin login without admin_login,
a compose file that does not exist, bad environment variable names, instance
URLs that are not loopback ``http(s)://host:port``, and duplicate YAML keys.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from chaos.target.errors import Problem, ProfileError
from chaos.target.model import (Admin, AdminCommand, AdminLogin, Auth, Containerised, Extract, OperationMap, Run,
                                Running, TargetProfile)
from chaos.target.validate import build

PROFILES_DIR = Path(__file__).parent / "profiles"
SUFFIXES = (".yaml", ".yml")

__all__ = ["PROFILES_DIR", "Admin", "AdminCommand", "AdminLogin", "Auth", "Containerised", "Extract",
           "OperationMap", "ProfileError", "Run", "Running", "TargetProfile", "known_profiles", "load_profile",
           "parse_profile"]


def known_profiles() -> list[str]:
    """The profiles shipped with the suite, by name."""
    return sorted(p.stem for p in PROFILES_DIR.iterdir() if p.suffix in SUFFIXES)


def resolve(path_or_name: str | Path) -> Path:
    """A shipped profile's name (``billing``) or a path to a YAML file."""
    text = str(path_or_name)
    candidate = Path(text)
    if candidate.suffix in SUFFIXES or "/" in text or candidate.is_file():
        return candidate
    return PROFILES_DIR / f"{text}.yaml"


def load_profile(path_or_name: str | Path) -> TargetProfile:
    path = resolve(path_or_name)
    if not path.is_file():
        shipped = ", ".join(known_profiles())
        raise ProfileError([Problem(str(path_or_name), "", f"no such profile file, and no shipped profile of that "
                                    f"name; shipped: {shipped}")])
    return parse_profile(path.read_text(encoding="utf-8"), path)


def parse_profile(text: str, source: Path | None = None) -> TargetProfile:
    """A profile from YAML text; ``source`` names it in errors and anchors a relative compose path."""
    file = str(source) if source is not None else "<profile>"
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise ProfileError([Problem(file, exc.field, exc.message)]) from None
    except yaml.YAMLError as exc:
        raise ProfileError([Problem(file, "", f"not valid YAML: {exc}")]) from None
    return build(raw, source, file)


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice (PyYAML silently keeps the last one, which hides
    exactly the copy-paste mistakes a profile invites)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            if key in seen:
                raise _DuplicateKey(str(key), f"given twice (lines {seen[key]} and {key_node.start_mark.line + 1}); "
                                    "keep one")
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)
