# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Duration parsing for ``ttl``, ``rotation_window`` and ``expiring_within``.

Every duration is bounded by :data:`MAX_SECONDS` before the first request: Grafana reads
``secondsToLive`` as an int64 and computes the expiry as ``now + secondsToLive * time.Second``,
a Go ``time.Duration`` (int64 nanoseconds), which overflows past 9,223,372,036 seconds (about
292 years); a longer value is a typo (``3000000d``) that Grafana either refuses after the
module has been told nothing (HTTP 400 for more than int64) or turns into a wrong expiry, and
that Python cannot add to a date (``OverflowError`` after the token was minted).
"""

from __future__ import annotations

import math
import re
from typing import Any

from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import GrafanaInputError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)\s*([smhdw])")
_WHOLE = re.compile(r"^(?:\d+\s*[smhdw]\s*)+$")
# Go's time.Duration is int64 nanoseconds: the longest lifetime Grafana can compute an expiry for.
MAX_SECONDS = (2**63 - 1) // 10**9  # 9223372036 s, about 292 years
_MAX_DIGITS = 15  # more digits than this cannot be within MAX_SECONDS in any unit


def parse_duration(value: Any, option: str = "duration", maximum: int = MAX_SECONDS) -> int:
    """Return ``value`` in seconds, at most ``maximum``.

    Accepts an integer number of seconds (or a string of digits) and strings made of
    number+unit parts: ``90m``, ``12h``, ``30d``, ``1w``, ``1h30m``.  Negative, malformed or
    too long values raise :class:`GrafanaInputError` naming the option and the accepted forms.
    """
    return _bounded(option, value, _seconds(value, option), maximum)


def _seconds(value: Any, option: str) -> int:
    if isinstance(value, bool):
        raise _bad(option, value)
    if isinstance(value, int):
        if value < 0:
            raise _bad(option, value, "it must not be negative")
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or value < 0 or value != int(value):
            raise _bad(option, value, "use a whole number of seconds")
        return int(value)
    text = str(value).strip().lower()
    if any(len(digits) > _MAX_DIGITS for digits in re.findall(r"\d+", text)):
        raise _too_long(option, value, MAX_SECONDS)
    if text.lstrip("-").isdigit():
        if text.startswith("-"):
            raise _bad(option, value, "it must not be negative")
        return int(text)
    if not _WHOLE.match(text):
        raise _bad(option, value)
    return sum(int(n) * _UNITS[u] for n, u in _PART.findall(text))


def _bounded(option: str, value: Any, seconds: int, maximum: int) -> int:
    if seconds > maximum:
        raise _too_long(option, value, maximum)
    return seconds


def _too_long(option: str, value: Any, maximum: int) -> GrafanaInputError:
    try:
        shown = str(value)
    except ValueError:  # an int of more than 4300 digits cannot even be printed
        shown = "a number that large"
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return GrafanaInputError(
        f"{option}: {shown!r} is too long; it must be at most {maximum} seconds "
        f"({format_duration(maximum)}, about {maximum // (365 * 86400)} years): Grafana computes "
        "a token's expiry as a Go time.Duration, which cannot hold more. Check the number and "
        "the unit (30d, 12h); for a token that never expires use ttl 0."
    )


def format_duration(seconds: int) -> str:
    """Render seconds compactly for messages (``2d3h``, ``45m``, ``0s``)."""
    if seconds <= 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        amount, seconds = divmod(seconds, _UNITS[unit])
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def _bad(option: str, value: Any, why: str = "") -> GrafanaInputError:
    reason = f" ({why})" if why else ""
    return GrafanaInputError(
        f"{option}: {value!r} is not a valid duration{reason}. Use a number of seconds "
        "(3600) or a number with a unit s, m, h, d or w (90m, 12h, 30d, 1h30m)."
    )
