"""The one error provisioning raises: a sentence a person can act on."""


class ProvisionError(RuntimeError):
    """Something the machine lacks, with the fix in the message."""
