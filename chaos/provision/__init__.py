"""Provisioning: everything a fresh machine needs before a cluster can start.

Each step finds what is already there first and builds only what is missing,
so the second run of the README's commands costs seconds. A step that cannot
succeed raises :class:`ProvisionError` whose message says what to do.
"""
from chaos.provision.errors import ProvisionError

__all__ = ["ProvisionError"]
