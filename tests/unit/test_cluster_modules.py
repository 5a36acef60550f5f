"""The cluster package stays small modules of one job, and both targets keep the nemesis's capabilities."""
from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from chaos.cluster.capabilities import CAPABILITIES
from chaos.cluster.controller import Cluster
from chaos.cluster.running import RunningTarget
from chaos.target.model import Running

pytestmark = pytest.mark.unit
PACKAGE = Path(__file__).resolve().parents[2] / "chaos" / "cluster"
MAX_LINES = 400


def test_no_module_of_the_cluster_package_is_a_kitchen_sink() -> None:
    long = {path.name: n for path in PACKAGE.glob("*.py") if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these by job (at most {MAX_LINES} lines each): {long}"


def test_both_targets_have_every_capability_the_nemesis_calls() -> None:
    engine = mock.Mock()
    engine.api.base_url = "http+docker://localhost"
    for target in (Cluster(client=engine), RunningTarget(Running(("http://127.0.0.1:1",)))):
        assert [c.__name__ for c in CAPABILITIES if not isinstance(target, c)] == [], type(target).__name__
    assert not any(isinstance(object(), capability) for capability in CAPABILITIES)


def test_what_callers_import_from_the_old_places_still_imports() -> None:
    from chaos.cluster import controller, running
    from chaos import compose

    for module in (controller, running, compose):
        assert all(hasattr(module, name) for name in module.__all__), module.__name__
