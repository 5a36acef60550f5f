"""The two ways a target profile says no: it is badly written, or the target lacks what was asked.

Both are values a caller can act on: a ``ProfileError`` lists every problem
of the file at once (fixing them one run at a time is the worst way to learn
a schema), and an ``OperationMissing`` names the operation and the profile,
so a scenario can be skipped with a reason instead of failing on a 404.
"""
from __future__ import annotations

from dataclasses import dataclass

from chaos.errors import ChaosError


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a profile: where (``file``, dotted ``field``) and what (``message``)."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field or '<root>'}: {self.message}"


class ProfileError(ChaosError, ValueError):
    """A profile that cannot be used; ``problems`` holds each one, the message lists them one a line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in target profile"
        super().__init__("\n".join([head, *map(str, self.problems)]))

    @property
    def fields(self) -> list[str]:
        return [p.field for p in self.problems]


class OperationMissing(ChaosError, LookupError):
    """The target does not offer ``operation`` (declared in ``lacks``, or simply not mapped)."""

    def __init__(self, operation: str, profile: str, declared: bool = False) -> None:
        self.operation = operation
        self.profile = profile
        self.declared = declared
        how = "declares it in lacks" if declared else "does not map it"
        super().__init__(f"target {profile!r} lacks operation {operation!r} (its profile {how})")
