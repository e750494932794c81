"""Authentication: the authn client chain (10.x+) and the 9.x context handler (contract §2-§3).

Failures are plain strings ("error kinds") until the very end, where ``error_response``
turns the kind into the bytes the active profile's writer would produce. That keeps the
per-version body differences in one place.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import List, Mapping, Optional, Tuple, Union

from . import tokens
from .gojson import parse_int64
from .profiles import Profile
from .rbac import Identity
from .responses import Response, auth_error, auth_fallback, json_api_err
from .store import ApiKey, Store, User

BEARER = "Bearer "
BASIC = "Basic "
LAST_USED_RESOLUTION = 300  # Grafana writes last_used_at at most every 5 minutes

# errutil errors of the authn clients: kind -> (messageId, public message).
AUTHN_ERRORS = {
    "unauthorized": ("auth.unauthorized", "Unauthorized"),
    "invalid": ("api-key.invalid", "Invalid API key"),
    "unknown": ("api-key.invalid", "Invalid API key"),
    "expired": ("api-key.expired", "Expired API key"),
    "revoked": ("api-key.revoked", "Revoked API key"),
    "org_mismatch": (
        "api-key.organization-mismatch",
        "API key does not belong to the requested organization",
    ),
    "disabled": ("identity.disabled", "Unauthorized"),
    "password": ("password-auth.failed", "Invalid username or password"),
}
# 9.x JsonApiErr messages for the same situations.
LEGACY_MESSAGES = {
    "unauthorized": "Unauthorized",
    "invalid": "Invalid API key",
    "unknown": "Invalid API key",
    "expired": "Expired API key",
    "revoked": "Revoked token",
    "disabled": "Service account is disabled",
    "password": "Invalid username or password",
    "bad_basic_header": "Invalid Basic Auth Header",
}

Outcome = Union[Identity, str]


@dataclass
class AuthResult:
    """An identity, or an error kind; ``immediate`` = 9.x wrote the 401 before routing."""

    identity: Optional[Identity] = None
    error: Optional[str] = None
    immediate: bool = False


def error_response(profile: Profile, kind: str) -> Response:
    """The 401 a route guard writes for ``kind`` under ``profile``."""
    if not profile.authn:
        return json_api_err(401, LEGACY_MESSAGES[kind])
    if kind == "unknown" and not profile.unknown_key_is_public_error:
        return auth_fallback()
    return auth_error(*AUTHN_ERRORS[kind])


def decode_basic(header: str) -> Optional[Tuple[str, str]]:
    """``util.DecodeBasicAuthHeader``: None when the header is not valid Basic."""
    if not header.startswith(BASIC):
        return None
    try:
        decoded = base64.b64decode(header[len(BASIC) :].encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    login, separator, password = decoded.decode("utf-8", "replace").partition(":")
    return (login, password) if separator else None


def authn_token(header: str) -> str:
    """The API-key client's token: after the case-sensitive ``Bearer `` or ``Basic api_key:``."""
    if header.startswith(BEARER):
        return header[len(BEARER) :]
    basic = decode_basic(header)
    return basic[1] if basic and basic[0] == "api_key" else ""


def legacy_token(header: str) -> str:
    """9.x ``getApiKey``: ``SplitN(header, " ", 2)`` with exact ``Bearer``, then TrimSpace."""
    scheme, separator, rest = header.partition(" ")
    if scheme == "Bearer" and separator:
        return rest.strip()
    basic = decode_basic(header)
    return basic[1] if basic and basic[0] == "api_key" else ""


def requested_org(profile: Profile, header: Optional[str], query: Optional[str]) -> int:
    """``targetOrgId`` if positive, else ``X-Grafana-Org-Id``; non-integers count as 0."""
    if profile.org_from_query:
        from_query = parse_int64(query)
        if from_query is not None and from_query > 0:
            return from_query
    from_header = parse_int64(header)
    return from_header if from_header is not None else 0


class Authenticator:
    """Authenticates one request against the store under one profile."""

    def __init__(self, store: Store, profile: Profile, now: float, basic_enabled: bool) -> None:
        self.store = store
        self.profile = profile
        self.now = now
        self.basic_enabled = basic_enabled

    def authenticate(self, authorization: str, org: int) -> AuthResult:
        """Run the profile's pipeline on an (already whitespace-trimmed) header."""
        if self.profile.authn:
            return self._authn(authorization, org)
        return self._legacy(authorization, org)

    def _authn(self, header: str, org: int) -> AuthResult:
        """Clients in priority order (API key 30, Basic 40); first success wins."""
        errors: List[str] = []
        token = authn_token(header)
        if token:
            outcome = self._api_key(token, org)
            if isinstance(outcome, Identity):
                return AuthResult(outcome)
            errors.append(outcome)
        basic = decode_basic(header)
        if basic is not None and self.basic_enabled:
            outcome = self._basic(basic, org)
            if isinstance(outcome, Identity):
                return AuthResult(outcome)
            errors.append(outcome)
        if not errors:
            return AuthResult(error="unauthorized")
        return AuthResult(error=self._first_public(errors))

    def _first_public(self, errors: List[str]) -> str:
        """``errors.As`` on the joined error: the first errutil error decides the body."""
        public = (
            kind for kind in errors if kind != "unknown" or self.profile.unknown_key_is_public_error
        )
        return next(public, "unknown")

    def _legacy(self, header: str, org: int) -> AuthResult:
        """9.x: API key, then Basic on any other non-empty header; errors are final."""
        token = legacy_token(header)
        if token:
            return self._final(self._api_key(token, org))
        if not header or not self.basic_enabled:
            return AuthResult()
        basic = decode_basic(header)
        if basic is None:
            return AuthResult(error="bad_basic_header", immediate=True)
        return self._final(self._basic(basic, org))

    @staticmethod
    def _final(outcome: Outcome) -> AuthResult:
        if isinstance(outcome, Identity):
            return AuthResult(outcome)
        return AuthResult(error=outcome, immediate=True)

    # clients -------------------------------------------------------------------------

    def _lookup(self, token: str) -> Union[ApiKey, str]:
        """Decode the token and find its row (§2.3 step 1)."""
        if token.startswith("gl"):
            secret = tokens.decode_sa_token(token)
            if secret is None:
                return "invalid"
            return self.store.key_by_secret(secret) or "unknown"
        parts = tokens.decode_legacy_key(token)
        if parts is None:
            return "invalid"
        key = self.store.legacy_key(parts.org_id, parts.name)
        if key is None:
            return "unknown"
        return key if key.hash == tokens.hash_secret(parts.secret) else "invalid"

    def _api_key(self, token: str, org: int) -> Outcome:
        """``validateApiKey`` in Grafana's order: expiry, revocation, org, owner, disabled."""
        key = self._lookup(token)
        if isinstance(key, str):
            return key
        if key.expires is not None and key.expires <= int(self.now):
            return "expired"
        if key.is_revoked:
            return "revoked"
        if self.profile.org_check_for_keys and org not in (0, key.org_id):
            return "org_mismatch"
        return self._key_identity(key)

    def _key_identity(self, key: ApiKey) -> Outcome:
        if key.service_account_id is None:
            if not self.profile.legacy_keys_authenticate:
                return "invalid"
            self._mark_used(key)
            return Identity("api-key", key.org_id, key.role, key=key)
        account = self.store.users.get(key.service_account_id)
        if account is None:
            return "unknown"
        if account.is_disabled:
            return "disabled"
        self._mark_used(key)
        return Identity("service-account", account.org_id, account.role, user=account, key=key)

    def _mark_used(self, key: ApiKey) -> None:
        """Synchronous here (Grafana is asynchronous) so tests can read it back at once."""
        if key.last_used_at is None or key.last_used_at < self.now - LAST_USED_RESOLUTION:
            key.last_used_at = self.now

    def _basic(self, credentials: Tuple[str, str], org: int) -> Outcome:
        login, password = credentials
        user = self.store.find_user(login) if password else None
        if user is None or user.password != password:
            return "password"
        return user_identity(user, org)


def user_identity(user: User, org: int) -> Identity:
    """A person acts in the requested org if given, else in its default org.

    Outside its orgs it has no role ("None"): RBAC then denies everything but sign-in routes.
    """
    org_id = org if org > 0 else user.org_id
    return Identity("user", org_id, user.memberships.get(org_id, "None"), user=user)


def header_value(headers: Mapping[str, str], name: str) -> str:
    """A header as Go's parser gives it: first value, surrounding spaces and tabs trimmed."""
    return headers.get(name.lower(), "").strip(" \t")
