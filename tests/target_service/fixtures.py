"""Fixtures of the test service for unit tests: two instances sharing one database, and its admin.

Import them into a test module (``from tests.target_service.fixtures import admin, service``): they
are named like the plugin's own fixtures on purpose, and should only shadow them where imported.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chaos.target import load_profile
from chaos.target.admin import admin_token
from chaos.target.client import TargetClient
from tests.target_service import PROFILE
from tests.target_service.serve import running_instances


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Any, list[str]]]:
    """(the profile pointing at them, their URLs)."""
    with running_instances(tmp_path / "service.db", count=2) as urls:
        yield load_profile(PROFILE).with_instances(urls), urls


@pytest.fixture
def admin(service: tuple[Any, list[str]]) -> Iterator[TargetClient]:
    profile, urls = service
    with TargetClient(profile, urls[0]) as client:
        assert admin_token(client) is not None
        yield client
