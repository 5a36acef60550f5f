"""The one error provisioning raises: a sentence a person can act on."""
from chaos.errors import ChaosError


class ProvisionError(ChaosError, RuntimeError):
    """Something the machine lacks, with the fix in the message."""
