"""Grafana configuration the collection reacts to, switchable at run time.

Each key mirrors one grafana.ini option (or the release itself), so a test can flip it
with ``POST /__double__/settings`` instead of restarting the double.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Mapping

from .profiles import DEFAULT_VERSION, PROFILES


@dataclass
class Settings:
    basic_auth_enabled: bool = True  # [auth.basic] enabled
    api_key_max_seconds_to_live: int = -1  # [auth] api_key_max_seconds_to_live
    token_expiration_day_limit: int = 0  # [service_accounts] token_expiration_day_limit
    version: str = DEFAULT_VERSION  # which profile answers
    database_ok: bool = True  # false makes /api/health answer 503 "failing"

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply a partial update; validate everything first so a bad key changes nothing."""
        known = {item.name: item.type for item in fields(self)}
        for key, value in changes.items():
            _check(key, value, known)
        for key, value in changes.items():
            setattr(self, key, value)


def _check(key: str, value: Any, known: Mapping[str, Any]) -> None:
    if key not in known:
        raise ValueError(f"unknown setting {key!r}; known: {', '.join(sorted(known))}")
    if key == "version":
        if value not in PROFILES:
            raise ValueError(f"version must be one of {', '.join(PROFILES)}")
    elif key in ("basic_auth_enabled", "database_ok"):
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be a boolean")
    elif not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key} must be an integer")
