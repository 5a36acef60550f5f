"""The hunt's generated mix (``chaos.workload.generator``) as a drill's background load.

Every kind of round the target offers, paced over ``seconds``, its replays
once the load is over, judged by every checker the hunt uses. One generator
drives the hunts, the catalogue's hunt and this drill load; it picks only
what the target's profile offers, so the mix needs nothing more than users
and their invoices.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from chaos.drills.params import Check, Param, WorkloadError
from chaos.drills.workload import MAX_EXTENSION_S, Workload
from chaos.history import Op
from chaos.workload.runner import Client


class Mixed(Workload):
    kind = "mixed"
    summary = "the hunt's generated mix: invoices, activations, purchases, bookings, sign-ups, paced and replayed"
    params = (Param.clients(4, "calls released together per round, over the api instances"),
              Param.seconds(30, "how long the rounds are paced over"), Param("rounds", int, 40, "rounds of calls"),
              Param("users", int, 6, "new users the rounds act as"))
    operations = frozenset({"register", "list_invoices"})

    def setup(self) -> str:
        from chaos.workload.generator import WorkloadParams, generate
        from chaos.workload.rounds import Bound

        params = WorkloadParams(seed=self.context.seed, rounds=int(self.values["rounds"]),
                                clients=int(self.values["clients"]), users=int(self.values["users"]),
                                seconds=float(self.values["seconds"]))
        try:
            self.plan = generate(params, self.context.profile)
        except ValueError as exc:
            raise WorkloadError(f"workload {self.kind} cannot run: {exc}") from None
        self.bound = Bound.make(self.plan, self.admin, self.context.client, self.setup_values)
        return (f"{self.plan.operations} calls in {len(self.plan.rounds)} rounds ({', '.join(self.plan.kinds)}) "
                f"for {len(self.bound.users)} new users")

    def clients(self) -> list[Client]:
        return []   # the rounds' player makes one client per lane and actor

    def run(self, clients: list[Client]) -> None:
        from chaos.workload.rounds import Player

        self.player = Player(self.plan, self.bound, self.context.recorder, self.context.cluster.api_urls(),
                             self.context.client, self.admin.token)
        self.player.main(float(self.values["seconds"]) + MAX_EXTENSION_S)
        self._lanes()

    def _lanes(self) -> None:
        self.processes.update(op.process for op in self.context.recorder.snapshot() if op.process.startswith("lane_"))

    def after_wait(self) -> str:
        if not hasattr(self, "player"):
            return ""
        time.sleep(self.plan.params.replay_after_s)
        try:
            self.player.final()
        finally:
            self.player.close()
        self._lanes()
        return f"; {sum(len(r.calls) for r in self.plan.rounds if r.final)} replays of the keys used"

    def final_reads(self) -> Any:
        from chaos.hunt.judge import Final
        from chaos.workload.accounts import final_invoices, final_read

        admin = self.admin
        return Final(final_invoices(admin, self.bound.users),
                     {"events": {e: final_read(admin, "event", event_id=e) for e in self.bound.events},
                      "slots": {s: final_read(admin, "slot", slot_id=s) for s in self.bound.slots}})

    def checks(self, history: Sequence[Op], final: Any) -> dict[str, Check]:
        from chaos.hunt.judge import judge

        results = judge(self.context.profile, history, final)
        return {r.checker: (lambda r=r: r) for r in results}
