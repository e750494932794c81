# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``service_account`` module: ensure one account, read once, compare, write the minimum.

:func:`run` is the module's logic.  :class:`ServiceAccountManager` is also used by
``service_accounts`` (which lists an org once and hands each account in as ``current``, so
reconciling N accounts costs one search, not N).

Request budget per account: create = search + POST; unchanged = search; update = search +
PATCH; delete = search + DELETE; delete when absent = search.  A create that fails without
a clear answer (5xx, timeout, dropped connection) is never retried blindly: the account is
re-read by name and adopted when it exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple, Union

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import GrafanaClient
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaAPIError,
    GrafanaConnectionError,
    GrafanaError,
    GrafanaInputError,
    rewrap,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._sa_api import (
    SA_PATH,
    create_account,
    delete_account,
    find_service_account,
    grafana_version,
    update_account,
)

ROLES = ("None", "Viewer", "Editor", "Admin")
COMPARED_FIELDS = ("name", "role", "isDisabled")
DEFAULT_ROLE = "Viewer"
_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)")


class _Lookup:
    """Sentinel: ``current`` was not given, so the manager searches for it."""


LOOKUP = _Lookup()


@dataclass(frozen=True)
class AccountSpec:
    """What the user asked for; ``None`` for ``role``/``disabled`` means "leave alone"."""

    name: str
    state: str = "present"
    role: Optional[str] = None
    disabled: Optional[bool] = None

    @classmethod
    def from_params(cls, params: Dict[str, Any]) -> "AccountSpec":
        """Validate options before any request: empty name and unknown roles are errors."""
        name = params.get("name")
        if not isinstance(name, str) or not name.strip():
            raise GrafanaInputError("name must be a non-empty service account name.")
        state = params.get("state") or "present"
        if state not in ("present", "absent"):
            raise GrafanaInputError(f"state must be present or absent, got {state!r}.")
        return cls(
            name=name,
            state=state,
            role=canonical_role(params.get("role")),
            disabled=params.get("disabled"),
        )


@dataclass
class Outcome:
    """The result of :meth:`ServiceAccountManager.ensure`.

    ``action`` is one of ``created``, ``adopted`` (a create that failed ambiguously but had
    happened), ``updated``, ``unchanged``, ``deleted``, ``absent``.
    """

    changed: bool
    action: str
    account: Dict[str, Any] = field(default_factory=dict)
    before: Dict[str, Any] = field(default_factory=dict)
    after: Dict[str, Any] = field(default_factory=dict)

    def diff(self) -> Dict[str, Dict[str, Any]]:
        return {"before": self.before, "after": self.after}


# ------------------------------------------------------------------ the module
def run(module: Any, clients: Any) -> Dict[str, Any]:
    """The ``service_account`` module: ensure the account, report it (and a diff)."""
    client = clients.connection()
    spec = AccountSpec.from_params(module.params)
    outcome = ServiceAccountManager(client, module.check_mode).ensure(spec)
    result: Dict[str, Any] = {"changed": outcome.changed, "service_account": outcome.account}
    if module._diff:
        result["diff"] = outcome.diff()
    return result


# ------------------------------------------------------------------ pure logic
def canonical_role(role: Optional[str]) -> Optional[str]:
    """``viewer`` -> ``Viewer``: Grafana's role check is case-sensitive, users are not."""
    if role is None:
        return None
    for known in ROLES:
        if known.lower() == str(role).strip().lower():
            return known
    raise GrafanaInputError(
        f"role {role!r} is not a Grafana role; use one of {', '.join(ROLES)} (any case)."
    )


def compared(account: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """Only the fields the module manages, for diffs (``{}`` when there is no account)."""
    if not account:
        return {}
    return {key: account.get(key) for key in COMPARED_FIELDS}


def changes_for(current: Dict[str, Any], spec: AccountSpec) -> Dict[str, Any]:
    """The managed fields whose value differs from what ``spec`` asks for."""
    changes: Dict[str, Any] = {}
    if spec.role is not None and current.get("role") != spec.role:
        changes["role"] = spec.role
    if spec.disabled is not None and bool(current.get("isDisabled")) != spec.disabled:
        changes["isDisabled"] = spec.disabled
    return changes


def create_body(spec: AccountSpec) -> Dict[str, Any]:
    """Body of ``POST /api/serviceaccounts``; without a role Grafana applies Viewer."""
    body: Dict[str, Any] = {"name": spec.name, "isDisabled": bool(spec.disabled)}
    if spec.role is not None:
        body["role"] = spec.role
    return body


def patch_body(current: Dict[str, Any], changes: Dict[str, Any]) -> Dict[str, Any]:
    """The FULL object for ``PATCH`` (Grafana applies any subset; the full one is explicit)."""
    body: Dict[str, Any] = {
        "name": current.get("name"),
        "isDisabled": bool(current.get("isDisabled")),
    }
    if current.get("role") is not None:
        body["role"] = current["role"]
    body.update(changes)
    return body


def generate_login(org_id: int, name: str) -> str:
    """Grafana's ``GenerateLogin``: ``sa-<org>-<lower(name)>``, first ``--`` -> ``-``, spaces -> ``-``."""
    login = f"sa-{org_id}-{name.lower()}".replace("--", "-", 1)
    return login.replace(" ", "-")


def predicted_account(spec: AccountSpec, org_id: Optional[int]) -> Dict[str, Any]:
    """The new account as far as it can be known without creating it (check mode).

    No ``login``: its form depends on the Grafana version (``sa-<name>`` on 9.x,
    ``sa-<orgId>-<name>`` since 10.4, contract §13 C3), which check mode does not ask for.
    """
    account: Dict[str, Any] = {"name": spec.name}
    if org_id:
        account.update(orgId=org_id)
    account.update(isDisabled=bool(spec.disabled), role=spec.role or DEFAULT_ROLE, tokens=0)
    return account


def merge_update(current: Dict[str, Any], sent: Dict[str, Any], body: Any) -> Dict[str, Any]:
    """``current`` with the managed fields as Grafana reports them after the PATCH.

    The PATCH answer wraps a profile object of another shape (``serviceaccount``); the
    module keeps returning the search/create shape, with the values Grafana confirmed.
    """
    profile = body.get("serviceaccount") if isinstance(body, dict) else None
    confirmed = profile if isinstance(profile, dict) else {}
    result = dict(current)
    for key in COMPARED_FIELDS:
        if key in sent:
            result[key] = confirmed.get(key, sent[key])
    return result


def major_version(version: Any) -> Optional[int]:
    match = _VERSION.match(str(version or ""))
    return int(match.group(1)) if match else None


def is_already_exists(err: GrafanaAPIError) -> bool:
    """400 ``serviceaccounts.ErrAlreadyExists`` (10.x+) or the 9.x ``Failed to create``."""
    if err.status not in (400, 409):
        return False
    text = (err.message or "").lower()
    return (
        err.message_id == "serviceaccounts.ErrAlreadyExists"
        or "already exists" in text
        or text.startswith("failed to create service account")
    )


def is_ambiguous(err: GrafanaError) -> bool:
    """Grafana may have created the account although the request failed."""
    if isinstance(err, GrafanaConnectionError):
        return err.kind != "tls"
    return isinstance(err, GrafanaAPIError) and (err.status or 0) >= 500


def is_invalid_role(err: GrafanaAPIError) -> bool:
    return err.status == 400 and (
        err.message_id == "serviceaccounts.ErrInvalidRoleSpecified"
        or "invalid role" in (err.message or "").lower()
    )


def is_role_forbidden(err: GrafanaAPIError) -> bool:
    return err.status == 403 and (
        err.message_id == "serviceaccounts.ErrRoleForbidden"
        or "higher than user" in (err.message or "").lower()
    )


# ------------------------------------------------------------------ errors
def explain_write_error(
    client: GrafanaClient, err: GrafanaAPIError, role: Optional[str]
) -> GrafanaError:
    """Turn the two role refusals into errors that say what to do; others pass through."""
    if role == "None" and is_invalid_role(err):
        version = grafana_version(client)
        major = major_version(version)
        if major is not None and major < 10:
            return rewrap(
                err,
                f"role None needs Grafana 10.x or later; this Grafana is {version}, which only "
                "knows Viewer, Editor and Admin. Use role Viewer (the lowest role it has) or "
                "upgrade Grafana.",
            )
    if is_role_forbidden(err):
        return rewrap(
            err,
            f"Grafana refused to give the service account role {role or '(unchanged)'}: "
            '"can not assign a role higher than user\'s role". The credential running this '
            "task has a lower org role than that; use an org Admin (or the server admin), or "
            "ask for a lower role.",
        )
    return err


def login_conflict_error(err: GrafanaAPIError, spec: AccountSpec) -> GrafanaError:
    """400 "already exists" but no account of that exact name: another login collides."""
    return rewrap(
        err,
        f"Grafana says a service account or user with the login derived from {spec.name!r} "
        "already exists, but no service account has exactly that name in this org. Logins are "
        "the name lower-cased with spaces turned into dashes, so names that differ only in "
        "case or space-versus-dash collide (as does a user with that login). Pick another "
        "name, or manage the existing account by its exact name.",
    )


# ------------------------------------------------------------------ manager
class ServiceAccountManager:
    """Ensure service accounts through one client (check mode sends no write)."""

    def __init__(self, client: GrafanaClient, check_mode: bool = False) -> None:
        self.client = client
        self.check_mode = check_mode

    def ensure(
        self, spec: AccountSpec, current: Union[Optional[Dict[str, Any]], _Lookup] = LOOKUP
    ) -> Outcome:
        """Bring the account named ``spec.name`` to ``spec``; ``current`` skips the search."""
        if isinstance(current, _Lookup):
            current = find_service_account(self.client, spec.name)
        if spec.state == "absent":
            return self._absent(current)
        if current is None:
            return self._create(spec)
        return self._converge(current, spec, before=compared(current))

    # ---------------------------------------------------------------- absent
    def _absent(self, current: Optional[Dict[str, Any]]) -> Outcome:
        if current is None:
            return Outcome(changed=False, action="absent")
        if not self.check_mode:
            delete_account(self.client, current["id"])
        return Outcome(changed=True, action="deleted", before=compared(current))

    # ---------------------------------------------------------------- present
    def _converge(
        self,
        current: Dict[str, Any],
        spec: AccountSpec,
        before: Dict[str, Any],
        action: str = "updated",
        created: bool = False,
    ) -> Outcome:
        """Patch ``current`` when it differs from ``spec``; report against ``before``."""
        changes = changes_for(current, spec)
        account = self._patch(current, changes, spec) if changes else current
        changed = created or bool(changes)
        done = action if changed else "unchanged"
        return Outcome(
            changed=changed, action=done, account=account, before=before, after=compared(account)
        )

    def _patch(
        self, current: Dict[str, Any], changes: Dict[str, Any], spec: AccountSpec
    ) -> Dict[str, Any]:
        body = patch_body(current, changes)
        if self.check_mode:
            return {**current, **changes}
        try:
            answer = update_account(self.client, current["id"], body)
        except GrafanaAPIError as err:
            raise explain_write_error(self.client, err, spec.role) from None
        return merge_update(current, body, answer)

    def _create(self, spec: AccountSpec) -> Outcome:
        if self.check_mode:
            predicted = predicted_account(spec, self.client.org_id)
            return Outcome(
                changed=True, action="created", account=predicted, after=compared(predicted)
            )
        how, account = self._post(spec)
        if how == "raced":  # another run created it first: it existed, compare as usual
            return self._converge(account, spec, before=compared(account))
        # an adopted account, or a server that ignored a create field, is corrected here
        return self._converge(account, spec, before={}, action=how, created=True)

    def _post(self, spec: AccountSpec) -> Tuple[str, Dict[str, Any]]:
        """Create the account: ``(created|adopted|raced, account)``."""
        try:
            body = create_account(self.client, create_body(spec))
        except GrafanaAPIError as err:
            if is_already_exists(err):
                return "raced", self._reread(spec, err, conflict=True)
            if is_ambiguous(err):
                return "adopted", self._reread(spec, err)
            raise explain_write_error(self.client, err, spec.role) from None
        except GrafanaConnectionError as err:
            if not is_ambiguous(err):
                raise
            return "adopted", self._reread(spec, err)
        if not isinstance(body, dict) or "id" not in body:  # 8.x answered {"id", "message"}
            return "created", self._reread(spec, None)
        return "created", body

    def _reread(
        self, spec: AccountSpec, err: Optional[GrafanaError], conflict: bool = False
    ) -> Dict[str, Any]:
        """The account after a failed create, or the original error when it is not there."""
        try:
            found = find_service_account(self.client, spec.name)
        except GrafanaError:
            if err is None:
                raise
            raise err from None
        if found is not None:
            return found
        if err is None:
            raise GrafanaAPIError(
                f"Grafana accepted the creation of {spec.name!r} but the "
                "account cannot be found afterwards.",
                method="POST",
                path=SA_PATH,
            )
        if conflict and isinstance(err, GrafanaAPIError):
            raise login_conflict_error(err, spec) from None
        raise err
