"""kopf's start-up gate without its thundering herd.

kopf (1.45) holds every object's handlers until every object of every indexed kind has been indexed:
each such object adds an "off" toggle to one ToggleSet and drops it once indexed, and every object's
worker waits on that set with an `asyncio.Condition`. Every add and every drop wakes every waiting
worker, and each re-evaluates the set: a start-up over N objects costs about N² wake-ups. Over 10,000
ScheduledJobs (and their CronJobs and Jobs) the operator resumed nothing in 10.5 minutes, with 65% of
its samples in `make_toggle`/`notify_all`.

`GateSet` keeps the set's meaning (the same toggles, the same `any`/`all` rule, the same condition
shared with its toggles) but wakes its waiters only when the set's overall state flips. `install()`
makes kopf build its toggle sets as GateSets; it runs before the operator starts.
"""

import asyncio
from collections.abc import Callable, Iterable

from kopf._cogs.aiokits import aiotoggles


class _NotifyingCondition(asyncio.Condition):
    """A condition that also calls `changed` whenever it notifies (a toggle turned, added or dropped)."""

    def __init__(self, changed: Callable[[], None]) -> None:
        super().__init__()
        self._changed = changed

    def notify_all(self) -> None:
        super().notify_all()
        self._changed()


class GateSet(aiotoggles.ToggleSet):
    """A ToggleSet whose `wait_for` wakes only when the set's state becomes the awaited one."""

    def __init__(self, fn: Callable[[Iterable[bool]], bool]) -> None:
        super().__init__(fn)
        self._condition = _NotifyingCondition(self._settle)
        self._state = self.is_on()
        self._reached = {self._state: asyncio.Event(), not self._state: asyncio.Event()}
        self._reached[self._state].set()

    def _settle(self) -> None:
        state = self.is_on()
        if state != self._state:
            self._state = state
            self._reached[state].set()
            self._reached[not state] = asyncio.Event()

    async def wait_for(self, __state: bool) -> None:
        while self.is_on() != bool(__state):
            await self._reached[bool(__state)].wait()


def install() -> None:
    """Make kopf create its toggle sets (index readiness, pausing) as GateSets."""
    aiotoggles.ToggleSet = GateSet  # type: ignore[misc]
