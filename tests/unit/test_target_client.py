"""The target client: billing's profile sends what BillingClient sends; the test service, driven through
its own profile over real HTTP, is caught duplicating invoices and ignoring idempotency keys."""
from __future__ import annotations

import concurrent.futures
import json
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from chaos.checkers import idempotency, invoices
from chaos.history import Recorder
from chaos.target import DEFAULT_PROFILE, OperationMissing, load_profile
from chaos.target.admin import AdminError, admin_token
from chaos.target.check import STEPS, check_target, format_table
from chaos.target.client import TargetClient, needs_missing
from chaos.target.needs import Needs, faults_missing, skip_reason, unmet
from chaos.target.operations import OPERATIONS, spec
from chaos.target.profile import parse_profile
from chaos.target.record import perform, request_value
from chaos.workload import operations as ops
from chaos.workload.client import BillingClient
from tests.target_service import PROFILE as SERVICE_PROFILE
from tests.target_service.fixtures import admin, service  # noqa: F401 (fixtures)

pytestmark = pytest.mark.unit
PERIOD = "2026-01"


# billing's profile against BillingClient, on a transport that records instead of sending

class Capture(requests.adapters.BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[requests.PreparedRequest, Any]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append((request, kwargs.get("timeout")))
        response = requests.Response()
        response.status_code, response._content, response.request = 200, b'{"access_token": "tok"}', request
        response.headers["Content-Type"] = "application/json"
        return response

    def close(self) -> None:
        pass


def sent(session_owner: Any, call: Callable[[Any], Any]) -> dict[str, Any]:
    capture = Capture()
    session_owner.session.mount("http://", capture)
    call(session_owner)
    (request, timeout), = capture.sent
    body = json.loads(request.body) if request.body else None
    headers = {k: v for k, v in request.headers.items()
               if k in ("Authorization", "Idempotency-Key", "Content-Type")}
    return {"method": request.method, "url": request.url, "body": body, "headers": headers, "timeout": timeout}


SAME_REQUESTS: list[tuple[Callable[[BillingClient], Any], str, dict[str, Any]]] = [
    (lambda b: b.register("a@b.test", "pw-123456"), "register", {"email": "a@b.test", "password": "pw-123456"}),
    (lambda b: b.login("a@b.test", "pw-123456"), "login", {"email": "a@b.test", "password": "pw-123456"}),
    (lambda b: b.profile(), "profile", {}),
    (lambda b: b.tariff_plans(), "list_plans", {}),
    (lambda b: b.subscribe(3, "paypal"), "subscribe", {"plan_id": 3, "payment_method": "paypal"}),
    (lambda b: b.subscribe(3), "subscribe", {"plan_id": 3}),
    (lambda b: b.activate(5, "key-1", "card", 1.5), "activate",
     {"subscription_id": 5, "key": "key-1", "payment_method": "card", "hold_s": 1.5}),
    (lambda b: b.activate(5, None), "activate", {"subscription_id": 5}),
    (lambda b: b.generate_invoice(7, PERIOD), "generate_invoice", {"user_id": 7, "period": PERIOD}),
    (lambda b: b.generate_invoice(7), "generate_invoice", {"user_id": 7}),
    (lambda b: b.generate_invoice_async(7, PERIOD, hold_s=2.0, linger_s=1.0), "generate_invoice_async",
     {"user_id": 7, "period": PERIOD, "hold_s": 2.0, "linger_s": 1.0}),
    (lambda b: b.generate_invoice_async(7, PERIOD), "generate_invoice_async", {"user_id": 7, "period": PERIOD}),
    (lambda b: b.slow_invoice(7, 3.0, PERIOD), "slow_invoice", {"user_id": 7, "hold_s": 3.0, "period": PERIOD}),
    (lambda b: b.task("abc-1"), "task_status", {"task_id": "abc-1"}),
    (lambda b: b.invoices(7), "list_invoices", {"user_id": 7}),
    (lambda b: b.create_event(10, "gala"), "create_event", {"capacity": 10, "name": "gala"}),
    (lambda b: b.create_event(10), "create_event", {"capacity": 10}),
    (lambda b: b.event(4), "event", {"event_id": 4}),
    (lambda b: b.purchase_ticket(4, 2), "purchase_ticket", {"event_id": 4, "quantity": 2}),
    (lambda b: b.create_slot(5), "create_slot", {"capacity": 5}),
    (lambda b: b.slot(6), "slot", {"slot_id": 6}),
    (lambda b: b.book_slot(6), "book_slot", {"slot_id": 6}),
    (lambda b: b.pool_metrics(), "pool_metrics", {}),
    (lambda b: b.health(), "health", {}),
    (lambda b: b.reset(), "reset", {}),
    (lambda b: b.bulk_users(3, "p"), "bulk_users", {"count": 3, "prefix": "p"}),
    (lambda b: b.lock_events(), "lock_events", {}),
]


@pytest.mark.parametrize("billing_call, operation, params", SAME_REQUESTS,
                         ids=[f"{case[1]}-{i}" for i, case in enumerate(SAME_REQUESTS)])
def test_billings_profile_sends_what_billing_client_sends(billing_call, operation, params) -> None:
    profile = load_profile(DEFAULT_PROFILE)
    expected = sent(BillingClient("http://lb:8080", token="T", timeout_s=9), billing_call)
    actual = sent(TargetClient(profile, "http://lb:8080", token="T", timeout_s=9),
                  lambda c: c.call(operation, **params))
    assert actual == expected


def test_the_history_values_are_the_workloads() -> None:
    """Recorded through a profile, an operation's f and value are what the checkers already read."""
    cases = [(ops.generate_invoice(7, PERIOD), "generate_invoice", {"user_id": 7, "period": PERIOD}),
             (ops.slow_invoice(7, PERIOD, 3.0), "slow_invoice", {"user_id": 7, "period": PERIOD, "hold_s": 3.0}),
             (ops.activate(5, "k", "paypal"), "activate",
              {"subscription_id": 5, "key": "k", "payment_method": "paypal"}),
             (ops.purchase_ticket(4, 2), "purchase_ticket", {"event_id": 4, "quantity": 2}),
             (ops.book_slot(6), "book_slot", {"slot_id": 6}),
             (ops.read_plans(), "list_plans", {})]
    for workload_op, operation, params in cases:
        assert (spec(operation).history_f, request_value(spec(operation), params)) == (workload_op.f, workload_op.value)


# the test service, two instances sharing one database, real HTTP

def customer(profile, url: str, email: str = "ann@shop.test") -> TargetClient:
    client = TargetClient(profile, url)
    assert client.call("register", email=email, password="pw").ok
    assert client.login(email, "pw").ok and client.token
    return client


def test_register_login_and_invoice_through_the_profile(service, admin) -> None:
    profile, urls = service
    registered = TargetClient(profile, urls[1]).call("register", email="bob@shop.test", password="pw")
    assert (registered.outcome, registered.status, registered.instance) == ("ok", 201, "svc-2")
    user = TargetClient(profile, urls[0])
    login = user.login("bob@shop.test", "pw")
    assert login["user_id"] == registered["user_id"] and user.token == login["token"]
    assert user.call("profile").values == {"user_id": registered["user_id"], "email": "bob@shop.test",
                                           "is_admin": False}
    invoice = admin.call("generate_invoice", user_id=registered["user_id"], period=PERIOD)
    assert invoice.values == {"invoice_id": invoice.body["bill_no"], "user_id": registered["user_id"],
                              "period": PERIOD, "amount": "9.99"}
    again = admin.call("generate_invoice", user_id=registered["user_id"], period=PERIOD)
    assert (again.outcome, again.status, again.error) == ("fail", 409, "invoice_exists")  # via error_codes
    assert again.body == {"problem": "already_billed"}
    final = admin.call("list_invoices", user_id=registered["user_id"])
    assert final["invoices"] == [{"invoice_id": invoice["invoice_id"], "user_id": registered["user_id"],
                                  "period": PERIOD, "amount": "9.99"}]
    assert user.call("list_plans")["plans"][0] == {"plan_id": 1, "name": "basic", "price": "9.99"}


def test_a_wrong_password_is_a_definite_fail_and_keeps_no_token(service) -> None:
    profile, urls = service
    client = TargetClient(profile, urls[0])
    reply = client.login("nobody", "wrong")
    assert (reply.outcome, reply.status, reply.error, client.token) == ("fail", 401, "bad_login", None)
    assert client.call("list_invoices", user_id=1).error == "no_session"


def test_ten_concurrent_generates_over_both_instances_are_caught_duplicating(service, admin) -> None:
    profile, urls = service
    user_id = customer(profile, urls[0]).call("profile")["user_id"]
    history = Recorder()
    start = threading.Barrier(10)

    def one(i: int) -> None:
        with TargetClient(profile, urls[i % 2], admin.token) as client:
            start.wait(10)
            perform(history, f"client_{i}", client, "generate_invoice", user_id=user_id, period=PERIOD)

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        list(pool.map(one, range(10)))
    final = {user_id: admin.call("list_invoices", user_id=user_id)["invoices"]}
    assert len(final[user_id]) > 1, "the unsafe service made one bill: the race did not happen"
    completions = history.completions()
    assert {op.f for op in completions} == {"generate_invoice"}
    assert {op.instance for op in completions} == {"svc-1", "svc-2"}
    result = invoices.check(history.ops, final)
    assert result.valid is False and "duplicate" in result.kinds()
    assert result.stats["invoices"] == len(final[user_id])


def test_one_invoice_and_a_conflict_in_the_targets_words_is_valid(service, admin) -> None:
    """No false alarm: the service's own 409 code, mapped by error_codes, is one the checker allows."""
    profile, urls = service
    user_id = customer(profile, urls[0]).call("profile")["user_id"]
    history = Recorder()
    for i, url in enumerate(urls):
        with TargetClient(profile, url, admin.token) as client:
            perform(history, f"client_{i}", client, "generate_invoice", user_id=user_id, period=PERIOD)
    result = invoices.check(history.ops, {user_id: admin.call("list_invoices", user_id=user_id)["invoices"]},
                            claims=("none_lost", "none_from_nowhere"))  # one after the other: no contention
    assert result.valid is True, result.anomalies
    assert result.stats["conflicts"] == {"invoice_exists": 1}
    assert result.evidence["at_most_once"].count == 0 and not result.evidence["at_most_once"].claimed


def test_the_same_idempotency_key_twice_is_caught_activating_twice(service, admin) -> None:
    profile, urls = service
    user = customer(profile, urls[0])
    subscription = user.call("subscribe", plan_id=2)["subscription_id"]
    history = Recorder()
    for i, url in enumerate(urls):
        with TargetClient(profile, url, user.token) as client:
            reply = perform(history, f"client_{i}", client, "activate", subscription_id=subscription, key="same-key")
            assert reply.ok
    first, second = history.completions()
    assert first.value["key"] == "same-key" and first.value["params"] == {"payment_method": "card"}
    assert first.value["body"]["invoice_id"] == first.value["body"]["bill_no"]  # the suite's name beside the target's
    user_id = user.call("profile")["user_id"]
    activations = [i for i in admin.call("list_invoices", user_id=user_id)["invoices"]
                   if i["period"] == f"activation-{subscription}"]
    result = idempotency.check(history.ops, {subscription: activations})
    assert result.valid is False
    assert {"double_activation", "replay_mismatch"} <= set(result.kinds())


def test_a_lacked_operation_raises_before_any_request_or_record(service) -> None:
    profile, urls = service
    history = Recorder()
    with pytest.raises(OperationMissing) as caught:
        perform(history, "client", TargetClient(profile, urls[0]), "generate_invoice_async", user_id=1)
    assert caught.value.operation == "generate_invoice_async" and caught.value.profile == "test-service"
    assert "declares it in lacks" in str(caught.value) and len(history) == 0


def test_needs_name_what_the_target_lacks() -> None:
    profile = load_profile(SERVICE_PROFILE)
    assert needs_missing(profile, ["generate_invoice", "purchase_ticket", "book_slot", "purchase_ticket"]) == \
        ["purchase_ticket", "book_slot"]
    assert needs_missing(load_profile(DEFAULT_PROFILE), ["purchase_ticket", "lock_events"]) == []
    needs = Needs(operations={"generate_invoice_async", "task_status"}, faults={"kill", "client_link"})
    reasons = unmet(profile, needs)
    assert reasons[:2] == ["target 'test-service' lacks operation generate_invoice_async (declared in lacks)",
                           "target 'test-service' lacks operation task_status (declared in lacks)"]
    assert "cannot have fault kill: the target is already running (run.running)" in reasons[2]
    assert skip_reason(load_profile(DEFAULT_PROFILE), needs) is None
    hold = Needs(operations={"activate"}, params={"activate.hold_s", "activate.key"})
    assert unmet(profile, hold) == ["target 'test-service' does not send hold_s with activate (no {hold_s} "
                                    "placeholder in operations.activate)"]
    assert unmet(load_profile(DEFAULT_PROFILE), hold) == []
    with pytest.raises(ValueError, match="not operation.parameter"):
        Needs(params={"activate.hold"})
    with pytest.raises(ValueError, match="unknown operation"):
        Needs(operations={"generate_bill"})


def test_a_containerised_target_without_workers_or_redis_cannot_have_those_faults(tmp_path: Path) -> None:
    raw = yaml.safe_load(SERVICE_PROFILE.read_text())
    raw["run"] = {"containerised": {"dependencies": {"postgres": ["DB_URL"]}}}
    profile = parse_profile(yaml.safe_dump(raw), tmp_path / "p.yaml")
    reasons = faults_missing(profile, ["pause", "redis_link", "postgres_link", "workers"])
    assert set(reasons) == {"redis_link", "workers"}
    assert "dependencies.redis" in reasons["redis_link"] and "worker_service" in reasons["workers"]


def test_a_callers_mistake_raises() -> None:
    client = TargetClient(load_profile(DEFAULT_PROFILE), "http://127.0.0.1:9")
    with pytest.raises(TypeError, match="generate_invoice takes user_id, period; not month"):
        client.call("generate_invoice", user_id=1, month=PERIOD)
    with pytest.raises(TypeError, match="generate_invoice needs user_id"):
        client.call("generate_invoice", period=PERIOD)
    with pytest.raises(KeyError, match="no operation 'generate_bill'"):
        client.call("generate_bill")


def test_exceptions_are_classified_by_classify() -> None:
    """Refused: nothing was sent (fail). Silence after sending: a write is unknown (info), a read failed."""
    profile = load_profile(DEFAULT_PROFILE)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()
    refused = TargetClient(profile, refused_url, timeout_s=2).call("generate_invoice", user_id=1, period=PERIOD)
    assert (refused.outcome, refused.status, refused.error) == ("fail", None, "ConnectionError")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        client = TargetClient(profile, f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.3)
        write = client.call("generate_invoice", user_id=1, period=PERIOD)
        read = client.call("list_invoices", user_id=1)
    assert (write.outcome, write.error) == ("info", "ReadTimeout")
    assert (read.outcome, read.error) == ("fail", "ReadTimeout")


def test_an_admin_command_gives_the_token(tmp_path: Path) -> None:
    raw = yaml.safe_load(SERVICE_PROFILE.read_text())
    raw["admin"] = {"command": [sys.executable, "-c", "print('  tok-1  ')"]}
    client = TargetClient(parse_profile(yaml.safe_dump(raw), tmp_path / "p.yaml"), "http://127.0.0.1:9")
    assert admin_token(client) == "tok-1" == client.token
    raw["admin"] = {"command": [sys.executable, "-c", "raise SystemExit(3)"]}
    with pytest.raises(AdminError, match=r"^no admin token: admin command .* exited 3"):  # the CLI's whole line
        admin_token(TargetClient(parse_profile(yaml.safe_dump(raw)), "http://127.0.0.1:9"))
    containerised = load_profile(DEFAULT_PROFILE)
    raw = yaml.safe_load((Path(containerised.source)).read_text())
    raw["admin"] = {"command": ["flask", "admin-token"], "service": "worker"}
    client = TargetClient(parse_profile(yaml.safe_dump(raw), containerised.source), "http://127.0.0.1:9")
    with pytest.raises(AdminError, match="pass exec_in"):
        admin_token(client)
    assert admin_token(client, lambda service, argv: f"{service}:{' '.join(argv)}\n") == "worker:flask admin-token"


def test_check_has_a_step_for_every_operation() -> None:
    assert sorted(step.operation for step in STEPS) == sorted(OPERATIONS)


def test_check_calls_each_mapped_operation_once(service) -> None:
    profile, urls = service
    rows = {row.operation: row for row in check_target(profile, urls[0])}
    works = {name for name, row in rows.items() if row.state == "works"}
    assert works == set(profile.operations), format_table(list(rows.values()))
    assert {name for name, row in rows.items() if row.state == "lacked"} == set(profile.lacks)
    assert "invoices: 2 items" in rows["list_invoices"].detail  # the activation's bill and the generated one
    assert "NOT FOUND" not in format_table(list(rows.values()))


class Cut(requests.adapters.BaseAdapter):
    """Answers as http.client returns an answer whose connection closed early (Toxiproxy's limit_data)."""

    def __init__(self, status: int, content: bytes, headers: dict[str, str]) -> None:
        super().__init__()
        self.status, self.content, self.headers = status, content, headers

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code, response._content, response.request = self.status, self.content, request
        response.headers.update(self.headers)
        return response

    def close(self) -> None:
        pass


@pytest.mark.parametrize("status, content, headers", [
    (200, b"", {}),                                                     # the headers were cut
    (409, b"", {"Server": "gunicorn"}),                                 # a refusal without its code
    (200, b'{"subscription_id": 5, "sta', {"Content-Type": "application/json", "Content-Length": "61"}),
    (200, b"", {"Content-Type": "application/json"}),                  # cut before its Content-Length
    (409, b"", {"Content-Type": "applicat"}),                          # cut inside the Content-Type
])
def test_an_answer_cut_short_is_no_answer_an_unknown_outcome_for_a_write(status, content, headers) -> None:
    client = TargetClient(load_profile(DEFAULT_PROFILE), "http://127.0.0.1:1", "tok")
    client.session.mount("http://", Cut(status, content, headers))
    reply = client.call("activate", subscription_id=5, key="k")
    assert reply.outcome == "info" and reply.error == "AnswerCut" and reply.status is None


def test_a_whole_answer_is_read_as_it_came() -> None:
    client = TargetClient(load_profile(DEFAULT_PROFILE), "http://127.0.0.1:1", "tok")
    body = b'{"error": "idempotency_in_flight", "message": "still running"}'
    client.session.mount("http://", Cut(409, body, {"Content-Type": "application/json",
                                                   "Content-Length": str(len(body))}))
    reply = client.call("activate", subscription_id=5, key="k")
    assert reply.outcome == "fail" and reply.status == 409 and reply.error == "idempotency_in_flight"
