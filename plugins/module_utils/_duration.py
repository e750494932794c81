# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Duration parsing for ``ttl``, ``rotation_window`` and ``expiring_within``."""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import GrafanaInputError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)\s*([smhdw])")
_WHOLE = re.compile(r"^(?:\d+\s*[smhdw]\s*)+$")


def parse_duration(value: Any, option: str = "duration") -> int:
    """Return ``value`` in seconds.

    Accepts an integer number of seconds (or a string of digits) and strings made of
    number+unit parts: ``90m``, ``12h``, ``30d``, ``1w``, ``1h30m``.  Negative or malformed
    values raise :class:`GrafanaInputError` naming the option and the accepted forms.
    """
    if isinstance(value, bool):
        raise _bad(option, value)
    if isinstance(value, int):
        if value < 0:
            raise _bad(option, value, "it must not be negative")
        return value
    if isinstance(value, float):
        if value < 0 or value != int(value):
            raise _bad(option, value, "use a whole number of seconds")
        return int(value)
    text = str(value).strip().lower()
    if text.lstrip("-").isdigit():
        if text.startswith("-"):
            raise _bad(option, value, "it must not be negative")
        return int(text)
    if not _WHOLE.match(text):
        raise _bad(option, value)
    return sum(int(n) * _UNITS[u] for n, u in _PART.findall(text))


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
