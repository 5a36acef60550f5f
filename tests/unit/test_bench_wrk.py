"""benchmarks/stack.py's pure parts: wrk's figures line, the client's CPU share, the seed's targets.

The benchmark itself needs the stack (Docker) and wrk; what turns wrk's
output into the README's table must be right without either, so it is
checked here on the output of a real run (wrk 4.1.0 with figures.lua's
``done`` hook), its error counts changed to be non-zero.
"""
from __future__ import annotations

import pytest

from benchmarks import baselines, wrk_load
from benchmarks.baselines import LOADS, READ_TARGET, WRITE_TARGET
from benchmarks.wrk_load import Figures, WrkError

pytestmark = pytest.mark.unit

CAPTURED = """\
Running 2s test @ http://127.0.0.1:18431
  2 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    43.61ms    6.14ms  64.07ms   94.13%
    Req/Sec    89.55     42.32   151.00     60.00%
  358 requests in 2.01s, 71.06KB read
Requests/sec:    178.16
Transfer/sec:     35.37KB
wrk-figures {"requests": 358, "duration_us": 2009394, "bytes": 72768, "p50_us": 43933, "p95_us": 48059, \
"p99_us": 52050, "max_us": 64069, "connect": 0, "read": 2, "write": 0, "status": 7, "timeout": 1}
"""


def figures(rps: float = 600, p50: float = 40, p95: float = 90, p99: float = 150, non_2xx: int = 0,
            socket_errors: int = 0, cpu_s: float = 3.0, wall_s: float = 15.0) -> Figures:
    return Figures(requests=int(rps * 10), duration_s=10.0, p50_ms=p50, p95_ms=p95, p99_ms=p99, max_ms=p99 * 2,
                   non_2xx=non_2xx, socket_errors=socket_errors, client_cpu_s=cpu_s, client_wall_s=wall_s)


def test_the_figures_line_gives_exact_percentiles_in_ms_and_the_rate() -> None:
    parsed = wrk_load.parse_figures(CAPTURED)
    assert (parsed.requests, parsed.duration_s) == (358, 2.009394)
    assert (parsed.p50_ms, parsed.p95_ms, parsed.p99_ms, parsed.max_ms) == (43.933, 48.059, 52.05, 64.069)
    assert round(parsed.rps, 2) == 178.16  # what wrk's own text says
    assert (parsed.non_2xx, parsed.socket_errors) == (7, 3)


def test_output_without_the_figures_line_is_an_error_naming_wrks_last_words() -> None:
    with pytest.raises(WrkError, match="no figures line.*unable to connect"):
        wrk_load.parse_figures("Running 2s test @ http://127.0.0.1:1\nunable to connect to 127.0.0.1:1\n")
    with pytest.raises(WrkError, match="not what figures.lua prints"):
        wrk_load.parse_figures('wrk-figures {"requests": 3}\n')


def test_client_cpu_share_is_cpu_over_wall_over_cores() -> None:
    assert wrk_load.cpu_share(3.0, 15.0, 2) == pytest.approx(0.1)
    assert wrk_load.cpu_share(1.0, 0.0, 2) == 0.0
    assert figures(cpu_s=15.0, wall_s=15.0).client_share(2) == pytest.approx(0.5)  # one core of two


def test_load_goes_only_to_127_0_0_1_ports() -> None:
    assert wrk_load.loopback_problem("http://127.0.0.1:8000") is None
    for url in ("http://localhost:8000", "http://10.0.0.5:8000", "http://127.0.0.1", "https://127.0.0.1:443"):
        assert wrk_load.loopback_problem(url) is not None, url
    with pytest.raises(WrkError, match="only to"):
        wrk_load.run("http://192.0.2.1:80", "read", duration_s=1, connections=1, threads=1)


def test_without_wrk_the_benchmark_says_in_one_line_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wrk_load.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as exited:
        wrk_load.require_wrk()
    message = str(exited.value.code)
    assert "apt-get install -y wrk" in message and "\n" not in message


def test_every_load_has_a_script_with_the_figures_hook() -> None:
    for load in LOADS:
        text = wrk_load.script_text(load.kind)
        assert "function done(" in text and "function setup(" in text, load.kind
    assert "thread_id" in wrk_load.script_text("register")  # distinct emails across threads


def test_the_seeds_targets_name_what_is_missed() -> None:
    assert READ_TARGET.missed(figures()) == []
    assert READ_TARGET.missed(figures(rps=190, p50=97, p95=150, p99=176)) == ["req/s", "p50", "p95"]
    assert WRITE_TARGET.missed(figures(non_2xx=1)) == ["errors"]


def test_the_table_has_the_seeds_targets_beside_and_5_vs_1_when_both_ran() -> None:
    one = {load.kind: figures() for load in LOADS}
    five = {load.kind: figures(rps=300, p50=80) for load in LOADS}
    text = baselines.table({"1": one, "5": five}, cores=2)
    lines = text.splitlines()
    assert len(lines) == 2 + 3 * len(LOADS)
    assert "| read | 1 | 600 | > 500 | 40 | 90 | 150 | < 50 / 100 / 200 | yes | 0 | 0 | 10% |" in lines
    assert "| read | 5 | 300 | > 500 | 80 | 90 | 150 | < 50 / 100 / 200 | no: req/s, p50 | 0 | 0 | 10% |" in lines
    assert "| register | 5 vs 1 | x0.50 | | x2.00 | x1.00 | x1.00 | | | | | |" in lines
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "5 vs 1" not in baselines.table({"given": one}, cores=2)
