"""Pause, Kill and Disconnect describe themselves with one shared method, as the history has always recorded them."""
from __future__ import annotations

import pytest

from chaos.nemesis.process_faults import Disconnect, Kill, Pause
from chaos.nemesis.schedule import Step, from_json, to_json

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("fault, description", [
    (Pause("api_1"), {"fault": "pause", "target": "api_1"}),
    (Kill("worker_2"), {"fault": "kill", "target": "worker_2"}),
    (Disconnect("redis"), {"fault": "disconnect", "target": "redis"}),
])
def test_the_description_is_the_kind_and_target_and_replays_to_the_same_fault(fault, description) -> None:
    assert fault.describe() == description
    assert from_json(to_json([Step(1.0, 2.0, fault)])) == [Step(1.0, 2.0, fault)]


def test_the_three_share_one_describe() -> None:
    assert Pause.describe is Kill.describe is Disconnect.describe
