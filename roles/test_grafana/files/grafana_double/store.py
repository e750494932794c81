"""The double's database: orgs, users and service accounts, API keys, dashboards.

Like Grafana, users and service accounts share one table (and one id sequence), and SA
tokens and legacy keys share the ``api_key`` table, so uniqueness rules that span them
(login/email across the user table, token name per org across all keys) fall out of the
data model. One re-entrant lock guards everything; the server holds it for a whole API
request, which keeps each request atomic and is cheap enough for the benchmarks.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from . import tokens
from .secretlog import SecretLog

ROLE_RANK = {"None": 0, "Viewer": 1, "Editor": 2, "Admin": 3}
MAIN_ORG = "Main Org."


class Conflict(Exception):
    """A uniqueness rule was violated."""


@dataclass
class Org:
    id: int
    name: str
    created: float


@dataclass
class User:
    """A row of Grafana's user table: a person or a service account."""

    id: int
    uid: str
    login: str
    email: str
    name: str
    created: float
    updated: float
    password: Optional[str] = None
    is_service_account: bool = False
    is_disabled: bool = False
    is_server_admin: bool = False
    memberships: Dict[int, str] = field(default_factory=dict)
    extra_actions: frozenset = frozenset()

    @property
    def org_id(self) -> int:
        """A service account belongs to exactly one org; a user's first org is its default."""
        return next(iter(self.memberships), 0)

    @property
    def role(self) -> str:
        return self.memberships.get(self.org_id, "None")


@dataclass
class ApiKey:
    """A row of the ``api_key`` table: an SA token (``service_account_id`` set) or a plain key."""

    id: int
    org_id: int
    name: str
    hash: str
    role: str
    created: float
    expires: Optional[int]
    service_account_id: Optional[int] = None
    legacy_format: bool = False
    last_used_at: Optional[float] = None
    is_revoked: bool = False


@dataclass
class Dashboard:
    id: int
    uid: str
    org_id: int
    title: str
    version: int
    folder_uid: str


_INT64 = 2**64


def go_duration_seconds(seconds: int) -> int:
    """``time.Second * time.Duration(seconds)`` in nanoseconds, with Go's int64 wrap-around."""
    nanos = (seconds * 1_000_000_000) % _INT64
    return nanos - _INT64 if nanos >= 2**63 else nanos


def go_add_seconds(now: float, seconds: int) -> float:
    """``now.Add(time.Second * time.Duration(seconds))`` as a Unix time (float seconds).

    Go multiplies without an overflow check, so a ``secondsToLive`` beyond ~292 years wraps
    (``pkg/services/apikey/apikeyimpl/store.go`` ``AddAPIKey``); Grafana stores whatever comes
    out, possibly a time in the past. The double does the same, and so never stores a time
    outside what it can print.
    """
    now_ns = int(round(now * 1_000_000_000))
    return (now_ns + go_duration_seconds(seconds)) / 1_000_000_000


def generate_login(prefix: str, org_id: int, name: str) -> str:
    """``serviceaccounts.GenerateLogin``: lower-case, first ``--`` collapsed, spaces to dashes."""
    login = f"{prefix}-{org_id}-{name.lower()}".replace("--", "-", 1)
    return login.replace(" ", "-")


class Store:
    """All mutable Grafana state; callers hold ``lock`` around a request.

    Lookups on the request path (Basic login, token hash, key name, tokens of an SA) go
    through indexes kept next to the tables, so cost stays flat as benchmarks add rows.
    """

    def __init__(
        self, clock: Callable[[], float], admin: Tuple[str, str], secrets: SecretLog
    ) -> None:
        self.lock = threading.RLock()
        self._now = clock
        self._admin = admin
        self._secrets = secrets
        self.reset()

    def reset(self) -> None:
        """Back to a fresh Grafana: org 1, the admin user, nothing else."""
        with self.lock:
            now = self._now()
            self.orgs: Dict[int, Org] = {1: Org(1, MAIN_ORG, now)}
            self.users: Dict[int, User] = {}
            self.keys: Dict[int, ApiKey] = {}
            self.dashboards: Dict[Tuple[int, str], Dashboard] = {}
            self._by_login: Dict[str, User] = {}  # lower-cased login and email -> row
            self._by_hash: Dict[str, ApiKey] = {}  # SA tokens only; legacy keys go by name
            self._by_name: Dict[Tuple[int, str], ApiKey] = {}  # (org, name) -> key
            self._by_owner: Dict[int, Dict[int, ApiKey]] = {}  # SA id -> its tokens by id
            self._ids = {"org": 1, "user": 0, "key": 0, "dashboard": 0}
            login, password = self._admin
            self.add_user(login, password, 1, "Admin", server_admin=True, email="admin@localhost")

    def _next(self, sequence: str) -> int:
        self._ids[sequence] += 1
        return self._ids[sequence]

    # users and service accounts -------------------------------------------------------

    def login_taken(self, login: str) -> bool:
        """Login/email uniqueness over the whole user table, case-insensitive."""
        return login.lower() in self._by_login

    def _insert_user(self, user: User) -> User:
        self.users[user.id] = user
        self._by_login[user.login.lower()] = user
        self._by_login[user.email.lower()] = user
        return user

    def add_user(
        self,
        login: str,
        password: str,
        org_id: int,
        role: str,
        *,
        server_admin: bool = False,
        email: str = "",
        extra_actions: Iterable[str] = (),
    ) -> User:
        """Create a basic-auth user who is a member of ``org_id`` with ``role``."""
        if self.login_taken(login) or (email and self.login_taken(email)):
            raise Conflict("user already exists")
        now = self._now()
        return self._insert_user(
            User(
                self._next("user"),
                tokens.short_uid(),
                login,
                email or login,
                login,
                now,
                now,
                password=password,
                is_server_admin=server_admin,
                memberships={org_id: role},
                extra_actions=frozenset(extra_actions),
            )
        )

    def find_user(self, login_or_email: str) -> Optional[User]:
        """A person (never a service account) by login or email, case-insensitive."""
        user = self._by_login.get(login_or_email.lower())
        return user if user is not None and not user.is_service_account else None

    def create_service_account(
        self, org_id: int, name: str, role: str, disabled: bool, login: str = ""
    ) -> User:
        """Insert an SA; its email equals its login, as in Grafana's store."""
        login = login or generate_login("sa", org_id, name)
        if self.login_taken(login):
            raise Conflict("service account already exists")
        now = self._now()
        return self._insert_user(
            User(
                self._next("user"),
                tokens.short_uid(),
                login,
                login,
                name,
                now,
                now,
                is_service_account=True,
                is_disabled=disabled,
                memberships={org_id: role},
            )
        )

    def service_account(self, account_id: int, org_id: int) -> Optional[User]:
        """An SA visible from ``org_id`` (another org's SA is invisible)."""
        account = self.users.get(account_id)
        if account is None or not account.is_service_account or account.org_id != org_id:
            return None
        return account

    def service_account_by_uid(self, uid: str, org_id: int) -> Optional[User]:
        return next(
            (account for account in self.service_accounts(org_id) if account.uid == uid), None
        )

    def service_accounts(self, org_id: int) -> List[User]:
        return [
            user
            for user in self.users.values()
            if user.is_service_account and user.org_id == org_id
        ]

    def delete_service_account(self, account: User) -> None:
        """Delete the SA and, as Grafana does, all its tokens."""
        for key in self.tokens_of(account.id):
            self.delete_key(key)
        del self.users[account.id]
        self._by_login.pop(account.login.lower(), None)
        self._by_login.pop(account.email.lower(), None)

    def touch(self, user: User) -> None:
        user.updated = self._now()

    # api keys ----------------------------------------------------------------------------

    def key_name_taken(self, org_id: int, name: str) -> bool:
        """Token names are unique per org across SA tokens and legacy keys."""
        return (org_id, name) in self._by_name

    def _expiry(self, seconds_to_live: int) -> Optional[int]:
        # Grafana stores ``now.Add(ttl).Unix()`` (floor to whole seconds, Go's wrapping
        # arithmetic); 0 means "never".
        if not seconds_to_live:
            return None
        return math.floor(go_add_seconds(self._now(), seconds_to_live))

    def _insert_key(self, key: ApiKey, plaintext: str) -> Tuple[ApiKey, str]:
        if self.key_name_taken(key.org_id, key.name):
            raise Conflict(key.name)
        key.id = self._next("key")
        self.keys[key.id] = key
        self._by_name[(key.org_id, key.name)] = key
        if not key.legacy_format:
            self._by_hash[key.hash] = key
        if key.service_account_id is not None:
            self._by_owner.setdefault(key.service_account_id, {})[key.id] = key
        self._secrets.add_key(plaintext)
        return key, plaintext

    def add_sa_token(self, account: User, name: str, seconds_to_live: int) -> Tuple[ApiKey, str]:
        """Mint a ``glsa_`` token for an SA; returns the row and the only copy of the key."""
        plaintext, secret = tokens.mint_sa_token()
        row = ApiKey(
            0,
            account.org_id,
            name,
            tokens.hash_secret(secret),
            "Viewer",
            self._now(),
            self._expiry(seconds_to_live),
            service_account_id=account.id,
        )
        return self._insert_key(row, plaintext)

    def add_legacy_key(
        self, org_id: int, name: str, role: str, seconds_to_live: int
    ) -> Tuple[ApiKey, str]:
        """Mint a legacy base64-JSON API key."""
        plaintext, secret = tokens.mint_legacy_key(name, org_id)
        row = ApiKey(
            0,
            org_id,
            name,
            tokens.hash_secret(secret),
            role,
            self._now(),
            self._expiry(seconds_to_live),
            legacy_format=True,
        )
        return self._insert_key(row, plaintext)

    def attach_key(self, key: ApiKey, account: User) -> None:
        """Make a plain legacy key the token of ``account`` (API-key migration)."""
        key.service_account_id = account.id
        self._by_owner.setdefault(account.id, {})[key.id] = key

    def key_by_secret(self, secret: str) -> Optional[ApiKey]:
        return self._by_hash.get(tokens.hash_secret(secret))

    def legacy_key(self, org_id: int, name: str) -> Optional[ApiKey]:
        key = self._by_name.get((org_id, name))
        return key if key is not None and key.legacy_format else None

    def tokens_of(self, account_id: int) -> List[ApiKey]:
        return list(self._by_owner.get(account_id, {}).values())

    def token_count(self, account_id: int) -> int:
        return len(self._by_owner.get(account_id, {}))

    def plain_keys(self, org_id: int) -> List[ApiKey]:
        """Legacy keys that do not belong to a service account."""
        return [
            key
            for key in self.keys.values()
            if key.org_id == org_id and key.service_account_id is None
        ]

    def delete_key(self, key: ApiKey) -> None:
        del self.keys[key.id]
        self._by_hash.pop(key.hash, None)
        self._by_name.pop((key.org_id, key.name), None)
        if key.service_account_id is not None:
            self._by_owner.get(key.service_account_id, {}).pop(key.id, None)

    # orgs and dashboards -------------------------------------------------------------------

    def create_org(self, name: str, creator: Optional[User]) -> Org:
        """Create an org; its creator becomes its Admin, as ``POST /api/orgs`` does."""
        if any(org.name == name for org in self.orgs.values()):
            raise Conflict("Organization name taken")
        org = Org(self._next("org"), name, self._now())
        self.orgs[org.id] = org
        if creator is not None:
            creator.memberships[org.id] = "Admin"
        return org

    def save_dashboard(self, org_id: int, uid: str, title: str, folder_uid: str) -> Dashboard:
        """Insert, or overwrite and bump the version of, the dashboard with ``uid``."""
        existing = self.dashboards.get((org_id, uid))
        if existing is not None:
            existing.title, existing.folder_uid = title, folder_uid
            existing.version += 1
            return existing
        dashboard = Dashboard(self._next("dashboard"), uid, org_id, title, 1, folder_uid)
        self.dashboards[(org_id, uid)] = dashboard
        return dashboard
