"""Slows repeated failed sign-ins, per typed username and per client address (in this process).

Keyed by what was typed, so an unknown username is slowed exactly like a known one and the
answer says nothing about which exists. The account lock (``officers.locked_until``) is the
durable part, shared by every process; this throttle only adds a growing wait before it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: The longest wait one key can be given.
MAX_WAIT_SECONDS = 300.0
#: Failures are forgotten this long after the last one.
FORGET_AFTER_SECONDS = 3600.0
#: Client addresses get this many times the per-username allowance (an office behind one NAT).
ADDRESS_FACTOR = 5
_MAX_KEYS = 50_000


@dataclass
class _Failures:
    count: int
    last_at: float


class SignInThrottle:
    def __init__(
        self, *, after: int, base_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.after = after
        self.base_seconds = base_seconds
        self.clock = clock
        self._failures: dict[str, _Failures] = {}

    @staticmethod
    def keys(username: str, address: str | None) -> tuple[str, ...]:
        named = f"user:{username.strip().lower()}"
        return (named, f"addr:{address}") if address else (named,)

    def _allowance(self, key: str) -> int:
        return self.after * ADDRESS_FACTOR if key.startswith("addr:") else self.after

    def retry_after(self, keys: Iterable[str]) -> int | None:
        """Seconds to wait before the next attempt may be checked, or None when it may be now."""
        now = self.clock()
        longest = 0.0
        for key in keys:
            failures = self._failures.get(key)
            if failures is None:
                continue
            over = failures.count - self._allowance(key)
            if over < 0:
                continue
            wait = min(self.base_seconds * 2**over, MAX_WAIT_SECONDS)
            longest = max(longest, failures.last_at + wait - now)
        return math.ceil(longest) if longest > 0 else None

    def failed(self, keys: Iterable[str]) -> None:
        now = self.clock()
        if len(self._failures) > _MAX_KEYS:
            self._forget_old(now)
        for key in keys:
            failures = self._failures.get(key)
            if failures is None or now - failures.last_at > FORGET_AFTER_SECONDS:
                self._failures[key] = _Failures(1, now)
            else:
                failures.count += 1
                failures.last_at = now

    def succeeded(self, username: str) -> None:
        self._failures.pop(self.keys(username, None)[0], None)

    def _forget_old(self, now: float) -> None:
        for key in [k for k, f in self._failures.items() if now - f.last_at > FORGET_AFTER_SECONDS]:
            del self._failures[key]
