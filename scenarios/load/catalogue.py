"""The catalogue the profiles share: events, slots and the admin's token, made once per Locust process.

Imports gevent (for the lock the users of one process share), not Locust.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gevent.lock import Semaphore

if TYPE_CHECKING:  # type only: the user class imports Locust
    from scenarios.load.contract_user import ContractUser

# The compose file's defaults; a run against another deployment sets these.
ADMIN_EMAIL = os.environ.get("ADMIN_EMAIL", "admin@billing.test")
ADMIN_PASSWORD = os.environ.get("ADMIN_PASSWORD", "admin-password")


class SetupFailed(Exception):
    """The catalogue could not be made; the run cannot mean anything."""


@dataclass
class Catalogue:
    """What users buy and book, made once per Locust process by the admin.

    The seed's files drew event and slot ids at random from ranges that
    nothing had created (404s, or 400s for its booking fields); here an admin
    creates them before the first user needs them. Slots are small on purpose:
    the seed's "50 users for a 5-place slot" contention, under load.
    """

    events: int = 0
    event_capacity: int = 100
    slots: int = 0
    slot_capacity: int = 5
    event_ids: list[int] = field(default_factory=list)
    slot_ids: list[int] = field(default_factory=list)
    admin_token: str | None = None
    _ready: bool = field(default=False, repr=False)
    _failed: str | None = field(default=None, repr=False)
    _lock: Semaphore = field(default_factory=Semaphore, repr=False, compare=False)

    def ensure(self, user: ContractUser) -> None:
        """Make the catalogue with this user's client (so setup shows in the stats), once."""
        with self._lock:
            if self._ready:
                return
            if self._failed is not None:
                raise SetupFailed(self._failed)
            try:
                self._make(user)
            except SetupFailed as exc:
                self._failed = str(exc)
                raise
            self._ready = True

    def _make(self, user: ContractUser) -> None:
        login = user.call("POST", "/api/auth/login", name="[setup] /api/auth/login (admin)", ok=(200,),
                          json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        if login is None:
            raise SetupFailed(f"admin login as {ADMIN_EMAIL} failed (set ADMIN_EMAIL and ADMIN_PASSWORD)")
        self.admin_token = login["access_token"]
        admin = {"Authorization": f"Bearer {self.admin_token}"}
        for n in range(self.events):
            made = user.call("POST", "/api/admin/events", name="[setup] /api/admin/events", ok=(201,),
                             json={"name": f"load-event-{n}", "capacity": self.event_capacity}, headers=admin)
            if made is None:
                raise SetupFailed("the admin could not create an event")
            self.event_ids.append(made["event_id"])
        for _ in range(self.slots):
            made = user.call("POST", "/api/admin/slots", name="[setup] /api/admin/slots", ok=(201,),
                             json={"capacity": self.slot_capacity}, headers=admin)
            if made is None:
                raise SetupFailed("the admin could not create a slot")
            self.slot_ids.append(made["slot_id"])
