"""Per-key request rate limits: token buckets held in memory (one API process).

Each key has a bucket of ``burst`` tokens refilled at ``rate`` per second; a request takes one
token, or is refused with the time until one is back (the ``Retry-After`` a 429 carries). The
number of buckets is bounded (least recently used ones are dropped), so unknown keys cannot
grow memory. With several API replicas each enforces its own share.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class RateLimiter:
    """Token buckets by key; ``rate <= 0`` turns the limiter off."""

    def __init__(self, rate: float, burst: int, *, max_keys: int = 10_000) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, t)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one token of ``key``: 0.0 when allowed, else the seconds until one is back."""
        if not self.enabled:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait
