"""The background workloads a runbook starts, by kind: the one registry, and the names others import.

Modules by job: ``params`` (runbook parameters, ``WorkloadError``,
``period``), ``context`` (what a drill run's workloads share; the admin),
``workload`` (the base class: life cycle, what it needs of the target),
``invoicing`` (invoices, async invoices, lock contention), ``sales``
(tickets, activations), ``observing`` (reads, pool), ``mixed`` (the hunt's
generated mix).
"""
from __future__ import annotations

from collections.abc import Mapping

from chaos.drills.context import Context, admin_client
from chaos.drills.invoicing import AsyncInvoices, Invoices, LockContention
from chaos.drills.mixed import Mixed
from chaos.drills.observing import Pool, Reads
from chaos.drills.params import Check, Number, Param, WorkloadError, period
from chaos.drills.sales import Activations, Tickets
from chaos.drills.workload import Workload

WORKLOADS: Mapping[str, type[Workload]] = {w.kind: w for w in (
    Invoices, AsyncInvoices, Tickets, LockContention, Reads, Pool, Activations, Mixed)}

__all__ = ["WORKLOADS", "Check", "Context", "Number", "Param", "Workload", "WorkloadError", "admin_client", "period"]
