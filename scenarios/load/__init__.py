"""Locust profiles of the seed document, driving the target contract.

The seed's three locustfiles, with its defects fixed: every simulated user
registers its own account (uuid emails; Faker's emails repeat, and a taken
email left the seed's user without a token, so all its later calls were
401s), sends the fields the contract asks for, names requests by route
template, counts the answers the contract gives under contention (409
``sold_out``, ``slot_full``, ``idempotency_in_flight``) as successes, and
signs up again after a failed sign-up instead of carrying on without a token.

What's here:

- ``contract``: the answers that are correct under contention, and how a
  response is judged (no Locust import);
- ``catalogue``: events, slots and the admin's token, made once per Locust
  process before the first user needs them (imports gevent);
- ``contract_user``: the user base class, its checked calls and the journeys
  the profiles share (imports Locust);
- the locustfiles, one profile each: ``browse_and_subscribe``,
  ``realistic_load``, ``distributed`` (``chaos.load.PROFILES`` names them).

Run through ``chaos.load.run_load`` (which puts the repository on
``PYTHONPATH``), or by hand from the repository's root::

    .venv/bin/locust -f scenarios/load/realistic_load.py --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:8080

Importing this package imports nothing. Importing ``contract_user``, a
locustfile or ``catalogue`` imports Locust or gevent, which monkey-patch the
process: never in a pytest process; read the profiles in a subprocess.
"""
