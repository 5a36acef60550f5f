"""What the contract counts as a correct answer under load, and how one response is judged.

Nothing here imports Locust or gevent: a response is anything with Locust's
``ResponseContextManager`` shape (``status_code``, ``json()``, ``success()``,
``failure()``), so the judging can be read and tested without the patching.
Failure messages are the status and error code only (details go to the log),
so Locust's failure table groups them instead of listing one row per id.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # type only: importing locust patches the interpreter with gevent
    from locust.clients import ResponseContextManager

log = logging.getLogger("billing-chaos.load")

PAYMENT_METHODS = ("card", "stripe", "paypal", "invoice", "bank_transfer")

# Answers the contract gives a correct request when others race for the same
# thing: (status, error code). Everything else that is not the call's own
# success status is a failure in the stats.
SOLD_OUT = (409, "sold_out")
SLOT_FULL = (409, "slot_full")
IN_FLIGHT = (409, "idempotency_in_flight")

# Looks into a successful answer (body, headers); returns what is wrong, or None.
Check = Callable[[Any, Mapping[str, str]], "str | None"]


def judge(response: ResponseContextManager, ok: Collection[int], expected: Collection[tuple[int, str]]) -> Any:
    """Mark the response by the contract; the JSON body for a success, else None."""
    status = response.status_code
    if status == 0:  # no answer at all: connection refused, reset, timeout
        response.failure(f"no response: {response.error}")
        return None
    try:
        body = response.json()
    except ValueError:
        response.failure(f"{status}, not JSON: {response.text[:120]!r}")
        return None
    if status in ok:
        response.success()
        return body
    code = body.get("error") if isinstance(body, dict) else None
    if (status, code) in expected:
        response.success()
        return None
    log.debug("%s %s: %s", response.request_meta.get("name"), status, body)
    response.failure(f"{status} {code}")
    return None


def wrong(what: str, witness: Any) -> str:
    """A failure message that groups in Locust's table; the witness goes to the log."""
    log.warning("%s: %s", what, witness)
    return what
