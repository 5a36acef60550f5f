"""The Locust runner and profiles, without Docker or a service.

Locust monkey-patches the interpreter with gevent when imported, so nothing
here imports it: the profiles are read, and Locust is run, in subprocesses.
End-to-end runs use a locustfile whose users fire request events without a
network, so the runner's bounding, CSV reading and error paths are real.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from chaos import load
from chaos.load import PROFILES, LoadError, Profile, read_aggregated, run_load
from chaos.target import ProfileError

pytestmark = pytest.mark.unit

# Reads every profile the way Locust does and prints what it found, as JSON.
INTROSPECT = textwrap.dedent("""
    import json, sys
    from locust import SequentialTaskSet
    from locust.util.load_locustfile import load_locustfile

    def task_names(tasks):
        if isinstance(tasks, dict):
            return {t.__name__: w for t, w in tasks.items()}
        return [t.__name__ for t in tasks]

    out = {}
    for path in sys.argv[1:]:
        users, _ = load_locustfile(path)
        found = {}
        for name, cls in users.items():
            waits = [cls.wait_time(None) for _ in range(300)]
            entry = {"weight": cls.weight, "host": cls.host, "wait": [min(waits), max(waits)],
                     "catalogue": {"events": cls.catalogue.events, "slots": cls.catalogue.slots}}
            if len(cls.tasks) == 1 and isinstance(cls.tasks[0], type) and issubclass(cls.tasks[0], SequentialTaskSet):
                entry["sequence"] = [t.__name__ for t in cls.tasks[0].tasks]
            else:
                counts = {}
                for t in cls.tasks:
                    counts[t.__name__] = counts.get(t.__name__, 0) + 1
                entry["tasks"] = counts
            found[name] = entry
        out[path] = found
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def profiles() -> dict[str, dict]:
    """Each profile's user classes as Locust sees them, keyed by profile name."""
    paths = {name: str(profile.path) for name, profile in PROFILES.items()}
    done = subprocess.run([sys.executable, "-c", INTROSPECT, *paths.values()], capture_output=True, text=True,
                          timeout=120, cwd=load.ROOT, env={**os.environ, "PYTHONPATH": str(load.ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {name: found[path] for name, path in paths.items()}


# errors before anything runs

def test_an_unknown_profile_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as error:
        run_load("soak", "http://127.0.0.1:1", users=1, spawn_rate=1, duration_s=5, out_dir=tmp_path)
    message = str(error.value)
    assert "'soak'" in message and "browse, distributed, realistic" in message and "\n" not in message
    assert not list(tmp_path.iterdir())


def test_a_target_profile_that_does_not_load_is_refused_before_locust_starts(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such profile file"):
        run_load("browse", "http://127.0.0.1:1", target="no-such-target", users=1, spawn_rate=1, duration_s=5,
                 out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("duration", [0, -5, 2.5, True])
def test_a_duration_must_be_a_positive_whole_number_of_seconds(tmp_path: Path, duration: object) -> None:
    with pytest.raises(LoadError, match="duration must be a positive number of seconds"):
        run_load("browse", "http://127.0.0.1:1", users=1, spawn_rate=1, duration_s=duration,  # type: ignore[arg-type]
                 out_dir=tmp_path)


@pytest.mark.parametrize("users, spawn_rate, match", [(0, 1, "users must be positive"),
                                                      (1, 0, "spawn rate must be"),
                                                      (1, float("nan"), "spawn rate must be")])
def test_users_and_spawn_rate_must_be_positive(tmp_path: Path, users: int, spawn_rate: float, match: str) -> None:
    with pytest.raises(LoadError, match=match):
        run_load("browse", "http://127.0.0.1:1", users=users, spawn_rate=spawn_rate, duration_s=5, out_dir=tmp_path)


@pytest.mark.parametrize("host", ["nonsense", "127.0.0.1:8080", "ftp://127.0.0.1", "http://"])
def test_the_host_must_be_an_http_url(tmp_path: Path, host: str) -> None:
    """Locust would start anyway and every user would fail on its first request."""
    with pytest.raises(LoadError, match="host must be an http"):
        run_load("browse", host, users=1, spawn_rate=1, duration_s=5, out_dir=tmp_path)


# the profiles: the seed's classes and weights, against the contract

def test_every_profile_exists_with_the_seeds_numbers() -> None:
    assert set(PROFILES) == {"browse", "realistic", "distributed"}
    assert all(profile.path.is_file() for profile in PROFILES.values())
    distributed = PROFILES["distributed"]
    assert (distributed.users, distributed.spawn_rate, distributed.duration_s) == (500, 50, 300)


def test_browse_and_subscribe_walks_the_seeds_journey_in_order(profiles: dict[str, dict]) -> None:
    users = profiles["browse"]
    assert set(users) == {"WebsiteUser"}
    user = users["WebsiteUser"]
    # A SequentialTaskSet repeats each task as often as its weight: 3, 2, 1, 1, 1.
    assert user["sequence"] == ["browse_tariff_plans"] * 3 + ["view_profile"] * 2 + [
        "create_subscription", "create_booking", "purchase_ticket"]
    assert 1 <= user["wait"][0] <= user["wait"][1] <= 3
    assert user["host"] is None, "no built-in host: the runner passes the lb"
    assert user["catalogue"] == {"events": 5, "slots": 10}


def test_realistic_load_has_eight_normal_users_to_two_power_users(profiles: dict[str, dict]) -> None:
    users = profiles["realistic"]
    assert set(users) == {"NormalUser", "PowerUser"}
    normal, power = users["NormalUser"], users["PowerUser"]
    assert (normal["weight"], power["weight"]) == (8, 2)
    assert normal["tasks"] == {"browse": 5, "view_profile": 2, "create_subscription": 1}
    assert power["tasks"] == {"frequent_browsing": 3, "manage_subscriptions": 2, "create_bookings": 1}
    assert 2 <= normal["wait"][0] <= normal["wait"][1] <= 5
    assert 1 <= power["wait"][0] <= power["wait"][1] <= 2
    assert normal["catalogue"]["slots"] == power["catalogue"]["slots"] == 5


def test_distributed_has_the_seeds_task_weights(profiles: dict[str, dict]) -> None:
    users = profiles["distributed"]
    assert set(users) == {"DistributedLoadTest"}
    user = users["DistributedLoadTest"]
    assert user["tasks"] == {"browse_plans": 5, "create_subscription_with_idempotency": 2,
                             "trigger_background_job": 1}
    assert 1 <= user["wait"][0] <= user["wait"][1] <= 3
    assert user["host"] is None


def test_the_profiles_hard_code_no_targets_routes_or_fields() -> None:
    """Routes, fields and the admin come from the target profile; a request is named by its path template
    (a path with an id in it, sent without a name, would make one stats row per id)."""
    source = "\n".join(p.read_text() for p in sorted(load.PROFILE_DIR.glob("*.py")))  # the profiles and their parts
    for billing_only in ("/api/", "tariff_plan_id", "ADMIN_EMAIL", "access_token", "X-Instance"):
        assert billing_only not in source
    assert "name or PROFILE.mapping(operation).path" in source


# reading Locust's stats CSV

STATS_CSV = """\
Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,\
Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,/api/tariff_plans,120,0,12,15.5,3,80,410.0,12.0,0.0,12,14,16,18,25,40,60,70,80,80,80
POST,/api/subscriptions/[id]/activate,30,2,30,41.25,10,300,120.0,3.0,0.2,30,35,40,45,90,150,300,300,300,300,300
,Aggregated,150,2,14,20.65,3,300,352.0,15.0,0.2,14,16,20,25,40,95,150,250,300,300,300
"""


def test_the_aggregated_row_gives_the_runs_figures(tmp_path: Path) -> None:
    path = tmp_path / "browse_stats.csv"
    path.write_text(STATS_CSV)
    row = read_aggregated(path)
    assert (row.requests, row.failures) == (150, 2)
    assert row.avg_ms == pytest.approx(20.65) and row.p95_ms == 95.0 and row.requests_per_s == 15.0


def test_a_run_without_requests_has_no_percentiles(tmp_path: Path) -> None:
    path = tmp_path / "browse_stats.csv"
    header = STATS_CSV.splitlines()[0]
    path.write_text(header + "\n,Aggregated,0,0,0,0.0,0,0,0.0,0.0,0.0" + ",N/A" * 11 + "\n")
    row = read_aggregated(path)
    assert (row.requests, row.failures, row.p95_ms) == (0, 0, None)


@pytest.mark.parametrize("content, match", [
    (None, "no Locust stats file"),
    (STATS_CSV.splitlines()[0] + "\n", "no Aggregated row"),
    ("Type,Name\n,Aggregated\n", "unreadable Aggregated row"),
])
def test_a_stats_file_without_figures_is_an_error(tmp_path: Path, content: str | None, match: str) -> None:
    path = tmp_path / "browse_stats.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(LoadError, match=match):
        read_aggregated(path)


# running Locust: a profile that needs no network

OFFLINE_PROFILE = """\
from locust import User, constant, events, task

from scenarios.load.last_pass import last_csv_pass

events.quitting.add_listener(last_csv_pass)


class Offline(User):
    wait_time = constant(0.05)

    @task
    def call(self):
        self.n = getattr(self, "n", 0) + 1
        self.environment.events.request.fire(
            request_type="FAKE", name="/fake/[id]", response_time=5 + self.n % 7, response_length=0,
            exception=RuntimeError("every fourth fails") if self.n % 4 == 0 else None, context={})
"""


def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str) -> str:
    path = tmp_path / "offline_profile.py"
    path.write_text(source)
    monkeypatch.setitem(PROFILES, "offline", Profile(path, users=2, spawn_rate=2, duration_s=2, about="test"))
    return "offline"


def test_a_run_leaves_its_csv_html_and_log_and_reports_its_figures(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    profile = offline(monkeypatch, tmp_path, OFFLINE_PROFILE)
    lines: list[str] = []
    started = time.monotonic()
    # 4 s: Locust's run-time timer starts on gevent's cached clock, which a slow import on a busy machine
    # leaves behind, so a shorter run can end before its users made a request.
    result = run_load(profile, "http://127.0.0.1:1", users=None, spawn_rate=None, duration_s=4,
                      out_dir=tmp_path / "out", progress=lines.append)
    assert time.monotonic() - started < 30
    assert result.stats_csv == tmp_path / "out" / "offline_stats.csv" and result.stats_csv.is_file()
    assert result.html.is_file() and result.html.suffix == ".html"
    assert result.failures_csv.is_file() and result.log.is_file()
    assert result.requests > 10 and 0 < result.failures < result.requests
    assert 0.1 < result.failure_ratio < 0.4
    assert result.exit_code == 1, "Locust's exit code is 1 once any request failed"
    assert result.p95_ms is not None and 5 <= result.p95_ms <= 12
    assert lines and lines[-1].startswith("offline: done,")


def test_a_locustfile_that_does_not_load_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    profile = offline(monkeypatch, tmp_path, "raise RuntimeError('this profile is broken')\n")
    with pytest.raises(LoadError) as error:
        run_load(profile, "http://127.0.0.1:1", duration_s=2, out_dir=tmp_path / "out")
    message = str(error.value)
    assert "did not run profile 'offline'" in message and "this profile is broken" in message
    assert "\n" not in message


def test_a_run_past_its_time_is_killed_with_its_children(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pid_file = tmp_path / "locust.pid"
    profile = offline(monkeypatch, tmp_path, textwrap.dedent(f"""\
        import os, time
        open({str(pid_file)!r}, "w").write(str(os.getpid()))
        time.sleep(120)
    """))
    monkeypatch.setattr(load, "STOP_TIMEOUT_S", 0)
    monkeypatch.setattr(load, "MARGIN_S", 4)  # Locust's import, on a busy machine
    monkeypatch.setattr(load, "PROGRESS_EVERY_S", 0.2)
    started = time.monotonic()
    with pytest.raises(LoadError, match="past 5 s and was killed"):
        run_load(profile, "http://127.0.0.1:1", duration_s=1, out_dir=tmp_path / "out")
    assert time.monotonic() - started < 15
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# a target that offers nothing a profile's users do

BARE_TARGET = """\
name: bare
auth: {token: jwt}
operations:
  register: {method: POST, path: /accounts, body: {login: "{email}", secret: "{password}"}, extract: {user_id: id}}
  login: {method: POST, path: /sessions, body: {login: "{email}", secret: "{password}"}, extract: {user_id: id}}
  list_invoices: {method: GET, path: "/customers/{user_id}/bills", extract: {invoices: "[*]"}}
  health: {method: GET, path: /ping}
run:
  running:
    instances: [http://127.0.0.1:1]
"""


def test_a_target_that_offers_none_of_a_users_operations_fails_the_run_in_one_line(tmp_path: Path) -> None:
    target = tmp_path / "bare.yaml"
    target.write_text(BARE_TARGET)
    started = time.monotonic()
    with pytest.raises(LoadError) as error:
        run_load("realistic", "http://127.0.0.1:1", target=target, users=1, spawn_rate=1, duration_s=5,
                 out_dir=tmp_path / "out")
    message = str(error.value)
    assert "target 'bare' offers none of NormalUser's operations" in message and "list_plans" in message
    assert "\n" not in message and "Traceback" not in message
    assert time.monotonic() - started < 30
