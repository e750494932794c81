# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline facts about Grafana credentials: the ``glsa_`` format and legacy API keys.

A service-account token is ``glsa_<32 chars [0-9A-Za-z]>_<crc32>``, where the checksum is
CRC-32 (IEEE) of ``glsa_<secret>``, written little-endian and hex-encoded.  A legacy API key
is standard base64 of JSON ``{"k": ..., "n": <name>, "id": <orgId>}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
import zlib
from typing import Optional

_GLSA = re.compile(r"^glsa_([0-9A-Za-z]{32})_([0-9a-f]{8})$")
REDACTED = "\u2026(redacted)"


def glsa_checksum(prefix_and_secret: str) -> str:
    """Checksum of ``glsa_<secret>`` as Grafana's satokengen computes it."""
    crc = zlib.crc32(prefix_and_secret.encode("ascii")) & 0xFFFFFFFF
    return struct.pack("<I", crc).hex()


def is_glsa(token: str) -> bool:
    """True when ``token`` is a well-formed ``glsa_`` token whose checksum validates."""
    match = _GLSA.match(token)
    return bool(match) and glsa_checksum(f"glsa_{match.group(1)}") == match.group(2)


def legacy_key_name(token: str) -> Optional[str]:
    """The key name inside a legacy (pre-service-account) API key, else ``None``."""
    if token.startswith("gl"):
        return None
    try:
        data = json.loads(base64.b64decode(token, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict) and {"k", "n", "id"} <= set(data):
        return str(data["n"])
    return None


def redact(token: Optional[str]) -> str:
    """Show only a short prefix of a credential: ``glsa_ab…(redacted)``."""
    if not token:
        return "(none)"
    keep = 7 if token.startswith("glsa_") and len(token) > 20 else min(4, len(token) // 4)
    return token[:keep] + REDACTED
