"""Which replies a load run counts as correct: the target profile's outcome, plus the answers under contention.

Nothing here imports Locust or gevent: a reply is the suite's ``Reply``
(``chaos.target.reply``), already read through the target's profile, so the
judging can be read and tested without the patching. Failure messages are
the outcome, status and error code only (details go to the log), so
Locust's failure table groups them instead of listing one row per id.
"""
from __future__ import annotations

import logging
from typing import Any

from chaos.target.reply import Reply

log = logging.getLogger("billing-chaos.load")

# The refusals (in the suite's words, whatever the target calls them) that a
# correct target gives a correct request when others race for the same thing:
# they count as successes in the stats, though the call did not do its work.
CONTENTION = frozenset({"sold_out", "slot_full", "idempotency_in_flight"})


def judge(reply: Reply) -> str | None:
    """What is wrong with ``reply`` for the stats (a short, groupable message), or None when it is correct."""
    if reply.ok or (reply.outcome == "fail" and reply.error in CONTENTION):
        return None
    if reply.status is None:  # no answer at all: refused, reset, timed out
        return f"no answer ({reply.error})"
    log.debug("%s %s: %s", reply.operation, reply.status, reply.body)
    return f"{reply.outcome}: {reply.status} {reply.error or ''}".rstrip()


def wrong(what: str, witness: Any) -> str:
    """A failure message that groups in Locust's table; the witness goes to the log."""
    log.warning("%s: %s", what, witness)
    return what
