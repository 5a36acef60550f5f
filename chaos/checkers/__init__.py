"""Checkers: pure functions from a history (and final reads) to a Result; they never talk to Docker.

One module per invariant, each with a ``check`` function:

- ``invoices.check(history, final)``: duplicate, lost, phantom, bad_error
- ``async_invoices.check(history, final)``: lost, duplicate
- ``idempotency.check(history, final)``: replay_mismatch, double_activation, reuse_accepted, reuse_not_rejected,
  answered_for_other, fresh_key_refused
- ``accounts.check(history, final)``: duplicate_account
- ``capacity.check(history, final)``: oversell, lost, phantom, counter_mismatch, bad_error
- ``locks.check(events)``: overlap, stale_write_accepted
- ``distribution.check(history, ...)``: too_few_active, lopsided, disagreement
- ``latency.check(history, bounds)``: slow

``compose`` (merge.py) runs several safely and merges their verdicts (False > unknown > True).
"""
from chaos.checkers.merge import check_safe, compose, merge
from chaos.checkers.result import Anomaly, Evidence, Result, Valid, Witness, judged, merge_valid, verdict

__all__ = ["Anomaly", "Evidence", "Result", "Valid", "Witness", "check_safe", "compose", "judged", "merge",
           "merge_valid", "verdict"]
