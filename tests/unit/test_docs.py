"""Every example in README.md and docs/*.md still runs as written.

The pages are read, not trusted: each relative link must lead to a file
(and heading) that exists, each backticked repository path must exist,
each `make X` must be a Makefile target, each `chaos ...` command in a code
block must parse with the real command line (click's own parser, nothing is
executed), the command table's options must be the commands' options, and
each `python benchmarks/X.py ...` must name a script whose ``--help`` lists
its options. ``test_the_checker_rejects_what_is_broken`` feeds a page of
broken examples through the same checker, so these tests can fail.
"""
from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP_DIRS = {".venv", ".cache", ".git", "reports", ".hypothesis", "billing_chaos.egg-info", "__pycache__"}
# top-level folders and files of the repository: a backticked path starting with one of them is a repository path
# (reports/ is what runs write, not part of the repository)
TOP = {p.name for p in ROOT.iterdir() if p.name not in SKIP_DIRS}
FILE_SUFFIXES = (".py", ".yaml", ".yml", ".md", ".cfg", ".toml", ".ini", ".png", ".sh")
# bare file names the pages use for files a reader writes, not files of the repository
EXAMPLE_FILES = {"my-service.yaml", "my-target.compose.yaml", "my.yaml"}
SHELL_LANGS = {"", "sh", "bash", "shell", "console"}
# placeholders in commands, and the sample words that stand for them when parsing
SAMPLES = {"<run>": "20261130-070521", "<run-id>": "20261130-070521", "<file>": "browse_and_subscribe.py",
           "<lb URL>": "http://127.0.0.1:8080"}


@dataclass
class Found:
    """What one page refers to, each with its line number."""

    links: list[tuple[int, str]] = field(default_factory=list)
    paths: list[tuple[int, str]] = field(default_factory=list)
    makes: list[tuple[int, str]] = field(default_factory=list)
    commands: list[tuple[int, list[str]]] = field(default_factory=list)   # chaos commands in code blocks
    table_commands: list[tuple[int, str]] = field(default_factory=list)  # chaos commands in the command table
    inline_commands: list[tuple[int, str]] = field(default_factory=list)  # `chaos ...` spans in prose
    benchmarks: list[tuple[int, str]] = field(default_factory=list)      # "benchmarks/X.py --opt ..."
    modules: list[tuple[int, str]] = field(default_factory=list)         # python -m X


# reading a page

FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")


def split_page(text: str) -> tuple[list[tuple[int, str, list[tuple[int, str]]]], list[tuple[int, str]]]:
    """(fenced blocks as (first line number, language, [(line number, line)]), prose lines outside them).

    Indented code (four spaces after a blank line) counts as an unnamed shell block."""
    blocks, prose, current, fence = [], [], None, ""
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        match = FENCE.match(line)
        if current is None and match:
            fence, current = match.group(2), (number, match.group(3).lower(), [])
        elif current is not None and line.strip().startswith(fence[:3]) and line.strip().strip(fence[0]) == "":
            blocks.append(current)
            current = None
        elif current is not None:
            current[2].append((number, line))
        elif line.startswith("    ") and line.strip() and not line.lstrip().startswith(("-", "|", "*")) \
                and number > 1 and (not lines[number - 2].strip() or lines[number - 2].startswith("    ")):
            blocks.append((number, "", [(number, line[4:])]))
        else:
            prose.append((number, line))
    return blocks, prose


def command_lines(language: str, lines: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """The command lines of a shell block: all of a sh block, only the `$ ` lines of a console block
    (the rest is output); a trailing backslash joins the next line."""
    pending, start = "", 0
    for number, line in lines:
        if not pending:
            if language == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            start = number
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        yield start, pending + line
        pending = ""
    if pending:
        yield start, pending


def words_of(line: str) -> list[str]:
    """Shell words without comments, leading VAR=value assignments, or a trailing `&`; placeholders replaced."""
    for placeholder, sample in SAMPLES.items():
        line = line.replace(placeholder, sample)
    words = shlex.split(line, comments=True)
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
        words.pop(0)
    while words and words[-1] in {"&", ";"}:
        words.pop()
    return words


def inline_spans(prose: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    for number, line in prose:
        for span in re.findall(r"(?<!`)`([^`]+)`(?!`)", line):
            yield number, span


def find(text: str) -> Found:
    found = Found()
    blocks, prose = split_page(text)
    prose_text = "\n".join(line for _, line in prose)
    for number, line in prose:
        for target in re.findall(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", line):
            if not re.match(r"[a-z]+:", target):
                found.links.append((number, target))
    in_command_table = False
    for number, line in prose:
        if re.match(r"\|\s*command\s*\|", line):
            in_command_table = True
        elif not line.startswith("|"):
            in_command_table = False
        elif in_command_table and not line.startswith("|---"):
            first = re.split(r"(?<!\\)\|", line)[1]
            found.table_commands += [(number, span) for span in re.findall(r"`([^`]+)`", first)
                                     if span.startswith("chaos ")]
    for number, span in inline_spans(prose):
        if looks_like_path(span):
            found.paths.append((number, span))
        if span.startswith("chaos ") and (number, span) not in found.table_commands:
            found.inline_commands.append((number, span))
        for match in re.finditer(r"(?:^|\s)make\s+([\w-]+)", span):
            found.makes.append((number, match.group(1)))
    for match in re.finditer(r"python\s+(benchmarks/[^\s`]+\.py)([^`\n]*)", prose_text):
        found.benchmarks.append((prose_text[:match.start()].count("\n") + 1, match.group(1) + match.group(2)))
    for _, language, lines in blocks:
        if language not in SHELL_LANGS:
            continue
        for number, line in command_lines(language, lines):
            try:
                words = words_of(line)
            except ValueError:
                continue
            found.paths += [(number, w.split("::")[0]) for w in words if looks_like_path(w)]
            if not words:
                continue
            program, args = Path(words[0]).name, words[1:]
            if program == "chaos":
                found.commands.append((number, args))
            elif program == "make" and args:
                found.makes += [(number, a) for a in args if not a.startswith("-") and "=" not in a]
            elif program in {"python", "python3"} and args:
                if args[0] == "-m" and len(args) > 1:
                    found.modules.append((number, args[1]))
                elif args[0].startswith("benchmarks/"):
                    found.benchmarks.append((number, shlex.join(args)))
    return found


def looks_like_path(word: str) -> bool:
    """A repository path: `chaos/hunt/shrink.py`, `benchmarks/`, `scenarios/test_invoices.py::test_x`,
    or a bare file name with a known suffix; not a URL, an absolute path, a template or a pattern."""
    word = word.split("::")[0]
    if not re.fullmatch(r"\.?[\w.\-/]+", word) or word.startswith("/") or "//" in word:
        return False
    if "/" in word:
        return word.split("/")[0] in TOP
    return word.endswith(FILE_SUFFIXES)


# checking what a page refers to

def headings(path: Path) -> set[str]:
    """The anchors GitHub makes of a page's headings (outside code blocks)."""
    _, prose = split_page(path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for _, line in prose if (m := re.match(r"#{1,6}\s+(.*)", line))}


def slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@functools.cache
def walk() -> tuple[Path, ...]:
    """The repository's files, without the virtual environment, caches, git's store and run reports."""
    files = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        files += [Path(folder, name) for name in names]
    return tuple(files)


@functools.cache
def repository_files() -> dict[str, list[Path]]:
    names: dict[str, list[Path]] = {}
    for path in walk():
        names.setdefault(path.name, []).append(path)
    return names


def link_problem(page: Path, target: str) -> str | None:
    file, _, anchor = target.partition("#")
    destination = (page.parent / file).resolve() if file else page
    if not destination.exists():
        return f"link to {target}: no such file"
    if anchor and destination.suffix == ".md" and anchor not in headings(destination):
        return f"link to {target}: no heading #{anchor} in {destination.name}"
    return None


def path_problem(word: str) -> str | None:
    file, _, test = word.partition("::")
    if file in EXAMPLE_FILES:
        return None
    if "/" in file:
        candidates = [ROOT / file.rstrip("/")]
    else:
        candidates = repository_files().get(file, [])
    existing = [c for c in candidates if c.exists()]
    if not existing:
        return f"path {word}: not in the repository"
    if test and not any(re.search(rf"^\s*(async\s+)?def {re.escape(test)}\(", c.read_text(encoding="utf-8"), re.M)
                        for c in existing):
        return f"path {word}: no test {test} in {file}"
    return None


@functools.cache
def make_targets() -> set[str]:
    return set(re.findall(r"^([\w.-]+)\s*:(?!=)", (ROOT / "Makefile").read_text(), re.M))


def resolve(words: list[str]) -> tuple[click.Command, list[str], click.Context]:
    """Parse `chaos <words>` as the real command line does, to the last subcommand, without running it."""
    from chaos.cli import main

    command: click.Command = main
    ctx = main.make_context("chaos", list(words))
    while isinstance(command, click.Group):
        rest = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        if not rest:
            raise click.UsageError("no command given", ctx)
        name, sub, args = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        command, ctx = sub, sub.make_context(name, args, parent=ctx)
    return command, words, ctx


def command_problem(words: list[str]) -> str | None:
    """None if `chaos <words>` parses, with the checks the commands make before touching anything."""
    from chaos.nemesis.grammar import parse_spec

    shown = shlex.join(["chaos", *words])
    try:
        command, _, ctx = resolve(words)
        path = ctx.command_path.split()[1:]
        if path == ["fault"]:
            parse_spec(ctx.params["words"])
        elif path == ["heal"] and bool(ctx.params["target"]) == ctx.params["everything"]:
            raise click.UsageError("name a TARGET or pass --all (not both)")
        elif path == ["load"]:
            for fault in ctx.params["faults"]:
                parse_spec(shlex.split(fault))
        elif path == ["drill", "run"] and not (ROOT / "chaos/drills/runbooks" / f"{ctx.params['name']}.md").exists():
            raise click.UsageError(f"no drill {ctx.params['name']!r}")
    except click.exceptions.Exit as done:  # --help
        return None if done.exit_code == 0 else f"{shown}: exit {done.exit_code}"
    except (click.ClickException, ValueError) as error:
        message = error.format_message() if isinstance(error, click.ClickException) else str(error)
        return f"{shown}: {message}"
    return None


def synopsis_problem(synopsis: str) -> str | None:
    """A command as the table writes it (`chaos up [--api 5] [--unsafe VARIANT]`): its subcommands must exist
    and every option it names must be one of that command's options."""
    from chaos.cli import main

    words = synopsis.replace("\\|", "|").split()[1:]  # after "chaos"
    command: click.Command = main
    ctx = click.Context(main, info_name="chaos")
    while isinstance(command, click.Group) and words and re.fullmatch(r"[a-z]+", words[0]):
        sub = command.get_command(ctx, words.pop(0))
        if sub is None:
            return f"{synopsis}: no such command"
        command, ctx = sub, click.Context(sub, info_name=sub.name, parent=ctx)
    if isinstance(command, click.Group):  # `chaos drill` in prose names the group
        return f"{synopsis}: options of a group, not of a command" if words else None
    options = {name for param in command.params for name in getattr(param, "opts", [])} | {"--help", "-h"}
    unknown = sorted({o for o in re.findall(r"(?<![\w-])--?[a-z][\w-]*", " ".join(words))} - options)
    return f"{synopsis}: unknown option {', '.join(unknown)}" if unknown else None


@functools.cache
def help_of(script: str) -> str:
    done = subprocess.run([sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    return done.stdout if done.returncode == 0 else ""


def benchmark_problem(command: str) -> str | None:
    script, *rest = command.split()
    if not (ROOT / script).is_file():
        return f"python {command}: no {script}"
    text = help_of(script)
    if not text:
        return f"python {command}: {script} --help failed"
    missing = [o for o in re.findall(r"(?<![\w-])--[a-z][\w-]*", " ".join(rest)) if o not in text]
    return f"python {command}: {script} has no option {', '.join(missing)}" if missing else None


def module_problem(module: str) -> str | None:
    base = ROOT / module.replace(".", "/")
    if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file() or (base / "__main__.py").is_file():
        return None
    try:  # an installed module (pytest, locust ...)
        __import__(module.split(".")[0])
        return None
    except ImportError:
        return f"python -m {module}: no such module"


def problems(page: Path, text: str | None = None) -> list[str]:
    """Everything wrong with one page, each naming its line."""
    found = find(page.read_text(encoding="utf-8") if text is None else text)
    name = page.name if page.parent == ROOT else f"docs/{page.name}"
    checks = [
        *((n, link_problem(page, t)) for n, t in found.links),
        *((n, path_problem(p)) for n, p in found.paths),
        *((n, None if t in make_targets() else f"make {t}: no such Makefile target") for n, t in found.makes),
        *((n, command_problem(words)) for n, words in found.commands),
        *((n, synopsis_problem(s)) for n, s in [*found.table_commands, *found.inline_commands]),
        *((n, benchmark_problem(c)) for n, c in found.benchmarks),
        *((n, module_problem(m)) for n, m in found.modules),
    ]
    return [f"{name}:{n}: {p}" for n, p in checks if p]


# the tests

@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_path_and_command_of_the_page_works(page: Path) -> None:
    assert problems(page) == []


def test_the_pages_refer_to_enough_to_be_worth_checking() -> None:
    found = [find(page.read_text(encoding="utf-8")) for page in PAGES]
    total = {kind: sum(len(getattr(f, kind)) for f in found) for kind in Found.__dataclass_fields__}
    print(total)
    assert total["links"] >= 20 and total["paths"] >= 100 and total["makes"] >= 4
    assert total["commands"] >= 20 and total["table_commands"] >= 15 and total["benchmarks"] >= 3
    readme = find((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(readme.commands) >= 5, "the README's tour has no chaos commands"
    assert {page.name for page in PAGES} >= {"README.md", "architecture.md", "commands.md", "scenarios.md",
                                             "targets.md", "drills.md", "billing.md", "fault-proxy.md",
                                             "performance.md", "development.md"}


def test_nothing_points_outside_the_repository() -> None:
    outside = []
    for path in walk():
        if path == Path(__file__).resolve():
            continue
        if path.suffix in {".py", ".md", ".yaml", ".yml", ".json", ".cfg", ".toml", ".ini", ".txt", ".sh"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            outside += [f"{path.relative_to(ROOT)}: {word}" for word in ("../shared", "DESIGN.md", "STYLE.md")
                        if word in text]
    assert outside == []


BROKEN = """\
# A page of broken examples

See [the guide](no-such-page.md) and [a section](architecture.md#no-such-heading).
The shrinker is `chaos/hunt/shrunk.py`; the catalogue is `test_invoices.py::test_no_such_scenario`.
Run `make nosuch`.

| command | what it does |
|---|---|
| `chaos up [--apis 5]` | a misspelt option |
| `chaos teleport` | no such command |

```sh
chaos fault partitoin api_1:redis     # no such kind
chaos up --api 99                     # out of range
chaos heal                            # neither a target nor --all
chaos drill run no-such-drill
chaos frobnicate
make chaos
python benchmarks/stack.py --colder
python benchmarks/nope.py
```

```console
$ chaos status --verbose
this line is output: chaos nonsense --is-not-checked
```
"""


def test_the_checker_rejects_what_is_broken() -> None:
    found = problems(ROOT / "docs" / "broken.md", BROKEN)
    expected = ["link to no-such-page.md", "no heading #no-such-heading", "path chaos/hunt/shrunk.py",
                "no test test_no_such_scenario", "make nosuch", "chaos up [--apis 5]: unknown option --apis",
                "chaos teleport: no such command", "chaos fault partitoin api_1:redis", "chaos up --api 99",
                "chaos heal:", "no drill 'no-such-drill'", "chaos frobnicate", "has no option --colder",
                "no benchmarks/nope.py", "path benchmarks/nope.py: not in", "chaos status --verbose"]
    for part in expected:
        assert [p for p in found if part in p], f"{part!r} was not rejected; found: {found}"
    assert len(found) == len(expected), found
    assert not [p for p in found if "make chaos" in p or "nonsense" in p]


def test_the_checker_accepts_what_works() -> None:
    good = ("```sh\nchaos fault latency 'api_*:postgres' ms=300\nchaos heal --all\n"
            "chaos hunt --replay reports/<run>/hunt/x.json\nmake up\n```\n")
    assert problems(ROOT / "docs" / "good.md", good) == []
