"""Run a schedule beside the workload, recording each fault's window, and heal at the end."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chaos.nemesis.fault import Fault
from chaos.nemesis.schedule import Schedule

if TYPE_CHECKING:  # type only: the controller imports the Docker SDK, which parsing a fault must not
    from chaos.cluster.controller import Cluster

Record = Callable[[str, dict[str, Any]], None]  # ("start" | "stop", the fault's description)


class Nemesis:
    """Starts and stops faults on one cluster; whatever it started, ``heal`` stops."""

    def __init__(self, cluster: Cluster, record: Record) -> None:
        self.cluster = cluster
        self.record = record
        self.active: list[Fault] = []
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self.error: BaseException | None = None

    def start_fault(self, fault: Fault) -> None:
        self.record("start", fault.describe())
        fault.start(self.cluster)
        self.active.append(fault)

    def stop_fault(self, fault: Fault) -> None:
        try:
            fault.stop(self.cluster)
        finally:
            self.active.remove(fault)
            self.record("stop", fault.describe())

    def run(self, schedule: Schedule) -> None:
        """Play the schedule in a background thread, starting now. Steps may overlap: each starts at its
        offset and stops when its own window ends, whatever else is running."""
        started = time.monotonic()
        # at one instant a stop goes before a start (order 0, 1), but a step with no window stops after
        # its own start (order 2), not before it (which left it running until heal)
        events = sorted([(s.at_s, 1, i, s) for i, s in enumerate(schedule)] +
                        [(s.at_s + s.duration_s, 0 if s.duration_s > 0 else 2, i, s) for i, s in enumerate(schedule)],
                        key=lambda e: (e[0], e[1], e[2]))

        def play() -> None:
            begun: set[int] = set()
            try:
                for at, order, index, step in events:
                    if self._cancel.wait(max(0.0, started + at - time.monotonic())):
                        return
                    if order == 1:   # a start
                        self.start_fault(step.fault)
                        begun.add(index)
                    elif index in begun and step.fault in self.active:
                        self.stop_fault(step.fault)
            except BaseException as exc:  # reported by join(); the faults are healed there
                self.error = exc

        self._thread = threading.Thread(target=play, name="nemesis", daemon=True)
        self._thread.start()

    def join(self, timeout_s: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self.error is not None:
            raise RuntimeError(f"the nemesis failed: {self.error}") from self.error

    def heal(self) -> None:
        """Stop the schedule and every active fault; then clear every toxic and re-enable every link."""
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(60)
        for fault in list(reversed(self.active)):
            self.stop_fault(fault)
        if self.cluster.toxiproxy is not None:
            self.cluster.toxiproxy.reset()
        for instance in list(self.cluster.instances.values()):
            self.cluster.unpause(instance.name)
