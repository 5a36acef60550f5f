"""Checkers: pure functions from a history (and final reads) to a Result; they never talk to Docker.

One module per invariant: invoices, async_invoices, idempotency, capacity,
locks, distribution, latency; ``check_all`` merges several results.
"""
from chaos.checkers.result import Anomaly, Result, check_all, merge_valid

__all__ = ["Anomaly", "Result", "check_all", "merge_valid"]
