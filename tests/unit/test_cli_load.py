"""`chaos load`'s options: bounds and one-line errors, and no stack looked for when --host names the target."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from chaos import cli_load
from chaos.cli import main
from tests.target_service import PROFILE

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def no_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("`chaos load --host` without --fault must not look for the stack")
    monkeypatch.setattr(cli_load, "running_cluster", refuse)


def chaos(*words: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["load", *words])
    return done.exit_code, done.output


@pytest.mark.parametrize("words, message", [
    (["--target", "no-such-target", "--host", "http://127.0.0.1:1"], "no such profile file"),
    (["--target", str(PROFILE), "--host", "nonsense"], "host must be an http(s) URL"),
])
def test_a_bad_target_or_host_is_one_line_before_locust_starts(words: list[str], message: str) -> None:
    code, output = chaos("browse", "--duration", "5", *words)
    assert code == 1 and message in output
    assert output.startswith("Error: ") and output.count("\n") == 1, output


@pytest.mark.parametrize("option, value", [("--users", "0"), ("--users", "1001"), ("--spawn-rate", "0"),
                                           ("--duration", "3601")])
def test_the_options_keep_their_bounds(option: str, value: str) -> None:
    code, output = chaos("browse", "--host", "http://127.0.0.1:1", option, value)
    assert code == 2 and f"Invalid value for '{option}'" in output


def test_the_help_names_the_target_and_the_host() -> None:
    code, output = chaos("--help")
    assert code == 0 and "--target PROFILE" in output and "--host URL" in output and "[default: billing]" in output
