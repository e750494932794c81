# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Expiry status of Grafana token listings, judged on the Grafana server's clock.

Grafana's own ``secondsUntilExpiration`` is 0 unless a token expires within 7 days, so the
modules compute the time left themselves from ``expiration`` and the server's ``Date``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, Optional


def parse_time(value: Optional[str]) -> Optional[_dt.datetime]:
    """Parse Grafana's RFC 3339 timestamps (``2026-11-29T15:00:00Z``, with fractions or offset)."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if "." in text:  # Python < 3.11 accepts at most 6 fractional digits
        head, tail = text.split(".", 1)
        digits = "".join(ch for ch in tail if ch.isdigit())
        text = f"{head}.{digits[:6].ljust(6, '0')}{tail[len(digits) :]}"
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    if parsed.year <= 1:  # Go's zero time means "never"
        return None
    return parsed.astimezone(_dt.timezone.utc)


def seconds_left(token: Dict[str, Any], now: _dt.datetime) -> Optional[int]:
    """Seconds until the token expires (negative once expired), ``None`` if it never does."""
    expires = parse_time(token.get("expiration"))
    return None if expires is None else int((expires - now).total_seconds())


def is_expired(token: Dict[str, Any], now: _dt.datetime) -> bool:
    """Grafana rejects a token when ``expires <= now``."""
    left = seconds_left(token, now)
    return bool(token.get("hasExpired")) or (left is not None and left <= 0)


def annotate_token(token: Dict[str, Any], now: _dt.datetime) -> Dict[str, Any]:
    """Grafana's token object plus ``expired``, ``revoked`` and ``seconds_left``."""
    left = seconds_left(token, now)
    result = dict(token)
    result["expired"] = is_expired(token, now)
    result["revoked"] = bool(token.get("isRevoked"))
    result["seconds_left"] = None if left is None else max(0, left)
    return result
