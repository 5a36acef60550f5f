"""The stats CSV's last pass: a Locust ``quitting`` listener (imports Locust).

Locust rewrites ``--csv`` files every second and not at exit, so without it
the stats file misses the last second of the run, and all of a run that
ended within its first second (a failed setup read as 0 requests).
``target_user`` adds it for every profile, explicitly
(``events.quitting.add_listener``), never as a side effect of an import.
"""
from __future__ import annotations

from typing import Any

import gevent
from locust.env import Environment
from locust.stats import CSV_STATS_INTERVAL_SEC


def last_csv_pass(environment: Environment, **_: Any) -> None:
    """Let Locust's CSV writer make one more pass before it closes its files."""
    options = environment.parsed_options
    if options is not None and getattr(options, "csv_prefix", None):
        gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.5)
