"""The control API under ``/__double__/`` (tests only; a real Grafana 404s there).

No authentication, never logged in the request log, never faulted. Bodies are plain JSON;
errors are ``{"error": "..."}`` with 400 (bad input) or 404 (unknown endpoint or object).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Dict, Tuple

from .clock import iso, parse_iso
from .context import Request
from .faults import parse_fault
from .profiles import ALL_ROLES
from .responses import JSON, Response
from .routes import match_segments, split_path
from .store import Conflict

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .app import Double

ControlHandler = Callable[["Double", Request, Dict[str, str]], Response]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json(payload: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(payload).encode("utf-8"), JSON)


def _body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"{}")
    except ValueError as exc:
        raise ControlError(400, f"invalid JSON: {exc}") from None


def _object(request: Request) -> Dict[str, Any]:
    body = _body(request)
    if not isinstance(body, dict):
        raise ControlError(400, "expected a JSON object")
    return body


def _int(body: Dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ControlError(400, f"{key} must be an integer")
    return value


# clock -------------------------------------------------------------------------------------


def get_clock(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    return _json({"now": iso(double.clock.now())})


def set_clock(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    """``{"now": iso8601}`` jumps, ``{"advance": seconds}`` moves; both may be given."""
    body = _object(request)
    if "now" in body:
        try:
            double.clock.set(parse_iso(str(body["now"])))
        except ValueError as exc:
            raise ControlError(400, f"now: {exc}") from None
    advance = body.get("advance", 0)
    if not isinstance(advance, (int, float)) or isinstance(advance, bool):
        raise ControlError(400, "advance must be a number of seconds")
    double.clock.advance(advance)
    return get_clock(double, request, params)


# request log, faults, settings, secrets, reset ---------------------------------------------


def get_requests(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    return _json(double.log.entries())


def clear_requests(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    double.log.clear()
    return _json([])


def get_faults(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    return _json(double.faults.describe())


def add_faults(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    """One fault object or a list; all validated before any is queued."""
    body = _body(request)
    specs = body if isinstance(body, list) else [body]
    try:
        double.faults.add([parse_fault(spec) for spec in specs])
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
    return _json(double.faults.describe())


def clear_faults(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    double.faults.clear()
    return _json([])


def get_settings(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    return _json(double.settings.as_dict())


def update_settings(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    with double.store.lock:
        try:
            double.settings.update(_object(request))
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
    return get_settings(double, request, params)


def get_secrets(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    return _json(double.secrets.snapshot())


def reset(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    double.reset()
    return get_settings(double, request, params)


# seeding helpers ---------------------------------------------------------------------------


def revoke_token(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    """Set ``is_revoked`` on any key, as Grafana's secret scanning does."""
    with double.store.lock:
        key = double.store.keys.get(int(params["id"])) if params["id"].isdigit() else None
        if key is None:
            raise ControlError(404, f"no token with id {params['id']}")
        key.is_revoked = True
        return _json({"id": key.id, "isRevoked": True})


def _role(body: Dict[str, Any], default: str) -> str:
    role = body.get("role", default)
    if role not in ALL_ROLES:
        raise ControlError(400, f"role must be one of {', '.join(ALL_ROLES)}")
    return role


def _org(double: "Double", body: Dict[str, Any]) -> int:
    org_id = _int(body, "org_id", 1)
    if org_id not in double.store.orgs:
        raise ControlError(400, f"no org with id {org_id}")
    return org_id


def _text(body: Dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ControlError(400, f"{key} is required")
    return value


def seed_legacy_key(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    """Create a plain legacy API key on any profile (e.g. to watch 12.x reject it)."""
    body = _object(request)
    with double.store.lock:
        try:
            key, plaintext = double.store.add_legacy_key(
                _org(double, body),
                _text(body, "name"),
                _role(body, "Admin"),
                _int(body, "seconds_to_live", 0),
            )
        except Conflict:
            raise ControlError(400, "a key with this name exists in the org") from None
    return _json({"id": key.id, "key": plaintext})


def seed_user(double: "Double", request: Request, params: Dict[str, str]) -> Response:
    """Create a basic-auth user; ``permissions`` models a custom RBAC role (extra actions)."""
    body = _object(request)
    extra = body.get("permissions", [])
    if not isinstance(extra, list) or not all(isinstance(action, str) for action in extra):
        raise ControlError(400, "permissions must be a list of action names")
    with double.store.lock:
        try:
            user = double.store.add_user(
                _text(body, "login"),
                _text(body, "password"),
                _org(double, body),
                _role(body, "Viewer"),
                server_admin=bool(body.get("server_admin", False)),
                email=str(body.get("email", "")),
                extra_actions=extra,
            )
        except Conflict:
            raise ControlError(400, "login or email already taken") from None
    double.secrets.add_password(body["password"])
    return _json({"id": user.id, "login": user.login})


CONTROL_ROUTES: Tuple[Tuple[str, str, ControlHandler], ...] = (
    ("GET", "clock", get_clock),
    ("POST", "clock", set_clock),
    ("GET", "requests", get_requests),
    ("DELETE", "requests", clear_requests),
    ("GET", "faults", get_faults),
    ("POST", "faults", add_faults),
    ("DELETE", "faults", clear_faults),
    ("GET", "settings", get_settings),
    ("POST", "settings", update_settings),
    ("GET", "secrets", get_secrets),
    ("POST", "reset", reset),
    ("POST", "tokens/:id/revoke", revoke_token),
    ("POST", "legacy_keys", seed_legacy_key),
    ("POST", "users", seed_user),
)


def dispatch(double: "Double", request: Request, path: str) -> Response:
    """Route a control request (``path`` is below ``/__double__/``)."""
    segments = split_path("/" + path)
    for method, pattern, handler in CONTROL_ROUTES:
        params = match_segments(tuple(pattern.split("/")), segments)
        if params is not None and method == request.method:
            try:
                return handler(double, request, params)
            except ControlError as error:
                return _json({"error": str(error)}, error.status)
    return _json({"error": f"unknown control endpoint {request.method} /__double__/{path}"}, 404)
