# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service-account tokens as code: a pure planner and the code that applies a plan.

Grafana never shows a token's key again after creating it, so a token cannot be "read back
and compared".  What the module can know is which tokens it *owns* and when they expire:

* it owns exactly the tokens of the account named ``<name>`` or ``<name>-r<UTC
  YYYYMMDDHHMMSS>`` (plus ``-NN`` when two rotations fall in the same second), the rotation
  suffix it generates itself (:func:`rotation_name`);
* the *current* token is the newest owned token that is neither expired nor revoked;
* "now" is the Grafana server's clock (``client.now()``), never the local one.

:func:`plan_token` turns a token listing into a :class:`TokenPlan` without any I/O, so it is
table-testable and reusable by a module that reconciles many accounts in one run.
:func:`ensure_token` lists, plans and applies for one account; :func:`token_spec` validates
the options before any request is sent.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import GrafanaClient
from ansible_collections.grafana_ops.auth.plugins.module_utils._duration import (
    format_duration,
    parse_duration,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaAPIError,
    GrafanaConnectionError,
    GrafanaError,
    GrafanaInputError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._sa_api import (
    SA_PATH,
    require_service_account,
)
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
    window = parse_duration(_default(params.get("rotation_window"), DEFAULT_ROTATION_WINDOW),
                            "rotation_window")
    if ttl and window >= ttl:
        raise GrafanaInputError(
            f"rotation_window ({format_duration(window)}) must be shorter than ttl "
            f"({format_duration(ttl)}): a new token would be inside its rotation window at once "
            "and be replaced on every run. Use a window of a fraction of ttl (for example "
            "ttl 30d with rotation_window 7d).")
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
        "them (prune_expired: true) before rotating again.")


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


def plan_token(tokens: Iterable[Dict[str, Any]], spec: TokenSpec, now: _dt.datetime,
               *, dest_missing: bool = False) -> TokenPlan:
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


def _mint_reason(owned: List[Dict[str, Any]], current: Optional[Dict[str, Any]],
                 spec: TokenSpec, now: _dt.datetime, dest_missing: bool) -> Optional[str]:
    if current is None:
        if not owned:
            return MINT_MISSING
        return MINT_REVOKED if owned[-1].get("isRevoked") else MINT_EXPIRED
    if in_rotation_window(current, now, spec.rotation_window):
        return MINT_ROTATION
    return MINT_DEST_MISSING if dest_missing else None


def _deletions(owned: List[Dict[str, Any]], keep: Optional[Dict[str, Any]], spec: TokenSpec,
               now: _dt.datetime) -> List[Deletion]:
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


def synthesize_token(token_id: Optional[int], name: str, now: _dt.datetime,
                     seconds_to_live: int) -> Dict[str, Any]:
    """Grafana's token object for a token minted at ``now`` (the create answer has no dates)."""
    expiration = None if not seconds_to_live else iso(now + _dt.timedelta(seconds=seconds_to_live))
    soon = bool(seconds_to_live) and seconds_to_live <= GRAFANA_EXPIRY_HINT_SECONDS
    token = {
        "id": token_id, "name": name, "created": iso(now), "lastUsedAt": None,
        "expiration": expiration, "secondsUntilExpiration": float(seconds_to_live) if soon else 0,
        "hasExpired": False, "isRevoked": False,
    }
    return annotate_token(token, now)


def token_summary(token: Dict[str, Any], now: _dt.datetime) -> Dict[str, Any]:
    """Name, expiration and state of a token, for diffs (never a key)."""
    state = "revoked" if token.get("isRevoked") else ("expired" if is_expired(token, now) else "valid")
    return {"name": token.get("name"), "expiration": token.get("expiration"), "state": state}


# ------------------------------------------------------------------- applying
def tokens_path(account_id: Any) -> str:
    return f"{SA_PATH}/{account_id}/tokens"


def list_tokens(client: GrafanaClient, account_id: Any) -> List[Dict[str, Any]]:
    """The account's tokens (Grafana caps the list at 300, ordered by name)."""
    return list(client.get(tokens_path(account_id), shape=list).body)


def delete_token(client: GrafanaClient, account_id: Any, token: Dict[str, Any]) -> None:
    """Delete one token; one already gone (404) counts as deleted."""
    client.delete(f"{tokens_path(account_id)}/{token.get('id')}", expected=(200, 404), shape=dict)


def run_token(client: GrafanaClient, params: Mapping[str, Any], *, check_mode: bool = False,
              diff: bool = False, key_file: Any = None) -> Dict[str, Any]:
    """The whole ``service_account_token`` module: validate, resolve the account, ensure.

    Every option (durations, the key file's mode, owner and group) is checked before the
    first request. With ``dest`` the key is returned only when ``return_key`` is true.
    """
    spec = token_spec(params)
    if key_file is not None and spec.state == "present":
        key_file.validate()
    account = require_service_account(client, name=params.get("service_account"),
                                      account_id=params.get("service_account_id"))
    result = ensure_token(client, account, spec, check_mode=check_mode, diff=diff, key_file=key_file)
    if key_file is not None and not params.get("return_key") and "key" in result:
        del result["key"]  # it is in dest; returning it too would print it at -v and in logs
    return result


_UNSET: Any = object()


def ensure_token(client: GrafanaClient, account: Dict[str, Any], spec: TokenSpec, *,
                 check_mode: bool = False, diff: bool = False, key_file: Any = None,
                 tokens: Optional[List[Dict[str, Any]]] = None,
                 key_missing: bool = False, dest_fingerprint: Any = _UNSET) -> Dict[str, Any]:
    """List, plan and apply one token of ``account``; return the module result.

    ``key_file`` is a :class:`~._delivery.KeyFile` (or ``None``).  One token listing, then
    only the writes the plan needs; warnings go to ``client.warnings``.  ``tokens`` is the
    account's listing when the caller already has it (``service_accounts`` lists once per
    account), with ``dest_fingerprint`` taken before that listing; ``key_missing`` says the
    consumer's key file (on another host) is gone.

    Concurrent runs delivering to the same ``dest`` are made deterministic: a mint and its
    delivery happen under the lock of the key file's directory, and a run that finds ``dest``
    changed since it listed the tokens lists them again and re-plans, so it adopts what the
    other run delivered instead of minting a token whose key would be overwritten (an orphan).
    """
    if key_file is not None and dest_fingerprint is _UNSET:
        dest_fingerprint = key_file.fingerprint()
    if tokens is None:
        tokens = list_tokens(client, account["id"])
    plan, dest_status = _plan(client, spec, tokens, key_file, key_missing)
    if plan.mint is not None and key_file is not None:
        key_file.preflight()
    if check_mode:
        _warn_dest_missing(client, plan, key_file, dest_status)
        return _result(plan, key_file, None, None, plan.deletions, diff, predicted=True)
    if plan.mint is None or key_file is None:
        _warn_dest_missing(client, plan, key_file, dest_status)
        return _result(plan, key_file, *_Applier(client, account, plan, key_file).run(), diff,
                       predicted=False)
    with key_file.lock():
        if key_file.fingerprint() != dest_fingerprint:
            # another run delivered into dest meanwhile: plan again from what exists now
            plan, dest_status = _plan(client, spec, list_tokens(client, account["id"]),
                                      key_file, key_missing)
        _warn_dest_missing(client, plan, key_file, dest_status)
        return _result(plan, key_file, *_Applier(client, account, plan, key_file).run(), diff,
                       predicted=False)


def _plan(client: GrafanaClient, spec: TokenSpec, tokens: List[Dict[str, Any]], key_file: Any,
          key_missing: bool) -> Any:
    now = client.now()
    dest_status = key_file.status() if key_file is not None and spec.state == "present" else None
    missing = dest_status not in (None, "present") or (key_missing and spec.state == "present")
    return plan_token(tokens, spec, now, dest_missing=missing), dest_status


def _warn_dest_missing(client: GrafanaClient, plan: TokenPlan, key_file: Any,
                       dest_status: Optional[str]) -> None:
    if plan.mint is not None and plan.mint.reason == MINT_DEST_MISSING:
        where = f"dest {key_file.path}" if key_file is not None else "the key file on a consuming host"
        client.warnings.append(_dest_missing_warning(plan, where, dest_status))


class _Applier:
    """Runs a plan: mint (and deliver, or undo), then delete."""

    def __init__(self, client: GrafanaClient, account: Dict[str, Any], plan: TokenPlan,
                 key_file: Any) -> None:
        self.client = client
        self.account = account
        self.plan = plan
        self.key_file = key_file

    def run(self) -> Any:
        minted: Optional[Dict[str, Any]] = None
        key: Optional[str] = None
        if self.plan.mint is not None:
            minted, key = self._mint(self.plan.mint)
            if self.key_file is not None:
                self._deliver_or_undo(minted, key)
        done = self._delete_all(tolerate=minted is not None)
        return minted, key, done

    def _mint(self, mint: Mint) -> Any:
        body = {"name": mint.name, "secondsToLive": mint.seconds_to_live}
        path = tokens_path(self.account["id"])
        try:
            response = self.client.post(path, body=body, expected=(200, 201))
        except GrafanaAPIError as err:
            if err.status is not None and err.status >= 500:
                raise self._lost_mint(mint, err) from None
            raise self._raced(mint, err) or explain_create_error(err, mint, self.account) from None
        except GrafanaConnectionError as err:
            if err.kind == "tls":
                raise
            raise self._lost_mint(mint, err) from None
        answer = response.body if isinstance(response.body, dict) else {}
        if not answer.get("key"):
            raise self._lost_mint(mint, GrafanaAPIError(
                f"POST {path} answered HTTP {response.status} without a key "
                f"({response.describe_body()}).", method="POST", path=path, status=response.status))
        token = synthesize_token(answer.get("id"), str(answer.get("name") or mint.name),
                                 self.client.now(), mint.seconds_to_live)
        return token, str(answer["key"])

    def _raced(self, mint: Mint, err: GrafanaAPIError) -> Optional[GrafanaError]:
        """A duplicate name for a token this account did not have when listed: another run.

        Two runs ensuring the same token at once both see it missing; the second create is
        refused as a duplicate. The token is this account's own, so say that (not "held by
        another account"): the other run holds its key.
        """
        if not (err.status in (400, 409) and "already exists" in str(err.message or err.msg).lower()):
            return None
        try:
            names = {t.get("name") for t in list_tokens(self.client, self.account["id"])}
        except GrafanaError:
            return None
        if mint.name not in names:
            return None
        return GrafanaAPIError(
            f"Token {mint.name!r} of {_account_label(self.account)} was created by another run at "
            "the same time (this run saw no such token a moment earlier; Grafana refused the "
            "duplicate name). Its key went to that run, which delivers it; this run minted no "
            "token. Do not reconcile the same accounts from two places at once; rerun to "
            "check.", method=err.method, path=err.path, status=err.status,
            message=err.message, message_id=err.message_id)

    def _lost_mint(self, mint: Mint, err: GrafanaError) -> GrafanaError:
        """The create may have happened although no key came back: find it and delete it.

        Nobody holds the key of such a token, so keeping it would leave an orphan that
        looks current; the run fails and a rerun mints again (no blind retry of a POST).
        """
        who = _account_label(self.account)
        try:
            found = [t for t in list_tokens(self.client, self.account["id"])
                     if t.get("name") == mint.name]
            for token in found:
                delete_token(self.client, self.account["id"], token)
        except GrafanaError as cleanup:
            return GrafanaAPIError(
                f"Creating token {mint.name!r} of {who} failed without a usable answer ({err}), "
                f"and checking whether Grafana created it anyway failed too ({cleanup}). If "
                f"token {mint.name!r} exists, nobody holds its key: delete it, then rerun.",
                method=err.method, path=err.path, status=err.status)
        outcome = (f"Grafana had created it anyway and its key was lost on the way, so the "
                   f"module deleted token {mint.name!r} again (nobody holds its key)"
                   if found else "Grafana did not create it")
        return GrafanaAPIError(
            f"Creating token {mint.name!r} of {who} failed without a usable answer ({err}). "
            f"{outcome}; nothing else was changed. Rerun the task to mint a token.",
            method=err.method, path=err.path, status=err.status,
            message=err.message, message_id=err.message_id)

    def _deliver_or_undo(self, minted: Dict[str, Any], key: str) -> None:
        try:
            self.key_file.write(key)
        except GrafanaError as err:
            if getattr(err, "delivered", False):
                raise GrafanaError(
                    f"The key of new token {minted['name']!r} was written to "
                    f"{self.key_file.path}, but {err}. The token was kept (its key is in dest); "
                    "older tokens were not retired yet: fix the file options and rerun.") from None
            raise self._undo_mint(minted, err) from None

    def _undo_mint(self, minted: Dict[str, Any], err: GrafanaError) -> GrafanaError:
        where = self.key_file.path
        try:
            delete_token(self.client, self.account["id"], minted)
        except GrafanaError as cleanup:
            return GrafanaError(
                f"Minted token {minted['name']!r} but could not write its key to {where}: {err}. "
                f"Deleting that token again failed too ({cleanup}): nobody holds its key, "
                f"delete token {minted['name']!r} of {_account_label(self.account)} by hand.")
        return GrafanaError(
            f"Minted token {minted['name']!r} but could not write its key to {where}: {err}. "
            "The token was deleted again so that no token exists whose key nobody holds; "
            "nothing else was changed. Fix dest and rerun.")

    def _delete_all(self, tolerate: bool) -> List[Deletion]:
        """Delete the planned tokens; after a mint a failure is a warning, not a lost key."""
        done = []
        for deletion in self.plan.deletions:
            try:
                delete_token(self.client, self.account["id"], deletion.token)
            except GrafanaError as err:
                if not tolerate:
                    raise
                self.client.warnings.append(
                    f"Could not delete {deletion.reason} token {deletion.token.get('name')!r} "
                    f"({err}); the new token is in place, rerun to retry the deletion.")
                continue
            done.append(deletion)
        return done


def explain_create_error(err: GrafanaAPIError, mint: Mint, account: Dict[str, Any]) -> GrafanaError:
    """Grafana's terse create errors, with what they mean and what to change."""
    said = " ".join(str(err.message or err.msg).split())
    lowered = said.lower()
    ttl = format_duration(mint.seconds_to_live) if mint.seconds_to_live else "0 (never expires)"
    text = None
    if "should be set" in lowered:
        text = (f"Grafana refused ttl {ttl}: this server requires every token to expire "
                "([auth] api_key_max_seconds_to_live is set). Set ttl to a duration within "
                "that limit.")
    elif "greater than the global limit" in lowered:
        text = (f"Grafana refused ttl {ttl}: it is longer than the maximum token lifetime this "
                "server allows ([auth] api_key_max_seconds_to_live). Lower ttl (and "
                "rotation_window with it) to that limit or below.")
    elif "exceeds the limit" in lowered:
        text = (f"Grafana refused ttl {ttl}: tokens on this server may live at most a set number "
                "of days ([service_accounts] token_expiration_day_limit). Lower ttl (and "
                "rotation_window with it) below that many days.")
    elif err.status == 409 or err.message_id == "serviceaccounts.ErrTokenAlreadyExists" \
            or "already exists" in lowered:
        text = (f"Grafana refused the token name {mint.name!r}: token names are unique per "
                "organization across all service accounts (and legacy API keys), and a token "
                f"with this name already exists in the organization, held by another service "
                f"account than {_account_label(account)} (or by a legacy API key). Choose "
                "another name, or delete that other token.")
    if text is None:
        return err
    return GrafanaAPIError(f"{text} (Grafana said: {said})", method=err.method, path=err.path,
                           status=err.status, message=err.message, message_id=err.message_id)


# ------------------------------------------------------------------- results
def _result(plan: TokenPlan, key_file: Any, minted: Optional[Dict[str, Any]], key: Optional[str],
            deleted: List[Deletion], diff: bool, predicted: bool) -> Dict[str, Any]:
    written = plan.mint is not None and key_file is not None
    attrs = False
    if key_file is not None and plan.spec.state == "present" and not (written and not predicted):
        attrs = key_file.fix_attributes()
    token = minted if minted is not None else plan.predicted_token()
    result: Dict[str, Any] = {
        "changed": plan.changed or attrs,
        "token": annotate_token(token, plan.now) if token is not None else None,
        "rotated": plan.rotated,
        "pruned": [d.report() for d in deleted],
        "dest_written": written,
        "msg": _message(plan, key_file, predicted),
    }
    if key is not None:
        result["key"] = key
    if diff:
        result["diff"] = {"before": {"tokens": plan.before()}, "after": {"tokens": plan.after()}}
    return result


def _message(plan: TokenPlan, key_file: Any, predicted: bool) -> str:
    would = "would be " if predicted else ""
    parts = []
    if plan.mint is not None:
        parts.append(_mint_message(plan, would))
        if key_file is not None:
            parts.append(f"its key {would}written to {key_file.path}")
    elif plan.current is not None:
        parts.append(f"Token {plan.current.get('name')!r} is current{_left(plan.current, plan.now)}")
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
    expires = f"expires in {format_duration(mint.seconds_to_live)}" if mint.seconds_to_live \
        else "never expires"
    return f"Token {mint.name!r} {would}created ({expires}) because {why}"


def _left(token: Optional[Dict[str, Any]], now: _dt.datetime) -> str:
    left = seconds_left(token or {}, now)
    return "" if left is None else f", {format_duration(max(0, left))} left"


def _dest_missing_warning(plan: TokenPlan, where: str, status: Optional[str]) -> str:
    old = plan.mint.replaces.get("name") if plan.mint and plan.mint.replaces else "?"
    fate = ("stays valid until it expires (keep_previous: true)" if plan.spec.keep_previous
            else "is deleted (keep_previous: false)")
    if status in ("a symlink", "owned by another user"):
        return (f"{where} is {status}, so it is not trusted to hold the key of token {old!r} "
                "(it may have been planted by someone else). A new token replaces it and its key "
                "is written to a new file of the requested owner that replaces dest (a symlink "
                f"is replaced, never followed); the old token {fate}.")
    return (f"{where} is {status or 'missing'} although token {old!r} is still valid. "
            "Grafana cannot show an existing key again, so a new token replaces it and its new key "
            f"is delivered; the old token {fate}.")


def _account_label(account: Dict[str, Any]) -> str:
    return f"service account {account.get('name')!r} (id {account.get('id')})"
