"""The one fault grammar: ``<kind> <target> [k=v ...]``, for ``chaos fault`` and the drills' runbooks.

Words go in, the existing fault objects come out, so a fault typed by an
operator, one written in a runbook and one in a scenario are the same thing
and are recorded in the history the same way. Whether a target exists is the
cluster's business when the fault is applied (``Cluster.container`` lists
what does); the grammar only knows the shapes of names.

A target may name several parties with ``*`` (``api_*->postgres``,
``worker_*``): ``parse_spec`` keeps the pattern and ``FaultSpec.faults``
expands it against the instances running at that moment, which a runbook
cannot know when it is written.
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from chaos.errors import ChaosError
from chaos.nemesis.fault import Fault
from chaos.nemesis.link_faults import Partition, Toxic, bandwidth, latency, reset_peer
from chaos.nemesis.data_faults import Exhaust, Forget
from chaos.nemesis.process_faults import Disconnect, Kill, Pause, Restart


class GrammarError(ChaosError, ValueError):
    """One line: what is wrong with the fault as written, and what is allowed."""


@dataclass(frozen=True)
class Param:
    name: str
    unit: str
    required: bool = False
    default: int = 0


@dataclass(frozen=True)
class Kind:
    """A fault kind: whether it takes a link or an instance, its parameters, how to build it."""

    name: str
    on_link: bool
    build: Callable[[str, Mapping[str, int]], Fault]
    params: tuple[Param, ...] = ()
    targets: str = ""        # instance kinds: which instances make sense (a regular expression)
    shape: str = ""          # ... in words, for the error (default: INSTANCE_SHAPES)
    why: str = ""            # instance kinds: why the others do not
    example: str = ""
    help: str = ""

    def allowed(self) -> str:
        if not self.params:
            return "no parameters"
        return ", ".join(f"{p.name}=<{p.unit}>{'' if p.required else f' (default {p.default})'}"
                         for p in self.params)


PARTY = r"(?:api|worker)_(?:\d+|\*)"
LINK = re.compile(rf"^(?P<party>{PARTY}|client)(?:->|:)(?P<dependency>redis|postgres|api_(?:\d+|\*))$")
API_OR_WORKER = rf"^{PARTY}$"
ANY_INSTANCE = rf"^(?:{PARTY}|redis|postgres)$"
INSTANCE_SHAPES = "api_N, worker_N, redis or postgres"
FAMILY_SHAPE = r"^(?!(?:api|worker)_)(?!(?:redis|postgres)$)[a-z][a-z0-9_]*$"   # a family, never an instance
LINK_SHAPES = ("<party>-><dependency> (or <party>:<dependency>): api_N or worker_N to redis or postgres, "
               "or client to api_N")

KINDS: Mapping[str, Kind] = MappingProxyType({kind.name: kind for kind in (
    Kind("partition", True, lambda target, _: Partition(target),
         example="partition api_1->redis", help="the link refuses and drops every connection"),
    Kind("latency", True, lambda target, p: latency(target, p["ms"], p["jitter"]),
         (Param("ms", "milliseconds", required=True), Param("jitter", "milliseconds")),
         example="latency api_*->postgres ms=300 jitter=50", help="every reply on the link is delayed"),
    Kind("bandwidth", True, lambda target, p: bandwidth(target, p["rate"]),
         (Param("rate", "KB/s", required=True),),
         example="bandwidth worker_1->redis rate=10", help="replies trickle at that rate"),
    Kind("reset-peer", True, lambda target, p: reset_peer(target, p["after"]),
         (Param("after", "milliseconds"),),
         example="reset-peer client->api_2 after=500", help="connections are reset (RST) after that long"),
    Kind("timeout", True, lambda target, p: Toxic(target, "timeout", {"timeout": p["ms"]}),
         (Param("ms", "milliseconds"),),
         example="timeout worker_2:postgres ms=2000",
         help="data stops; the connection closes after ms (0: held open, silent, until healed)"),
    Kind("pause", False, lambda target, _: Pause(target), targets=ANY_INSTANCE,
         example="pause api_1", help="docker pause: frozen mid-instruction, keeping its locks and connections"),
    Kind("kill", False, lambda target, _: Kill(target), targets=API_OR_WORKER, shape="api_N or worker_N",
         why="a killed redis or postgres would stay down until healed: restart it (it comes back at once)",
         example="kill worker_1", help="SIGKILL; healing starts it again and waits until it is healthy"),
    Kind("restart", False, lambda target, _: Restart(target), targets=ANY_INSTANCE,
         example="restart redis",
         help="SIGKILL and start again at once: redis comes back empty, postgres drops every transaction"),
    Kind("forget", False, lambda target, _: Forget(target), targets=FAMILY_SHAPE,
         shape="a key family of the profile (run.containerised.redis_keys), e.g. locks",
         example="forget idempotency",
         help="Redis deletes one family of keys (locks, idempotency, queue...) and keeps running"),
    Kind("exhaust", False, lambda target, _: Exhaust(target), targets=r"^postgres$", shape="postgres",
         example="exhaust postgres",
         help="every free connection taken and held: whatever needs a new one is refused until healed"),
    Kind("disconnect", False, lambda target, _: Disconnect(target), targets=ANY_INSTANCE,
         example="disconnect worker_2", help="the container leaves the network: every peer connection breaks"),
)})


def _shell_safe(example: str) -> str:
    return " ".join(f"'{w}'" if "*" in w else w for w in example.replace("->", ":").split())


def _kind_lines(on_link: bool) -> list[str]:
    return [line for kind in KINDS.values() if kind.on_link == on_link
            for line in (f"  {kind.name:<11} {kind.allowed()}", f"  {'':<11} {kind.help}")]


FAULT_HELP = "\n".join([
    "Faults: <kind> <target> [k=v ...]",
    "",
    "Link kinds take a link: <party>-><dependency>, or <party>:<dependency> in a shell (where '>'",
    "redirects); api_N and worker_N reach redis and postgres, client reaches api_N. '*' names every",
    "instance, e.g. api_*->postgres.",
    *_kind_lines(True),
    "",
    f"Instance kinds take an instance: {INSTANCE_SHAPES} (kill: api_N or worker_N only; forget: a key family).",
    *_kind_lines(False),
    "",
    "Examples (in a shell; a runbook writes api_1->redis and needs no quotes):",
    *(f"  chaos fault {_shell_safe(k.example)}" for k in KINDS.values()),
])


@dataclass(frozen=True)
class FaultSpec:
    """A parsed fault whose target may still be a pattern (``api_*->redis``)."""

    kind: str
    target: str
    params: Mapping[str, int] = field(default_factory=dict)

    @property
    def is_pattern(self) -> bool:
        return "*" in self.target

    @property
    def text(self) -> str:
        """The canonical words: what the narration echoes and what parses back to this spec."""
        return " ".join([self.kind, self.target, *(f"{k}={v}" for k, v in self.params.items())])

    def fault(self) -> Fault:
        if self.is_pattern:
            raise GrammarError(f"{self.target!r} names several instances; expand it with the running ones "
                               "(FaultSpec.faults) or name one, e.g. api_1")
        return KINDS[self.kind].build(self.target, self.params)

    def faults(self, instances: Iterable[str]) -> list[Fault]:
        """One fault per target the pattern matches among ``instances`` (names like ``api_2``)."""
        if not self.is_pattern:
            return [self.fault()]
        targets = expand(self.target, instances)
        if not targets:
            raise GrammarError(f"{self.target!r} matches no running instance; running: "
                               f"{', '.join(sorted(instances)) or 'none'}")
        return [KINDS[self.kind].build(target, self.params) for target in targets]


def parse_spec(words: Sequence[str]) -> FaultSpec:
    """The grammar itself; ``*`` patterns are allowed and kept."""
    if not words:
        raise GrammarError(f"a fault needs a kind and a target, e.g. 'latency api_1->redis ms=200'; kinds: "
                           f"{', '.join(KINDS)}")
    name, *rest = words
    kind = KINDS.get(name) or KINDS.get(name.replace("_", "-"))
    if kind is None:
        raise GrammarError(f"unknown fault kind {name!r}; kinds: {', '.join(KINDS)}")
    positional = [w for w in rest if "=" not in w]
    target = _target(kind, positional)
    return FaultSpec(kind.name, target, _params(kind, [w for w in rest if "=" in w]))


def parse_fault(words: Sequence[str]) -> Fault:
    """One fault on one named target, e.g. ``["latency", "api_1->redis", "ms=200"]``."""
    return parse_spec(words).fault()


def parse_faults(words: Sequence[str], instances: Iterable[str]) -> list[Fault]:
    """Like ``parse_fault``, with ``*`` expanded against the running ``instances``."""
    return parse_spec(words).faults(instances)


def normalise_target(target: str) -> str:
    """``api_1:redis`` -> ``api_1->redis``; instance names unchanged."""
    match = LINK.match(target)
    return f"{match['party']}->{match['dependency']}" if match else target


def is_link(target: str) -> bool:
    return LINK.match(target) is not None


def is_instance(target: str) -> bool:
    return re.match(ANY_INSTANCE, target) is not None


def expand(pattern: str, instances: Iterable[str]) -> list[str]:
    """Targets a pattern names among running instances: ``api_*->redis`` -> ``api_1->redis``, ...

    Only the party or the dependency may be a pattern, and it matches whole instance names."""
    names = sorted(set(instances), key=_order)
    match = LINK.match(pattern)
    if match is None:
        return [name for name in names if fnmatch.fnmatchcase(name, pattern)]
    parties = [p for p in names if fnmatch.fnmatchcase(p, match["party"])] if "*" in match["party"] \
        else [match["party"]]
    dependencies = [d for d in names if fnmatch.fnmatchcase(d, match["dependency"])] \
        if "*" in match["dependency"] else [match["dependency"]]
    return [f"{p}->{d}" for p in parties for d in dependencies]


def _order(name: str) -> tuple[str, int]:
    service, _, number = name.rpartition("_")
    return (service, int(number)) if number.isdigit() else (name, 0)


def _target(kind: Kind, positional: list[str]) -> str:
    if not positional:
        shape = LINK_SHAPES if kind.on_link else INSTANCE_SHAPES
        raise GrammarError(f"{kind.name} needs a target ({shape}), e.g. '{kind.example}'")
    # "api_1 -> redis" typed with spaces is still one link
    if len(positional) == 3 and positional[1] in ("->", ":"):
        positional = ["".join(positional)]
    if len(positional) > 1:
        raise GrammarError(f"{kind.name} takes one target, not {' '.join(positional)!r}; parameters are "
                           f"k=v ({kind.allowed()})")
    target = positional[0]
    if kind.on_link:
        if LINK.match(target) is None:
            what = "an instance" if is_instance(target) else "not a link"
            raise GrammarError(f"{kind.name} takes a link, and {target!r} is {what}; links are {LINK_SHAPES}, "
                               f"e.g. '{kind.example}'")
        match = LINK.match(target)
        assert match is not None
        client, to_api = match["party"] == "client", match["dependency"].startswith("api_")
        if client != to_api:
            raise GrammarError(f"no link {target!r}: api_N and worker_N reach redis and postgres, and client "
                               f"reaches api_N, e.g. 'client->api_1'")
        return normalise_target(target)
    if is_link(target):
        raise GrammarError(f"{kind.name} takes {kind.shape or f'an instance ({INSTANCE_SHAPES})'}, not the link "
                           f"{target!r}; to cut a link use partition")
    if re.match(kind.targets, target) is None:
        why = f": {kind.why}" if kind.why and is_instance(target) else ""
        allowed = kind.shape or INSTANCE_SHAPES
        raise GrammarError(f"{kind.name} takes {allowed}, not {target!r}{why}")
    return target


def _params(kind: Kind, words: list[str]) -> dict[str, int]:
    known = {p.name: p for p in kind.params}
    given: dict[str, int] = {}
    for word in words:
        name, _, value = word.partition("=")
        if name not in known:
            raise GrammarError(f"{kind.name} takes {kind.allowed()}; not {name + '=' if name else word!r}")
        if name in given:
            raise GrammarError(f"{kind.name}: {name}= is given twice")
        if re.fullmatch(r"[0-9]+", value) is None:
            raise GrammarError(f"{kind.name}: {name}= must be a whole number of {known[name].unit} (>= 0), "
                               f"not {value!r}")
        given[name] = int(value)
    for param in kind.params:
        if param.name not in given:
            if param.required:
                raise GrammarError(f"{kind.name} needs {param.name}=<{param.unit}>, e.g. '{kind.example}'")
            given[param.name] = param.default
    return {p.name: given[p.name] for p in kind.params}
