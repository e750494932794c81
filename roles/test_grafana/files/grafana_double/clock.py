"""The double's clock.

Every notion of "now" (token expiry, ``created``, ``lastUsedAt``, the ``Date`` header, the
request log) comes from here, so tests can expire a token by moving the clock instead of
sleeping, and the collection's "trust the server's Date header" logic can be exercised.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from email.utils import formatdate


class Clock:
    """Real time plus an offset that tests can move; thread-safe."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the double sees them."""
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative value)."""
        with self._lock:
            self._offset += seconds

    def set(self, timestamp: float) -> None:
        """Jump to ``timestamp``; the clock keeps ticking from there."""
        with self._lock:
            self._offset = timestamp - time.time()

    def reset(self) -> None:
        """Back to real time."""
        with self._lock:
            self._offset = 0.0


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


def iso(timestamp: float) -> str:
    """ISO 8601 with microseconds and ``Z`` (control API and request log)."""
    return _utc(timestamp).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339(timestamp: float) -> str:
    """A Go ``time.Time`` read back from Grafana's database: second precision, UTC."""
    return _utc(timestamp).strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(timestamp: float) -> str:
    """RFC 7231 IMF-fixdate, the format of the ``Date`` header."""
    return formatdate(timestamp, usegmt=True)


def parse_iso(text: str) -> float:
    """Parse ISO 8601 (``Z`` or offset; naive means UTC) into an epoch timestamp."""
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()
