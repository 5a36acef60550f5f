"""Every package's expected errors are one ``ChaosError`` (message and hint), printed by the CLI as one line;
each keeps the built-in base its callers catch it by."""
from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from chaos.cli_errors import one_line_errors
from chaos.cluster.controller import ClusterError
from chaos.cluster.proxy_process import ProxyProcessError
from chaos.cluster.running import UnsupportedFault
from chaos.drills.runbook import RunbookError
from chaos.drills.workloads import WorkloadError
from chaos.errors import ChaosError
from chaos.load import LoadError
from chaos.nemesis.grammar import GrammarError
from chaos.provision.errors import ProvisionError
from chaos.target.admin import AdminError
from chaos.target.errors import OperationMissing, Problem, ProfileError
from chaos.target.setup import SetupError
from chaos.toxiproxy.client import ToxiproxyError
from chaos.workload.accounts import SetupFailed

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("error, base", [
    (ProvisionError, RuntimeError), (ClusterError, RuntimeError), (UnsupportedFault, ClusterError),
    (ProxyProcessError, ProvisionError), (ProfileError, ValueError), (OperationMissing, LookupError),
    (SetupError, RuntimeError), (AdminError, RuntimeError), (GrammarError, ValueError), (LoadError, Exception),
    (RunbookError, ValueError), (WorkloadError, ValueError), (SetupFailed, AssertionError)])
def test_every_package_error_is_a_chaos_error_and_keeps_its_base(error: type, base: type) -> None:
    assert issubclass(error, ChaosError) and issubclass(error, base)


def test_a_cluster_error_is_no_provision_error() -> None:
    """Nothing that catches ProvisionError (provisioning's own entry point) meets a cluster's error."""
    assert not issubclass(ClusterError, ProvisionError)


def test_the_hint_follows_the_message() -> None:
    error = ClusterError("no stack is up", hint="start one with `chaos up`")
    assert (str(error), error.hint) == ("no stack is up; start one with `chaos up`", "start one with `chaos up`")
    assert str(GrammarError("unknown fault kind 'nap'")) == "unknown fault kind 'nap'"


def run(error: BaseException) -> str:
    @click.command()
    @one_line_errors
    def command() -> None:
        raise error

    result = CliRunner().invoke(command, [])
    assert result.exit_code == 1 and result.exception is not None and isinstance(result.exception, SystemExit)
    return result.output


def test_the_command_line_prints_any_chaos_error_as_one_line() -> None:
    assert run(ClusterError("no stack is up", hint="start one with `chaos up`")) == \
        "Error: no stack is up; start one with `chaos up`\n"
    problems = [Problem("svc.yaml", "name", "is missing"), Problem("svc.yaml", "run", "must be a mapping")]
    assert run(ProfileError(problems)) == ("Error: 2 problems in target profile; svc.yaml: name: is missing; "
                                           "svc.yaml: run: must be a mapping\n")
    assert run(SetupFailed("register a@b: 500 'boom'")) == "Error: register a@b: 500 'boom'\n"
    assert run(ToxiproxyError("POST", "/proxies/x", 404, "proxy not found")) == \
        "Error: the fault proxy refused: POST /proxies/x -> 404: proxy not found; `chaos status` lists the links\n"


def test_a_bug_is_still_a_traceback() -> None:
    @click.command()
    @one_line_errors
    def command() -> None:
        raise KeyError("period")

    result = CliRunner().invoke(command, [])
    assert isinstance(result.exception, KeyError)
