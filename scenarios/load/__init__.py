"""Locust profiles of the seed document, driving any target through its target profile.

The seed's three locustfiles, with its defects fixed: every simulated user
registers its own account (uuid emails; Faker's emails repeat, and a taken
email left the seed's user without a token, so all its later calls were
401s), calls the suite's operations by name through the target profile
(``CHAOS_TARGET_PROFILE``, billing's by default) instead of one service's
routes and fields, names requests by the profile's path templates, counts
the refusals that are correct under contention (``sold_out``,
``slot_full``, ``idempotency_in_flight``) as successes, and signs up again
after a failed sign-up instead of carrying on without a token.

What's here:

- ``contract``: which replies are correct, contention included (no Locust);
- ``offered``: the operations each task needs, and the tasks a target's
  profile cannot serve left out (no Locust);
- ``session``: a Locust user's session in the place of a ``TargetClient``'s
  own, so the profile builds and reads and Locust counts (no Locust import);
- ``catalogue``: events, slots and the admin's token, made once per Locust
  process before the first user needs them (imports gevent);
- ``last_pass``: the stats CSV's last pass at exit (imports Locust);
- ``target_user``: the user base class, its judged operations and the
  journeys the profiles share (imports Locust);
- the locustfiles, one profile each: ``browse_and_subscribe``,
  ``realistic_load``, ``distributed`` (``chaos.load.PROFILES`` names them).

Run through ``chaos.load.run_load`` (which puts the repository on
``PYTHONPATH`` and the target profile in ``CHAOS_TARGET_PROFILE``), or by
hand from the repository's root::

    .venv/bin/locust -f scenarios/load/realistic_load.py --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:8080

Importing this package imports nothing. Importing ``target_user``, a
locustfile, ``last_pass`` or ``catalogue`` imports Locust or gevent, which
monkey-patch the process: never in a pytest process; read the profiles in a
subprocess.
"""
