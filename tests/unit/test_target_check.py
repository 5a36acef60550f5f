"""`chaos target check` against the test service: every instance, no 401 cascades, the checkers' fields; and
`chaos target env`."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from chaos.cli import main
from chaos.target.check import FieldNeed, check_instances, check_target, field_needs, format_table, profile_notes
from chaos.target.profile import parse_profile
from tests.target_service import PROFILE as SERVICE_PROFILE
from tests.target_service.fixtures import service  # noqa: F401 (fixture)

pytestmark = pytest.mark.unit


def variant(urls: list[str], change) -> tuple[object, str]:
    """The test service's profile, changed by ``change(raw)``, at ``urls``; (profile, its YAML)."""
    raw = yaml.safe_load(SERVICE_PROFILE.read_text())
    raw["run"] = {"running": {"instances": urls}}
    change(raw)
    text = yaml.safe_dump(raw)
    return parse_profile(text, SERVICE_PROFILE), text


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_after_a_failed_login_the_calls_that_need_the_token_are_skipped_not_401s(service) -> None:
    _, urls = service

    def wrong_password(raw: dict) -> None:
        raw["operations"]["login"]["body"]["secret"] = "not-the-password"

    profile, _ = variant(urls, wrong_password)
    rows = {row.operation: row for row in check_target(profile, urls[0])}
    assert (rows["register"].state, rows["login"].state, rows["login"].status) == ("works", "fails", 401)
    for name in ("profile", "list_plans", "subscribe", "activate"):
        assert (rows[name].state, rows[name].detail) == ("skipped", "no token: login fail (status 401)"), name
    assert rows["health"].state == "works" and rows["generate_invoice"].state == "works"  # the admin's own token


def test_every_instance_is_checked_and_a_problem_names_its_instance(service) -> None:
    _, urls = service
    dead = f"http://127.0.0.1:{closed_port()}"
    profile, _ = variant([urls[0], dead], lambda raw: None)
    report = check_instances(profile, {"api_1": urls[0], "api_2": dead}, timeout_s=2)
    assert list(report.rows) == ["api_1", "api_2"]
    assert not [row for row in report.rows["api_1"] if row.broken], format_table(report.rows["api_1"])
    assert {row.instance for row in report.rows["api_2"]} == {"api_2"}
    assert "api_2: health" in report.broken() and not [b for b in report.broken() if b.startswith("api_1")]
    assert report.gaps() == []   # the test service's profile extracts all the checkers need


def test_a_value_a_checker_needs_and_the_profile_does_not_extract_is_named_with_its_checker(service) -> None:
    _, urls = service

    def forget(raw: dict) -> None:
        del raw["operations"]["activate"]["extract"]["invoice_id"]
        raw["operations"]["list_invoices"]["extract"]["invoices"]["fields"].pop("period")  # stays "month"
        raw["identities"] = {"invoice": ["user_id", "period"], "activation": ["subscription_id"]}

    profile, _ = variant(urls[:1], forget)
    rows = {row.operation: row for row in check_target(profile, urls[0], instance="api_1")}
    assert rows["activate"].state == "works" and "NOT FOUND" not in rows["activate"].detail
    assert rows["activate"].gaps == ("not extracted: invoice_id (needed by idempotency)",)
    assert rows["list_invoices"].gaps == (
        "not extracted: invoices[].period (needed by invoices: identities.invoice)",
        "not extracted: invoices[].subscription_id (needed by idempotency: identities.activation)")
    report = check_instances(profile, {"api_1": urls[0]})
    assert "api_1: activate: not extracted: invoice_id (needed by idempotency)" in report.gaps()
    assert report.broken() == []   # the scenarios still run; those checks will be unknown


def test_a_target_without_an_invoice_identity_is_told_the_invoice_checks_will_be_unknown() -> None:
    raw = yaml.safe_load(SERVICE_PROFILE.read_text())
    raw.pop("identities")
    profile = parse_profile(yaml.safe_dump(raw), SERVICE_PROFILE)
    assert profile_notes(profile) == ["identities.invoice: not declared: the at-most-once invoice checks will be "
                                      "unknown"]
    assert FieldNeed("list_invoices", "invoices[].period", "invoices: identities.invoice") not in field_needs(profile)
    raw["identities"] = {"invoice": "per_call"}
    per_call = parse_profile(yaml.safe_dump(raw), SERVICE_PROFILE)
    assert profile_notes(per_call) == []
    assert [n.field for n in field_needs(per_call) if n.operation == "list_invoices"] == ["invoices[].invoice_id"]


def test_target_check_calls_every_instance_of_a_running_profile(service, tmp_path: Path) -> None:
    _, urls = service
    _, text = variant(urls, lambda raw: None)
    path = tmp_path / "svc.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["target", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert f"api_1 at {urls[0]}" in result.output and f"api_2 at {urls[1]}" in result.output


def test_target_check_lists_what_the_checkers_will_miss_without_failing(service, tmp_path: Path) -> None:
    _, urls = service

    def no_identity(raw: dict) -> None:
        raw.pop("identities")
        del raw["operations"]["subscribe"]["extract"]["subscription_id"]

    _, text = variant(urls[:1], no_identity)
    path = tmp_path / "svc.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["target", "check", str(path)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "api_1: subscribe: not extracted: subscription_id (needed by idempotency)" in output
    assert "identities.invoice: not declared: the at-most-once invoice checks will be unknown" in output
    assert "skipped" in output


def test_target_env_prints_what_each_instance_must_be_started_with(tmp_path: Path) -> None:
    raw = yaml.safe_load(SERVICE_PROFILE.read_text())
    raw["run"] = {"running": {"instances": ["http://127.0.0.1:5001", "http://127.0.0.1:5002"],
                              "proxy_port_base": 24000,
                              "dependencies": {
                                  "redis": {"url": "redis://127.0.0.1:6379/0", "env": ["REDIS_URL"]},
                                  "postgres": {"url": "postgresql://app:s3 cret@127.0.0.1:5432/app",
                                               "env": ["DATABASE_URL"]}}}}
    path = tmp_path / "svc.yaml"
    path.write_text(yaml.safe_dump(raw))
    one = CliRunner().invoke(main, ["target", "env", str(path), "--instance", "2"])
    assert one.exit_code == 0, one.output
    assert one.output == ("DATABASE_URL='postgresql://app:s3 cret@127.0.0.1:24002/app' "
                          "REDIS_URL=redis://127.0.0.1:24003/0\n")
    every = CliRunner().invoke(main, ["target", "env", str(path)])
    assert every.exit_code == 0, every.output
    lines = every.output.splitlines()
    assert lines[0] == ("# api_1 (http://127.0.0.1:5001): api_1->postgres on 127.0.0.1:24000 to 127.0.0.1:5432, "
                        "api_1->redis on 127.0.0.1:24001 to 127.0.0.1:6379")
    assert lines[1].startswith("api_1: DATABASE_URL=") and lines[3].startswith("api_2: ")
    assert CliRunner().invoke(main, ["target", "env", str(path), "--instance", "3"]).exit_code == 1
    containerised = CliRunner().invoke(main, ["target", "env", "billing"])
    assert containerised.exit_code == 1 and "containerised" in containerised.output
