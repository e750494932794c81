"""Token formats: service-account tokens (``glsa_``) and legacy API keys.

The formats are Grafana's own (``satokengen`` and ``apikeygen``), so the collection's token
linting and redaction are tested against real-looking keys. Only the stored hash differs:
Grafana stores PBKDF2 (10 000 rounds); the double stores SHA-256 because benchmarks mint
and check thousands of tokens and the hash never leaves the process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import string
import struct
import zlib
from typing import NamedTuple, Optional, Tuple

from .gojson import BindError, decode_first_value, marshal

SA_PREFIX = "glsa"
_ALPHABET = string.digits + string.ascii_letters
_UID_ALPHABET = string.ascii_lowercase + string.digits


class LegacyKeyParts(NamedTuple):
    """The decoded JSON of a legacy API key: ``{"k": secret, "n": name, "id": orgId}``."""

    secret: str
    name: str
    org_id: int


def random_string(length: int, alphabet: str = _ALPHABET) -> str:
    """``util.GetRandomString``: uniform over the alphabet."""
    return "".join(secrets.choice(alphabet) for _position in range(length))


def short_uid() -> str:
    """A 14-character lower-case UID starting with a letter, like Grafana's newer UIDs."""
    return secrets.choice(string.ascii_lowercase) + random_string(13, _UID_ALPHABET)


def checksum(text: str) -> str:
    """CRC-32 (IEEE) of text, 4 bytes little-endian, lower-case hex."""
    return struct.pack("<I", zlib.crc32(text.encode("utf-8"))).hex()


def mint_sa_token() -> Tuple[str, str]:
    """Return ``(key, secret)`` for a new ``glsa_<32 chars>_<crc>`` token."""
    secret = random_string(32)
    return f"{SA_PREFIX}_{secret}_{checksum(f'{SA_PREFIX}_{secret}')}", secret


def decode_sa_token(token: str) -> Optional[str]:
    """Return the secret of a well-formed ``gl…`` token, or None (``ErrInvalidApiKey``)."""
    if not token.startswith("gl"):
        return None
    parts = token.split("_")
    if len(parts) != 3:
        return None
    prefix, secret, check = parts
    return secret if checksum(f"{prefix}_{secret}") == check else None


def hash_secret(secret: str) -> str:
    """The stored form of a secret (SHA-256, see the module docstring)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def mint_legacy_key(name: str, org_id: int) -> Tuple[str, str]:
    """Return ``(key, secret)``: base64 of ``{"k":…,"n":…,"id":…}`` in Go's field order."""
    secret = random_string(32)
    payload = marshal({"k": secret, "n": name, "id": org_id})
    return base64.b64encode(payload.encode("utf-8")).decode("ascii"), secret


def decode_legacy_key(token: str) -> Optional[LegacyKeyParts]:
    """Decode a legacy key; None on any base64/JSON/type error (``api-key.invalid``).

    Missing fields decode to Go zero values, which then simply match no stored key.
    """
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
        data = decode_first_value(raw)
    except (binascii.Error, UnicodeEncodeError, ValueError, BindError):
        return None
    if not isinstance(data, dict):
        return None
    secret, name, org_id = data.get("k", ""), data.get("n", ""), data.get("id", 0)
    if not isinstance(secret, str) or not isinstance(name, str):
        return None
    if not isinstance(org_id, int) or isinstance(org_id, bool):
        return None
    return LegacyKeyParts(secret, name, org_id)
