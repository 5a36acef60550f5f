"""The workloads that watch rather than bill: reads through the lb, and each instance's database pool.

A scale change must not disturb reads (every instance, the new ones too,
gets its share); a slow database fills each instance's pool. Neither makes
anything on the target, so neither needs the admin.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from chaos.checkers import distribution
from chaos.checkers import errors as error_checker
from chaos.checkers import pool as pool_checker
from chaos.drills.params import Check, Param
from chaos.drills.workload import Workload
from chaos.history import Op
from chaos.workload import operations as ops
from chaos.workload.runner import Client


class Reads(Workload):
    """Reads of the plans through the lb: what a scale change must not disturb."""

    kind = "reads"
    summary = "reads of the plans through the lb; every api instance must get its share"
    params = (Param.clients(8, "concurrent readers, each its own session"), Param.seconds(),
              Param.think_ms(50, "pause between one reader's calls"))
    operations = frozenset({"list_plans"})

    def clients(self) -> list[Client]:
        think = float(self.values["think_ms"]) / 1000
        return [Client(f"reads-{i}", self.context.client(self.context.cluster.lb_url),
                       self.paced(ops.read_plans, think))
                for i in range(int(self.values["clients"]))]

    def after_wait(self) -> str:
        self.api_at_end = len(self.context.cluster.of("api"))
        return ""

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        expected = getattr(self, "api_at_end", None) or len(self.context.cluster.of("api"))
        return {"distribution": partial(distribution.check, history, min_instances=expected),
                "errors": partial(error_checker.check, history, ("read",))}


class Pool(Workload):
    """Each api instance's database pool, sampled through its own link: what a slow database fills."""

    kind = "pool"
    summary = "samples each api instance's database pool (checked out, overflow) through its own link"
    params = (Param.seconds(30, "how long to sample"),
              Param("every_ms", int, 1000, "pause between one instance's samples"))
    operations = frozenset({"pool_metrics"})

    def clients(self) -> list[Client]:
        every = float(self.values["every_ms"]) / 1000
        return [Client(f"pool-{name}", self.context.client(url), self.paced(ops.pool_metrics, every))
                for name, url in self.instance_urls()]

    def final_reads(self) -> Any:
        """The samples are the history's own pool_metrics completions (each carries the pool's numbers)."""
        return [{"t": op.time, **op.value} for op in self.context.recorder.completions()
                if op.process in self.processes and op.f == "pool_metrics" and op.type == "ok"]

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        return {"pool": partial(pool_checker.check, final)}
