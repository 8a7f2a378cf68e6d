"""Slowing down password guessing: failed logins per user and per client address.

After ``free_failures`` failed password logins, each further attempt for the same user (or
from the same client address) must wait a delay that doubles with every failure, up to a
cap: ``max_user_delay_ms`` for a user, ``max_address_delay_ms`` for an address. Failures
are forgotten ``forget_after_ms`` after the last one, and a successful login clears them.

An attacker cannot lock a user out for good:

- the user's delay is capped (30 s by default), so a user is at worst slowed down;
- an address the user logged in from before is exempt from the user's delay (only its own
  failures count against it), so guessing from elsewhere does not block the user's machine;
- API tokens are not throttled at all (they are 256 random bits, not guessable).

The counters live in the server process (each worker keeps its own).

>>> throttle = LoginThrottle(free_failures=1, clock=lambda: 0)
>>> throttle.failed("ana", "10.0.0.9")
>>> try:
...     throttle.check("ana", "10.0.0.9")
... except TooManyAttemptsError as exc:
...     print(exc.retry_after_s)
1
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

from mlcycle.clock import system_clock
from mlcycle.errors import TooManyAttemptsError
from mlcycle.types import Clock


@dataclass
class _Failures:
    count: int = 0
    last_ms: int = 0


class LoginThrottle:
    """Failed-login counters with exponential backoff (see the module docstring)."""

    def __init__(
        self,
        *,
        free_failures: int = 5,
        base_delay_ms: int = 1_000,
        max_user_delay_ms: int = 30_000,
        max_address_delay_ms: int = 300_000,
        forget_after_ms: int = 900_000,
        max_entries: int = 100_000,
        clock: Clock = system_clock,
    ) -> None:
        self.free_failures = free_failures
        self.base_delay_ms = base_delay_ms
        self.max_user_delay_ms = max_user_delay_ms
        self.max_address_delay_ms = max_address_delay_ms
        self.forget_after_ms = forget_after_ms
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[tuple[str, str], _Failures] = OrderedDict()
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()

    def _wait_ms(self, key: tuple[str, str], cap: int, now: int) -> int:
        entry = self._failures.get(key)
        if entry is None or now - entry.last_ms >= self.forget_after_ms:
            return 0
        excess = entry.count - self.free_failures
        if excess < 0:
            return 0
        delay: int = min(cap, self.base_delay_ms * (1 << min(excess, 40)))
        return max(0, entry.last_ms + delay - now)

    def check(self, user: str, address: str | None) -> None:
        """Raise TooManyAttemptsError while ``user`` or ``address`` must still wait."""
        now = self._clock()
        with self._lock:
            waits = []
            if address is not None:
                waits.append(self._wait_ms(("address", address), self.max_address_delay_ms, now))
            if address is None or (user, address) not in self._known:
                waits.append(self._wait_ms(("user", user), self.max_user_delay_ms, now))
            wait = max(waits, default=0)
        if wait > 0:
            seconds = math.ceil(wait / 1000)
            raise TooManyAttemptsError(
                f"too many failed logins for this user or address: try again in {seconds} s",
                retry_after_s=seconds,
            )

    def failed(self, user: str, address: str | None) -> None:
        """Count a failed login of ``user`` from ``address``."""
        now = self._clock()
        with self._lock:
            keys = [("user", user)] + ([("address", address)] if address is not None else [])
            for key in keys:
                entry = self._failures.get(key)
                if entry is None or now - entry.last_ms >= self.forget_after_ms:
                    entry = _Failures()
                entry.count += 1
                entry.last_ms = now
                self._failures[key] = entry
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_entries:
                self._failures.popitem(last=False)

    def succeeded(self, user: str, address: str | None) -> None:
        """Clear the user's and the address's failures; remember the address for the user."""
        with self._lock:
            self._failures.pop(("user", user), None)
            if address is not None:
                self._failures.pop(("address", address), None)
                self._known[(user, address)] = None
                self._known.move_to_end((user, address))
                while len(self._known) > self.max_entries:
                    self._known.popitem(last=False)
