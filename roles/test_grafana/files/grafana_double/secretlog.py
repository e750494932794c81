"""Every secret the double ever handed out, for leak scans.

Tests grep logs, return values and files for these strings. The history deliberately
survives ``/__double__/reset``: a key minted before a reset can still leak afterwards.
"""

from __future__ import annotations

import threading
from typing import Dict, List, Optional


class SecretLog:
    """Minted keys and control-API passwords, optionally appended to a file."""

    def __init__(self, path: Optional[str] = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._keys: List[str] = []
        self._passwords: List[str] = []

    def add_key(self, key: str) -> None:
        """Remember a minted SA token or legacy API key."""
        self._add(self._keys, key)

    def add_password(self, password: str) -> None:
        """Remember a password set through the control API."""
        self._add(self._passwords, password)

    def _add(self, bucket: List[str], secret: str) -> None:
        with self._lock:
            bucket.append(secret)
            if self._path:
                # One line per secret so another process can scan the file with grep -F -f.
                with open(self._path, "a", encoding="utf-8") as handle:
                    handle.write(secret + "\n")

    def snapshot(self) -> Dict[str, List[str]]:
        """Both lists, copied."""
        with self._lock:
            return {"keys": list(self._keys), "passwords": list(self._passwords)}
