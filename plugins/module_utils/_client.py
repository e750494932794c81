# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP client every module uses.

One ``requests`` session per module run (keep-alive), the base URL joined with any
sub-path, the ``Authorization`` header built here and nowhere else, ``X-Grafana-Org-Id`` per
request, TLS options, timeouts, and retries: idempotent requests are retried on connection
errors, 429 and 5xx with a capped backoff that honours ``Retry-After``; a POST is only retried
on 429 (Grafana did not process it), never blindly.  Unexpected statuses raise
:class:`GrafanaAPIError` carrying Grafana's ``message``/``messageId``, never a credential.

Trust rules (each one closes a way for something other than the task's options to decide what
is sent or believed):

* The credential comes only from the options.  It is applied through requests' ``auth=`` hook
  on every request, also on requests sent without one, so requests never falls back to
  ``~/.netrc`` / ``NETRC`` (it does whenever a request has no ``auth``) nor to a
  ``user:password@`` in the URL; URLs with userinfo are refused outright.  The environment
  still supplies ``HTTP(S)_PROXY`` / ``NO_PROXY``; ``ca_path`` wins over ``REQUESTS_CA_BUNDLE``.
* A URL carries no query string or fragment (``?orgId=2`` copied from a browser would be
  dropped silently and act on another org): refused, naming the option.
* A response used as Grafana data must be Grafana's JSON of the expected shape (``shape=``);
  an SSO login page, a captive portal or another service's JSON is an error naming what
  answered, never "empty" or "absent".
* Text that came from outside (bodies, exception text) is scrubbed of every form of the
  credential the client sent (raw, Basic base64, ``api_key:`` pair, URL-quoted).
"""

from __future__ import annotations

import base64
import datetime as _dt
import importlib
import ipaddress
import json
import re
import time
import traceback
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaAPIError,
    GrafanaConnectionError,
    GrafanaInputError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_format import (
    redact,
    scrub,
    secret_forms,
)


def optional_import(name: str) -> Tuple[Any, Optional[str]]:
    """``(module, None)``, or ``(None, traceback)`` for ``missing_required_lib`` when absent."""
    try:
        return importlib.import_module(name), None
    except ImportError:  # pragma: no cover - exercised through missing_required_lib
        return None, traceback.format_exc()


requests, REQUESTS_IMPORT_ERROR = optional_import("requests")
rexc = requests.exceptions if requests is not None else None
AuthBase = optional_import("requests.auth")[0].AuthBase if requests is not None else object

USER_AGENT = "grafana_ops.auth/0.1.0"
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"))
SNIPPET_LEN = 300
_DEFAULT = object()
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")


class KeepHeaders(AuthBase):  # type: ignore[misc,valid-type]
    """requests' ``auth=`` hook that changes nothing: the headers the client built stand.

    requests substitutes credentials from ``~/.netrc`` / ``NETRC`` or from URL userinfo only
    for a request whose ``auth`` is empty (``Session.prepare_request``), overwriting the
    ``Authorization`` header.  Every request carries this hook, with or without a credential,
    so the ``Authorization`` sent is always the one ``_headers`` built from the options.
    """

    def __call__(self, request: Any) -> Any:
        return request


KEEP_HEADERS = KeepHeaders()


class Response:
    """A decoded HTTP response: status, headers, parsed JSON body (or ``None``) and text."""

    def __init__(
        self,
        method: str,
        path: str,
        url: str,
        status: int,
        headers: Mapping[str, str],
        text: str,
        elapsed_ms: float,
    ) -> None:
        self.method = method
        self.path = path
        self.url = url
        self.status = status
        self.headers = headers
        self.text = text
        self.elapsed_ms = elapsed_ms
        self.retry_after_refused: Optional[float] = None
        self.body = _parse_json(text, headers.get("Content-Type", ""))

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def message(self) -> Optional[str]:
        """Grafana's ``message`` field, when the body is a JSON object that has one."""
        return self.body.get("message") if isinstance(self.body, dict) else None

    @property
    def message_id(self) -> Optional[str]:
        return self.body.get("messageId") if isinstance(self.body, dict) else None

    def describe_body(self) -> str:
        """A short, human description of the body for error messages."""
        if isinstance(self.body, dict) and self.message:
            mid = f" ({self.message_id})" if self.message_id else ""
            return f"{self.message}{mid}"
        if self.is_html:
            return f"an HTML page ({html_summary(self.text)!r}), not Grafana's JSON API"
        text = " ".join(self.text.split())
        return repr(text[:SNIPPET_LEN]) if text else "an empty body"

    @property
    def is_html(self) -> bool:
        return "html" in self.content_type.lower() or self.text.lstrip()[:1] == "<"

    def describe_answer(self) -> str:
        """What answered, for a response that is not the Grafana JSON the caller expected."""
        if self.is_html:
            title = html_summary(self.text)
            return f"an HTML page titled {title!r}" if title else "an HTML page"
        if self.body is not None:
            kind = type(self.body).__name__.replace("dict", "object").replace("list", "array")
            return f"JSON of another shape (a {kind}: {_snippet(json.dumps(self.body))!r})"
        text = " ".join(self.text.split())
        content_type = self.content_type or "no Content-Type"
        return f"a non-JSON body ({content_type}: {text[:80]!r})" if text else "an empty body"


class GrafanaClient:
    """HTTP client for one Grafana base URL (which may include a sub-path)."""

    def __init__(
        self,
        url: str,
        *,
        token: Optional[str] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        org_id: Optional[int] = None,
        validate_certs: bool = True,
        ca_path: Optional[str] = None,
        client_cert: Optional[str] = None,
        client_key: Optional[str] = None,
        timeout: float = 30,
        url_option: str = "url",
        retries: int = 3,
        max_retry_wait: float = 30.0,
        backoff_base: float = 0.5,
        session: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if requests is None:
            raise GrafanaInputError("the Python library 'requests' is required")
        self.base_url = normalise_url(url, option=url_option)
        self.token = clean_token(token) if token is not None else None
        self.username = username
        self.password = password
        self.org_id = org_id
        self.timeout = timeout
        self.retries = max(0, retries)
        self.max_retry_wait = max_retry_wait
        self.backoff_base = backoff_base
        self.warnings: List[str] = []
        self.request_count = 0
        self._sleep = sleep
        self._server_date: Optional[Tuple[_dt.datetime, float]] = None
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.verify = ca_path if (ca_path and validate_certs) else bool(validate_certs)
        if client_cert:
            self.session.cert = (client_cert, client_key) if client_key else client_cert
        self._warn_plain_http()

    # ----------------------------------------------------------------- public API
    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return self.request("POST", path, body=body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return self.request("PATCH", path, body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        return self.request("DELETE", path, **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        expected: Optional[Iterable[int]] = (200,),
        headers: Optional[Mapping[str, str]] = None,
        auth: bool = True,
        org_id: Any = _DEFAULT,
        shape: Optional[type] = None,
    ) -> Response:
        """Send one logical request (with retries) and return its :class:`Response`.

        ``expected=None`` returns any status; otherwise a status outside ``expected``
        raises :class:`GrafanaAPIError`.  ``auth=False`` sends no credential (the caller
        may pass a raw ``Authorization`` in ``headers``).  ``shape`` (``dict`` or ``list``)
        demands that an expected answer is Grafana's JSON of that type (a list of objects for
        ``list``): anything else raises :class:`GrafanaAPIError` naming what answered.
        """
        method = method.upper()
        idempotent = method in IDEMPOTENT_METHODS
        send_headers = self._headers(headers, auth, self.org_id if org_id is _DEFAULT else org_id)
        attempt = 0
        while True:
            try:
                response = self._send(method, path, body, params, send_headers)
            except GrafanaConnectionError as err:
                # A read timeout is not retried: the server is slow, not gone, and the user's
                # timeout must bound the task (a retry would multiply it).
                if not idempotent or err.kind in ("tls", "timeout") or attempt >= self.retries:
                    raise
                self._sleep(self._backoff(attempt))
                attempt += 1
                continue
            wait = self._retry_wait(response, idempotent, attempt)
            if wait is None:
                break
            self._sleep(wait)
            attempt += 1
        if expected is not None and response.status not in tuple(expected):
            raise self.error_for(response, attempts=attempt + 1)
        if shape is not None and not _has_shape(response.body, shape):
            raise self.not_grafana(response)
        return response

    def now(self) -> _dt.datetime:
        """The Grafana server's clock (from its last ``Date`` header), timezone-aware UTC.

        Rotation decisions use this so that a skewed client clock cannot rotate early or
        late.  Before any response was seen it falls back to the local clock.
        """
        if self._server_date is None:
            return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
        server, seen_at = self._server_date
        return server + _dt.timedelta(seconds=int(time.monotonic() - seen_at))

    def error_for(self, response: Response, attempts: int = 1) -> GrafanaAPIError:
        """Build the error for an unexpected response (never includes a credential)."""
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        msg = (
            f"{response.method} {response.path} failed with HTTP {response.status}{tried} from "
            f"{safe_url(self.base_url)}: {self.scrub(response.describe_body())}."
        )
        if response.retry_after_refused is not None:
            msg += (
                f" Grafana asked to retry after {response.retry_after_refused:g} s (Retry-After), "
                f"longer than the {self.max_retry_wait:g} s the module waits at most: try "
                "again later."
            )
        return GrafanaAPIError(
            msg,
            method=response.method,
            path=response.path,
            status=response.status,
            message=response.message,
            message_id=response.message_id,
            hint=status_hint(response),
        )

    def not_grafana(self, response: Response) -> GrafanaAPIError:
        """The error for an expected status whose body is not the Grafana JSON asked for."""
        msg = (
            f"{response.method} {safe_url(response.url)}: {self.scrub(response.describe_answer())} "
            f"answered (HTTP {response.status}) instead of Grafana's API; nothing was changed "
            "on the strength of it."
        )
        return GrafanaAPIError(
            msg,
            method=response.method,
            path=response.path,
            status=response.status,
            hint="Something in front of Grafana (an SSO login page, a captive portal, a proxy or "
            "another service) answered for it: check url (host, port, sub-path) and that "
            "the proxy passes /api/ to Grafana unchanged.",
        )

    def scrub(self, text: str) -> str:
        """Replace every form of the credential this client sends with its redacted form."""
        return scrub(text, secret_forms(self.token, self.username, self.password))

    # ---------------------------------------------------------------- internals
    def _authorization(self) -> Optional[str]:
        """The ``Authorization`` value for this client's credential (token wins over Basic)."""
        if self.token:
            return f"Bearer {self.token}"
        if self.username is not None:
            pair = f"{self.username}:{self.password or ''}".encode("utf-8")
            return "Basic " + base64.b64encode(pair).decode("ascii")
        return None

    def _headers(
        self, extra: Optional[Mapping[str, str]], auth: bool, org_id: Any
    ) -> Dict[str, str]:
        headers = {"Accept": "application/json"}
        credential = self._authorization() if auth else None
        if credential:
            headers["Authorization"] = credential
        if org_id not in (None, ""):
            headers["X-Grafana-Org-Id"] = str(org_id)
        headers.update(extra or {})
        return headers

    def _send(
        self, method: str, path: str, body: Any, params: Any, headers: Dict[str, str]
    ) -> Response:
        url = self.base_url + path
        # verify per request: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment
        # override session.verify (psf/requests#3829), which silently dropped ca_path.
        kwargs: Dict[str, Any] = {
            "headers": headers,
            "params": params,
            "timeout": self.timeout,
            "allow_redirects": False,
            "verify": self.session.verify,
            "auth": KEEP_HEADERS,
        }
        if body is not None:
            kwargs["json"] = body
        started = time.monotonic()
        self.request_count += 1
        try:
            raw = self.session.request(method, url, **kwargs)
        except Exception as exc:  # requests raises many types; translate them all here
            raise self._connection_error(method, path, exc, url) from None
        elapsed = (time.monotonic() - started) * 1000.0
        self._remember_date(raw.headers.get("Date"))
        return Response(method, path, url, raw.status_code, raw.headers, raw.text, elapsed)

    def _retry_wait(self, response: Response, idempotent: bool, attempt: int) -> Optional[float]:
        """Seconds to wait before retrying ``response``, or ``None`` to stop retrying."""
        retryable = response.status == 429 or (idempotent and response.status >= 500)
        if not retryable or attempt >= self.retries:
            return None
        asked = retry_after_seconds(response.headers.get("Retry-After"), self.now())
        if asked is not None and asked > self.max_retry_wait:
            response.retry_after_refused = asked
            return None
        return asked if asked is not None else self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        return min(self.max_retry_wait, self.backoff_base * (2**attempt))

    def _remember_date(self, value: Optional[str]) -> None:
        if not value:
            return
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=_dt.timezone.utc)
        self._server_date = (parsed.astimezone(_dt.timezone.utc), time.monotonic())

    def _connection_error(
        self, method: str, path: str, exc: Exception, url: str
    ) -> GrafanaConnectionError:
        where = f"{method} {safe_url(url)}"
        if rexc is not None and isinstance(exc, rexc.SSLError):
            return GrafanaConnectionError(
                f"{where}: TLS handshake failed ({_reason(exc)}).",
                kind="tls",
                method=method,
                path=path,
                hint="Set ca_path to the CA bundle that signed Grafana's certificate (or fix the "
                "certificate); validate_certs=false disables verification and is not recommended.",
            )
        if rexc is not None and isinstance(exc, rexc.Timeout):
            return GrafanaConnectionError(
                f"{where}: no response within {self.timeout:g} s (timeout).",
                kind="timeout",
                method=method,
                path=path,
                hint="Check that Grafana (or the proxy in front of it) is up and reachable; raise "
                "timeout if it is only slow.",
            )
        return GrafanaConnectionError(
            f"{where}: could not get a response ({_reason(exc)}).",
            kind="connection",
            method=method,
            path=path,
            hint="Check url (scheme, host, port, sub-path) and that Grafana is running and reachable "
            "from the host that runs this task.",
        )

    def _warn_plain_http(self) -> None:
        warning = plain_http_warning(self.base_url) if (self.token or self.password) else None
        if warning:
            self.warnings.append(warning)


# -------------------------------------------------------------------- helpers
def normalise_url(url: str, option: str = "url") -> str:
    """Validate ``url`` and return it without a trailing slash (sub-path kept).

    Refused: anything but an absolute http(s) URL, ``user:password@`` (it would replace the
    credential the task gives), and a query string or fragment (dropped silently, it would act
    on another org than ``?orgId=`` says).  ``option`` names the option in the message.
    """
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise GrafanaInputError(
            f"{option} {safe_url(text)!r} is not a valid URL (check the host and the port)."
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GrafanaInputError(
            f"{option} {safe_url(text)!r} is not an absolute http(s) URL. Give the scheme and host, "
            "for example http://localhost:3000 or https://grafana.example.com/grafana."
        )
    if "@" in parts.netloc:
        raise GrafanaInputError(
            f"{option} {safe_url(text)!r} carries a user name or password ('user:password@'): "
            "credentials in a URL would silently replace the one the task gives. Remove them "
            "from the URL and pass url_username/url_password (or token) instead."
        )
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise GrafanaInputError(
            f"{option} {safe_url(text)!r} has a query string or fragment ('?...' / '#...'), which "
            "the module would not send: give the base URL only (scheme, host, port, sub-path) and "
            "choose the organization with org_id, not ?orgId=."
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def clean_token(token: str) -> str:
    """Strip surrounding whitespace (a classic copy/paste and file-read cause of 401s).

    Whitespace inside a token, or a pasted ``Bearer `` prefix, can never work: say so.
    """
    stripped = token.strip()
    if stripped.lower().startswith("bearer "):
        raise GrafanaInputError(
            "token starts with 'Bearer ': pass the bare key (glsa_...); the module builds the "
            "Authorization header itself."
        )
    if not stripped or any(ch.isspace() for ch in stripped):
        raise GrafanaInputError(
            f"token {redact(stripped)} is empty or contains whitespace inside it; a Grafana token "
            "is one word (glsa_...). Check how it is read from its file or variable."
        )
    return stripped


def safe_url(url: str) -> str:
    """``url`` without any ``user:password@`` part and without query string or fragment.

    Also for text that is not a URL (no ``scheme://host``): everything up to its last ``@`` is
    dropped, so a malformed URL is never echoed with its password.
    """
    parts = urlsplit(url)
    if parts.netloc:
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return re.split(r"[?#]", url, maxsplit=1)[0].rsplit("@", 1)[-1]


def plain_http_warning(
    url: str, sent: str = "Credentials are sent", them: str = "them", fix: str = "an https:// url"
) -> Optional[str]:
    """The warning for a credential sent over plain HTTP to a host that is not loopback."""
    parts = urlsplit(url)
    if parts.scheme != "http" or is_loopback(parts.hostname):
        return None
    return f"{sent} over plain HTTP to {parts.hostname}; anyone on the path can read {them}. Use {fix}."


def is_loopback(host: Optional[str]) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def retry_after_seconds(value: Optional[str], now: _dt.datetime) -> Optional[float]:
    """Parse ``Retry-After`` (delta seconds or HTTP date); ``None`` when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def status_hint(response: Response) -> Optional[str]:
    """What to do about a failed response, keyed on status first, then messageId."""
    status = response.status
    if status == 404 and (response.body is None or response.message == "Not found"):
        return (
            f"Nothing serves {safe_url(response.url)}: the url's "
            "sub-path probably does not match where Grafana is served (Grafana's root_url / "
            "serve_from_sub_path, or the proxy's location). Open <url>/api/health to check."
        )
    if response.is_html:
        return (
            "Something other than Grafana answered (a proxy, load balancer or web server "
            "error page): check url, the proxy's upstream and whether Grafana is running."
        )
    if status == 401:
        return (
            "Grafana rejected the credential. Run grafana_ops.auth.diagnose with the same "
            "url and credential to find out why."
        )
    if status == 403:
        return (
            "The credential is valid but its role lacks the permission named above; managing "
            "service accounts needs an org Admin (or a server admin) identity."
        )
    if status == 429:
        return (
            "Grafana (or a proxy in front of it) is rate limiting these requests; run fewer "
            "tasks at once (forks, throttle) or try again later."
        )
    if status in (502, 503, 504):
        return (
            "Grafana, or the proxy or load balancer in front of it, is unavailable or "
            "overloaded; check that Grafana is up and try again later."
        )
    if status >= 500:
        return "Grafana reported an internal error; its server log has the details."
    return None


def html_summary(text: str) -> str:
    """The ``<title>`` of an HTML page, or its text without tags, shortened."""
    match = _TITLE.search(text)
    found = match.group(1) if match else _TAGS.sub(" ", text)
    return " ".join(found.split())[:120]


def _has_shape(body: Any, shape: type) -> bool:
    if not isinstance(body, shape):
        return False
    return shape is not list or all(isinstance(item, dict) for item in body)


def _snippet(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _parse_json(text: str, content_type: str) -> Any:
    if not text or ("json" not in content_type.lower() and text.lstrip()[:1] not in ("{", "[")):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _reason(exc: Exception) -> str:
    """The innermost readable reason of a ``requests``/``urllib3`` exception."""
    text = str(exc)
    match = _ERRNO.search(text)
    if match:
        return match.group(1).strip()
    # urllib3 says "RemoteDisconnected"; urllib3-future (pulled in by niquests) says "Remote end
    # closed connection without response": both are a server that hung up.
    for marker in (
        "RemoteDisconnected",
        "Remote end closed connection",
        "Connection aborted",
        "certificate verify failed",
        "CERTIFICATE_VERIFY_FAILED",
        "hostname mismatch",
        "WRONG_VERSION_NUMBER",
    ):
        if marker in text:
            return {
                "RemoteDisconnected": "the server closed the connection without a response",
                "Remote end closed connection": "the server closed the connection without a response",
                "Connection aborted": "the connection was closed without a response",
                "CERTIFICATE_VERIFY_FAILED": "certificate verify failed",
            }.get(marker, marker)
    return type(exc).__name__
