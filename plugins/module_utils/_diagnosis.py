# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why does Grafana answer 401?  Pure rules: observations in, causes and a verdict out.

Nothing here sends a request.  :func:`lint_token`, :func:`lint_header` and
:func:`describe_credential` look at the credential offline; :func:`classify` reads the
observations the probes recorded (one dict per request, see ``_diagnose.py``) and returns the
causes, the verdict, the direct-versus-proxy parity table and who Grafana says the credential
is.  Rules key on the HTTP status first, then Grafana's ``messageId``, then its ``message``:
the bodies changed between 9.x, 10.x/11.x and 12.x, the statuses did not.

The verdict is the category of the most fundamental cause, in the order a request travels:
``connectivity`` (nothing answers, TLS) before ``proxy`` (the proxy changes the request)
before ``authentication`` (Grafana rejects the credential, 401) before ``authorization``
(Grafana knows who it is but refuses this endpoint: 403, 404/410).

One rule cannot be bypassed (:func:`classify` enforces it after every other rule ran): the
verdict is ``ok`` only when the direct probes prove an authenticated identity (Grafana's own
JSON, 2xx, the identity read back from ``/api/user``) **and** every proxy answered every probe
with the same status as its direct twin (and with Grafana's JSON where Grafana answered
directly).  Anything else names a cause; an answer no specific rule explains gets a catch-all
(``unexpected_response`` directly, ``proxy_answers_itself`` / ``proxy_status_mismatch``
through a proxy), never silence.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ansible_collections.grafana_ops.auth.plugins.module_utils._causes import (
    CAUSE_ORDER,
    CAUSE_VERDICT,
    VERDICT_ORDER,
    cause,
    remedy,
    text,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_format import (
    is_glsa,
    legacy_key_name,
    redact,
)

PROBES = ("health", "endpoint", "user", "org")
USERS_ONLY = "endpoint only available for users"
_PERMISSIONS = re.compile(r"Permissions needed:\s*(.+?)\s*$", re.S)
_WHITESPACE_NAMES = {
    "\n": "a newline",
    "\r": "a carriage return",
    "\t": "a tab",
    " ": "a space",
    "\ufeff": "a byte-order mark",
    "\xa0": "a non-breaking space",
}


# ----------------------------------------------------------------------------- offline lint
def _finding(code: str, message: str) -> Dict[str, str]:
    return {"code": code, "message": message}


def _is_space(char: str) -> bool:
    return char.isspace() or char == "\ufeff"


def _whitespace_finding(raw: str, source: str) -> Optional[Dict[str, str]]:
    """``token_whitespace`` when ``raw`` has whitespace (or a BOM) around or inside it."""
    stripped = raw.strip().lstrip("\ufeff").strip()
    where = []
    if raw[:1] and _is_space(raw[0]):
        where.append(f"starts with {_WHITESPACE_NAMES.get(raw[0], 'whitespace')}")
    if raw[-1:] and _is_space(raw[-1]):
        where.append(f"ends with {_WHITESPACE_NAMES.get(raw[-1], 'whitespace')}")
    if any(_is_space(ch) for ch in stripped):
        where.append("has whitespace inside it")
    if not where:
        return None
    return _finding(
        "token_whitespace",
        (
            f"The {source} {' and '.join(where)}; a tool that sends it as read gets 401. "
            "Write token files without a trailing newline (printf '%s', not echo) and strip values read "
            "from files or variables."
        ),
    )


def token_format(token: str) -> str:
    """``glsa`` (checksum validates), ``glsa_bad`` (glsa_ prefix, bad form), ``legacy`` or ``other``."""
    if is_glsa(token):
        return "glsa"
    if token.startswith("gl"):
        return "glsa_bad"
    if legacy_key_name(token) is not None:
        return "legacy"
    return "other"


def lint_token(raw: str, source: str = "token") -> List[Dict[str, str]]:
    """Offline findings for a bare token value exactly as it was read."""
    findings = []
    token = raw.strip().lstrip("\ufeff").strip()
    prefixed = token.startswith(("Bearer ", "bearer "))
    spaced = _whitespace_finding(raw.replace(token[:7], "", 1) if prefixed else raw, source)
    if spaced:
        findings.append(spaced)
    if prefixed:
        findings.append(
            _finding(
                "malformed_header",
                (
                    f"The {source} starts with '{token[:7]}': give the bare key; the header is "
                    "'Authorization: Bearer <key>'."
                ),
            )
        )
        token = token[7:].strip()
    findings.extend(_format_findings(token, source))
    return findings


def _format_findings(token: str, source: str) -> List[Dict[str, str]]:
    kind = token_format(token)
    if kind == "glsa_bad":
        return [
            _finding(
                "token_malformed",
                (
                    f"The {source} {redact(token)} starts like a service-account token but is not one: a "
                    "glsa_ token is 'glsa_' + 32 letters/digits + '_' + an 8-digit hex checksum, and this "
                    "one's form or checksum does not validate (truncated or mistyped)."
                ),
            )
        ]
    if kind == "legacy":
        return [
            _finding(
                "legacy_api_key",
                (
                    f"The {source} is a legacy API key (named {legacy_key_name(token)!r}), not a "
                    "service-account token. Grafana 12 no longer accepts them; 11.3+ cannot create them."
                ),
            )
        ]
    if kind == "other" and token:
        return [
            _finding(
                "token_malformed",
                (
                    f"The {source} {redact(token)} is neither a service-account token (glsa_...) nor a "
                    "legacy API key; Grafana will reject it as an invalid API key."
                ),
            )
        ]
    return []


def lint_header(raw: str) -> List[Dict[str, str]]:
    """Offline findings for a raw ``Authorization`` header value, as the user's tool sends it."""
    value = raw.strip("\r\n")
    findings = []
    if value != raw or "\n" in value or "\r" in value:
        findings.append(
            _finding(
                "token_whitespace",
                (
                    "The authorization_header contains a line break; HTTP clients refuse to send it or "
                    "cut the header there. Strip the value you read from a file."
                ),
            )
        )
        value = value.replace("\r", "").replace("\n", "")
    if value.lower().startswith("authorization:"):
        findings.append(
            _finding(
                "malformed_header",
                (
                    "The authorization_header value starts with 'Authorization:': give only the value, "
                    "for example 'Bearer glsa_...'."
                ),
            )
        )
        value = value.split(":", 1)[1].strip()
    scheme, _sep, rest = value.partition(" ")
    if scheme == "Basic":
        return findings + _lint_basic_header(rest)
    if scheme.lower() == "bearer" and scheme != "Bearer":
        findings.append(
            _finding(
                "malformed_header",
                (
                    f"The scheme is written '{scheme}'; Grafana only recognises 'Bearer' with a capital B "
                    "and ignores the header otherwise (401 Unauthorized)."
                ),
            )
        )
    elif scheme != "Bearer":
        findings.append(
            _finding(
                "malformed_header",
                (
                    "The header has no 'Bearer ' scheme; Grafana ignores it and answers 401 "
                    "Unauthorized. Send 'Authorization: Bearer <token>'."
                ),
            )
        )
        return findings + _format_findings(value.strip(), "token in the header")
    if rest[:1].isspace():
        findings.append(
            _finding(
                "malformed_header",
                (
                    "There is more than one space after 'Bearer'; Grafana takes everything after "
                    "'Bearer ' as the token, so the extra space makes it invalid. Use exactly one space."
                ),
            )
        )
    return findings + _format_findings(rest.strip(), "token in the header")


def _lint_basic_header(rest: str) -> List[Dict[str, str]]:
    try:
        decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        decoded = ""
    if ":" not in decoded:
        return [
            _finding(
                "malformed_header",
                (
                    "The 'Basic' header does not carry base64 of 'user:password'; Grafana cannot decode it."
                ),
            )
        ]
    return []


def header_token(raw: str) -> Optional[str]:
    """The token a raw header carries (after ``Bearer``, or the Basic ``api_key`` password)."""
    value = raw.replace("\r", "").replace("\n", "").strip()
    if value.lower().startswith("authorization:"):
        value = value.split(":", 1)[1].strip()
    scheme, _sep, rest = value.partition(" ")
    if scheme == "Basic":
        user, password = _basic_pair(rest)
        return password if user == "api_key" else None
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return value or None


def _basic_pair(b64: str) -> Tuple[Optional[str], Optional[str]]:
    try:
        user, _sep, password = (
            base64.b64decode(b64.strip(), validate=True).decode("utf-8").partition(":")
        )
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None, None
    return user, password


def describe_credential(
    kind: str,
    *,
    token: Optional[str] = None,
    username: Optional[str] = None,
    password: Optional[str] = None,
    header: Optional[str] = None,
    source: Optional[str] = None,
    lint: Iterable[Dict[str, str]] = (),
) -> Dict[str, Any]:
    """Facts about the credential under test that the rules need (never the secret itself).

    ``kind`` is ``token``, ``header``, ``basic`` or ``none``.
    """
    if kind == "header" and header is not None:
        token = header_token(header)
        scheme = header.strip().partition(" ")[0]
        if scheme == "Basic":
            username, password = _basic_pair(header.strip().partition(" ")[2])
    secret = (token or "").strip() or None
    if kind == "basic" and username == "api_key":
        secret = password
    fmt = token_format(secret) if secret else None
    codes = [f["code"] for f in lint]
    return {
        "kind": kind,
        "source": source or kind,
        "scheme": _scheme(kind, header),
        "token_format": fmt,
        "legacy_name": legacy_key_name(secret) if fmt == "legacy" else None,
        "redacted": redact(secret) if secret else (f"user {username!r}" if username else "(none)"),
        "username": username,
        "password_is_token": bool(password)
        and token_format(password.strip()) in ("glsa", "legacy"),
        "header_malformed": "malformed_header" in codes,
        "whitespace": "token_whitespace" in codes,
    }


def _scheme(kind: str, header: Optional[str]) -> Optional[str]:
    if kind == "token":
        return "bearer"
    if kind == "basic":
        return "basic"
    if kind == "header" and header:
        scheme = header.strip().partition(" ")[0]
        return {"Bearer": "bearer", "Basic": "basic"}.get(scheme, "other")
    return None


# ----------------------------------------------------------------------------- observations
def is_grafana_json(obs: Optional[Dict[str, Any]]) -> bool:
    """Did Grafana (not a proxy or web server) write this body?  Its errors are JSON with ``message``."""
    return (
        bool(obs)
        and obs.get("body") == "json"
        and bool(obs.get("message") or obs.get("message_id"))
    )


def _ok(obs: Optional[Dict[str, Any]]) -> bool:
    return bool(obs) and obs.get("status") is not None and 200 <= obs["status"] < 300


def _status_text(obs: Dict[str, Any]) -> str:
    if obs.get("error"):
        return f"no response ({obs['error']})"
    said = obs.get("message_id") or obs.get("message")
    text = f"HTTP {obs['status']}"
    if obs.get("message") and obs.get("message_id"):
        text += f" {obs['message']!r} (messageId {obs['message_id']})"
    elif said:
        text += f" {said!r}"
    if obs.get("www_authenticate"):
        text += f", WWW-Authenticate: {obs['www_authenticate']}"
    if obs.get("location"):
        text += f", Location: {obs['location']}"
    if obs.get("body") in ("html", "text") and not is_grafana_json(obs):
        text += f" ({obs['body']} body, not Grafana's JSON)"
    return text


def evidence_line(obs: Dict[str, Any]) -> str:
    """``GET <url> (probe) -> HTTP 401 'Expired API key' (messageId api-key.expired)``."""
    return f"GET {obs['url']} ({obs['target']} {obs['probe']} probe) -> {_status_text(obs)}"


Table = Dict[str, Dict[str, Any]]


def index_observations(observations: Iterable[Dict[str, Any]]) -> Tuple[Table, Dict[str, Table]]:
    """``(direct[probe], proxies[base_url][probe])``; the first observation per probe wins."""
    direct: Dict[str, Dict[str, Any]] = {}
    proxies: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for obs in observations:
        table = (
            direct
            if obs.get("target") == "direct"
            else proxies.setdefault(obs.get("base_url", ""), {})
        )
        table.setdefault(obs["probe"], obs)
    return direct, proxies


# ----------------------------------------------------------------------------- causes
def _unreachable_cause(obs: Dict[str, Any], proxy: bool) -> Dict[str, Any]:
    ev = [evidence_line(obs)]
    fields = dict(
        base_url=obs.get("base_url"),
        error=obs.get("error"),
        status=obs.get("status"),
        probe=obs.get("probe"),
    )
    if obs.get("error_kind") == "tls":
        where = (
            f"the proxy at {obs.get('base_url')}" if proxy else f"Grafana at {obs.get('base_url')}"
        )
        return cause("tls_error", ev, where=where)
    if proxy:
        return cause("proxy_unreachable", ev, "error" if obs.get("error") else "gateway", **fields)
    return cause("grafana_unreachable", ev, _grafana_unreachable_variant(obs), **fields)


def _grafana_unreachable_variant(obs: Dict[str, Any]) -> str:
    if obs.get("error"):
        return "error"
    return "failing" if obs.get("status", 0) >= 500 else "not_api"


def _direct_unreachable(obs: Optional[Dict[str, Any]]) -> bool:
    if not obs:
        return False
    if obs.get("error"):
        return True
    status = obs["status"]
    if obs["probe"] == "health":
        return status >= 500 or (status != 200 and not is_grafana_json(obs)) or status == 404
    return status >= 500 and not _server_error_is_auth(obs)


def _server_error_is_auth(obs: Dict[str, Any]) -> bool:
    """9.x answered some credential failures with 500 (before PR #62205)."""
    return (obs.get("message") or "") in (
        "Invalid API key",
        "Unable to link API key to service account",
    )


def direct_causes(
    direct: Dict[str, Dict[str, Any]],
    cred: Dict[str, Any],
    org_id: Optional[int],
    admin: Optional[Dict[str, Any]],
) -> List[Dict[str, Any]]:
    """Causes seen when talking to Grafana directly."""
    for probe in ("health", "endpoint"):
        if _direct_unreachable(direct.get(probe)):
            return [_unreachable_cause(direct[probe], proxy=False)]
    endpoint = direct.get("endpoint")
    if not endpoint:
        return []
    status = endpoint["status"]
    if 200 <= status < 300:
        if endpoint.get("body") != "json" and status != 204:
            return [unexpected_response(endpoint, "the endpoint probe")]
        return _authenticated_causes(direct, cred, org_id)
    if status == 304:
        return [forbidden_cause(endpoint)]
    if 300 <= status < 400:
        return [_endpoint_removed(endpoint)]
    if not is_grafana_json(endpoint):
        return [unexpected_response(endpoint, "the endpoint probe")]
    if status == 401 or (status == 500 and _server_error_is_auth(endpoint)):
        return [credential_cause(endpoint, cred, admin)]
    if status == 400 and (endpoint.get("message_id") or "").startswith("password-auth."):
        return [credential_cause(endpoint, cred, admin)]
    if status == 403:
        return [forbidden_cause(endpoint)]
    if status in (404, 410):
        return [_endpoint_removed(endpoint)]
    return [unexpected_response(endpoint, "the endpoint probe")]


def _authenticated_causes(
    direct: Dict[str, Dict[str, Any]], cred: Dict[str, Any], org_id: Optional[int]
) -> List[Dict[str, Any]]:
    user = direct.get("user")
    if not _identity_read_back(user, direct.get("org")):
        return [unexpected_response(user or direct["endpoint"], "the identity probe (/api/user)")]
    org = direct.get("org")
    if org is not None and not _org_acceptable(org):
        return [unexpected_response(org, "the org probe (/api/org)")]
    found = ((org or {}).get("data") or {}).get("id")
    if org_id is not None and _ok(org) and found is not None and _int(found) != _int(org_id):
        return [
            cause(
                "org_mismatch",
                [evidence_line(org)],
                "header_ignored",
                "header_ignored",
                found=found,
                org_id=org_id,
            )
        ]
    return []


def _identity_read_back(
    user: Optional[Dict[str, Any]], org: Optional[Dict[str, Any]] = None
) -> bool:
    """``/api/user`` proved who the credential is: Grafana's JSON profile, or 10.x/11.x's
    'Endpoint only available for users' 403 (which only an authenticated service account gets),
    or - for a legacy API key on 9.x, which has no user behind it - Grafana's 404 'User not found'
    next to its own org read back from ``/api/org``."""
    if not user or user.get("status") is None:
        return False
    data = user.get("data")
    if _ok(user):
        return (
            user.get("body") == "json"
            and isinstance(data, dict)
            and bool(data.get("login") or data.get("uid") or data.get("id") is not None)
        )
    message = (user.get("message") or "").lower()
    if user["status"] == 404 and is_grafana_json(user) and message == "user not found":
        return (
            bool(org)
            and _ok(org)
            and org.get("body") == "json"
            and isinstance(org.get("data"), dict)
            and "id" in org["data"]
        )
    return user["status"] == 403 and is_grafana_json(user) and message == USERS_ONLY


def _org_acceptable(org: Dict[str, Any]) -> bool:
    """``/api/org`` answered as Grafana does for an authenticated identity (its org, or a Grafana 403)."""
    if _ok(org):
        return (
            org.get("body") == "json" and isinstance(org.get("data"), dict) and "id" in org["data"]
        )
    return org.get("status") == 403 and is_grafana_json(org)


def identity_proven(direct: Dict[str, Dict[str, Any]]) -> bool:
    """The first half of the ``ok`` rule: Grafana's JSON proved an authenticated identity directly."""
    endpoint = direct.get("endpoint") or {}
    if not _ok(endpoint) or (endpoint.get("body") != "json" and endpoint.get("status") != 204):
        return False
    org = direct.get("org")
    return _identity_read_back(direct.get("user"), org) and (org is None or _org_acceptable(org))


def describe_answer(obs: Dict[str, Any]) -> str:
    """What answered, in words: ``an HTML page titled 'Sign in'``, ``JSON that is not Grafana's``."""
    if obs.get("error"):
        return f"no response ({obs['error']})"
    kind = obs.get("body")
    said = obs.get("message")
    if kind == "html":
        return f"an HTML page titled {said!r}" if said else "an HTML page"
    if kind == "text":
        return f"a text body {said!r}" if said else "a text body"
    if kind == "empty":
        return "an empty body"
    if is_grafana_json(obs):
        return f"Grafana-style JSON {said!r}" if said else "Grafana-style JSON"
    if kind == "json" and _ok(obs) and isinstance(obs.get("data"), dict):
        return "a JSON object"
    if kind == "json" and not isinstance(obs.get("data"), dict):
        return f"JSON of another shape (a {type(obs.get('data')).__name__}, not Grafana's object)"
    return "JSON that is not Grafana's (no 'message')"


def unexpected_response(obs: Dict[str, Any], what: str) -> Dict[str, Any]:
    """Catch-all for a direct answer that is neither success nor a failure the rules know."""
    status = obs.get("status")
    success = status is not None and 200 <= status < 300
    hints = []
    if status in (400, 413, 431) and obs.get("body") != "json":
        hints.append(remedy("unexpected_response", "hint_size"))
    if obs.get("body") in ("html", "text", "empty") or (
        obs.get("body") == "json" and not is_grafana_json(obs) and not _ok(obs)
    ):
        hints.append(remedy("unexpected_response", "hint_other", base_url=obs.get("base_url")))
    return cause(
        "unexpected_response",
        [evidence_line(obs)],
        "success" if success else "",
        "hints" if hints else "",
        what=what,
        status=status,
        answer=describe_answer(obs),
        hints="; ".join(hints),
    )


def _endpoint_removed(obs: Dict[str, Any]) -> Dict[str, Any]:
    variant = "redirect" if 300 <= obs["status"] < 400 else ""
    return cause(
        "endpoint_removed", [evidence_line(obs)], variant, url=obs["url"], status=obs["status"]
    )


def forbidden_cause(obs: Dict[str, Any]) -> Dict[str, Any]:
    """403 (and the newest 304 quirk): authenticated, but not allowed."""
    message = obs.get("message") or ""
    if message.lower() == USERS_ONLY or obs["status"] == 304:
        return cause("endpoint_requires_user", [evidence_line(obs)], url=obs["url"])
    needed = _PERMISSIONS.search(message)
    permission = needed.group(1) if needed else None
    return cause(
        "insufficient_role",
        [evidence_line(obs)],
        "permission" if permission else "",
        permission=permission,
        said=message or "Forbidden",
        needed=permission or "what the endpoint needs",
    )


def credential_cause(
    obs: Dict[str, Any], cred: Dict[str, Any], admin: Optional[Dict[str, Any]]
) -> Dict[str, Any]:
    """Which authentication cause a Grafana 401 (or 9.x 500) stands for."""
    mid = obs.get("message_id") or ""
    msg = (obs.get("message") or "").strip().lower()
    ev = [evidence_line(obs)]
    if mid == "api-key.expired" or msg == "expired api key":
        return _expired(ev, admin)
    if mid == "api-key.revoked" or msg in ("revoked api key", "revoked token"):
        return _revoked(ev, admin)
    if (
        mid == "api-key.organization-mismatch"
        or "does not belong to the requested organization" in msg
    ):
        return _org_mismatch(ev, admin)
    if mid == "identity.disabled" or msg == "service account is disabled":
        return _disabled(ev, admin)
    if mid.startswith("password-auth.") or msg == "invalid username or password":
        return _basic_invalid(ev, cred)
    if msg == "invalid basic auth header":
        return _malformed(ev)
    if msg == "unable to link api key to service account":
        return cause("service_account_deleted", ev, "unlinked")
    if mid == "api-key.invalid" or msg == "invalid api key":
        return _invalid_family(ev, cred, admin)
    return _unauthorized(ev, cred, admin, mid)


def _unauthorized(
    ev: List[str], cred: Dict[str, Any], admin: Optional[Dict[str, Any]], mid: str
) -> Dict[str, Any]:
    """``auth.unauthorized`` (no credential Grafana could use) or the 10.x/11.x body-less fallback."""
    if cred["kind"] == "none":
        return cause("missing_credentials", ev)
    if cred["header_malformed"]:
        return _malformed(ev)
    if cred["scheme"] == "basic" and cred.get("username") != "api_key":
        return cause("basic_auth_disabled", ev)
    if cred["scheme"] == "other":
        return _malformed(ev)
    if mid == "auth.unauthorized" and cred["whitespace"]:
        return _whitespace_cause(ev, trimmed_works=False)
    return _invalid_family(ev, cred, admin)


def _malformed(ev: List[str]) -> Dict[str, Any]:
    return cause("malformed_header", ev)


def _invalid_family(
    ev: List[str], cred: Dict[str, Any], admin: Optional[Dict[str, Any]]
) -> Dict[str, Any]:
    """``api-key.invalid``: a malformed header, a legacy or broken key, or an unknown glsa token."""
    if cred["header_malformed"]:
        return _malformed(ev)
    fmt = cred.get("token_format")
    if fmt == "legacy":
        return cause("legacy_api_key", ev, legacy_name=cred.get("legacy_name"))
    if fmt in ("glsa_bad", "other"):
        return cause("token_malformed", ev, redacted=cred["redacted"])
    return refine_invalid(ev, cred, admin)


def refine_invalid(
    ev: List[str], cred: Dict[str, Any], admin: Optional[Dict[str, Any]]
) -> Dict[str, Any]:
    """A well-formed token Grafana does not know: deleted token, deleted account, or never issued.

    Grafana has no API that maps a key to its account; only the ``service_account`` and
    ``token_name`` hints plus admin credentials can tell the three apart.
    """
    if not admin or admin.get("error") or not admin.get("service_account_hint"):
        failed = bool(admin and admin.get("error"))
        why = text(
            "token_invalid",
            "why_failed" if failed else "why_hints",
            error=(admin or {}).get("error"),
        )
        return cause("token_invalid", ev, "unknown", redacted=cred["redacted"], why=why)
    name = admin["service_account_hint"]
    account = admin.get("service_account")
    if account is None:
        return cause(
            "service_account_deleted",
            ev + [f"account lookup: no service account named {name!r}"],
            "lookup",
            name=name,
            org=admin.get("org_id") or "of the admin",
        )
    tokens = admin.get("tokens") or []
    names = ", ".join(repr(t.get("name")) for t in tokens) or "none"
    token_name = admin.get("token_name_hint")
    ev = ev + [f"account lookup: account {name!r} (id {account.get('id')}) has tokens: {names}"]
    if token_name and admin.get("token") is None:
        return cause("token_deleted", ev, name=name, token_name=token_name)
    return cause(
        "token_invalid",
        ev,
        "rotated" if token_name else "no_name",
        name=name,
        token_name=token_name,
    )


def _admin_token_note(admin: Optional[Dict[str, Any]]) -> List[str]:
    token = (admin or {}).get("token")
    if not token:
        return []
    return [
        f"account lookup: token {token.get('name')!r} expiration {token.get('expiration') or 'never'}, "
        f"revoked {bool(token.get('isRevoked'))}, last used {token.get('lastUsedAt') or 'never'}"
    ]


def _expired(ev: List[str], admin: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    return cause("token_expired", ev + _admin_token_note(admin))


def _revoked(ev: List[str], admin: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    return cause("token_revoked", ev + _admin_token_note(admin))


def _org_mismatch(ev: List[str], admin: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    home = (admin or {}).get("token_org_id")
    where = f" (it belongs to org {home})" if home else ""
    return cause("org_mismatch", ev, where=where)


def _disabled(ev: List[str], admin: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    account = (admin or {}).get("service_account")
    extra = (
        [
            f"account lookup: account {account.get('name')!r} (id {account.get('id')}) isDisabled "
            f"{account.get('isDisabled')}"
        ]
        if account
        else []
    )
    return cause("service_account_disabled", ev + extra)


def _basic_invalid(ev: List[str], cred: Dict[str, Any]) -> Dict[str, Any]:
    fix = "password_is_token" if cred.get("password_is_token") else ""
    return cause("basic_credentials_invalid", ev, "", fix, redacted=cred["redacted"])


def _whitespace_cause(ev: List[str], trimmed_works: bool) -> Dict[str, Any]:
    return cause("token_whitespace", ev, "trimmed_works" if trimmed_works else "")


# ----------------------------------------------------------------------------- proxies
def proxy_causes(
    base: str,
    proxied: Dict[str, Dict[str, Any]],
    direct: Dict[str, Dict[str, Any]],
    cred: Dict[str, Any],
) -> List[Dict[str, Any]]:
    """Causes for one proxy base URL, comparing each probe with the direct one.

    A probe whose answer differs from its direct twin and that no specific rule explains gets
    the catch-all (``proxy_answers_itself`` for a non-Grafana answer, else
    ``proxy_status_mismatch``), so a disagreeing proxy can never go unnamed.
    """
    found: List[Dict[str, Any]] = []
    for probe in PROBES:
        obs = proxied.get(probe)
        twin = direct.get(probe)
        if not obs:
            if twin and twin.get("status") is not None and proxied and not found:
                found.append(_proxy_catch_all(base, None, twin))
            continue
        if _proxy_unreachable(obs, twin):
            return [_unreachable_cause(obs, proxy=True)]
        specific = _proxy_probe_causes(obs, twin, cred, base)
        if not specific and not twins_agree(obs, twin):
            specific = [_proxy_catch_all(base, obs, twin)]
        found.extend(specific)
    return _merge(found)


def twins_agree(proxied: Optional[Dict[str, Any]], direct: Optional[Dict[str, Any]]) -> bool:
    """Same status, and Grafana's JSON through the proxy wherever Grafana answered JSON directly."""
    pstatus = (proxied or {}).get("status")
    dstatus = (direct or {}).get("status")
    if pstatus != dstatus:
        return False
    if proxied is None or direct is None:
        return proxied is direct
    if (direct.get("body") == "json") != (proxied.get("body") == "json"):
        return False
    return direct.get("body") != "json" or (
        type(direct.get("data")) is type(proxied.get("data"))
        and is_grafana_json(direct) == is_grafana_json(proxied)
    )


def _proxy_unreachable(obs: Dict[str, Any], direct: Optional[Dict[str, Any]] = None) -> bool:
    """No answer, or a gateway error the proxy made itself (502/503/504 that is not Grafana's)."""
    if obs.get("error"):
        return True
    status = obs["status"]
    if (direct or {}).get("status") == status and twins_agree(obs, direct):
        return False
    return status in (502, 504) or (status == 503 and not is_grafana_json(obs))


_LOGIN_WORDS = (
    "login",
    "signin",
    "sign-in",
    "sign_in",
    "sso",
    "oauth",
    "auth",
    "saml",
    "openid",
    "cas/",
)


def _login_redirect(obs: Dict[str, Any]) -> bool:
    location = (obs.get("location") or "").lower()
    return 300 <= (obs.get("status") or 0) < 400 and any(word in location for word in _LOGIN_WORDS)


def _proxy_probe_causes(
    obs: Dict[str, Any], direct: Optional[Dict[str, Any]], cred: Dict[str, Any], base: str
) -> List[Dict[str, Any]]:
    status = obs["status"]
    dstatus = (direct or {}).get("status")
    ev = [evidence_line(obs)] + ([evidence_line(direct)] if direct else [])
    if (
        status == 401
        and not is_grafana_json(obs)
        and (obs.get("www_authenticate") or "").split(" ")[0].lower() in ("basic", "digest")
    ):
        return [
            cause(
                "proxy_basic_auth_intercepts",
                ev,
                base=base,
                www_authenticate=obs["www_authenticate"],
            )
        ]
    if _login_redirect(obs) and dstatus != status:
        return [_answers_itself(base, obs, direct, ev)]
    if (status == 404 or 300 <= status < 400) and dstatus != status:
        return [
            cause(
                "proxy_path_mismatch",
                ev,
                base=base,
                probe=obs["probe"],
                status=status,
                direct_status=dstatus,
            )
        ]
    if status == 401 and is_grafana_json(obs) and cred["kind"] != "none" and _stripped(obs, direct):
        return [cause("proxy_strips_authorization", ev, base=base)]
    return []


def _proxy_catch_all(
    base: str, obs: Optional[Dict[str, Any]], direct: Optional[Dict[str, Any]]
) -> Dict[str, Any]:
    ev = ([evidence_line(obs)] if obs else []) + ([evidence_line(direct)] if direct else [])
    if obs is None:
        return cause(
            "proxy_status_mismatch",
            ev,
            "unanswered",
            "unanswered",
            base=base,
            probe=(direct or {}).get("probe"),
        )
    grafana = is_grafana_json(obs) or (
        obs.get("body") == "json" and _ok(obs) and isinstance(obs.get("data"), dict)
    )
    if not grafana:
        return _answers_itself(base, obs, direct, ev)
    return cause(
        "proxy_status_mismatch",
        ev,
        "status",
        "status",
        base=base,
        probe=obs["probe"],
        status=obs["status"],
        direct_status=(direct or {}).get("status"),
    )


def _answers_itself(
    base: str, obs: Dict[str, Any], direct: Optional[Dict[str, Any]], ev: List[str]
) -> Dict[str, Any]:
    """The proxy (or something beside it) answered with its own page instead of passing the request on."""
    status = obs["status"]
    return cause(
        "proxy_answers_itself",
        ev,
        *(_answers_itself_variant(obs),) * 2,
        base=base,
        location=obs.get("location"),
        status=status,
        answer=describe_answer(obs),
        direct_status=(direct or {}).get("status"),
    )


def _answers_itself_variant(obs: Dict[str, Any]) -> str:
    status = obs["status"]
    if _login_redirect(obs):
        return "login"
    if status in (400, 413, 431, 414):
        return "limit"
    if status in (401, 403, 405, 407):
        return "access"
    return "page" if status is not None and 200 <= status < 300 else "other"


def _stripped(obs: Dict[str, Any], direct: Optional[Dict[str, Any]]) -> bool:
    """Grafana's own 401 through the proxy while the same credential directly fares better or differently."""
    if not direct or direct.get("status") is None:
        return False
    if _ok(direct):
        return True
    no_credential = obs.get("message_id") == "auth.unauthorized" or (
        not obs.get("message_id") and (obs.get("message") or "") == "Unauthorized"
    )
    return (
        direct["status"] == 401
        and no_credential
        and (direct.get("message_id"), direct.get("message"))
        != (obs.get("message_id"), obs.get("message"))
    )


def _merge(causes: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One cause per code; evidence of repeats appended."""
    merged: Dict[str, Dict[str, Any]] = {}
    for item in causes:
        if item["code"] in merged:
            merged[item["code"]]["evidence"].extend(
                e for e in item["evidence"] if e not in merged[item["code"]]["evidence"]
            )
        else:
            merged[item["code"]] = item
    return list(merged.values())


# ----------------------------------------------------------------------------- parity, identity, verdict
def parity(
    direct: Dict[str, Dict[str, Any]],
    proxies: Dict[str, Dict[str, Dict[str, Any]]],
    proxy_found: bool,
) -> Dict[str, Any]:
    """Side-by-side statuses per probe; ``match`` when every proxy agrees and no proxy cause was found."""
    rows = []
    agree = True
    for probe in PROBES:
        row = {
            "probe": probe,
            "direct": (direct.get(probe) or {}).get("status"),
            "proxies": {
                base: (table.get(probe) or {}).get("status") for base, table in proxies.items()
            },
        }
        agree = agree and all(
            twins_agree(table.get(probe), direct.get(probe)) for table in proxies.values()
        )
        if (
            row["direct"] is None
            and not any(v is not None for v in row["proxies"].values())
            and probe not in direct
        ):
            continue
        rows.append(row)
    return {"match": agree and not proxy_found, "probes": rows}


def identity(
    direct: Dict[str, Dict[str, Any]], cred: Dict[str, Any], admin: Optional[Dict[str, Any]]
) -> Dict[str, Any]:
    """Who Grafana says the credential is, plus what an admin lookup found."""
    result: Dict[str, Any] = {
        "authenticated": identity_proven(direct) or _authenticated_by_error(direct),
        "kind": None,
        "id": None,
        "login": None,
        "name": None,
        "org_id": None,
        "org_name": None,
        "role": None,
    }
    user = direct.get("user") or {}
    data = user.get("data") or {}
    if _ok(user) and isinstance(data, dict) and data and user.get("body") == "json":
        _from_profile(result, data, cred)
    elif user.get("status") == 403 and (user.get("message") or "").lower() == USERS_ONLY:
        result["kind"] = "service_account"
    org = direct.get("org") or {}
    if _ok(org) and isinstance(org.get("data"), dict):
        result["org_id"] = (org.get("data") or {}).get("id", result["org_id"])
        result["org_name"] = (org.get("data") or {}).get("name")
    if result["authenticated"] and cred.get("token_format") == "legacy" and result["login"] is None:
        result["kind"] = "api_key"
    if (
        result["authenticated"]
        and result["kind"] is None
        and cred.get("scheme") == "basic"
        and cred.get("username") != "api_key"
    ):
        result["kind"] = "user"
        result["login"] = cred.get("username")
    _admin_identity(result, admin)
    return result


def _authenticated_by_error(direct: Dict[str, Dict[str, Any]]) -> bool:
    endpoint = direct.get("endpoint") or {}
    if endpoint.get("status") == 304:
        return True
    return (
        endpoint.get("status") in (403, 404, 410)
        and is_grafana_json(endpoint)
        and (
            _identity_read_back(direct.get("user"), direct.get("org"))
            or endpoint.get("status") == 403
        )
    )


def _from_profile(result: Dict[str, Any], data: Dict[str, Any], cred: Dict[str, Any]) -> None:
    uid = str(data.get("uid") or "")
    login = data.get("login")
    if uid.startswith("service-account:"):
        result["kind"] = "service_account"
        result["id"] = _int(uid.split(":", 1)[1])
    elif str(login or "").startswith("sa-") and (
        cred.get("scheme") != "basic" or cred.get("username") == "api_key"
    ):
        result["kind"] = "service_account"
        result["id"] = data.get("id")
    else:
        result["kind"] = "user"
        result["id"] = data.get("id")
        result["is_grafana_admin"] = data.get("isGrafanaAdmin")
    result["login"] = login
    result["name"] = data.get("name")
    result["org_id"] = data.get("orgId")


def _admin_identity(result: Dict[str, Any], admin: Optional[Dict[str, Any]]) -> None:
    if not admin:
        return
    if admin.get("error"):
        result["admin_error"] = admin["error"]
        return
    account = admin.get("service_account")
    if account:
        result.update(
            kind=result["kind"] or "service_account",
            id=result["id"] or account.get("id"),
            name=result["name"] or account.get("name"),
            login=result["login"] or account.get("login"),
            role=account.get("role"),
            disabled=account.get("isDisabled"),
        )
    token = admin.get("token")
    if token:
        result.update(
            token_name=token.get("name"),
            token_expiration=token.get("expiration"),
            token_last_used_at=token.get("lastUsedAt"),
            token_revoked=token.get("isRevoked"),
            token_expired=token.get("hasExpired"),
        )


def _int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def verdict_for(causes: List[Dict[str, Any]]) -> str:
    if not causes:
        return "ok"
    return min((CAUSE_VERDICT[c["code"]] for c in causes), key=VERDICT_ORDER.index)


def classify(
    observations: List[Dict[str, Any]],
    cred: Dict[str, Any],
    lint: List[Dict[str, str]],
    org_id: Optional[int] = None,
    admin: Optional[Dict[str, Any]] = None,
    trimmed_works: Optional[bool] = None,
) -> Dict[str, Any]:
    """The whole diagnosis: ``causes`` (most fundamental first), ``verdict``, ``parity``, ``identity``."""
    direct, proxies = index_observations(observations)
    found = direct_causes(direct, cred, org_id, admin)
    if cred.get("whitespace") and trimmed_works is not None:
        found = [c for c in found if c["code"] != "token_whitespace"]
        found.insert(
            0,
            _whitespace_cause(
                [f["message"] for f in lint if f["code"] == "token_whitespace"], trimmed_works
            ),
        )
    if (
        cred.get("header_malformed")
        and not any(c["code"] == "malformed_header" for c in found)
        and direct.get("endpoint", {}).get("status") == 401
    ):
        found.insert(0, _malformed([evidence_line(direct["endpoint"])]))
    proxy_found: List[Dict[str, Any]] = []
    per_base: Dict[str, List[Dict[str, Any]]] = {}
    for base, table in proxies.items():
        per_base[base] = proxy_causes(base, table, direct, cred)
        proxy_found.extend(per_base[base])
    found = _merge(proxy_found + found)
    # The one rule: ok only when the identity is proven directly and every proxy agrees.  The
    # rules above name what they recognise; whatever they leave unexplained gets a catch-all here.
    if not identity_proven(direct) and not any(CAUSE_VERDICT[c["code"]] != "proxy" for c in found):
        found.append(unexpected_response(_first_unproven(direct), "the direct probes"))
    for base, table in proxies.items():
        if not all(twins_agree(table.get(p), direct.get(p)) for p in PROBES) and not per_base[base]:
            proxy_found.append(_proxy_catch_all(base, _first_disagreeing(table, direct), None))
            found.append(proxy_found[-1])
    found = _merge(found)
    found.sort(
        key=lambda c: (VERDICT_ORDER.index(CAUSE_VERDICT[c["code"]]), CAUSE_ORDER.index(c["code"]))
    )
    result = {
        "verdict": verdict_for(found),
        "causes": found,
        "parity": parity(direct, proxies, bool(proxy_found)),
        "identity": identity(direct, cred, admin),
    }
    _assert_one_rule(result, direct, proxies)
    return result


def _first_unproven(direct: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    for probe in ("endpoint", "user", "org", "health"):
        obs = direct.get(probe)
        if obs and not (_ok(obs) and obs.get("body") == "json"):
            return obs
    return (
        direct.get("endpoint")
        or direct.get("health")
        or {
            "url": "(none)",
            "base_url": "(none)",
            "target": "direct",
            "probe": "endpoint",
            "status": None,
            "error": "no probe was answered",
        }
    )


def _first_disagreeing(
    table: Dict[str, Dict[str, Any]], direct: Dict[str, Dict[str, Any]]
) -> Optional[Dict[str, Any]]:
    for probe in PROBES:
        if table.get(probe) and not twins_agree(table.get(probe), direct.get(probe)):
            return table[probe]
    return next(iter(table.values()), None)


def _assert_one_rule(
    result: Dict[str, Any],
    direct: Dict[str, Dict[str, Any]],
    proxies: Dict[str, Dict[str, Dict[str, Any]]],
) -> None:
    """The safety net: a verdict that contradicts the rule is a bug, never an answer."""
    agree = all(twins_agree(t.get(p), direct.get(p)) for t in proxies.values() for p in PROBES)
    if (result["verdict"] == "ok") != (not result["causes"]) or (
        result["verdict"] == "ok" and not (identity_proven(direct) and agree)
    ):
        raise AssertionError(
            "diagnose rule violated: verdict %r with causes %r"
            % (result["verdict"], [c["code"] for c in result["causes"]])
        )


def summary_line(result: Dict[str, Any], proxy_count: int) -> str:
    """``msg``: one line with the verdict, the main cause and its fix."""
    causes = result["causes"]
    if not causes and result["verdict"] == "ok":
        ident = result["identity"]
        who = " ".join(
            str(x)
            for x in (
                ident.get("kind") or "identity",
                ident.get("login") or ident.get("name") or "",
            )
            if x
        ).strip()
        org = f" in org {ident['org_id']}" if ident.get("org_id") is not None else ""
        agrees = result["parity"]["match"]
        parity_text = ""
        if proxy_count and agrees:
            parity_text = (
                f"; {proxy_count} prox{'y answers' if proxy_count == 1 else 'ies answer'} every probe "
                "with the same status as direct access"
            )
        return f"verdict ok: the credential authenticates as {who}{org}{parity_text}."
    first = causes[0]
    more = f" Also: {', '.join(c['code'] for c in causes[1:])}." if len(causes) > 1 else ""
    evidence = f" Evidence: {first['evidence'][0]}." if first["evidence"] else ""
    return (
        f"verdict {result['verdict']}: {first['code']}: {first['summary']}{evidence} "
        f"Fix: {first['remediation']}{more}"
    )
