"""A drill's runbook: markdown a person reads, with ``chaos`` blocks the engine runs.

The shape::

    # Title
    ## Situation
    prose
    ## Step 1 — title
    prose, and fenced blocks of commands:
    ```chaos
    workload start invoices clients=6 seconds=30
    fault partition api_1->redis
    ```
    ## What to watch
    ## What safe behaviour looks like

Commands, one a line (``#`` starts a comment):

- ``workload start <kind> [clients=N] [seconds=S] [k=v ...]`` / ``workload wait``
- ``fault <kind> <target> [k=v ...]`` (the fault grammar, ``*`` patterns allowed)
- ``heal <target>`` (a link, an instance with all its links, or a pattern) / ``heal --all``
- ``scale <api|worker> <n|+n|-n>``
- ``sleep <seconds>``
- ``watch flower`` / ``watch lb`` / ``watch logs <instance>``

Everything is checked when the file is read, so a broken runbook fails in
``chaos drill list`` and in the unit tests, not halfway through a drill with
containers paused. Errors name the file and the line.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chaos.drills.workloads import WORKLOADS, Number, WorkloadError
from chaos.errors import ChaosError
from chaos.nemesis.grammar import FaultSpec, GrammarError, is_instance, is_link, normalise_target, parse_spec

RUNBOOKS = Path(__file__).resolve().parent / "runbooks"
SITUATION, WATCH, SAFE = "situation", "what to watch", "what safe behaviour looks like"
SECTIONS = {SITUATION: SITUATION, WATCH: WATCH, SAFE: SAFE, "what safe behavior looks like": SAFE}
STEP = re.compile(r"^step\s+(?P<number>\d+)\s*(?:[—–:-]+\s*(?P<title>.*))?$", re.IGNORECASE)
FENCE = re.compile(r"^(`{3,}|~{3,})\s*(?P<info>\S*)")
WATCHABLE = ("flower", "lb", "logs")
LOG_TARGETS = re.compile(r"^(?:(?:api|worker)_\d+|redis|postgres|toxiproxy|flower|lb)$")
MAX_SLEEP_S = 600.0


class RunbookError(ChaosError, ValueError):
    """``<file>:<line>: <problem>``, one line."""


# the commands, as parsed


@dataclass(frozen=True)
class Command:
    line: int
    text: str


@dataclass(frozen=True)
class WorkloadStart(Command):
    kind: str
    params: Mapping[str, Number]


@dataclass(frozen=True)
class WorkloadWait(Command):
    pass


@dataclass(frozen=True)
class FaultStart(Command):
    spec: FaultSpec


@dataclass(frozen=True)
class Heal(Command):
    target: str | None   # None: everything


@dataclass(frozen=True)
class Scale(Command):
    service: str
    count: int
    relative: bool       # "+2" / "-1" against the count when the step runs


@dataclass(frozen=True)
class Sleep(Command):
    seconds: float


@dataclass(frozen=True)
class Watch(Command):
    what: str            # flower / lb / logs
    instance: str | None = None


@dataclass
class Step:
    number: int
    title: str
    line: int
    prose: str = ""
    commands: list[Command] = field(default_factory=list)


@dataclass
class Runbook:
    name: str
    path: Path
    title: str
    situation: str
    steps: list[Step]
    watch: str
    safe: str

    @property
    def headline(self) -> str:
        """The situation's first sentence: what ``chaos drill list`` shows."""
        text = " ".join(self.situation.split())
        match = re.match(r"(.+?[.!?])(\s|$)", text)
        return match.group(1) if match else text

    def commands(self) -> list[Command]:
        return [command for step in self.steps for command in step.commands]


# reading


def load(path: Path) -> Runbook:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RunbookError(f"{path}: cannot read it ({exc.strerror})") from None
    return parse(text, path)


def load_all(folder: Path = RUNBOOKS) -> dict[str, Runbook]:
    return {runbook.name: runbook for runbook in map(load, sorted(Path(folder).glob("*.md")))}


def parse(text: str, path: Path) -> Runbook:
    return _Parser(path).parse(text)


class _Parser:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.title: str | None = None
        self.sections: dict[str, list[str]] = {}
        self.steps: list[Step] = []
        self.current: list[str] | None = None   # the prose lines being collected
        self.step: Step | None = None

    def error(self, line: int, problem: str) -> RunbookError:
        return RunbookError(f"{self.path}:{line}: {problem}")

    def parse(self, text: str) -> Runbook:
        lines = text.splitlines()
        fence: tuple[int, str, str] | None = None   # (line, marker, info) of the open fence
        for number, raw in enumerate(lines, start=1):
            line = raw.rstrip()
            if fence is not None:
                if line.strip().startswith(fence[1]) and line.strip() == fence[1][0] * len(line.strip()):
                    if fence[2] != "chaos":
                        self._prose(raw)
                    fence = None
                elif fence[2] == "chaos":
                    self._command(number, line)
                else:
                    self._prose(raw)
                continue
            opening = FENCE.match(line.strip())
            if opening:
                fence = (number, opening.group(1), opening.group("info").lower())
                if fence[2] == "chaos" and self.step is None:
                    raise self.error(number, "a chaos block outside a '## Step N — title' section")
                if fence[2] != "chaos":
                    self._prose(raw)
                continue
            if line.startswith("# "):
                if self.title is not None:
                    raise self.error(number, "a second '# ' title; sections are '## ...'")
                self.title = line[2:].strip()
                continue
            if line.startswith("## "):
                self._heading(number, line[3:].strip())
                continue
            if self.title is None and line.strip():
                raise self.error(number, "the runbook must begin with its '# Title'")
            self._prose(raw)
        if fence is not None:
            raise self.error(fence[0], f"this {fence[1]} block is never closed")
        return self._finish(len(lines))

    def _heading(self, number: int, heading: str) -> None:
        if self.title is None:
            raise self.error(number, "the runbook must begin with its '# Title'")
        step = STEP.match(heading)
        if step:
            expected = len(self.steps) + 1
            if int(step["number"]) != expected:
                raise self.error(number, f"step {step['number']} where step {expected} was expected")
            if not (step["title"] or "").strip():
                raise self.error(number, f"step {expected} has no title: '## Step {expected} — what it does'")
            if WATCH in self.sections or SAFE in self.sections:
                raise self.error(number, "steps come before 'What to watch' and 'What safe behaviour looks like'")
            self.step = Step(expected, step["title"].strip(), number)
            self.steps.append(self.step)
            self.current = []
            return
        section = SECTIONS.get(heading.lower().rstrip(":"))
        if section is None:
            raise self.error(number, f"unknown section {heading!r}; sections: Situation, Step N — title, "
                                     "What to watch, What safe behaviour looks like")
        if section in self.sections:
            raise self.error(number, f"a second '{heading}' section")
        if section == SITUATION and self.steps:
            raise self.error(number, "the Situation comes before the steps")
        self.step = None
        self.current = self.sections[section] = []

    def _prose(self, raw: str) -> None:
        if self.step is not None:
            self.step.prose += raw + "\n"
        elif self.current is not None:
            self.current.append(raw)

    def _command(self, number: int, line: str) -> None:
        assert self.step is not None
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise self.error(number, f"cannot split {line.strip()!r} into words ({exc})") from None
        if not words:
            return
        try:
            self.step.commands.append(command(words, number, " ".join(words)))
        except (GrammarError, WorkloadError, ValueError) as exc:
            raise self.error(number, str(exc)) from None

    def _finish(self, last_line: int) -> Runbook:
        if self.title is None:
            raise self.error(1, "the runbook is empty; it must begin with its '# Title'")
        for section, heading in ((SITUATION, "## Situation"), (WATCH, "## What to watch"),
                                 (SAFE, "## What safe behaviour looks like")):
            if not "\n".join(self.sections.get(section, [])).strip():
                raise self.error(last_line, f"no '{heading}' section (or it is empty)")
        if not self.steps:
            raise self.error(last_line, "no '## Step 1 — title' section")
        for step in self.steps:
            step.prose = step.prose.strip("\n")
        _check_order(self.path, self.steps)
        return Runbook(self.path.stem, self.path, self.title, _text(self.sections[SITUATION]), self.steps,
                       _text(self.sections[WATCH]), _text(self.sections[SAFE]))


def _text(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")


def _check_order(path: Path, steps: list[Step]) -> None:
    """A wait needs a workload started before it; one workload of a kind runs at a time."""
    running: set[str] = set()
    for step in steps:
        for cmd in step.commands:
            if isinstance(cmd, WorkloadStart):
                if cmd.kind in running:
                    raise RunbookError(f"{path}:{cmd.line}: workload {cmd.kind} is already running; "
                                       "'workload wait' for it first")
                running.add(cmd.kind)
            elif isinstance(cmd, WorkloadWait):
                if not running:
                    raise RunbookError(f"{path}:{cmd.line}: 'workload wait' with no workload started before it")
                running.clear()


# one command line


COMMANDS = ("workload start <kind> [k=v ...]", "workload wait", "fault <kind> <target> [k=v ...]",
            "heal <target> | heal --all", "scale <api|worker> <n|+n|-n>", "sleep <seconds>",
            "watch flower | watch lb | watch logs <instance>")


def command(words: list[str], line: int, text: str) -> Command:
    """One command from its words; ValueError (one line) when it is not one."""
    verb, *rest = words
    if verb == "workload":
        return _workload(rest, line, text)
    if verb == "fault":
        return FaultStart(line, text, parse_spec(rest))
    if verb == "heal":
        return _heal(rest, line, text)
    if verb == "scale":
        return _scale(rest, line, text)
    if verb == "sleep":
        return _sleep(rest, line, text)
    if verb == "watch":
        return _watch(rest, line, text)
    raise ValueError(f"unknown command {verb!r}; commands: {'; '.join(COMMANDS)}")


def _workload(rest: list[str], line: int, text: str) -> Command:
    if rest == ["wait"]:
        return WorkloadWait(line, text)
    if len(rest) >= 2 and rest[0] == "start":
        kind = rest[1]
        if kind not in WORKLOADS:
            raise ValueError(f"unknown workload {kind!r}; workloads: {', '.join(WORKLOADS)}")
        return WorkloadStart(line, text, kind, WORKLOADS[kind].parse_params(rest[2:]))
    raise ValueError(f"'workload {' '.join(rest)}': say 'workload start <kind> [k=v ...]' or 'workload wait'")


def _heal(rest: list[str], line: int, text: str) -> Command:
    if rest == ["--all"]:
        return Heal(line, text, None)
    if len(rest) == 1:
        target = normalise_target(rest[0])
        if is_link(target) or is_instance(target):
            return Heal(line, text, target)
    raise ValueError(f"'heal {' '.join(rest)}': say 'heal <link or instance>' (e.g. heal api_1->redis, heal "
                     "worker_1, heal api_*->postgres) or 'heal --all'")


def _scale(rest: list[str], line: int, text: str) -> Command:
    if len(rest) == 2 and rest[0] in ("api", "worker") and re.fullmatch(r"[+-]?[0-9]+", rest[1]):
        relative = rest[1][0] in "+-"
        count = int(rest[1])
        if not relative and count < 1:
            raise ValueError(f"scale {rest[0]} {rest[1]}: at least one instance must run")
        return Scale(line, text, rest[0], count, relative)
    raise ValueError(f"'scale {' '.join(rest)}': say 'scale <api|worker> <n>' or a change like 'scale api +2'")


def _sleep(rest: list[str], line: int, text: str) -> Command:
    if len(rest) == 1:
        try:
            seconds = float(rest[0])
        except ValueError:
            seconds = -1.0
        if 0 <= seconds <= MAX_SLEEP_S:
            return Sleep(line, text, seconds)
    raise ValueError(f"'sleep {' '.join(rest)}': say 'sleep <seconds>' with 0 to {MAX_SLEEP_S:.0f} seconds")


def _watch(rest: list[str], line: int, text: str) -> Command:
    if rest in (["flower"], ["lb"]):
        return Watch(line, text, rest[0])
    if len(rest) == 2 and rest[0] == "logs" and LOG_TARGETS.match(rest[1]):
        return Watch(line, text, "logs", rest[1])
    raise ValueError(f"'watch {' '.join(rest)}': say 'watch flower', 'watch lb' or 'watch logs <instance>' "
                     "(api_N, worker_N, redis, postgres, toxiproxy, flower, lb)")
