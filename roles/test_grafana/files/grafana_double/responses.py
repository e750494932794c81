"""Responses and Grafana's four error writers (contract §1).

Which writer fires decides the exact bytes: key order, ``traceID``, Content-Type and the
trailing newline. Writers C and D (and ``JsonApiErr``) go through ``web.Context.JSON``,
a ``json.Encoder`` that appends ``\\n`` (hence the observed ``Content-Length: 102`` for the
101-character no-auth body); writers A and B use ``json.Marshal`` without a newline.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Dict, Tuple

from .gojson import marshal, sorted_map
from .profiles import Profile

JSON = "application/json"
JSON_UTF8 = "application/json; charset=UTF-8"
TEXT = "text/plain; charset=utf-8"

# contract §13 C1: ``AddDefaultResponseHeaders`` (pkg/middleware/middleware.go) runs before the
# health handlers and the context handler, so every answer of Grafana's HTTP server carries
# these. Since PR #62021 (January 2023, 9.4) ``addNoCacheHeaders`` sets ``no-store`` and
# deletes Pragma and Expires. Go's Header.Set canonicalises X-XSS-Protection on the wire.
DEFAULT_HEADERS: Tuple[Tuple[str, str], ...] = (
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "deny"),
    ("X-Xss-Protection", "1; mode=block"),
)


@dataclass
class Response:
    """An HTTP answer; the server adds Date and Content-Length."""

    status: int
    body: bytes = b""
    content_type: str = ""
    headers: Tuple[Tuple[str, str], ...] = field(default_factory=tuple)


class Abort(Exception):
    """Raised deep in a handler to answer at once with ``response``."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def with_default_headers(response: Response) -> Response:
    """The response as Grafana's middleware chain sends it (handler headers win)."""
    own = {name.lower() for name, _value in response.headers}
    added = tuple(pair for pair in DEFAULT_HEADERS if pair[0].lower() not in own)
    return Response(
        response.status, response.body, response.content_type, added + tuple(response.headers)
    )


def ok_json(status: int, payload: Any) -> Response:
    """``response.JSON``: ``json.Marshal``, plain ``application/json``."""
    return Response(status, marshal(payload).encode("utf-8"), JSON)


def _encoder_json(status: int, payload: Dict[str, Any]) -> Response:
    """``web.Context.JSON``: encoder output with its newline, charset in the type."""
    return Response(status, (marshal(payload) + "\n").encode("utf-8"), JSON_UTF8)


def api_error(profile: Profile, status: int, message: str, with_err: bool = True) -> Response:
    """Writer A, ``response.Error(status, message, err)``: traceID only when err != nil.

    ``NormalResponse.WriteTo`` re-marshals a body that carries an error with ``traceID``
    added (PR #46411, 9.0), so every profile has it. ``profile`` is kept for the callers.
    """
    data: Dict[str, Any] = {"message": message}
    if with_err:
        data["traceID"] = ""
    return ok_json(status, sorted_map(data))


def public_error(profile: Profile, status: int, message_id: str, message: str) -> Response:
    """Writer B, ``response.Err`` with an ``errutil.Error``.

    The body is re-marshalled as a map to add traceID, so keys come out sorted; 9.5 does the
    same (contract §13 C2 gives its duplicate-token body in this form; PR #46411, 9.0).
    """
    data = {"message": message, "messageId": message_id, "statusCode": status, "traceID": ""}
    return ok_json(status, sorted_map(data))


def auth_error(message_id: str, message: str, status: int = 401) -> Response:
    """Writer C for an ``errutil.Error``: ``extra`` is explicitly null."""
    payload = {
        "extra": None,
        "message": message,
        "messageId": message_id,
        "statusCode": status,
        "traceID": "",
    }
    return _encoder_json(status, payload)


def auth_fallback(status: int = 401) -> Response:
    """Writer C when the auth error is not an ``errutil.Error``."""
    return _encoder_json(status, {"message": "Unauthorized", "traceID": ""})


def access_denied(evaluator: str) -> Response:
    """Writer D, the RBAC 403 with a random ``ACE`` id."""
    message = (
        "You'll need additional permissions to perform this action. "
        f"Permissions needed: {evaluator}"
    )
    access_error_id = "ACE" + "".join(secrets.choice("0123456789") for _position in range(10))
    payload = {"accessErrorId": access_error_id, "message": message, "title": "Access denied"}
    return _encoder_json(403, payload)


def json_api_err(status: int, message: str) -> Response:
    """``ReqContext.JsonApiErr(status, message, nil)``: 9.x auth bodies and the API 404."""
    return _encoder_json(status, {"message": message})


def not_found() -> Response:
    """The generic 404 for an unknown API route (``NotFoundHandler``)."""
    return json_api_err(404, "Not found")


def plain(status: int, text: str) -> Response:
    """``response.Respond`` with a string: Go sniffs ``text/plain; charset=utf-8``."""
    return Response(status, text.encode("utf-8"), TEXT)


def success(message: str) -> Response:
    """``response.Success``: 200 ``{"message": …}``."""
    return ok_json(200, {"message": message})
