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
from typing import Iterable, List, Optional
from urllib.parse import quote

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


# A secret shorter than this is matched only where it stands as a value of its own (not inside a
# longer word): a password "admin" must not turn the word "administrator" into noise, while a
# token or a long password is removed wherever it occurs.
_SHORT_SECRET = 8
_WORD = "0-9A-Za-z_"


def secret_forms(
    token: Optional[str] = None, username: Optional[str] = None, password: Optional[str] = None
) -> List[str]:
    """Every form in which a credential the client sends can come back in a response.

    The raw values (a ``Bearer`` header contains the token verbatim), the base64 of
    ``user:password`` (a ``Basic`` header) and of ``api_key:<token>`` (Grafana's Basic form of
    a token), and their URL-quoted forms.  Longest first, so a longer form is replaced whole.
    """
    forms = set()
    for secret in (token, password):
        if secret:
            forms.update((secret, quote(secret, safe="")))
    pairs = []
    if password:
        pairs.append(f"{username or ''}:{password}")
    if token:
        pairs.append(f"api_key:{token}")
    for pair in pairs:
        encoded = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        forms.update((encoded, encoded.rstrip("="), pair, quote(pair, safe="")))
    return sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret in ``text`` (text that came from outside:
    response bodies, exception messages) with its redacted form."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if secret not in text:
            continue
        if len(secret) >= _SHORT_SECRET:
            text = text.replace(secret, redact(secret))
        else:
            text = re.sub(f"(?<![{_WORD}]){re.escape(secret)}(?![{_WORD}])", redact(secret), text)
    return text
