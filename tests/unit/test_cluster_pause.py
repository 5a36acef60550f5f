"""``pause`` tries again when runc could not freeze the container (a process forking at that moment), and only then."""
from __future__ import annotations

import pytest
from docker.errors import APIError

from chaos.cluster import process_faults
from chaos.cluster.process_faults import ProcessFaults

pytestmark = pytest.mark.unit
FREEZE_FAILED = ("Cannot pause container 93bb: OCI runtime pause failed: unable to freeze: unknown")


class Container:
    def __init__(self, *refusals: str) -> None:
        self.refusals = list(refusals)
        self.tries = 0

    def pause(self) -> None:
        self.tries += 1
        if self.refusals:
            raise APIError(self.refusals.pop(0))


class Faults(ProcessFaults):
    def __init__(self, container: Container) -> None:
        self._container = container

    def container(self, name: str) -> Container:
        return self._container


@pytest.fixture(autouse=True)
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_faults.time, "sleep", lambda s: None)


def test_a_freeze_that_failed_is_tried_again_until_it_holds() -> None:
    container = Container(FREEZE_FAILED, FREEZE_FAILED)
    Faults(container).pause("api_4")
    assert container.tries == 3


def test_a_freeze_that_keeps_failing_is_raised_after_the_last_attempt() -> None:
    container = Container(*[FREEZE_FAILED] * process_faults.FREEZE_ATTEMPTS)
    with pytest.raises(APIError, match="unable to freeze"):
        Faults(container).pause("api_4")
    assert container.tries == process_faults.FREEZE_ATTEMPTS


def test_any_other_refusal_is_raised_at_once() -> None:
    container = Container("Container 93bb is not running")
    with pytest.raises(APIError, match="not running"):
        Faults(container).pause("api_4")
    assert container.tries == 1
