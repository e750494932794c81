"""Identities, the role-to-permission table and permission evaluators (contract §7).

Only the actions the modelled routes check are listed; the table mirrors Grafana's basic
roles (``fixed:organization:reader`` for Viewer, dashboard writers for Editor, the
service-account and API-key roles for Admin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Optional

from .store import ApiKey, User

_VIEWER = frozenset({"orgs:read", "dashboards:read"})
_EDITOR = _VIEWER | {"dashboards:create", "dashboards:write"}
_ADMIN = _EDITOR | {
    "orgs:write",
    "serviceaccounts:read",
    "serviceaccounts:create",
    "serviceaccounts:write",
    "serviceaccounts:delete",
    "apikeys:read",
    "apikeys:create",
    "apikeys:delete",
}
ROLE_ACTIONS = {"None": frozenset(), "Viewer": _VIEWER, "Editor": _EDITOR, "Admin": _ADMIN}
# Granted by the "Grafana Admin" (server admin) flag, whatever the org role.
SERVER_ADMIN_ACTIONS = frozenset({"orgs:create", "orgs:read:all"})


@dataclass
class Identity:
    """Who a request acts as, and in which org with which role."""

    kind: str  # "user" | "service-account" | "api-key"
    org_id: int
    role: str
    user: Optional[User] = None
    key: Optional[ApiKey] = None

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    def actions(self) -> FrozenSet[str]:
        """Everything this identity may do in its org."""
        granted = ROLE_ACTIONS.get(self.role, frozenset())
        if self.user is not None:
            granted = granted | self.user.extra_actions
            if self.is_user and self.user.is_server_admin:
                granted = granted | SERVER_ADMIN_ACTIONS
        return granted


class Evaluator:
    """A route's permission requirement and the text Grafana prints when it is not met."""

    def allows(self, identity: Identity) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class Perm(Evaluator):
    """One action (``ac.EvalPermission``); printed as the bare action name."""

    def __init__(self, action: str, shown_as: str = "") -> None:
        self.action = action
        self.shown_as = shown_as or action

    def allows(self, identity: Identity) -> bool:
        return self.action in identity.actions()

    def describe(self) -> str:
        return self.shown_as


class AnyOf(Evaluator):
    """``ac.EvalAny``: printed as ``any of a, b``."""

    def __init__(self, *actions: str) -> None:
        self.actions = actions

    def allows(self, identity: Identity) -> bool:
        return bool(identity.actions().intersection(self.actions))

    def describe(self) -> str:
        return "any of " + ", ".join(self.actions)
