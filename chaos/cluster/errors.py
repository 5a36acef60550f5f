"""The cluster's errors, in a module of their own so that an already-running target (which owns no
container) raises them without importing the Docker SDK."""
from __future__ import annotations

from chaos.errors import ChaosError


class ClusterError(ChaosError, RuntimeError):
    """The cluster could not do what was asked; the message says why and what to do.

    Not a ``ProvisionError``, which is what the machine lacks; a RuntimeError, as it was when it was one."""


class UnsupportedFault(ClusterError):
    """A fault the suite cannot inject on an already-running target (it has no container of it)."""
