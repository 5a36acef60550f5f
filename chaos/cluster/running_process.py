"""One process of an already-running target, found as its profile says: a pid file or a command printing
pids (``run.running.processes``), and with ``tree`` their descendants.

Pause is SIGSTOP and SIGCONT, kill is SIGKILL, stop is SIGTERM (then
SIGKILL), starting again runs the profile's restart command (detached, its
output in ``$TMPDIR/chaos-restart-<name>.log``), and health is its port
accepting connections. Signals go to the pids given and their descendants,
never to processes found by name: a fault must not reach a stranger.
"""
from __future__ import annotations

import os
import signal as signals
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chaos.cluster.errors import ClusterError, UnsupportedFault
from chaos.target.model import RunningProcess as ProcessSpec

PID_COMMAND_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
POLL_S = 0.1


class RunningProcess:
    """One process of a running target (an instance, redis or postgres), as far as the profile lets the
    suite see it. ``status`` is ``running``, ``paused`` (every pid stopped) or ``exited`` (no pid alive),
    like a container's; without a way to find its pid it is always ``running`` (the suite cannot tell)."""

    def __init__(self, name: str, spec: ProcessSpec | None, address: tuple[str, int] | None,
                 environment: dict[str, str] | None = None) -> None:
        self.name = name
        self.spec = spec
        self.address = address          # where it accepts connections, for wait_healthy
        self.environment = environment or {}   # what the restart command gets over the suite's own
        self.status = "running"
        self.attrs: dict[str, Any] = {"NetworkSettings": {"Networks": {}}}
        self.restarted: list[subprocess.Popen[bytes]] = []

    def __repr__(self) -> str:
        return f"RunningProcess({self.name!r}, {self.status})"

    # finding it

    def pids(self) -> list[int]:
        """The pids the profile names now (re-read every time: a restart writes a new pid file), then, with
        ``tree``, their descendants; empty when none is alive."""
        if self.spec is None:
            raise UnsupportedFault(f"cannot signal {self.name}: the target is already running (run.running) and its "
                                   f"profile does not say how to find its process "
                                   f"(run.running.processes.{self.name}.pid_file or pid_command)")
        roots = [pid for pid in self._named_pids() if _alive(pid)]
        if self.spec.tree:
            roots += [pid for pid in _descendants(roots) if pid not in roots]
        return roots

    def _named_pids(self) -> list[int]:
        assert self.spec is not None
        if self.spec.pid_file is not None:
            try:
                text = self.spec.pid_file.read_text(encoding="utf-8")
            except OSError:
                return []   # not written (yet): nothing of it is running
            where = f"pid file {self.spec.pid_file}"
        else:
            try:
                done = subprocess.run(list(self.spec.pid_command), capture_output=True, text=True,
                                      timeout=PID_COMMAND_TIMEOUT_S, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise ClusterError(f"pid_command of {self.name} {list(self.spec.pid_command)} could not run: "
                                   f"{exc}") from exc
            text = done.stdout
            where = f"pid_command of {self.name} {list(self.spec.pid_command)}"
        pids = []
        for word in text.split():
            if not word.isdigit() or int(word) <= 1 or int(word) == os.getpid():
                raise ClusterError(f"{where} gave {word!r}: not the pid of {self.name} (a number > 1, not the "
                                   "suite's own)")
            pids.append(int(word))
        return pids

    def reload(self) -> None:
        self._reap()
        if self.spec is None:
            self.status = "running"
            return
        states = [_state(pid) for pid in self.pids()]
        states = [s for s in states if s not in (None, "Z", "X")]
        if not states:
            self.status = "exited"
        elif all(s in ("T", "t") for s in states):
            self.status = "paused"
        else:
            self.status = "running"

    # acting on it

    def signal(self, signum: int) -> list[int]:
        """Send ``signum`` to its pids (the named ones first, then descendants); the pids signalled."""
        pids = self.pids()
        if not pids:
            raise ClusterError(f"{self.name} is not running (no live pid from "
                               f"{self._source()}); nothing to signal")
        for pid in pids:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass   # a worker that ended in between
        return pids

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM, then SIGKILL what is left after ``timeout_s``."""
        pids = self.signal(signals.SIGTERM)
        self._cont(pids)   # a paused process cannot act on SIGTERM
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
            self._reap()
            time.sleep(POLL_S)
        for pid in pids:
            if _alive(pid):
                try:
                    os.kill(pid, signals.SIGKILL)
                except ProcessLookupError:
                    pass
        self._reap()

    def start(self) -> None:
        """Run the restart command (detached: it outlives the suite, as the target did before it)."""
        assert self.spec is not None
        self.reload()
        if self.status != "exited":
            return   # still (or already again) running: as docker start on a running container
        self.require_restart()
        log = open(self.log_file, "ab")  # noqa: SIM115 - handed to the child, closed here
        try:
            self.restarted.append(subprocess.Popen(list(self.spec.restart), stdin=subprocess.DEVNULL, stdout=log,
                                                   stderr=log, start_new_session=True,
                                                   env={**os.environ, **self.environment}))
        except OSError as exc:
            raise ClusterError(f"restart command of {self.name} {list(self.spec.restart)} could not run: "
                               f"{exc}") from exc
        finally:
            log.close()

    def require_restart(self) -> None:
        if self.spec is None or not self.spec.restart:
            raise UnsupportedFault(f"cannot start {self.name} again: the target is already running (run.running) "
                                   f"and its profile gives no restart command (run.running.processes.{self.name}."
                                   "restart)")

    @property
    def log_file(self) -> Path:
        """Where the restart command's output goes."""
        return Path(tempfile.gettempdir()) / f"chaos-restart-{self.name}.log"

    def wait_healthy(self, timeout_s: float) -> None:
        """Until its port accepts a connection (and, when its pids are known, one of them is alive)."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._reap()
            if self._accepts() and (self.spec is None or self.pids()):
                return
            if time.monotonic() >= deadline:
                where = f"{self.address[0]}:{self.address[1]}" if self.address else "its port"
                raise ClusterError(f"{self.name} did not accept connections on {where} within {timeout_s:.0f} s "
                                   f"(a restart command's output: {self.log_file})")
            time.sleep(POLL_S)

    def _accepts(self) -> bool:
        if self.address is None:
            return True
        try:
            with socket.create_connection(self.address, timeout=1.0):
                return True
        except OSError:
            return False

    def _cont(self, pids: Sequence[int]) -> None:
        for pid in pids:
            try:
                os.kill(pid, signals.SIGCONT)
            except ProcessLookupError:
                pass

    def _reap(self) -> None:
        """Collect restarted commands that ended (the suite is their parent: unreaped, they linger as zombies)."""
        self.restarted = [p for p in self.restarted if p.poll() is None]

    def _source(self) -> str:
        assert self.spec is not None
        return f"pid file {self.spec.pid_file}" if self.spec.pid_file else f"pid_command {list(self.spec.pid_command)}"


def _state(pid: int) -> str | None:
    """The kernel's one-letter state of ``pid`` (R, S, T, Z...), None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()[0]


def _alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X")


def _descendants(roots: Sequence[int]) -> list[int]:
    """Every process below ``roots`` (children, their children...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[0] not in ("Z", "X"):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found and child not in roots:
                found.append(child)
                todo.append(child)
    return found
