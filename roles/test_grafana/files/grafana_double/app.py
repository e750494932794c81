"""The application: request in, response out, no sockets (the server module adds those).

Order of work for one request, and why:
1. control API (``/__double__/``) first: never faulted, never logged, no auth;
2. queued faults, before anything Grafana does, since they stand for the network or a proxy;
3. sub-path check, public health routes, authentication, route lookup, guards, handler.
"""

from __future__ import annotations

import sys
import time
import traceback
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union

from . import control, routes
from .auth import Authenticator, AuthResult, error_response, header_value, requested_org
from .clock import Clock, iso
from .context import Ctx, Request
from .faults import Fault, FaultQueue
from .gojson import parse_int64
from .profiles import DEFAULT_VERSION, PROFILES, Profile
from .reqlog import RequestLog, auth_scheme
from .responses import Abort, Response, access_denied, api_error, not_found, with_default_headers
from .secretlog import SecretLog
from .settings import Settings
from .store import Store

CONTROL_PREFIX = "/__double__/"


class Drop:
    """Outcome meaning: close the connection without answering."""


DROP = Drop()
Outcome = Union[Response, Drop]


@dataclass(frozen=True)
class Config:
    """What the command line fixes for the life of the process (``reset`` returns here)."""

    version: str = DEFAULT_VERSION
    admin: Tuple[str, str] = ("admin", "admin")
    sub_path: str = ""
    secrets_file: Optional[str] = None
    basic_auth_enabled: bool = True
    api_key_max_seconds_to_live: int = -1
    token_expiration_day_limit: int = 0

    def initial_settings(self) -> Settings:
        return Settings(
            basic_auth_enabled=self.basic_auth_enabled,
            api_key_max_seconds_to_live=self.api_key_max_seconds_to_live,
            token_expiration_day_limit=self.token_expiration_day_limit,
            version=self.version,
        )


class Double:
    """One Grafana instance: state, settings, clock, faults and the request log."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.clock = Clock()
        self.secrets = SecretLog(config.secrets_file)
        self.settings = config.initial_settings()
        self.store = Store(self.clock.now, config.admin, self.secrets)
        self.log = RequestLog()
        self.faults = FaultQueue()

    @property
    def profile(self) -> Profile:
        return PROFILES[self.settings.version]

    def reset(self) -> None:
        """Initial state; the secrets history is kept on purpose (leaks can happen later)."""
        with self.store.lock:
            self.settings = self.config.initial_settings()
            self.clock.reset()
            self.store.reset()
            self.log.clear()
            self.faults.clear()

    # entry point ------------------------------------------------------------------------

    def handle(self, request: Request) -> Outcome:
        """Answer one request (or drop it)."""
        control_path = self._control_path(request.path)
        if control_path is not None:
            return control.dispatch(self, request, control_path)
        received = self.clock.now()
        fault = self.faults.take(request.method, self._fault_paths(request.path))
        outcome = self._faulted(fault, request) if fault else self.serve(request)
        self._record(request, outcome, received)
        return outcome

    def _control_path(self, path: str) -> Optional[str]:
        for candidate in (path, self._api_path(path)):
            if candidate is not None and candidate.startswith(CONTROL_PREFIX):
                return candidate[len(CONTROL_PREFIX) :]
        return None

    def _api_path(self, path: str) -> Optional[str]:
        """The path below the sub-path, or None when the request is outside it."""
        prefix = self.config.sub_path
        if not prefix:
            return path
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix) :] or "/"
        return None

    def _fault_paths(self, path: str) -> List[str]:
        """Faults match the path as sent and as seen below the sub-path."""
        return [candidate for candidate in (path, self._api_path(path)) if candidate is not None]

    def _faulted(self, fault: Fault, request: Request) -> Outcome:
        if fault.delay:
            time.sleep(fault.delay)  # outside the store lock: other requests proceed
        served = (
            self.serve(request)
            if fault.after_effect or (fault.status is None and not fault.drop)
            else None
        )
        if fault.drop:
            return DROP
        if fault.status is not None:
            return fault.response()
        assert served is not None
        return served

    def _record(self, request: Request, outcome: Outcome, received: float) -> None:
        self.log.record(
            {
                "method": request.method,
                "path": request.raw_path,
                "query": request.query_string,
                "status": outcome.status if isinstance(outcome, Response) else None,
                "auth_scheme": auth_scheme(header_value(request.headers, "Authorization")),
                "org_header": request.headers.get("x-grafana-org-id"),
                "time": iso(received),
            }
        )

    # Grafana ---------------------------------------------------------------------------

    def serve(self, request: Request) -> Response:
        """What Grafana itself answers."""
        api_path = self._api_path(request.path)
        if api_path is None:
            return with_default_headers(not_found())
        with self.store.lock:
            return with_default_headers(self._serve_locked(request, api_path))

    def _serve_locked(self, request: Request, api_path: str) -> Response:
        profile, now = self.profile, self.clock.now()
        route, params = routes.find(request.method, api_path, profile) or (None, {})
        ctx = Ctx(
            request, params, profile, self.store, self.settings, now, None, self.config.sub_path
        )
        if route is not None and route.public:
            return _run(route, ctx)
        auth = self._authenticate(request, profile, now)
        if auth.immediate:
            return error_response(profile, auth.error or "unauthorized")
        if route is None:
            return not_found()
        ctx.identity = auth.identity
        if profile.sa_uid and not _resolve_sa_uid(self.store, route, params, auth):
            return not_found()
        return _guard(profile, route, auth) or _run(route, ctx)

    def _authenticate(self, request: Request, profile: Profile, now: float) -> AuthResult:
        org = requested_org(
            profile, header_value(request.headers, "X-Grafana-Org-Id"), request.first("targetOrgId")
        )
        authenticator = Authenticator(self.store, profile, now, self.settings.basic_auth_enabled)
        return authenticator.authenticate(header_value(request.headers, "Authorization"), org)


def _resolve_sa_uid(
    store: Store, route: routes.Route, params: Dict[str, str], auth: AuthResult
) -> bool:
    """``MiddlewareServiceAccountUIDResolver`` (contract §13 C5, PR #95401, 11.4).

    A group middleware on ``/api/serviceaccounts``: it runs after the context handler has
    authenticated (without writing errors) and before the route's guards. An integer id
    passes; a UID of an SA in the caller's org is replaced by its id; anything else is
    Grafana's 404 ``Not found``, with or without valid credentials [derived].
    """
    raw = params.get("id")
    if raw is None or not route.pattern.startswith("/api/serviceaccounts/:id"):
        return True
    if parse_int64(raw) is not None:
        return True
    org_id = auth.identity.org_id if auth.identity is not None else 0
    account = store.service_account_by_uid(raw, org_id) if org_id else None
    if account is None:
        return False
    params["id"] = str(account.id)
    return True


def _guard(profile: Profile, route: routes.Route, auth: AuthResult) -> Optional[Response]:
    """Sign-in (writer C / JsonApiErr 401), then RBAC (writer D 403)."""
    if auth.identity is None:
        return error_response(profile, auth.error or "unauthorized")
    if route.permission is not None and not route.permission.allows(auth.identity):
        return access_denied(route.permission.describe())
    return None


def _run(route: routes.Route, ctx: Ctx) -> Response:
    """Call the handler; an unexpected exception becomes Grafana's 500, not a dead thread."""
    try:
        return route.handler(ctx)
    except Abort as abort:
        return abort.response
    except Exception:  # noqa: BLE001 - report and keep serving, as a real server would
        traceback.print_exc(file=sys.stderr)
        return api_error(ctx.profile, 500, "Internal Server Error")
