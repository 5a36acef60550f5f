"""The target profile wired into the suite, without Docker: the workload's operations, the needs marker and
its skip reasons, the already-running target's fault proxy and links, `chaos target`, and the proof that
billing's profile makes the containers the controller made before profiles."""
from __future__ import annotations

import dataclasses
import json
import os
import textwrap
from pathlib import Path
from unittest import mock

import pytest
import requests
import yaml
from click.testing import CliRunner

from chaos.checkers import invoices
from chaos.cli import main
from chaos.cluster.controller import DEPENDENCIES, Cluster, ClusterError, _through
from chaos.cluster.proxy_process import ProxyProcessError, start_proxy
from chaos.cluster.running import RunningTarget, UnsupportedFault
from chaos.cluster.spec import load_services
from chaos.compose import COMPOSE_FILE
from chaos.history import Recorder
from chaos.nemesis.link_faults import Partition
from chaos.nemesis.process_faults import Pause
from chaos.nemesis.runner import Nemesis
from chaos.target import DEFAULT_PROFILE, load_profile
from chaos.target.client import TargetClient
from chaos.target.model import Containerised, Running
from chaos.target.needs import Needs, unmet
from chaos.workload import operations as ops
from chaos.workload.runner import Client, perform, run_clients
from chaos.cluster.reset import clear_data
from fixtures.targets import profile_for
from tests.target_service import PROFILE as SERVICE_PROFILE
from tests.target_service.fixtures import admin, service  # noqa: F401 (fixtures)

pytestmark = pytest.mark.unit
pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-02"


def new_customer(profile, url: str) -> int:
    client = TargetClient(profile, url)
    registered = client.call("register", email="eve@shop.test", password="pw")
    assert registered.ok
    return int(registered["user_id"])


# the workload's operations: abstract, recorded as the checkers read them

def test_an_operation_is_a_name_and_parameters_and_its_history_fields_are_derived() -> None:
    slow = ops.slow_invoice(7, PERIOD, 3.0)
    assert (slow.operation, slow.f, slow.value, slow.write) == (
        "slow_invoice", "generate_invoice", {"user_id": 7, "period": PERIOD, "hold_s": 3.0}, True)
    assert (ops.read_plans().f, ops.read_plans().write) == ("read", False)
    assert ops.activate(5, "k").params == {"subscription_id": 5, "key": "k", "payment_method": "card"}  # no hold
    assert ops.activate(5, "k", hold_s=1.0).value == {"subscription_id": 5, "key": "k", "hold_s": 1.0,
                                                      "params": {"payment_method": "card"}}
    with pytest.raises(KeyError, match="no operation 'refund'"):
        ops.Operation("refund")


def test_clients_drive_the_test_service_through_its_profile_and_are_caught(service, admin) -> None:
    profile, urls = service
    user_id = new_customer(profile, urls[0])
    history = Recorder()
    clients = [Client(f"client_{i}", TargetClient(profile, urls[i % 2], admin.token),
                      iter([ops.generate_invoice(user_id, PERIOD)])) for i in range(6)]
    assert run_clients(history, clients) == 6
    final = {user_id: admin.call("list_invoices", user_id=user_id)["invoices"]}
    result = invoices.check(history.ops, final)
    assert result.valid is False and "duplicate" in result.kinds(), "the unsafe service must be caught"
    assert {op.instance for op in history.completions()} == {"svc-1", "svc-2"}


def test_perform_returns_the_reply_and_records_the_invoke_and_its_completion(service, admin) -> None:
    profile, urls = service
    user_id = new_customer(profile, urls[1])
    history = Recorder()
    reply = perform(history, "client", TargetClient(profile, urls[1], admin.token), ops.generate_invoice(user_id,
                                                                                                         PERIOD))
    invoke, done = history.ops
    assert reply.ok and reply["invoice_id"] == done.value["invoice_id"]
    assert (invoke.f, invoke.value) == ("generate_invoice", {"user_id": user_id, "period": PERIOD})
    assert (done.type, done.status, done.instance) == ("ok", 201, "svc-2")


# the needs marker: skipped before it starts, with the reason, and reported as not checked

NEEDS_SCENARIOS = """
import pytest

@pytest.mark.needs(operations=["generate_invoice"])
def test_portable():
    pass

@pytest.mark.needs(operations=["generate_invoice_async"], faults=["kill"])
def test_async_and_kill():
    pass

@pytest.mark.needs(params=["activate.key"])
def test_keys():
    pass
"""


def test_unmet_needs_skip_with_the_missing_operation_and_fault_named(pytester: pytest.Pytester,
                                                                      tmp_path: Path) -> None:
    pytester.makepyfile(test_needs=NEEDS_SCENARIOS)
    result = pytester.runpytest_subprocess(f"--chaos-target={SERVICE_PROFILE}", "-rs", "-p", "no:cacheprovider",
                                           f"--chaos-report-dir={tmp_path}")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*target 'test-service' lacks operation generate_invoice_async (declared in "
                                 "lacks)*cannot have fault kill: the target is already running*"])
    summary = json.loads(next(tmp_path.glob("*/summary.json")).read_text())
    skipped, = [s for s in summary["scenarios"] if s["outcome"] == "skipped"]
    assert skipped["name"].endswith("test_async_and_kill")
    assert skipped["note"].startswith("not checked: target 'test-service' lacks operation generate_invoice_async")
    assert summary["settings"]["target"] == "test-service (running)"


def test_billings_profile_meets_every_scenarios_needs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_needs=NEEDS_SCENARIOS)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_a_bad_needs_marker_and_a_bad_profile_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad="import pytest\n\n@pytest.mark.needs(operations=['refund'])\n"
                                 "def test_x():\n    pass\n")
    bad_marker = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    bad_marker.assert_outcomes(errors=1)
    assert "ValueError: unknown operation(s) ['refund']" in bad_marker.stdout.str()
    result = pytester.runpytest_subprocess("--chaos-target=no-such-profile", "-p", "no:cacheprovider")
    result.stderr.fnmatch_lines(["*--chaos-target: 1 problem in target profile*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_a_compose_override_still_means_billings_profile(tmp_path: Path) -> None:
    override = tmp_path / "team.compose.yaml"
    override.write_text("services:\n  api:\n    image: team/api:2\n")
    profile = profile_for(str(override))
    assert profile.name == "billing" and isinstance(profile.run, Containerised)
    assert profile.run.compose == override.resolve()
    assert profile_for(None).run == load_profile(DEFAULT_PROFILE).run
    assert profile_for(str(SERVICE_PROFILE)).name == "test-service"


def test_a_target_without_reset_keeps_its_data_and_says_so(service, admin) -> None:
    assert clear_data(admin) == "data not cleared: target 'test-service' lacks operation reset and has no reset command"


# an already-running target: our fault proxy in a child process, one client link per instance

def test_a_running_target_gets_one_client_link_per_instance_and_loses_its_proxy_on_remove(service) -> None:
    profile, urls = service
    target = RunningTarget(profile.run)
    with target:
        proxy_pid = target._proxy.process.pid  # type: ignore[union-attr]
        links = target.api_urls()
        assert list(links) == ["api_1", "api_2"] and target.lb_url == links["api_1"]
        assert sorted(target.toxiproxy.proxies()) == ["client->api_1", "client->api_2"]  # type: ignore[union-attr]
        served = [requests.get(url + "/v2/ping", timeout=5).headers["X-Served-By"] for url in links.values()]
        assert served == ["svc-1", "svc-2"]
        history = Recorder()
        nemesis = Nemesis(target, lambda event, fault: history.nemesis(event, fault))  # type: ignore[arg-type]
        nemesis.start_fault(Partition("client->api_2"))
        with pytest.raises(requests.ConnectionError):
            requests.get(links["api_2"] + "/v2/ping", timeout=5)
        with pytest.raises(UnsupportedFault, match="cannot pause api_1: the target is already running"):
            nemesis.start_fault(Pause("api_1"))
        with pytest.raises(UnsupportedFault, match="no link 'api_1->redis': the target is already running"):
            nemesis.start_fault(Partition("api_1->redis"))
        nemesis.heal()
        assert requests.get(links["api_2"] + "/v2/ping", timeout=5).ok
        assert target.containers() == [] and [i.name for i in target.of("worker")] == []
    assert target.toxiproxy is None
    with pytest.raises(ProcessLookupError):
        os.kill(proxy_pid, 0)


def test_a_fault_proxy_that_cannot_start_says_why_in_one_line() -> None:
    with pytest.raises(ProxyProcessError, match=r"exited 1 on 192\.0\.2\.1: OSError: .*192\.0\.2\.1") as caught:
        start_proxy(host="192.0.2.1")  # TEST-NET-1: not an address of this machine
    assert "\n" not in str(caught.value)


# `chaos target`

def test_target_check_prints_what_works_against_the_test_service(service) -> None:
    profile, urls = service
    result = CliRunner().invoke(main, ["target", "check", str(SERVICE_PROFILE), "--url", urls[0]])
    assert result.exit_code == 0, result.output
    assert "generate_invoice" in result.output and "works" in result.output
    assert "declared in lacks" in result.output


def test_target_check_fails_naming_an_operation_whose_route_is_wrong(service, tmp_path: Path) -> None:
    profile, urls = service
    raw = yaml.safe_load(SERVICE_PROFILE.read_text())
    raw["operations"]["list_plans"]["path"] = "/v2/no-such-route"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(raw))
    result = CliRunner().invoke(main, ["target", "check", str(broken), "--url", urls[0]])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == ("Error: 1 operation did not work as the profile says: "
                                                      "api_1: list_plans")


def test_target_check_of_a_bad_profile_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent("""\
        name: Bad Name
        operations: {refund: {method: POST, path: /r}}
        run: {running: {instances: [http://example.com:80]}}
        """))
    result = CliRunner().invoke(main, ["target", "check", str(bad)])
    assert result.exit_code == 1
    line, = result.output.strip().splitlines()
    assert line.startswith("Error: ") and "operations.refund" in line and "run.running.instances[0]" in line


def test_target_list_names_the_shipped_profiles() -> None:
    result = CliRunner().invoke(main, ["target", "list"])
    assert result.exit_code == 0 and "billing" in result.output and "containerised" in result.output


# billing's profile: exactly the containers of before profiles

def before_profiles(environment: dict[str, str], name: str, ports: list[int]) -> dict[str, str]:
    """What the controller gave an instance before profiles: INSTANCE_NAME, every URL through its links."""
    environment = dict(environment, INSTANCE_NAME=name)
    for dependency, port in zip(DEPENDENCIES, ports):
        environment = {key: _through(value, dependency, port) for key, value in environment.items()}
    return environment


@pytest.mark.parametrize("role", ["api", "worker"])
def test_billings_profile_gives_an_instance_the_environment_and_links_of_before(role: str) -> None:
    engine = mock.Mock()
    engine.api.base_url = "http+docker://localhost"
    cluster = Cluster(client=engine, environment={})
    cluster.services = load_services(COMPOSE_FILE, {})
    cluster.toxiproxy = mock.Mock()
    cluster.fixed["toxiproxy"] = mock.Mock()
    with mock.patch.object(cluster, "_run") as run, mock.patch.object(cluster, "host_port", return_value=20001):
        instance = cluster._add_instance(role)
    spec, name = run.call_args.args
    assert (spec.name, name, run.call_args.kwargs["aliases"]) == (role, f"{role}_1", [role, f"{role}_1"])
    assert run.call_args.kwargs["environment"] == before_profiles(spec.environment, f"{role}_1", [21000, 21001])
    created = [(c.args, c.kwargs) for c in cluster.toxiproxy.create_proxy.call_args_list]
    expected = [((f"{role}_1->redis", "redis:6379"), {"listen": "0.0.0.0:21000"}),
                ((f"{role}_1->postgres", "postgres:5432"), {"listen": "0.0.0.0:21001"})]
    if role == "api":
        expected.append((("client->api_1", "api_1:8000"), {"listen": "0.0.0.0:20000"}))
    assert created == expected
    assert instance.links == {"redis": f"{role}_1->redis", "postgres": f"{role}_1->postgres"}


# every scenario says what it needs, and the table of docs/targets.md says the same

def declared_needs() -> dict[str, Needs]:
    """scenario (module.py::name) -> what its needs markers (its module's and its own) declare."""
    import importlib
    import inspect

    found = {}
    for path in sorted((ROOT / "scenarios").glob("test_*.py")):
        module = importlib.import_module(f"scenarios.{path.stem}")
        module_marks = getattr(module, "pytestmark", [])
        module_marks = module_marks if isinstance(module_marks, list) else [module_marks]
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("test_"):
                continue
            marks = [m for m in [*module_marks, *getattr(function, "pytestmark", [])] if m.name == "needs"]
            assert marks, f"{path.name}::{name} declares no @pytest.mark.needs"
            found[f"{path.name}::{name}"] = Needs(**{kind: {n for m in marks for n in m.kwargs.get(kind, ())}
                                                     for kind in ("operations", "faults", "params")})
    return found


def test_every_scenario_declares_its_needs_and_the_readme_table_agrees() -> None:
    billing = load_profile(DEFAULT_PROFILE)
    already_running = dataclasses.replace(billing, run=Running(("http://127.0.0.1:1",)))
    profiles = (already_running, load_profile(SERVICE_PROFILE))
    readme = (ROOT / "docs" / "targets.md").read_text(encoding="utf-8")
    rows, expected = {}, {}
    for line in readme[readme.index("## What each scenario needs"):].splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`test_"):
            names = {w.strip(" ()+") for w in cells[1].replace("(+", ",").split(",")} - {""}
            faults = set() if cells[2] == "none" else set(cells[2].split(", "))
            rows[cells[0].strip("`")] = (names, faults, cells[3].split()[0], cells[4].split()[0])
    for scenario, needs in declared_needs().items():
        runs = tuple("skipped" if unmet(profile, needs) else "runs" for profile in profiles)
        expected[scenario] = (set(needs.operations | needs.params), set(needs.faults), *runs)
    assert rows == expected


def test_another_targets_instances_get_links_only_where_its_profile_says(tmp_path: Path) -> None:
    override = tmp_path / "shop.compose.yaml"
    override.write_text(yaml.safe_dump({"services": {"web": {
        "image": "shop/web:1", "command": ["serve"],
        "environment": {"SHOP_REDIS": "redis://redis:6379/0", "SHOP_DB": "postgresql://u:p@postgres:5432/shop",
                        "OTHER_DB": "postgresql://u:p@postgres:5432/audit"}}}}))
    engine = mock.Mock()
    engine.api.base_url = "http+docker://localhost"
    run = Containerised(override, api_service="web", worker_service=None, port=9000,
                        dependencies={"redis": ("SHOP_REDIS",)}, instance_env="SHOP_NODE")
    cluster = Cluster(client=engine, environment={}, overrides=(override,), target=run)
    cluster.services = load_services(COMPOSE_FILE, {}, (override,))
    cluster.toxiproxy = mock.Mock()
    cluster.fixed["toxiproxy"] = mock.Mock()
    with mock.patch.object(cluster, "_run") as start, mock.patch.object(cluster, "host_port", return_value=20001):
        instance = cluster._add_instance("api")
    spec, name = start.call_args.args
    assert (spec.name, name, instance.name) == ("web", "api_1", "api_1")  # the role names the instance
    environment = start.call_args.kwargs["environment"]
    assert environment["SHOP_REDIS"] == "redis://toxiproxy:21000/0" and environment["SHOP_NODE"] == "api_1"
    assert environment["SHOP_DB"] == "postgresql://u:p@postgres:5432/shop", "no postgres link asked for"
    assert "INSTANCE_NAME" not in environment
    assert [c.args for c in cluster.toxiproxy.create_proxy.call_args_list] == [("api_1->redis", "redis:6379"),
                                                                             ("client->api_1", "api_1:9000")]
    assert instance.links == {"redis": "api_1->redis"} and not cluster.has_workers
    with pytest.raises(ClusterError, match="no worker service"):
        cluster.scale("worker", 1)


def test_chaos_run_passes_the_target_profile_to_the_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(pytest, "main", lambda args: seen.append(args) or 0)
    result = CliRunner().invoke(main, ["run", "scenarios/test_invoices.py", "--target", str(SERVICE_PROFILE)])
    assert result.exit_code == 0, result.output
    assert f"--chaos-target={SERVICE_PROFILE}" in seen[0] and "scenarios/test_invoices.py" in seen[0]
    CliRunner().invoke(main, ["run"])
    assert not [arg for arg in seen[1] if arg.startswith("--chaos-target")]  # billing's, by default
