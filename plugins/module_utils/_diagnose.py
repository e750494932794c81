# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``diagnose`` module: read the credential under test, lint it, send the probes, classify.

:func:`run` is the module's logic; the rules that classify what the probes saw are in
:mod:`._diagnosis`, the causes they name in :mod:`._causes`.

Probes per base URL (Grafana directly, then each proxy), one keep-alive session each, no
retries (a 502 must be seen, not retried away):

* ``health``   ``GET /api/health`` without credentials (is anything there, which version);
* ``endpoint`` the endpoint under test with the credential (does it authenticate);
* ``user``     ``GET /api/user`` (who it is; skipped after a 401 or no response);
* ``org``      ``GET /api/org`` with ``X-Grafana-Org-Id`` when ``org_id`` is set (which org).

The credential is sent the way the user's tool sends it: a raw ``authorization_header``
verbatim, a token as ``Bearer <token>`` (trimmed, so that "works once trimmed" can be told),
Basic credentials as ``Basic <base64>``.  The shared client never builds the header here:
the probes' clients come from the runner's factory with no credential and no retries.
"""

from __future__ import annotations

import base64
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from ansible_collections.grafana_ops.auth.plugins.module_utils import _diagnosis as rules
from ansible_collections.grafana_ops.auth.plugins.module_utils._client import (
    GrafanaClient,
    Response,
    html_summary,
    normalise_url,
    plain_http_warning,
    safe_url,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaConnectionError,
    GrafanaError,
    GrafanaInputError,
    GrafanaResultError,
    rewrap,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._runner import (
    NO_CREDENTIALS,
    Clients,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._sa_api import (
    find_service_account,
    get_service_account,
    list_tokens,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_format import (
    scrub as scrub_text,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_format import (
    secret_forms,
)

PROBE_PATHS = {"health": "/api/health", "user": "/api/user", "org": "/api/org"}
PUBLIC_KEYS = (
    "url",
    "base_url",
    "target",
    "probe",
    "status",
    "message",
    "message_id",
    "www_authenticate",
    "location",
    "body",
    "version",
    "elapsed_ms",
    "error",
    "error_kind",
)
# Fields of an observation whose text came from outside (the answer, the exception): scrubbed.
OUTSIDE_TEXT = ("message", "message_id", "www_authenticate", "location", "error", "version")
# A secret form this long cannot occur in the module's own prose: the final net replaces it anywhere.
LONG_SECRET = 8
MESSAGE_LEN = 200


_SINGLE_ONLY = ("token", "token_file", "authorization_header", "url_username", "url_password")
_KEY_FIELDS = ("verdict", "causes", "identity", "parity", "credential", "request_count", "msg")


def run(module: Any, clients: Clients) -> Dict[str, Any]:
    """The ``diagnose`` module: no credential is required (a missing one is a finding)."""
    params = module.params
    if params.get("keys"):
        result, warnings, failure = diagnose_keys(params, clients)
    else:
        result, warnings = diagnose(params, clients)
        failure = problem(result, params)
    for warning in warnings:
        clients.note(warning)
    if failure:
        raise GrafanaResultError(failure, result)
    return result


def diagnose_keys(
    params: Dict[str, Any], clients: Optional[Clients] = None
) -> Tuple[Dict[str, Any], List[str], Optional[str]]:
    """Every entry of ``keys`` diagnosed in this one run; returns ``(result, warnings, failure)``."""
    entries: List[Dict[str, Any]] = []
    warnings: List[str] = []
    causes: List[Dict[str, Any]] = []
    for index, key in enumerate(params["keys"]):
        result, notes = diagnose(_key_params(params, key), clients)
        entry = {name: result[name] for name in _KEY_FIELDS}
        entry["label"] = key.get("label") or f"keys[{index}]"
        entry["passed"] = (
            result["verdict"] == "ok"
            and bool(result["identity"].get("authenticated"))
            and (result["parity"]["match"] or not params.get("proxy_urls"))
        )
        entries.append(entry)
        warnings += [w for w in notes if w not in warnings]
        if not entry["passed"]:
            causes += [dict(c, key=entry["label"]) for c in result["causes"]]
    return _keys_result(params, entries, causes), warnings, _keys_failure(params, entries)


def _key_params(params: Dict[str, Any], key: Dict[str, Any]) -> Dict[str, Any]:
    """The options of one key's diagnosis: the key as ``token``, its own hints over the defaults."""
    single = dict(params, keys=None, **{name: None for name in _SINGLE_ONLY})
    single["token"] = key["token"]
    for name in ("org_id", "service_account", "token_name"):
        if key.get(name) is not None:
            single[name] = key[name]
    return single


def _keys_message(entries: List[Dict[str, Any]]) -> str:
    failed = [e for e in entries if not e["passed"]]
    msg = f"{len(entries) - len(failed)} of {len(entries)} key(s) passed"
    if failed:
        msg += "; did not pass: " + "; ".join(
            f"{e['label']} (verdict {e['verdict']}, causes {', '.join(c['code'] for c in e['causes']) or 'none'})"
            for e in failed
        )
    return msg + "."


def _keys_result(
    params: Dict[str, Any], entries: List[Dict[str, Any]], causes: List[Dict[str, Any]]
) -> Dict[str, Any]:
    failed = [e for e in entries if not e["passed"]]
    verdict = failed[0]["verdict"] if failed else "ok"
    if failed and verdict == "ok":
        verdict = "proxy" if not failed[0]["parity"]["match"] else "authentication"
    return {
        "changed": False,
        "verdict": verdict,
        "causes": causes,
        "observations": [],
        "identity": {},
        "parity": {"match": all(e["parity"]["match"] for e in entries), "probes": []},
        "token_lint": [],
        "credential": f"{len(entries)} key(s)",
        "request_count": sum(e["request_count"] for e in entries),
        "key_results": entries,
        "msg": _keys_message(entries),
    }


def _keys_failure(params: Dict[str, Any], entries: List[Dict[str, Any]]) -> Optional[str]:
    failed = any(not e["passed"] for e in entries)
    fail = failed and (params.get("fail_on_problem") or params.get("require_parity"))
    return _keys_message(entries) if fail else None


class Credential:
    """The credential under test: what to send, the offline lint, and the facts the rules need."""

    def __init__(
        self,
        kind: str,
        header: Optional[str],
        lint: List[Dict[str, str]],
        facts: Dict[str, Any],
        secrets: List[str],
        blank: Optional[str] = None,
    ) -> None:
        self.kind = kind
        self.header = header
        self.lint = lint
        self.facts = facts
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self.blank = blank


def _blank_credential(source: str, what: str) -> Credential:
    """An empty or whitespace-only token: nothing to send, so no request is sent."""
    finding = {
        "code": "missing_credentials",
        "message": (
            f"The {what} holds no token; give a file (or value) that contains the service-account "
            "token, written without a trailing newline."
        ),
    }
    return Credential(
        "none", None, [finding], rules.describe_credential("none", source=source), [], blank=what
    )


def read_credential(params: Dict[str, Any]) -> Credential:
    """Pick the credential (authorization_header > token_file > token > url_username) and lint it raw."""
    if params.get("authorization_header") is not None:
        return _header_credential(params["authorization_header"])
    if params.get("token_file"):
        raw = _read_token_file(params["token_file"])
        if not raw.replace("\ufeff", "").strip():
            return _blank_credential(
                "token_file", f"token_file {params['token_file']!r} ({_blank_text(raw)})"
            )
        return _token_credential(raw, "token_file")
    if params.get("token") is not None:
        if not params["token"].replace("\ufeff", "").strip():
            return _blank_credential("token", f"token option ({_blank_text(params['token'])})")
        return _token_credential(params["token"], "token")
    if params.get("url_username") is not None:
        return _basic_credential(params["url_username"], params.get("url_password") or "")
    facts = rules.describe_credential("none")
    return Credential("none", None, [], facts, [])


def _blank_text(raw: str) -> str:
    if not raw:
        return "empty"
    lines = raw.count("\n")
    if lines and not raw.replace("\n", "").replace("\r", "").strip():
        return f"{lines} line break{'s' if lines != 1 else ''} and nothing else"
    return f"{len(raw)} whitespace character{'s' if len(raw) != 1 else ''} and nothing else"


def _read_token_file(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise GrafanaInputError(
            f"token_file {path!r} cannot be read: {err.strerror or err}."
        ) from None
    return data.decode("utf-8", errors="replace")


def _token_credential(raw: str, source: str) -> Credential:
    lint = rules.lint_token(raw, source)
    token = raw.strip().lstrip("\ufeff").strip()
    if token.startswith(("Bearer ", "bearer ")):
        token = token[7:].strip()
    facts = rules.describe_credential("token", token=token, source=source, lint=lint)
    sendable = token.replace("\r", "").replace("\n", "")
    return Credential(
        "token",
        f"Bearer {sendable}",
        lint,
        facts,
        [raw, raw.strip(), token] + secret_forms(token=sendable),
    )


def _header_credential(raw: str) -> Credential:
    lint = rules.lint_header(raw)
    header = raw.replace("\r", "").replace("\n", "").lstrip()
    facts = rules.describe_credential(
        "header", header=header, source="authorization_header", lint=lint
    )
    token = rules.header_token(header) or ""
    secrets = [raw, raw.strip(), header, header.partition(" ")[2].strip()] + secret_forms(
        token=token or None
    )
    if facts.get("username") is not None:
        user, password = rules._basic_pair(header.partition(" ")[2])
        secrets.extend(secret_forms(username=user, password=password or None))
    return Credential("header", header, lint, facts, secrets)


def _basic_credential(username: str, password: str) -> Credential:
    pair = base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")
    facts = rules.describe_credential(
        "basic", username=username, password=password, source="url_username"
    )
    return Credential(
        "basic",
        f"Basic {pair}",
        [],
        facts,
        [password, pair] + secret_forms(username=username, password=password or None),
    )


# ----------------------------------------------------------------------------- probes
def observation(
    target: str,
    base: str,
    probe: str,
    path: str,
    response: Optional[Response] = None,
    error: Optional[GrafanaConnectionError] = None,
) -> Dict[str, Any]:
    """One probe's record (``data`` holds the parsed JSON for the rules and is never returned)."""
    obs: Dict[str, Any] = {
        "url": safe_url(base + path),
        "base_url": safe_url(base),
        "target": target,
        "probe": probe,
        "status": None,
        "message": None,
        "message_id": None,
        "www_authenticate": None,
        "location": None,
        "body": None,
        "version": None,
        "elapsed_ms": None,
        "error": None,
        "error_kind": None,
        "data": None,
    }
    if error is not None:
        obs.update(error=_error_text(error), error_kind=error.kind)
        return obs
    if response is None:
        return obs
    obs.update(
        status=response.status,
        elapsed_ms=round(response.elapsed_ms, 1),
        www_authenticate=response.headers.get("WWW-Authenticate"),
        location=safe_url(response.headers["Location"])
        if response.headers.get("Location")
        else None,
    )
    _describe_body(obs, response)
    return obs


def _describe_body(obs: Dict[str, Any], response: Response) -> None:
    body, text = response.body, response.text or ""
    if isinstance(body, (dict, list)):
        obs["body"] = "json"
        if isinstance(body, dict):
            obs.update(message=response.message, message_id=response.message_id, data=body)
            if obs["probe"] == "health":
                obs["version"] = body.get("version")
    elif "html" in response.content_type.lower() or text.lstrip()[:1] == "<":
        obs.update(body="html", message=html_summary(text) or None)
    elif text.strip():
        obs.update(body="text", message=" ".join(text.split())[:MESSAGE_LEN])
    else:
        obs["body"] = "empty"


def _error_text(error: GrafanaConnectionError) -> str:
    text = error.msg
    text = text.split(": ", 1)[1] if ": " in text else text
    return text.rstrip(".")


class Prober:
    """Sends the probes for every base URL and records the observations."""

    def __init__(self, params: Dict[str, Any], credential: Credential, clients: Clients) -> None:
        self.params = params
        self.credential = credential
        self.clients = clients
        self.endpoint = _endpoint_path(params.get("endpoint") or "/api/dashboards/home")
        self.observations: List[Dict[str, Any]] = []
        self.request_count = 0
        self.extra_evidence: Dict[str, Any] = {}

    def client(self, base: str, credentials: Any = NO_CREDENTIALS) -> GrafanaClient:
        """No retries: a 502 must be seen, not retried away."""
        return self.clients.build(url=base, credentials=credentials, retries=0)

    def run(self) -> List[Dict[str, Any]]:
        targets = [("direct", self.params["url"])] + [
            ("proxy", u) for u in self.params.get("proxy_urls") or []
        ]
        check_urls(self.params)
        for target, base in targets:
            self.probe_target(target, base)
        return self.observations

    def probe_target(self, target: str, base: str) -> None:
        client = self.client(base)
        try:
            health = self.send(client, target, "health", PROBE_PATHS["health"], auth=False)
            if health["error"]:
                return
            endpoint = self.send(client, target, "endpoint", self.endpoint)
            if endpoint["error"] or endpoint["status"] == 401 or endpoint["status"] >= 500:
                self._after_unauthorized(client, target, endpoint)
                return
            for probe in ("user", "org"):
                if self.endpoint == PROBE_PATHS[probe]:
                    self.observations.append(dict(endpoint, probe=probe))
                else:
                    self.send(client, target, probe, PROBE_PATHS[probe])
        finally:
            self.request_count += client.request_count
            client.session.close()

    def send(
        self,
        client: GrafanaClient,
        target: str,
        probe: str,
        path: str,
        auth: bool = True,
        **kwargs: Any,
    ) -> Dict[str, Any]:
        headers = (
            {"Authorization": self.credential.header} if auth and self.credential.header else None
        )
        try:
            response = client.get(path, expected=None, auth=False, headers=headers, **kwargs)
            obs = observation(target, client.base_url, probe, path, response=response)
        except GrafanaConnectionError as err:
            obs = observation(target, client.base_url, probe, path, error=err)
        obs = scrub_observation(obs, self.credential.secrets)
        self.observations.append(obs)
        return obs

    def _after_unauthorized(
        self, client: GrafanaClient, target: str, endpoint: Dict[str, Any]
    ) -> None:
        """Org mismatch: ask once, without the org header, which org the token does belong to."""
        if target != "direct" or endpoint.get("message_id") != "api-key.organization-mismatch":
            return
        headers = {"Authorization": self.credential.header}
        try:
            response = client.get(
                PROBE_PATHS["org"], expected=None, auth=False, headers=headers, org_id=None
            )
        except GrafanaConnectionError:
            return
        if response.status == 200 and isinstance(response.body, dict):
            self.extra_evidence["token_org_id"] = response.body.get("id")


def _endpoint_path(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    if parts.scheme or parts.netloc:
        raise GrafanaInputError(
            f"endpoint {endpoint!r} must be a path such as /api/dashboards/home, not a URL; put the "
            "base URL (with any sub-path) in url or proxy_urls."
        )
    return endpoint if endpoint.startswith("/") else "/" + endpoint


# ----------------------------------------------------------------------------- admin lookup
def admin_lookup(prober: Prober, first: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """With admin credentials: the account (by id, else by the ``service_account`` hint) and its tokens."""
    params = prober.params
    facts: Dict[str, Any] = dict(prober.extra_evidence)
    if not (params.get("admin_token") or params.get("admin_url_username")):
        return facts or None
    facts.update(
        service_account_hint=params.get("service_account"),
        token_name_hint=params.get("token_name"),
        org_id=params.get("org_id"),
        service_account=None,
        tokens=[],
        token=None,
    )
    client = prober.client(
        params["url"],
        credentials=(
            params.get("admin_token"),
            params.get("admin_url_username"),
            params.get("admin_url_password"),
        ),
    )
    try:
        _lookup(client, facts, first["identity"])
    except GrafanaError as err:
        facts["error"] = scrub_text(
            client.scrub(str(err)), prober.credential.secrets + _admin_secrets(params)
        )
    finally:
        prober.request_count += client.request_count
        client.session.close()
    return facts


def _lookup(client: GrafanaClient, facts: Dict[str, Any], ident: Dict[str, Any]) -> None:
    account = None
    if (
        ident.get("kind") == "service_account"
        and isinstance(ident.get("id"), int)
        and ident["id"] > 0
    ):
        account = get_service_account(client, ident["id"])
    if account is None and facts["service_account_hint"]:
        account = find_service_account(client, facts["service_account_hint"])
    if account is None:
        return
    facts["service_account"] = {
        k: account.get(k) for k in ("id", "uid", "name", "login", "orgId", "role", "isDisabled")
    }
    facts["tokens"] = [
        {k: t.get(k) for k in ("id", "name", "expiration", "lastUsedAt", "isRevoked", "hasExpired")}
        for t in list_tokens(client, account["id"])
    ]
    wanted = facts["token_name_hint"]
    facts["token"] = next((t for t in facts["tokens"] if wanted and t["name"] == wanted), None)


# ----------------------------------------------------------------------------- the run
def diagnose(
    params: Dict[str, Any], clients: Optional[Clients] = None
) -> Tuple[Dict[str, Any], List[str]]:
    """Run the whole diagnosis; returns ``(result, warnings)``.  Never raises for a failed probe."""
    clients = clients if clients is not None else Clients(params)
    credential = read_credential(params)
    if credential.blank:
        check_urls(params)
        return _blank_result(params, credential), []
    prober = Prober(params, credential, clients)
    observations = prober.run()
    trimmed = _trimmed_works(observations) if credential.facts.get("whitespace") else None
    first = rules.classify(
        observations,
        credential.facts,
        credential.lint,
        params.get("org_id"),
        prober.extra_evidence or None,
        trimmed,
    )
    admin = admin_lookup(prober, first)
    final = rules.classify(
        observations, credential.facts, credential.lint, params.get("org_id"), admin, trimmed
    )
    result = {
        "changed": False,
        "verdict": final["verdict"],
        "causes": final["causes"],
        "observations": [{k: o.get(k) for k in PUBLIC_KEYS} for o in observations],
        "identity": final["identity"],
        "parity": final["parity"],
        "token_lint": credential.lint,
        "credential": credential.facts["redacted"],
        "request_count": prober.request_count,
    }
    result["msg"] = rules.summary_line(final, len(params.get("proxy_urls") or []))
    return scrub(result, credential.secrets + _admin_secrets(params)), _warnings(params, credential)


def _blank_result(params: Dict[str, Any], credential: Credential) -> Dict[str, Any]:
    """An empty token: ``missing_credentials`` without sending a request (nothing could prove anything)."""
    found = [
        rules.cause(
            "missing_credentials",
            [f"{credential.blank}: no request was sent"],
            "blank",
            "blank",
            blank=credential.blank,
        )
    ]
    compared = {"match": not params.get("proxy_urls"), "probes": []}
    final = {
        "verdict": rules.verdict_for(found),
        "causes": found,
        "parity": compared,
        "identity": rules.identity({}, credential.facts, None),
    }
    result = dict(
        changed=False,
        observations=[],
        token_lint=credential.lint,
        credential=credential.facts["redacted"],
        request_count=0,
        **final,
    )
    result["msg"] = rules.summary_line(final, len(params.get("proxy_urls") or []))
    return result


def _trimmed_works(observations: List[Dict[str, Any]]) -> bool:
    endpoint = next(
        (o for o in observations if o["target"] == "direct" and o["probe"] == "endpoint"), None
    )
    return bool(endpoint) and endpoint["status"] is not None and 200 <= endpoint["status"] < 300


def problem(result: Dict[str, Any], params: Dict[str, Any]) -> Optional[str]:
    """The failure message when ``fail_on_problem``/``require_parity`` turn the run into an assertion."""
    parity_failed = params.get("require_parity") and (
        not result["parity"]["match"] or result["verdict"] == "proxy"
    )
    if params.get("fail_on_problem") and result["verdict"] != "ok":
        return result["msg"]
    if parity_failed:
        proxy = [
            c
            for c in result["causes"]
            if rules.CAUSE_VERDICT[c["code"]] in ("proxy", "connectivity")
        ]
        if proxy:
            first = proxy[0]
            return (
                f"Parity failed: {first['code']}: {first['summary']} Evidence: {'; '.join(first['evidence'])}. "
                f"Fix: {first['remediation']}"
            )
        if not result["parity"]["probes"]:
            return "Parity not checked: no probe was sent. " + result["msg"]
        return "Parity failed: " + _parity_text(result["parity"]) + " " + result["msg"]
    return None


def _parity_text(parity: Dict[str, Any]) -> str:
    diffs = [
        f"{row['probe']}: direct {row['direct']}, {base} {status}"
        for row in parity["probes"]
        for base, status in row["proxies"].items()
        if status != row["direct"]
    ]
    return "the proxies answer differently from Grafana directly (" + "; ".join(diffs) + ")."


def check_urls(params: Dict[str, Any]) -> None:
    """Every base URL is valid before the first probe; the error names the option."""
    proxies = params.get("proxy_urls") or []
    options = [("url", params["url"])] + [
        (f"proxy_urls[{index}]", base) for index, base in enumerate(proxies)
    ]
    for option, base in options:
        try:
            normalise_url(base)
        except GrafanaInputError as err:
            raise rewrap(err, f"{option}: {err.msg}", GrafanaInputError) from None


def _admin_secrets(params: Dict[str, Any]) -> List[str]:
    return secret_forms(
        token=params.get("admin_token") or None,
        username=params.get("admin_url_username"),
        password=params.get("admin_url_password") or None,
    )


def _warnings(params: Dict[str, Any], credential: Credential) -> List[str]:
    if not credential.header:
        return []
    found = [
        plain_http_warning(base, "The credential under test was sent", "it", "https://")
        for base in [params["url"]] + list(params.get("proxy_urls") or [])
    ]
    return [warning for warning in found if warning]


def scrub_observation(obs: Dict[str, Any], secrets: List[str]) -> Dict[str, Any]:
    """Scrub the text an answer or an exception brought in, where the secrets occur as values.

    Short secrets (an admin password 'admin') are matched only as whole words here, so prose
    such as "admin lookup" stays readable; the parsed body (``data``) feeds the identity, whose
    login and name are scrubbed the same way.
    """
    clean = dict(obs)
    for key in OUTSIDE_TEXT:
        if isinstance(clean.get(key), str):
            clean[key] = scrub_text(clean[key], secrets)
    data = clean.get("data")
    if isinstance(data, dict):
        clean["data"] = {
            k: scrub_text(v, secrets) if isinstance(v, str) else v for k, v in data.items()
        }
    return clean


def scrub(value: Any, secrets: List[str]) -> Any:
    """The final safety net over the whole result: every secret form long enough that it cannot
    be a word of the module's own prose is replaced wherever it occurs; short ones were already
    scrubbed where outside text entered (:func:`scrub_observation`, the admin lookup).

    After the pass, no long secret form may remain anywhere (checked, not assumed).
    """
    long_forms = sorted({s for s in secrets if s and len(s) >= LONG_SECRET}, key=len, reverse=True)
    cleaned = _replace_all(value, long_forms)
    leaked = [s for s in long_forms if _contains(cleaned, s)]
    if leaked:  # pragma: no cover - the replace above makes this unreachable
        raise AssertionError("a secret survived scrubbing")
    return cleaned


def _replace_all(value: Any, forms: List[str]) -> Any:
    if isinstance(value, str):
        return scrub_text(value, forms) if forms else value
    if isinstance(value, dict):
        return {k: _replace_all(v, forms) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace_all(v, forms) for v in value]
    return value


def _contains(value: Any, secret: str) -> bool:
    if isinstance(value, str):
        return secret in value
    if isinstance(value, dict):
        return any(_contains(v, secret) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains(v, secret) for v in value)
    return False
