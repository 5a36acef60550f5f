"""`chaos up`, `status`, `fault`, `heal`, `scale` and `down` against a real stack, and their errors."""
from __future__ import annotations

from pathlib import Path

import docker
import pytest

from chaos.cluster.controller import INSTANCE_LABEL, OWNER_LABEL
from tests.operator.conftest import OWNER, Chaos

pytestmark = pytest.mark.docker


def one_line_error(process) -> str:
    lines = [line for line in process.stderr.splitlines() if line.strip()]
    assert process.returncode != 0
    assert len(lines) == 1 and lines[0].startswith("Error: "), process.stderr
    assert "Traceback" not in process.stderr
    return lines[0]


def test_up_shows_every_instance_with_its_links(cli_stack: str) -> None:
    for name in ("postgres", "redis", "toxiproxy", "lb", "flower", "api_1", "api_2", "worker_1"):
        assert name in cli_stack
    for link in ("api_1->redis", "api_2->postgres", "worker_1->redis", "client->api_2"):
        assert link in cli_stack
    assert "active faults: none" in cli_stack


def test_a_fault_shows_in_status_until_healed(chaos: Chaos, cli_stack: str) -> None:
    assert chaos("fault", "partition", "api_1:redis").returncode == 0
    paused = chaos("fault", "pause", "worker_1")
    assert paused.returncode == 0 and "heal it with `chaos heal worker_1`" in paused.stdout
    status = chaos("status").stdout
    assert "partition api_1->redis" in status and "paused worker_1" in status
    assert "cut" in status

    healed = chaos("heal", "--all")
    assert healed.returncode == 0, healed.stderr
    assert "partition api_1->redis" in healed.stdout and "paused worker_1" in healed.stdout
    assert "active faults: none" in chaos("status").stdout


def redis_cli(*args: str) -> str:
    """redis-cli in the stack of this test process, by its labels."""
    redis, = docker.from_env().containers.list(filters={"label": [f"{OWNER_LABEL}={OWNER}",
                                                                  f"{INSTANCE_LABEL}=redis"]})
    answer = redis.exec_run(["redis-cli", *args])
    assert answer.exit_code == 0, answer.output
    return answer.output.decode().strip()


def test_a_restart_of_redis_forgets_everything_and_shows_as_just_started(chaos: Chaos, cli_stack: str) -> None:
    assert redis_cli("SET", "chaos:before-restart", "1") == "OK"
    restarted = chaos("fault", "restart", "redis")
    assert restarted.returncode == 0, restarted.stderr
    assert "killed and started again" in restarted.stdout and "nothing stays to heal" in restarted.stdout
    assert redis_cli("EXISTS", "chaos:before-restart") == "0", "Redis (no persistence) came back empty"
    status = chaos("status").stdout
    redis_row = next(line for line in status.splitlines() if "redis" in line and "healthy" in line)
    assert " s " in redis_row and "active faults: none" in status, status
    assert chaos("heal", "--all").stdout.strip() == "no active fault"


def test_exhausted_connections_show_in_status_until_healed(chaos: Chaos, cli_stack: str) -> None:
    exhausted = chaos("fault", "exhaust", "postgres")
    assert exhausted.returncode == 0, exhausted.stderr
    assert "heal it with `chaos heal postgres`" in exhausted.stdout
    status = chaos("status").stdout
    assert "exhausted postgres" in status and "connections held by pid" in status, status
    healed = chaos("heal", "postgres")
    assert healed.returncode == 0 and "exhausted postgres" in healed.stdout, healed.stdout + healed.stderr
    assert "active faults: none" in chaos("status").stdout


def test_heal_one_target_leaves_the_others(chaos: Chaos, cli_stack: str) -> None:
    chaos("fault", "latency", "api_2:postgres", "ms=200")
    chaos("fault", "partition", "worker_1:redis")
    assert "latency api_2->postgres" in chaos("heal", "api_2").stdout
    status = chaos("status").stdout
    assert "partition worker_1->redis" in status and "latency api_2" not in status
    chaos("heal", "--all")


def test_scale_adds_an_instance_with_its_links_and_the_lb_follows(chaos: Chaos, cli_stack: str) -> None:
    scaled = chaos("scale", "api", "3")
    assert scaled.returncode == 0, scaled.stderr
    assert "api_1, api_2, api_3" in scaled.stdout
    status = chaos("status").stdout
    assert "api_3->redis" in status and "client->api_3" in status
    assert chaos("scale", "api", "2").returncode == 0
    assert "api_3" not in chaos("status").stdout


@pytest.mark.parametrize("args, says", [
    (("fault", "latency", "api_1:redis", "ms=abc"), "ms"),
    (("fault", "melt", "api_1"), "unknown fault kind 'melt'"),
    (("fault", "partition", "api_9:redis"), "no link 'api_9->redis'"),
    (("fault", "pause", "api_9"), "no instance 'api_9'"),
])
def test_a_bad_fault_is_one_clear_line(chaos: Chaos, cli_stack: str, args: tuple[str, ...], says: str) -> None:
    assert says in one_line_error(chaos(*args))
    assert "active faults: none" in chaos("status").stdout


def test_a_bad_argument_is_a_usage_error(chaos: Chaos) -> None:
    process = chaos("scale", "database", "2")
    assert process.returncode == 2 and "Invalid value" in process.stderr


@pytest.mark.parametrize("command", [("status",), ("up",), ("fault", "pause", "api_1"), ("down",)])
def test_an_engine_that_is_not_there_is_one_clear_line(chaos: Chaos, command: tuple[str, ...]) -> None:
    error = one_line_error(chaos(*command, DOCKER_HOST="unix:///nonexistent/docker.sock"))
    assert "Docker engine" in error


def test_doctor_says_what_is_fine_and_what_to_fix(chaos: Chaos, cli_stack: str) -> None:
    fine = chaos("doctor")
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert "stack of `chaos up`" in fine.stdout and "answers /healthz" in fine.stdout
    broken = chaos("doctor", DOCKER_HOST="unix:///nonexistent/docker.sock")
    assert broken.returncode == 1 and "no Docker engine answers" in broken.stdout and "→" in broken.stdout


def test_load_runs_a_profile_while_a_fault_is_held(chaos: Chaos, cli_stack: str, tmp_path: Path) -> None:
    loaded = chaos("load", "browse", "--users", "4", "--duration", "9", "--report-dir", str(tmp_path),
                   "--fault", "latency api_1:postgres ms=100")
    assert loaded.returncode == 0, loaded.stderr + loaded.stdout
    assert "fault start: latency api_1->postgres" in loaded.stdout and "fault stop" in loaded.stdout
    html = Path(loaded.stdout.split("report: ")[-1].split()[0])
    assert html.is_file() and list(html.parent.glob("*_stats.csv"))
    assert "active faults: none" in chaos("status").stdout


def test_down_leaves_nothing_behind(chaos: Chaos, cli_stack: str) -> None:
    """Last in this file: `chaos down` removes every container and network of the stack."""
    down = chaos("down")
    assert down.returncode == 0 and "stack removed" in down.stdout
    engine = docker.from_env()
    label = f"{OWNER_LABEL}={OWNER}"
    assert engine.containers.list(all=True, filters={"label": label}) == []
    assert engine.networks.list(filters={"label": label}) == []
    assert "no stack is up" in chaos("status").stdout
