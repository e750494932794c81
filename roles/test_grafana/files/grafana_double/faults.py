"""Queued faults: what a flaky Grafana or proxy does to the next matching request.

They let tests prove the collection's retry rules: idempotent requests retried on 5xx/429
with ``Retry-After``, creates never retried blindly (``after_effect`` = the write happened
but the answer was lost), timeouts (``delay``) and dropped connections (``drop``).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from .responses import TEXT, Response

_KEYS = {
    "method",
    "path",
    "path_regex",
    "status",
    "body",
    "content_type",
    "headers",
    "after_effect",
    "delay",
    "drop",
    "times",
}


@dataclass
class Fault:
    """One queued fault; ``times`` counts how many more requests it will hit."""

    method: Optional[str] = None
    path: Optional[str] = None
    path_regex: Optional[re.Pattern] = None
    status: Optional[int] = None
    body: str = ""
    content_type: str = TEXT
    headers: Dict[str, str] = field(default_factory=dict)
    after_effect: bool = False
    delay: float = 0.0
    drop: bool = False
    times: int = 1

    def matches(self, method: str, paths: Iterable[str]) -> bool:
        """Method (any if unset) and exact path or regex (``re.search``; any path if unset)."""
        if self.method is not None and self.method != method:
            return False
        candidates = list(paths)
        if self.path is not None:
            return self.path in candidates
        if self.path_regex is not None:
            return any(self.path_regex.search(candidate) for candidate in candidates)
        return True

    def response(self) -> Response:
        assert self.status is not None
        return Response(
            self.status, self.body.encode("utf-8"), self.content_type, tuple(self.headers.items())
        )

    def describe(self) -> Dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "path_regex": self.path_regex.pattern if self.path_regex else None,
            "status": self.status,
            "body": self.body,
            "content_type": self.content_type,
            "headers": self.headers,
            "after_effect": self.after_effect,
            "delay": self.delay,
            "drop": self.drop,
            "times": self.times,
        }


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _number(spec: Mapping[str, Any], key: str, default: float) -> float:
    value = spec.get(key, default)
    _require(
        isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0,
        f"{key} must be a non-negative number",
    )
    return float(value)


def _body(spec: Mapping[str, Any]) -> Tuple[str, str]:
    """A string body as given; a JSON value is encoded and typed application/json."""
    body = spec.get("body", "")
    if isinstance(body, str):
        return body, spec.get("content_type", TEXT)
    return json.dumps(body), spec.get("content_type", "application/json")


def parse_fault(spec: Any) -> Fault:
    """Validate one fault object from the control API (unknown keys are typos: rejected)."""
    _require(isinstance(spec, dict), "a fault must be a JSON object")
    unknown = set(spec) - _KEYS
    _require(not unknown, f"unknown fault keys: {', '.join(sorted(unknown))}")
    _require(not ("path" in spec and "path_regex" in spec), "give path or path_regex, not both")
    status = spec.get("status")
    _require(
        status is None or (isinstance(status, int) and 100 <= status <= 599),
        "status must be 100-599",
    )
    drop, after_effect = bool(spec.get("drop", False)), bool(spec.get("after_effect", False))
    delay = _number(spec, "delay", 0)
    _require(status is not None or drop or delay > 0, "a fault needs status, drop or delay")
    times = spec.get("times", 1)
    _require(
        isinstance(times, int) and not isinstance(times, bool) and times >= 1, "times must be >= 1"
    )
    body, content_type = _body(spec)
    regex = spec.get("path_regex")
    method = spec.get("method")
    return Fault(
        method.upper() if isinstance(method, str) else None,
        spec.get("path"),
        re.compile(regex) if regex else None,
        status,
        body,
        content_type,
        dict(spec.get("headers") or {}),
        after_effect,
        delay,
        drop,
        times,
    )


class FaultQueue:
    """FIFO of faults; the first match wins and is used up after ``times`` hits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: List[Fault] = []

    def add(self, faults: List[Fault]) -> None:
        with self._lock:
            self._faults.extend(faults)

    def take(self, method: str, paths: Iterable[str]) -> Optional[Fault]:
        """Consume one hit of the first fault matching the request."""
        candidates = list(paths)
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, candidates):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def describe(self) -> List[Dict[str, Any]]:
        with self._lock:
            return [fault.describe() for fault in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
