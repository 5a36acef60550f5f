"""Target profiles: drive any billing service through abstract operations.

``DEFAULT_PROFILE`` is billing/'s own profile (billing's contract in
docs/architecture.md); ``load_profile`` takes a shipped profile's name or a YAML path.
Modules: ``operations`` (the closed set of operations), ``profile`` (schema
and loading), ``validate``/``validate_run``/``problems`` (every problem at
once), ``model`` (the dataclasses), ``paths``/``templates``/``statuses``
(reply paths, request templates, outcomes), ``request``/``reply`` (one call
built and read, no I/O), ``client`` (one HTTP client of a target),
``record`` (a call recorded in a history), ``needs`` (what a scenario needs
of a target, and why it is skipped), ``admin`` (the admin's token),
``check`` (``chaos target check``; the command is ``chaos.cli_target``), ``loopback``
(instance URLs).
"""
from chaos.target.errors import OperationMissing, ProfileError
from chaos.target.profile import TargetProfile, known_profiles, load_profile

DEFAULT_PROFILE = "billing"

__all__ = ["DEFAULT_PROFILE", "OperationMissing", "ProfileError", "TargetProfile", "known_profiles", "load_profile"]
