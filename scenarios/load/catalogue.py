"""The catalogue the profiles share: events, slots and the admin's token, made once per Locust process.

Imports gevent (for the lock the users of one process share), not Locust.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gevent.lock import Semaphore

from chaos.errors import ChaosError
from chaos.target.admin import admin_token
from chaos.target.model import TargetProfile

if TYPE_CHECKING:  # type only: the user class imports Locust
    from scenarios.load.target_user import TargetUser


class SetupFailed(Exception):
    """The catalogue could not be made; the run cannot mean anything."""


@dataclass
class Catalogue:
    """What users buy and book, made once per Locust process by the target's admin.

    The seed's files drew event and slot ids at random from ranges that
    nothing had created (404s, or 400s for its booking fields); here the
    admin of the target profile creates them before the first user needs
    them, and only those the target offers. Slots are small on purpose: the
    seed's "50 users for a 5-place slot" contention, under load.
    """

    events: int = 0
    event_capacity: int = 100
    slots: int = 0
    slot_capacity: int = 5
    event_ids: list[Any] = field(default_factory=list)
    slot_ids: list[Any] = field(default_factory=list)
    admin_token: str | None = None
    _ready: bool = field(default=False, repr=False)
    _failed: str | None = field(default=None, repr=False)
    _lock: Semaphore = field(default_factory=Semaphore, repr=False, compare=False)

    def ensure(self, user: TargetUser) -> None:
        """Make the catalogue with this user's session (so setup shows in the stats), once."""
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

    def _make(self, user: TargetUser) -> None:
        profile = user.admin.profile
        if profile.admin is None:
            return
        with user.session.named("[setup] admin_login"):
            try:
                self.admin_token = admin_token(user.admin)
            except ChaosError as exc:
                raise SetupFailed(str(exc)) from None
        for n in range(self.events if _offers(profile, "create_event", "purchase_ticket") else 0):
            self.event_ids.append(self._made(user, "create_event", "event_id", name=f"load-event-{n}",
                                             capacity=self.event_capacity))
        for n in range(self.slots if _offers(profile, "create_slot", "book_slot") else 0):
            self.slot_ids.append(self._made(user, "create_slot", "slot_id", name=f"load-slot-{n}",
                                            capacity=self.slot_capacity))

    @staticmethod
    def _made(user: TargetUser, operation: str, value: str, **params: Any) -> Any:
        reply = user.call(operation, client=user.admin, name=f"[setup] {operation}", **params)
        if reply is None or reply.get(value) is None:
            raise SetupFailed(f"the admin could not {operation} (set the admin in the target profile)")
        return reply[value]


def _offers(profile: TargetProfile, *operations: str) -> bool:
    """Only what some kept task will use is made."""
    return all(profile.offers(operation) for operation in operations)
