"""The profile keys that let the suite judge a foreign service: identities, sentence errors, instance from
the URL, set-up values, credentials, a reset command, outages; and clients released together."""
from __future__ import annotations

import copy
import threading
import time
from typing import Any

import pytest
import yaml

from chaos.history import Recorder
from chaos.target import ProfileError
from chaos.target.client import TargetClient
from chaos.target.profile import parse_profile
from chaos.target.reply import read
from chaos.target.setup import SetupError, resolve, run_reset_command
from chaos.workload.operations import Operation
from chaos.workload.runner import Client, run_clients
from tests.unit.test_target_profile import MINIMAL

pytestmark = pytest.mark.unit


def profile(**changes: Any):
    raw = copy.deepcopy(MINIMAL)
    raw.update(changes)
    return parse_profile(yaml.safe_dump(raw))


def problems(**changes: Any) -> str:
    with pytest.raises(ProfileError) as caught:
        profile(**changes)
    return str(caught.value)


def test_identities_are_invoice_fields_or_per_call() -> None:
    assert profile(identities={"invoice": ["subscription_id"]}).identity("invoice") == ("subscription_id",)
    assert profile(identities={"invoice": "per_call"}).identity("invoice") == "per_call"
    assert profile().identity("invoice") is None, "not declared is not billing's (user_id, period)"
    assert "identities.invoice: 'month' is not an invoice field" in problems(identities={"invoice": ["month"]})
    assert "identities.refund: unknown key" in problems(identities={"refund": ["user_id"]})


def test_a_refusal_in_a_sentence_is_mapped_to_the_suites_code_by_pattern() -> None:
    target = profile(error_code=None, error_message="detail",
                     error_patterns={"already exists": "invoice_exists", "too many": "rate_limited"})
    reply = read(target, "generate_invoice", 409, {}, {"detail": "An invoice for this subscription Already Exists."})
    assert (reply.outcome, reply.error) == ("fail", "invoice_exists")
    assert read(target, "generate_invoice", 400, {}, {"detail": "Nope."}).error is None
    assert read(target, "generate_invoice", 201, {}, {"detail": "already exists"}).error is None, "an ok is no refusal"
    assert "error_patterns.(: is not a regular expression" in problems(error_patterns={"(": "x"})


def test_a_machine_code_wins_over_the_sentence() -> None:
    target = profile(error_patterns={"exists": "invoice_exists"}, error_codes={"dup": "lock_timeout"})
    assert read(target, "generate_invoice", 409, {}, {"error": "dup", "message": "exists"}).error == "lock_timeout"


def test_an_instance_from_the_url_is_the_name_of_the_instance_called() -> None:
    target = profile(instance_header="from_url")
    assert read(target, "health", 200, {"X-Instance": "liar"}, {}, instance="api_2").instance == "api_2"
    assert read(profile(instance_header="X-Instance"), "health", 200, {"X-Instance": "api_1"}, {},
                instance="api_2").instance == "api_1"


def test_credentials_need_a_unique_number_and_meet_a_policy() -> None:
    assert profile(credentials={"password": "Chaos-{n}-Passw0rd"}).credentials.password_for(7) == "Chaos-7-Passw0rd"
    assert "credentials.password: must be a password template with {n}" in problems(credentials={"password": "x"})


def test_outages_and_reset_commands_are_checked() -> None:
    assert profile(outages=[503, "429"]).outages == ("503", "429")
    assert profile().outages == ("5xx",)
    assert "outages[0]" in problems(outages=["7xx"])
    assert profile(reset={"command": ["true"]}).reset_command == ("true",)
    assert "reset.command: must be a command" in problems(reset={"command": "rm -rf"})


def test_setup_values_come_from_mapped_reads() -> None:
    assert "setup.plan_id.operation: list_plans is not mapped" in problems(
        setup={"plan_id": {"operation": "list_plans", "value": "plans[0].plan_id"}})
    assert "is a write" in problems(setup={"plan_id": {"operation": "generate_invoice", "value": "invoice_id"}})


class _FakeAdmin(TargetClient):
    """A client whose call answers from a table: set-up resolution is pure logic over replies."""

    def __init__(self, target, replies: dict[str, Any]) -> None:
        super().__init__(target, "http://127.0.0.1:9")
        self.replies = replies

    def call(self, operation: str, **params: Any):
        status, body = self.replies[operation]
        return read(self.profile, operation, status, {}, body)


def test_a_plan_id_is_found_at_set_up_and_its_absence_is_named() -> None:
    raw_ops = copy.deepcopy(MINIMAL["operations"])
    raw_ops["list_plans"] = {"method": "GET", "path": "/plans",
                             "extract": {"plans": {"path": "results[*]", "fields": {"plan_id": "uuid"}}}}
    target = profile(operations=raw_ops, setup={"plan_id": {"operation": "list_plans", "value": "plans[0].plan_id"}})
    plan = "7d1c0c4e-2f7b-4a8e-9d52-1b1f1c9b7a10"
    assert resolve(_FakeAdmin(target, {"list_plans": (200, {"results": [{"uuid": plan}]})})) == {"plan_id": plan}
    with pytest.raises(SetupError, match="setup.plan_id: list_plans's values have nothing at 'plans\\[0\\].plan_id'"):
        resolve(_FakeAdmin(target, {"list_plans": (200, {"results": []})}))


def test_a_failing_reset_command_says_what_it_printed() -> None:
    run_reset_command(("true",))
    with pytest.raises(SetupError, match="exited 3: gone"):
        run_reset_command(("sh", "-c", "echo gone >&2; exit 3"))


class _SlowClient(TargetClient):
    """Records when each call starts; answers after 50 ms."""

    starts: list[float] = []

    def call(self, operation: str, **params: Any):
        _SlowClient.starts.append(time.monotonic())
        time.sleep(0.05)
        return read(self.profile, operation, 200, {}, {})


def test_clients_released_together_are_in_flight_at_once() -> None:
    target = profile()
    _SlowClient.starts = []
    gate = threading.Event()

    def late_operations():  # one client is slow to produce its first operation
        gate.wait(0.3)
        yield Operation("health")

    clients = [Client(f"c{i}", _SlowClient(target, "http://127.0.0.1:9"), iter([Operation("health")]))
               for i in range(5)]
    clients.append(Client("late", _SlowClient(target, "http://127.0.0.1:9"), late_operations()))
    threading.Timer(0.2, gate.set).start()
    run_clients(Recorder(), clients, together=True)
    assert len(_SlowClient.starts) == 6
    assert max(_SlowClient.starts) - min(_SlowClient.starts) < 0.04, "the first calls start together"
