"""The request log: what reached Grafana, without any credential.

Tests count requests (one session per module run, no writes on a rerun) and check what a
proxy forwarded (scheme, org header, path). Only the *scheme* of ``Authorization`` is kept;
token-shaped strings in the path or query are redacted too, in case a client misplaces one.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from typing import Any, Deque, Dict, List, Optional

from .auth import BASIC, BEARER

MAX_ENTRIES = 10000  # bounded so long benchmarks do not grow memory without limit
_TOKEN_RE = re.compile(r"gl[a-z]*_[A-Za-z0-9]{32}_[0-9a-f]{8}|eyJrIjoi[A-Za-z0-9+/=%]*")


def auth_scheme(header: Optional[str]) -> str:
    """``bearer``, ``basic``, ``none`` or ``other`` (the exact, case-sensitive prefixes count)."""
    if not header:
        return "none"
    if header.startswith(BEARER):
        return "bearer"
    if header.startswith(BASIC):
        return "basic"
    return "other"


def redact(text: str) -> str:
    return _TOKEN_RE.sub("(redacted)", text)


class RequestLog:
    """Thread-safe, bounded list of request summaries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: Deque[Dict[str, Any]] = deque(maxlen=MAX_ENTRIES)

    def record(self, entry: Dict[str, Any]) -> None:
        entry = dict(entry, path=redact(entry["path"]), query=redact(entry["query"]))
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> List[Dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
