# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token planner: a pure function from a token listing and the clock to a plan.

Grafana never shows a token's key again after creating it, so a token cannot be "read back
and compared".  What the module can know is which tokens it *owns* and when they expire:

* it owns exactly the tokens of the account named ``<name>`` or ``<name>-r<UTC
  YYYYMMDDHHMMSS>`` (plus ``-NN`` when two rotations fall in the same second), the rotation
  suffix it generates itself (:func:`rotation_name`);
* the *current* token is the newest owned token that is neither expired nor revoked;
* "now" is the Grafana server's clock (``client.now()``), never the local one.

:func:`token_spec` validates the options before any request is sent; :func:`plan_token`
turns a token listing into a :class:`TokenPlan` without any I/O, so it is table-testable and
reused by ``service_accounts``, which reconciles many accounts in one run.  The messages that
describe a plan are built here too.  Nothing in this file sends a request.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional

from ansible_collections.grafana_ops.auth.plugins.module_utils._duration import (
    format_duration,
    parse_duration,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import GrafanaInputError
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_status import (
    annotate_token,
    is_expired,
    seconds_left,
)

DEFAULT_TTL = "30d"
DEFAULT_ROTATION_WINDOW = "0"
SUFFIX_FORMAT = "%Y%m%d%H%M%S"
SUFFIX_MAX_SEQUENCE = 99
GRAFANA_EXPIRY_HINT_SECONDS = 7 * 86400

# reasons a token is minted
MINT_MISSING = "missing"
MINT_EXPIRED = "expired"
MINT_REVOKED = "revoked"
MINT_ROTATION = "rotation"
MINT_DEST_MISSING = "dest_missing"
# reasons a token is deleted
DELETE_EXPIRED = "expired"
DELETE_REVOKED = "revoked"
DELETE_REPLACED = "replaced"
DELETE_ABSENT = "absent"


# ------------------------------------------------------------------- options
def token_argument_spec() -> Dict[str, Any]:
    """The options of one token, shared by ``service_account_token`` and each entry of
    ``service_accounts``' ``tokens`` (each module adds its own)."""
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        ttl=dict(type="raw", default=DEFAULT_TTL, no_log=False),
        rotation_window=dict(type="raw", default=DEFAULT_ROTATION_WINDOW, no_log=False),
        keep_previous=dict(type="bool", default=True),
        prune_expired=dict(type="bool", default=True),
        dest=dict(type="path"),
        mode=dict(type="raw", default="0600"),
        return_key=dict(type="bool", default=False, no_log=False),
    )


@dataclass(frozen=True)
class TokenSpec:
    """The validated options of one token (durations in seconds)."""

    name: str
    state: str = "present"
    ttl: int = 30 * 86400
    rotation_window: int = 0
    keep_previous: bool = True
    prune_expired: bool = True


def token_spec(params: Mapping[str, Any]) -> TokenSpec:
    """Validate one token's options (``name``, ``state``, ``ttl``, ...) before any request.

    Raises :class:`GrafanaInputError` for a bad duration or a ``rotation_window`` that is not
    shorter than ``ttl`` (a fresh token would be inside its own window at once).
    """
    name = str(params.get("name") or "").strip()
    if not name:
        raise GrafanaInputError("name: give the token name (a non-empty string).")
    ttl = parse_duration(_default(params.get("ttl"), DEFAULT_TTL), "ttl")
    window = parse_duration(
        _default(params.get("rotation_window"), DEFAULT_ROTATION_WINDOW), "rotation_window"
    )
    if ttl and window >= ttl:
        raise GrafanaInputError(
            f"rotation_window ({format_duration(window)}) must be shorter than ttl "
            f"({format_duration(ttl)}): a new token would be inside its rotation window at once "
            "and be replaced on every run. Use a window of a fraction of ttl (for example "
            "ttl 30d with rotation_window 7d)."
        )
    return TokenSpec(
        name=name,
        state=params.get("state") or "present",
        ttl=ttl,
        rotation_window=window,
        keep_previous=_default(params.get("keep_previous"), True),
        prune_expired=_default(params.get("prune_expired"), True),
    )


def _default(value: Any, fallback: Any) -> Any:
    return fallback if value is None else value


# ----------------------------------------------------------------- ownership
def owned_pattern(name: str) -> "re.Pattern[str]":
    """Names the module owns for ``name``: ``name`` or ``name-rYYYYMMDDHHMMSS[-NN]``."""
    return re.compile(rf"^{re.escape(name)}(?:-r\d{{14}}(?:-\d{{2}})?)?$")


def owned_tokens(tokens: Iterable[Dict[str, Any]], name: str) -> List[Dict[str, Any]]:
    """The owned tokens of a listing, oldest first (Grafana's ids only ever grow)."""
    pattern = owned_pattern(name)
    owned = [t for t in tokens if isinstance(t, dict) and pattern.match(str(t.get("name", "")))]
    return sorted(owned, key=_token_order)


def _token_order(token: Dict[str, Any]) -> Any:
    # created timestamps follow the (movable) server clock; ids are strictly increasing
    token_id = token.get("id")
    return (0, token_id) if isinstance(token_id, int) else (1, str(token.get("name")))


def rotation_name(name: str, now: _dt.datetime, taken: Iterable[str]) -> str:
    """``<name>-r<UTC YYYYMMDDHHMMSS>``, with ``-01``..``-99`` when that name is taken.

    The suffix sorts by time as plain text: ``-r20261129120000`` < ``-r20261129120000-01``
    < ``-r20261129120001``.
    """
    used = set(taken)
    base = f"{name}-r{now.astimezone(_dt.timezone.utc).strftime(SUFFIX_FORMAT)}"
    if base not in used:
        return base
    for sequence in range(1, SUFFIX_MAX_SEQUENCE + 1):
        candidate = f"{base}-{sequence:02d}"
        if candidate not in used:
            return candidate
    raise GrafanaInputError(
        f"More than {SUFFIX_MAX_SEQUENCE} tokens named {base}-NN exist already; delete some of "
        "them (prune_expired: true) before rotating again."
    )


def is_usable(token: Dict[str, Any], now: _dt.datetime) -> bool:
    """Neither expired nor revoked, judged on the server clock."""
    return not is_expired(token, now) and not token.get("isRevoked")


def in_rotation_window(token: Dict[str, Any], now: _dt.datetime, window: int) -> bool:
    """Less than ``window`` seconds left; a token that never expires never is."""
    left = seconds_left(token, now)
    return window > 0 and left is not None and left < window


# ------------------------------------------------------------------ planning
@dataclass(frozen=True)
class Mint:
    """A token to create."""

    name: str
    seconds_to_live: int
    reason: str
    replaces: Optional[Dict[str, Any]] = None


@dataclass(frozen=True)
class Deletion:
    """An owned token to delete, and why."""

    token: Dict[str, Any]
    reason: str

    def report(self) -> Dict[str, Any]:
        return {"id": self.token.get("id"), "name": self.token.get("name"), "reason": self.reason}


@dataclass
class TokenPlan:
    """What :func:`plan_token` decided: at most one mint, then deletions."""

    spec: TokenSpec
    now: _dt.datetime
    owned: List[Dict[str, Any]]
    current: Optional[Dict[str, Any]] = None
    mint: Optional[Mint] = None
    deletions: List[Deletion] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.mint is not None or bool(self.deletions)

    @property
    def rotated(self) -> bool:
        """A new token replaces an owned one (window, expiry, revocation or lost dest)."""
        return self.mint is not None and self.mint.reason != MINT_MISSING

    def predicted_token(self) -> Optional[Dict[str, Any]]:
        """The token that is current after the plan (a prediction for a mint)."""
        if self.mint is None:
            return self.current
        return synthesize_token(None, self.mint.name, self.now, self.mint.seconds_to_live)

    def before(self) -> List[Dict[str, Any]]:
        return [token_summary(t, self.now) for t in self.owned]

    def after(self) -> List[Dict[str, Any]]:
        gone = {id(d.token) for d in self.deletions}
        kept = [token_summary(t, self.now) for t in self.owned if id(t) not in gone]
        if self.mint is not None:
            kept.append(token_summary(self.predicted_token() or {}, self.now))
        return kept


def plan_token(
    tokens: Iterable[Dict[str, Any]],
    spec: TokenSpec,
    now: _dt.datetime,
    *,
    dest_missing: bool = False,
) -> TokenPlan:
    """Decide, without I/O, what to mint and delete for one token ``spec``.

    ``tokens`` is the account's token listing (foreign tokens are ignored), ``now`` the
    Grafana server's clock, ``dest_missing`` true when the key file is gone or empty.
    """
    listed = [t for t in tokens if isinstance(t, dict)]
    owned = owned_tokens(listed, spec.name)
    plan = TokenPlan(spec=spec, now=now, owned=owned)
    if spec.state == "absent":
        plan.deletions = [Deletion(t, DELETE_ABSENT) for t in owned]
        return plan
    usable = [t for t in owned if is_usable(t, now)]
    current = usable[-1] if usable else None
    reason = _mint_reason(owned, current, spec, now, dest_missing)
    if reason is not None:
        taken = {str(t.get("name")) for t in listed}
        new_name = spec.name if spec.name not in taken else rotation_name(spec.name, now, taken)
        plan.mint = Mint(new_name, spec.ttl, reason, current or (owned[-1] if owned else None))
    else:
        plan.current = current
    plan.deletions = _deletions(owned, plan.current, spec, now)
    return plan


def _mint_reason(
    owned: List[Dict[str, Any]],
    current: Optional[Dict[str, Any]],
    spec: TokenSpec,
    now: _dt.datetime,
    dest_missing: bool,
) -> Optional[str]:
    if current is None:
        if not owned:
            return MINT_MISSING
        return MINT_REVOKED if owned[-1].get("isRevoked") else MINT_EXPIRED
    if in_rotation_window(current, now, spec.rotation_window):
        return MINT_ROTATION
    return MINT_DEST_MISSING if dest_missing else None


def _deletions(
    owned: List[Dict[str, Any]], keep: Optional[Dict[str, Any]], spec: TokenSpec, now: _dt.datetime
) -> List[Deletion]:
    """Every owned token but ``keep`` goes when keep_previous is false; otherwise only the
    expired or revoked ones, and only with prune_expired."""
    deletions = []
    for token in owned:
        if token is keep:
            continue
        dead = _dead_reason(token, now)
        if not spec.keep_previous:
            deletions.append(Deletion(token, dead or DELETE_REPLACED))
        elif spec.prune_expired and dead:
            deletions.append(Deletion(token, dead))
    return deletions


def _dead_reason(token: Dict[str, Any], now: _dt.datetime) -> Optional[str]:
    if token.get("isRevoked"):
        return DELETE_REVOKED
    return DELETE_EXPIRED if is_expired(token, now) else None


# ------------------------------------------------------------------ summaries
def iso(moment: _dt.datetime) -> str:
    """Grafana's timestamp format (``2026-11-29T15:00:00Z``)."""
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def synthesize_token(
    token_id: Optional[int], name: str, now: _dt.datetime, seconds_to_live: int
) -> Dict[str, Any]:
    """Grafana's token object for a token minted at ``now`` (the create answer has no dates)."""
    expiration = None if not seconds_to_live else iso(now + _dt.timedelta(seconds=seconds_to_live))
    soon = bool(seconds_to_live) and seconds_to_live <= GRAFANA_EXPIRY_HINT_SECONDS
    token = {
        "id": token_id,
        "name": name,
        "created": iso(now),
        "lastUsedAt": None,
        "expiration": expiration,
        "secondsUntilExpiration": float(seconds_to_live) if soon else 0,
        "hasExpired": False,
        "isRevoked": False,
    }
    return annotate_token(token, now)


def token_summary(token: Dict[str, Any], now: _dt.datetime) -> Dict[str, Any]:
    """Name, expiration and state of a token, for diffs (never a key)."""
    state = (
        "revoked" if token.get("isRevoked") else ("expired" if is_expired(token, now) else "valid")
    )
    return {"name": token.get("name"), "expiration": token.get("expiration"), "state": state}


def plan_message(plan: TokenPlan, dest: Optional[str], predicted: bool) -> str:
    """What the plan does (or would do), for the module's ``msg``."""
    would = "would be " if predicted else ""
    parts = []
    if plan.mint is not None:
        parts.append(_mint_message(plan, would))
        if dest is not None:
            parts.append(f"its key {would}written to {dest}")
    elif plan.current is not None:
        parts.append(
            f"Token {plan.current.get('name')!r} is current{_left(plan.current, plan.now)}"
        )
    if plan.deletions:
        names = ", ".join(f"{d.token.get('name')!r} ({d.reason})" for d in plan.deletions)
        parts.append(f"{'would delete' if predicted else 'deleted'}: {names}")
    if not parts:
        parts.append(f"No token named {plan.spec.name!r} exists")
    return "; ".join(parts) + "."


def _mint_message(plan: TokenPlan, would: str) -> str:
    mint = plan.mint
    old = mint.replaces.get("name") if mint.replaces else None
    why = {
        MINT_MISSING: "no owned token existed",
        MINT_EXPIRED: f"token {old!r} has expired",
        MINT_REVOKED: f"token {old!r} is revoked",
        MINT_ROTATION: f"token {old!r} is inside the rotation window "
        f"({format_duration(plan.spec.rotation_window)}){_left(mint.replaces, plan.now)}",
        MINT_DEST_MISSING: f"the key file of token {old!r} was missing",
    }[mint.reason]
    expires = (
        f"expires in {format_duration(mint.seconds_to_live)}"
        if mint.seconds_to_live
        else "never expires"
    )
    return f"Token {mint.name!r} {would}created ({expires}) because {why}"


def _left(token: Optional[Dict[str, Any]], now: _dt.datetime) -> str:
    left = seconds_left(token or {}, now)
    return "" if left is None else f", {format_duration(max(0, left))} left"


def dest_missing_warning(plan: TokenPlan, where: str, status: Optional[str]) -> str:
    """Why a valid token is replaced: its key file is gone, or not trusted."""
    old = plan.mint.replaces.get("name") if plan.mint and plan.mint.replaces else "?"
    fate = (
        "stays valid until it expires (keep_previous: true)"
        if plan.spec.keep_previous
        else "is deleted (keep_previous: false)"
    )
    if status in ("a symlink", "owned by another user"):
        return (
            f"{where} is {status}, so it is not trusted to hold the key of token {old!r} "
            "(it may have been planted by someone else). A new token replaces it and its key "
            "is written to a new file of the requested owner that replaces dest (a symlink "
            f"is replaced, never followed); the old token {fate}."
        )
    return (
        f"{where} is {status or 'missing'} although token {old!r} is still valid. "
        "Grafana cannot show an existing key again, so a new token replaces it and its new key "
        f"is delivered; the old token {fate}."
    )
