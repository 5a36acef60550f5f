"""Target profiles: every kind of mistake is named by its dotted field; billing's profile is billing's routes."""
from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from billing.app import create_app
from billing.settings import Settings
from chaos.target import DEFAULT_PROFILE, ProfileError, known_profiles, load_profile
from chaos.target.model import AdminCommand, AdminLogin, Containerised, Running
from chaos.target.operations import Id, NAMES, OPERATIONS, REQUIRED
from chaos.target.profile import parse_profile
from chaos.target.templates import render_path
from tests.target_service import PROFILE as SERVICE_PROFILE

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]

MINIMAL: dict[str, Any] = {
    "name": "mini",
    "auth": {"token": "token"},
    "operations": {
        "health": {"method": "GET", "path": "/health"},
        "admin_login": {"method": "POST", "path": "/login", "body": {"user": "{email}", "pass": "{password}"}},
        "generate_invoice": {"method": "POST", "path": "/users/{user_id}/invoices", "body": {"month": "{period}"},
                             "extract": {"invoice_id": "data.id"}},
        "list_invoices": {"method": "GET", "path": "/users/{user_id}/invoices",
                          "extract": {"invoices": {"path": "items[*]", "fields": {"invoice_id": "id"}}}},
    },
    "lacks": ["book_slot"],
    "admin": {"login": {"email": "root", "password": "secret"}},
    "run": {"running": {"instances": ["http://127.0.0.1:5001"]}},
}


def write(tmp_path: Path, raw: Any, name: str = "profile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw, sort_keys=False))
    return path


def error_of(tmp_path: Path, change: Callable[[dict[str, Any]], Any]) -> ProfileError:
    raw = copy.deepcopy(MINIMAL)
    change(raw)
    path = write(tmp_path, raw)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    for problem in caught.value.problems:
        assert f"{path}: {problem.field}: {problem.message}" in str(caught.value)
    return caught.value


def op(raw: dict[str, Any], name: str) -> dict[str, Any]:
    return raw["operations"][name]


def test_the_minimal_profile_loads(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, MINIMAL))
    assert profile.name == "mini" and profile.run == Running(("http://127.0.0.1:5001",))
    assert profile.declared_lacks == {"book_slot"} and profile.lacks == NAMES - set(MINIMAL["operations"])
    assert profile.statuses is None and profile.outcome("generate_invoice", 503) == "info"


# (id, change to MINIMAL, the field named, words of the message)
MISTAKES: list[tuple[str, Callable[[dict[str, Any]], Any], str, str]] = [
    ("unknown top-level key", lambda r: r.update(colour="blue"), "colour", "allowed: name"),
    ("name missing", lambda r: r.pop("name"), "name", "required"),
    ("name not a slug", lambda r: r.update(name="My Target!"), "name", "lower-case"),
    ("unknown auth key", lambda r: r["auth"].update(sheme="Token"), "auth.sheme", "did you mean 'scheme'"),
    ("bad header name", lambda r: r.update(idempotency_header="Idempotency Key"), "idempotency_header",
     "not a header name"),
    ("unknown operation", lambda r: r["operations"].update(generate_bill={"method": "POST", "path": "/b"}),
     "operations.generate_bill", "unknown operation"),
    ("unknown key in an operation", lambda r: op(r, "health").update(verb="GET"), "operations.health.verb",
     "allowed: method, path"),
    ("bad method", lambda r: op(r, "health").update(method="FETCH"), "operations.health.method",
     "allowed: GET, POST, PUT, PATCH, DELETE"),
    ("method missing", lambda r: op(r, "health").pop("method"), "operations.health.method", "required"),
    ("path not absolute", lambda r: op(r, "health").update(path="health"), "operations.health.path",
     "must start with '/'"),
    ("path placeholder not a parameter", lambda r: op(r, "generate_invoice").update(path="/c/{customer}/bills"),
     "operations.generate_invoice.path", "{customer} is not a parameter of generate_invoice"),
    ("path placeholder optional", lambda r: op(r, "generate_invoice").update(path="/u/{user_id}/{period}"),
     "operations.generate_invoice.path", "{period} is optional"),
    ("malformed template", lambda r: op(r, "generate_invoice").update(path="/u/{user_id"),
     "operations.generate_invoice.path", "not a template"),
    ("placeholder with a format spec", lambda r: op(r, "generate_invoice").update(body={"n": "{user_id:04d}"}),
     "operations.generate_invoice.body.n", "bare parameter name"),
    ("body placeholder not a parameter", lambda r: op(r, "generate_invoice").update(body={"month": "{month}"}),
     "operations.generate_invoice.body.month", "its parameters: user_id, period"),
    ("header placeholder not a parameter", lambda r: op(r, "generate_invoice").update(headers={"X-T": "{tenant}"}),
     "operations.generate_invoice.headers.X-T", "{tenant}"),
    ("query placeholder not a parameter", lambda r: op(r, "generate_invoice").update(query={"h": "{hold}"}),
     "operations.generate_invoice.query.h", "{hold}"),
    ("GET with a body", lambda r: op(r, "list_invoices").update(body={"u": "{user_id}"}),
     "operations.list_invoices.body", "a GET sends no body"),
    ("extract of a value the operation has not",
     lambda r: op(r, "generate_invoice")["extract"].update(bill="data.bill"),
     "operations.generate_invoice.extract.bill", "its values: invoice_id, user_id, period, amount"),
    ("bad reply path", lambda r: op(r, "generate_invoice")["extract"].update(invoice_id="data..id"),
     "operations.generate_invoice.extract.invoice_id", "is not a path"),
    ("a list value without [*]", lambda r: op(r, "list_invoices")["extract"]["invoices"].update(path="items"),
     "operations.list_invoices.extract.invoices", "needs [*]"),
    ("a single value with [*]", lambda r: op(r, "generate_invoice")["extract"].update(invoice_id="data[*].id"),
     "operations.generate_invoice.extract.invoice_id", "would make it a list"),
    ("an unknown field of a list item",
     lambda r: op(r, "list_invoices")["extract"]["invoices"]["fields"].update(bill_number="no"),
     "operations.list_invoices.extract.invoices.fields.bill_number", "allowed: invoice_id, user_id, period"),
    ("fields on a single value",
     lambda r: op(r, "generate_invoice")["extract"].update(invoice_id={"path": "id", "fields": {"a": "b"}}),
     "operations.generate_invoice.extract.invoice_id.fields", "only lists of objects have fields"),
    ("error code mapped to nothing", lambda r: r.update(error_codes={"already_billed": None}),
     "error_codes.already_billed", "the suite's error code"),
    ("bad status entry", lambda r: r.update(statuses={"ok": ["2xx", "20x"]}), "statuses.ok[1]",
     "a class ('4xx') or a range"),
    ("unknown outcome", lambda r: r.update(statuses={"maybe": [500]}), "statuses.maybe", "allowed: ok, fail, info"),
    ("a status claimed twice", lambda r: r.update(statuses={"ok": ["2xx"], "fail": ["4xx", 201]}), "statuses",
     "ok and fail both claim 201"),
    ("bad status in an operation", lambda r: op(r, "health").update(statuses={"fail": [700]}),
     "operations.health.statuses.fail[0]", "outside 100-599"),
    ("mapped and lacked", lambda r: r["lacks"].append("generate_invoice"), "lacks[1]",
     "both mapped (operations.generate_invoice) and lacked"),
    ("unknown operation in lacks", lambda r: r["lacks"].append("book_slots"), "lacks[1]",
     "did you mean 'book_slot'"),
    ("a required operation lacked", lambda r: (r["operations"].pop("health"), r["lacks"].append("health")),
     "lacks[1]", "cannot be lacked"),
    ("health missing", lambda r: r["operations"].pop("health"), "operations.health", "required"),
    ("list_invoices missing", lambda r: r["operations"].pop("list_invoices"), "operations.list_invoices",
     "required"),
    ("no token anywhere", lambda r: r.pop("auth"), "auth.token", "set auth.token"),
    ("admin login without admin_login", lambda r: r["operations"].pop("admin_login"), "admin.login",
     "needs operations.admin_login"),
    ("admin login and command", lambda r: r["admin"].update(command=["x"]), "admin", "exactly one of"),
    ("admin command not a list", lambda r: r.update(admin={"command": "make-token"}), "admin.command",
     "non-empty list of strings"),
    ("admin service on a running target", lambda r: r.update(admin={"command": ["t"], "service": "api"}),
     "admin.service", "runs on this machine"),
    ("run missing", lambda r: r.pop("run"), "run", "required"),
    ("run both ways", lambda r: r["run"].update(containerised={}), "run", "exactly one of containerised or running"),
    ("instance not on loopback", lambda r: r["run"]["running"].update(instances=["http://10.0.0.5:5001"]),
     "run.running.instances[0]", "not on this machine"),
    ("instance without a port", lambda r: r["run"]["running"]["instances"].append("http://localhost"),
     "run.running.instances[1]", "has no port"),
    ("instance with a path", lambda r: r["run"]["running"]["instances"].append("http://127.0.0.1:5002/api"),
     "run.running.instances[1]", "base URL"),
    ("instance listed twice", lambda r: r["run"]["running"]["instances"].append("http://127.0.0.1:5001"),
     "run.running.instances[1]", "listed twice"),
    ("no instances", lambda r: r["run"]["running"].update(instances=[]), "run.running.instances", "non-empty"),
    ("compose file missing", lambda r: r.update(run={"containerised": {"compose": "nowhere.yaml"}}),
     "run.containerised.compose", "no such file"),
    ("unknown dependency", lambda r: r.update(run={"containerised": {"dependencies": {"mongo": ["MONGO_URL"]}}}),
     "run.containerised.dependencies.mongo", "allowed: postgres, redis"),
    ("bad environment variable", lambda r: r.update(run={"containerised": {"dependencies": {"redis": ["REDIS-URL"]}}}),
     "run.containerised.dependencies.redis[0]", "not an environment variable name"),
    ("bad port", lambda r: r.update(run={"containerised": {"port": 70000}}), "run.containerised.port", "1-65535"),
    ("redis keys not a mapping", lambda r: r.update(run={"containerised": {"redis_keys": ["0/lock:*"]}}),
     "run.containerised.redis_keys", "family -> list"),
    ("a redis key family that is not a name", lambda r: r.update(
        run={"containerised": {"redis_keys": {"Locks!": ["0/lock:*"]}}}), "run.containerised.redis_keys.Locks!",
     "lower-case name"),
    ("a redis key without its db", lambda r: r.update(run={"containerised": {"redis_keys": {"locks": ["lock:*"]}}}),
     "run.containerised.redis_keys.locks[0]", "db 0-15"),
    ("a redis db out of range", lambda r: r.update(run={"containerised": {"redis_keys": {"queue": ["16/celery"]}}}),
     "run.containerised.redis_keys.queue[0]", "db 0-15"),
    ("an empty redis key family", lambda r: r.update(run={"containerised": {"redis_keys": {"locks": []}}}),
     "run.containerised.redis_keys.locks", "non-empty list"),
    ("worker is the api", lambda r: r.update(run={"containerised": {"worker_service": "api"}}),
     "run.containerised.worker_service", "must differ from api_service"),
]


@pytest.mark.parametrize("change, field, words", [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_each_mistake_names_its_field(tmp_path: Path, change: Callable, field: str, words: str) -> None:
    error = error_of(tmp_path, change)
    messages = [p.message for p in error.problems if p.field == field]
    assert messages, f"{field} not named; named: {error.fields}"
    assert any(words in message for message in messages), messages


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    def many(raw: dict[str, Any]) -> None:
        raw.update(colour="blue")
        op(raw, "health").update(method="FETCH")
        raw["operations"].pop("list_invoices")
        raw["run"]["running"]["instances"] = ["http://192.0.2.1:80"]

    error = error_of(tmp_path, many)
    assert error.fields == ["colour", "operations.health.method", "run.running.instances[0]",
                            "operations.list_invoices"]
    assert str(error).splitlines()[0] == "4 problems in target profile"


def test_a_bad_mapping_of_a_required_operation_is_reported_once(tmp_path: Path) -> None:
    error = error_of(tmp_path, lambda r: op(r, "health").update(method="FETCH"))
    assert error.fields == ["operations.health.method"]


def test_a_key_given_twice_is_named(tmp_path: Path) -> None:
    text = yaml.safe_dump(MINIMAL, sort_keys=False) + "name: again\n"
    with pytest.raises(ProfileError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.fields == ["name"] and "given twice" in str(caught.value)


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(ProfileError, match="<root>: must be a mapping"):
        load_profile(write(tmp_path, "- a list\n"))


def test_an_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ProfileError, match="shipped: billing"):
        load_profile("no-such-target")


def test_with_instances_checks_the_urls(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, MINIMAL))
    assert profile.with_instances(["http://127.0.0.1:1", "http://[::1]:2"]).run.instances[1] == "http://[::1]:2"
    with pytest.raises(ProfileError, match=r"instances\[0\]: 'example.test' is not on this machine"):
        profile.with_instances(["http://example.test:80"])


# billing's own profile

@pytest.fixture(scope="module")
def billing():
    return load_profile(DEFAULT_PROFILE)


def sample(operation: str) -> dict[str, Any]:
    values = {int: 7, str: "abc", float: 1.5, Id: 7}  # billing's ids happen to be integers
    return {p.name: values[p.type] for p in OPERATIONS[operation].params}


def test_billing_is_the_default_and_maps_every_operation(billing) -> None:
    assert DEFAULT_PROFILE in known_profiles()
    assert set(billing.operations) == NAMES and not billing.lacks
    assert billing.idempotency_header == "Idempotency-Key" and billing.instance_header == "X-Instance"
    assert billing.auth.header == "Authorization" and billing.auth.scheme == "Bearer"
    assert billing.supports_idempotency()


def test_billing_profile_routes_are_billings_routes_and_cover_them_all(billing) -> None:
    app = create_app(Settings(instance="unit-1"), prepare_schema=False)
    urls = app.url_map.bind("localhost")
    reached = set()
    for name, mapped in billing.operations.items():
        endpoint, _ = urls.match(render_path(mapped.path, sample(name)), method=mapped.method)
        reached.add(endpoint)
    # GET /openapi.json serves the contract itself: a document, not an operation of the suite
    served = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "contract.openapi"}
    assert reached == served, f"billing serves routes no operation maps: {sorted(served - reached)}"


def test_billing_profile_links_the_environment_billing_reads(billing) -> None:
    """The variables whose URLs point at redis / postgres in docker-compose.chaos.yaml, and the admin."""
    compose = yaml.safe_load((ROOT / "docker-compose.chaos.yaml").read_text())
    env = compose["services"]["api"]["environment"]
    assert isinstance(billing.run, Containerised)
    for dependency, prefix in (("redis", "redis://redis:"), ("postgres", "@postgres:")):
        assert set(billing.run.dependencies[dependency]) == {k for k, v in env.items() if prefix in str(v)}
    assert billing.run.compose is None and billing.run.worker_service == "worker" and billing.run.port == 8000
    assert billing.admin == AdminLogin(Settings.admin_email, Settings.admin_password)


def test_billing_statuses_follow_classify(billing) -> None:
    assert [billing.outcome("generate_invoice", s) for s in (200, 409, 503)] == ["ok", "fail", "info"]
    assert billing.outcome("health", 503) == "fail"  # a read that failed changed nothing


def test_the_test_services_profile_loads() -> None:
    profile = load_profile(SERVICE_PROFILE)
    assert profile.name == "test-service" and isinstance(profile.run, Running)
    assert REQUIRED <= set(profile.operations)
    assert {"generate_invoice_async", "purchase_ticket", "book_slot", "pool_metrics"} <= profile.declared_lacks
    assert profile.auth.header == "X-Session" and profile.auth.scheme is None
    assert profile.idempotency_header == "X-Request-Id" and profile.instance_header == "X-Served-By"


def test_an_admin_command_runs_in_the_api_service_by_default(tmp_path: Path) -> None:
    (tmp_path / "override.yaml").write_text("services: {}\n")
    raw = copy.deepcopy(MINIMAL)
    raw["admin"] = {"command": ["flask", "admin-token"]}
    raw["run"] = {"containerised": {"compose": "override.yaml", "api_service": "web"}}
    profile = parse_profile(yaml.safe_dump(raw), tmp_path / "p.yaml")
    assert profile.admin == AdminCommand(("flask", "admin-token"), "web")
    assert profile.run.compose == tmp_path / "override.yaml"


def test_billing_names_its_redis_key_families_for_forget(billing) -> None:
    assert billing.run.redis_keys["idempotency"] == ((0, "idem:*"),)
    assert set(billing.run.redis_keys) == {"locks", "fences", "idempotency", "queue", "results"}

