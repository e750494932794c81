# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cause catalogue of ``diagnose``: code -> verdict, summary and remediation.

Every cause ``diagnose`` can name is here, once, with its verdict (the category the verdict
is taken from) and its texts.  A cause whose wording depends on what was seen has several
variants (``summaries``/``remediations``, keyed by a short name, ``""`` for the only one);
the texts are templates that :func:`cause` fills with evidence (``{base_url}``,
``{status}``, ...).  The rules in :mod:`._diagnosis` decide *which* cause and variant; they
hold no prose of their own.

The order of :data:`CAUSES` is the order causes are listed in within one verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, Mapping

VERDICT_ORDER = ("connectivity", "proxy", "authentication", "authorization")

_MINT = "Mint a new token (grafana_ops.auth.service_account_token) and deliver it to the client."
_RECREATE = "Create the service account again and mint a new token for it."


@dataclass(frozen=True)
class Cause:
    """One catalogue entry."""

    verdict: str
    summaries: Mapping[str, str]
    remediations: Mapping[str, str]


CAUSES: Dict[str, Cause] = {
    "grafana_unreachable": Cause(
        "connectivity",
        {
            "error": "Grafana does not answer at {base_url}: {error}.",
            "failing": "Grafana at {base_url} answers HTTP {status}: it is up but failing.",
            "not_api": "{base_url} does not serve Grafana's API ({probe} probe got HTTP {status}): "
            "wrong url, port or sub-path.",
        },
        {
            "": "Check url (scheme, host, port, sub-path) and that Grafana is running and reachable "
            "from the host that runs this task; its log says why it fails."
        },
    ),
    "tls_error": Cause(
        "connectivity",
        {
            "": "The TLS handshake with {where} failed: its certificate is not trusted "
            "(self-signed, private CA, expired or issued for another host name)."
        },
        {
            "": "Set ca_path to the PEM file of the CA that signed the certificate (or fix the "
            "certificate); validate_certs=false only hides the problem."
        },
    ),
    "proxy_unreachable": Cause(
        "proxy",
        {
            "error": "Nothing usable answers at the proxy {base_url}: {error}.",
            "gateway": "The proxy {base_url} answers HTTP {status} itself: it cannot reach "
            "Grafana (upstream down, wrong upstream address, or timeout).",
        },
        {
            "": "Check that the proxy is running and that its upstream (proxy_pass / the "
            "service URL) points at the address where Grafana listens; the proxy's error "
            "log names the failing upstream."
        },
    ),
    "proxy_basic_auth_intercepts": Cause(
        "proxy",
        {
            "": "The proxy {base} answers 401 itself (WWW-Authenticate: {www_authenticate}): "
            "its own basic authentication consumes the Authorization header, so Grafana never "
            "sees the token."
        },
        {
            "": "Remove auth_basic (nginx) / the basicAuth middleware (Traefik) / AuthType Basic + "
            "Require valid-user (Apache) / http-request auth (HAProxy) / basic_auth or basicauth "
            "(Caddy) from the Grafana location, or protect only the UI paths; Grafana "
            "authenticates API calls itself."
        },
    ),
    "proxy_strips_authorization": Cause(
        "proxy",
        {
            "": "Grafana answers 401 through the proxy {base} but not directly: the proxy removes or "
            "replaces the Authorization header before it reaches Grafana."
        },
        {
            "": "Remove 'proxy_set_header Authorization \"\"' / 'proxy_pass_request_headers off' (nginx), "
            "the headers middleware that sets Authorization to '' (Traefik customRequestHeaders), "
            "'RequestHeader unset Authorization' (Apache mod_headers), 'http-request del-header "
            "Authorization' (HAProxy) or 'header_up -Authorization' (Caddy reverse_proxy); "
            "the reverse_proxy role's templates keep the header."
        },
    ),
    "proxy_path_mismatch": Cause(
        "proxy",
        {
            "": "Through the proxy {base}, {probe} answers HTTP {status} while Grafana directly "
            "answers {direct_status}: the proxy's location / sub-path does not map to Grafana's paths."
        },
        {
            "": "Make the proxied sub-path match Grafana's root_url (serve_from_sub_path = true, or "
            "strip the prefix in the proxy: rewrite (nginx) / stripPrefix (Traefik) / ProxyPass "
            "/prefix/ http://grafana/ (Apache) / http-request replace-path (HAProxy) / "
            "handle_path (Caddy)), make the proxy's location cover /api/, and give proxy_urls "
            "with the sub-path."
        },
    ),
    "proxy_answers_itself": Cause(
        "proxy",
        {
            "login": "The proxy {base} redirects to a login page ({location}): an SSO / auth gateway "
            "intercepts API calls.",
            "limit": "The proxy {base} answers HTTP {status} itself with {answer}: the request exceeds "
            "one of its limits (header size: nginx large_client_header_buffers, Apache "
            "LimitRequestFieldSize, HAProxy tune.bufsize; body size: client_max_body_size / "
            "LimitRequestBody / Caddy request_body max_size; URL length), typically because "
            "the token or a cookie is far too large.",
            "access": "The proxy {base} answers HTTP {status} itself with {answer}: an access rule of "
            "the proxy (deny/allow, a WAF, limit_except, a location that does not cover "
            "/api/) refuses the request before Grafana sees it.",
            "page": "The proxy {base} answers HTTP {status} with {answer} instead of Grafana's JSON: "
            "a login page, captive portal or static site stands in front of Grafana.",
            "other": "The proxy {base} answers HTTP {status} with {answer} where Grafana directly "
            "answers {direct_status}: the proxy, or a sidecar / WAF beside it, answers for "
            "itself.",
        },
        {
            "login": "Exempt /api/ from the SSO or auth_request / forwardAuth gate (Grafana "
            "authenticates API calls itself), or call Grafana's API on a URL that is not "
            "behind the login gate.",
            "limit": "Check the token (a token file that is not a single token makes a huge header), "
            "and raise the proxy's header / body limits only if the request is legitimately "
            "that large.",
            "access": "Make the proxy pass /api/ to Grafana: a location (nginx), router rule (Traefik), "
            "<Location>/ProxyPass (Apache; no 'Require all denied'), use_backend/http-request "
            "deny (HAProxy) or handle/reverse_proxy matcher (Caddy) that covers the API paths, "
            "without deny rules or WAF blocks for them.",
            "page": "Route /api/ through to Grafana (proxy_pass / a router to the Grafana service) and "
            "keep login pages away from the API paths.",
            "other": "Look at the proxy's error log and any sidecar or WAF in front of Grafana; the "
            "answer did not come from Grafana.",
        },
    ),
    "proxy_status_mismatch": Cause(
        "proxy",
        {
            "unanswered": "Through the proxy {base} the {probe} probe was never answered as it "
            "was directly (an earlier probe through the proxy already failed).",
            "status": "Through the proxy {base}, the {probe} probe gets HTTP {status} while Grafana "
            "directly answers {direct_status}: the proxy changes the request (headers, "
            "path, method or body) on its way to Grafana, or reaches another Grafana.",
        },
        {
            "unanswered": "See the proxy's other evidence lines and its access/error log.",
            "status": "Compare the proxy's configuration with the reverse_proxy role's template: it "
            "must pass the path, the Authorization and X-Grafana-Org-Id headers and the body "
            "unchanged to the same Grafana as url.",
        },
    ),
    "missing_credentials": Cause(
        "authentication",
        {
            "": "No credential was sent, and Grafana requires one for this endpoint.",
            "blank": "The {blank} holds no token, so there is no credential to test.",
        },
        {
            "": "Send 'Authorization: Bearer <service-account token>' (token or token_file), or "
            "Basic credentials (url_username/url_password).",
            "blank": "Write the service-account token into it (printf '%s' \"$TOKEN\" > file, or "
            "grafana_ops.auth.service_account_token dest=), or give token / url_username "
            "instead.",
        },
    ),
    "malformed_header": Cause(
        "authentication",
        {
            "": "The Authorization header is not in a form Grafana reads (it needs "
            "exactly 'Bearer <token>' or 'Basic <base64 user:password>')."
        },
        {
            "": "Send 'Authorization: Bearer glsa_...' with a capital B and exactly one space, and "
            "nothing else in the value."
        },
    ),
    "token_whitespace": Cause(
        "authentication",
        {
            "trimmed_works": "The token as read has whitespace (for example the trailing newline of "
            "a file); it works once trimmed, so the client that sends it untrimmed "
            "gets 401.",
            "": "The token as read has whitespace, and even trimmed Grafana rejects it (see the "
            "other causes).",
        },
        {
            "": "Write the token without a newline (printf '%s' \"$TOKEN\" > file, or "
            "grafana_ops.auth.service_account_token dest=) and strip values read from files."
        },
    ),
    "token_malformed": Cause(
        "authentication",
        {
            "": "The token {redacted} is not a valid service-account token (its form or "
            "checksum is wrong: truncated, mistyped or another product's token)."
        },
        {"": "Copy the whole key again (46 characters, glsa_..._xxxxxxxx) or mint a new one."},
    ),
    "legacy_api_key": Cause(
        "authentication",
        {
            "": "The credential is a legacy API key ({legacy_name!r}); Grafana 12 "
            "no longer accepts API keys that do not belong to a service account."
        },
        {
            "": "Migrate: create a service account with the key's role and mint a glsa_ token "
            "(grafana_ops.auth.service_account_token; playbook grafana_ops.auth.migrate_legacy_keys)."
        },
    ),
    "token_expired": Cause(
        "authentication",
        {"": "The token has expired (Grafana rejects a token once its expiry time is reached)."},
        {
            "": "Mint a new token (grafana_ops.auth.service_account_token) and deliver it; set "
            "rotation_window so that rotation happens before expiry."
        },
    ),
    "token_revoked": Cause(
        "authentication",
        {
            "": "The token was revoked (for example by Grafana's secret scanning after it "
            "leaked); a revoked token never works again."
        },
        {
            "": "Treat the key as leaked: find where it was exposed, delete it, and mint a new token."
        },
    ),
    "service_account_disabled": Cause(
        "authentication",
        {"": "The token is valid, but its service account is disabled."},
        {
            "": "Enable the account (grafana_ops.auth.service_account disabled=false) if it should work."
        },
    ),
    "service_account_deleted": Cause(
        "authentication",
        {
            "unlinked": "The token's service account cannot be loaded (Grafana 9.x answers 500): "
            "the account was deleted or its row is damaged.",
            "lookup": "There is no service account named {name!r} in org {org}: it was deleted, "
            "and deleting an account deletes all its tokens.",
        },
        {"": _RECREATE},
    ),
    "token_deleted": Cause(
        "authentication",
        {
            "": "Service account {name!r} exists but has no token named {token_name!r}: the token "
            "was deleted."
        },
        {"": _MINT},
    ),
    "token_invalid": Cause(
        "authentication",
        {
            "unknown": "Grafana does not know the token {redacted}: it was deleted, its service "
            "account was deleted, or it never existed on this Grafana (wrong "
            "instance).{why}",
            "rotated": "Service account {name!r} has a token named {token_name!r}, but this key is "
            "not it: the token was re-created or rotated (a new token has a new key), or "
            "the key belongs elsewhere.",
            "no_name": "Service account {name!r} exists, but Grafana does not know this key: one of "
            "its tokens was deleted, or the key belongs to another account or instance. "
            "Give token_name to tell which.",
            "why_failed": " (the account lookup failed: {error})",
            "why_hints": " Give admin credentials and the service_account (and token_name) hints "
            "to tell which.",
        },
        {"": _MINT},
    ),
    "org_mismatch": Cause(
        "authentication",
        {
            "": "The token belongs to another organization than the one requested{where}; "
            "a token only works in its own org.",
            "header_ignored": "The credential works, but in org {found}, not in the expected org "
            "{org_id}: this Grafana ignores X-Grafana-Org-Id for tokens (9.x), so "
            "requests act on the wrong org.",
        },
        {
            "": "Set org_id to the token's org, or use a token of a service account created in the "
            "requested org.",
            "header_ignored": "Use a token of a service account created in org {org_id}, or expect "
            "org {found}. A token can never switch organization.",
        },
    ),
    "basic_auth_disabled": Cause(
        "authentication",
        {
            "": "Grafana ignored the Basic credentials: basic authentication is disabled "
            "([auth.basic] enabled = false, or login is disabled), so no client accepted them."
        },
        {
            "": "Use a service-account token (Authorization: Bearer glsa_...) instead, or enable "
            "[auth.basic] in grafana.ini."
        },
    ),
    "basic_credentials_invalid": Cause(
        "authentication",
        {"": "Grafana rejected the user name or password ({redacted})."},
        {
            "password_is_token": "The password is a token: send it as 'Authorization: Bearer "
            "<token>' (token option), or as Basic with the user name 'api_key'.",
            "": "Check url_username and url_password (and that the user exists in this Grafana).",
        },
    ),
    "unexpected_response": Cause(
        "authentication",
        {
            "success": "Unexpected answer: {what} got HTTP {status} with {answer}, not Grafana's "
            "JSON identity, so nothing proves that the credential authenticates.",
            "": "Unexpected answer: {what} got HTTP {status} with {answer}: neither success nor a "
            "failure Grafana is known to answer with, so nothing proves that the credential "
            "authenticates.",
        },
        {
            "hints": "Check what answers at url: {hints}.",
            "": "Look at the evidence: Grafana's log (or whatever answered) says why it refused the "
            "request; fix that and run the diagnosis again.",
            "hint_size": "a 400/413/431 that is not Grafana's JSON usually means a request-size "
            "limit (a huge token or header: check the token file's size, and the "
            "server's header buffers)",
            "hint_other": "something other than Grafana's API answered at {base_url} (an SSO "
            "login page, a captive portal, another service, or a proxy): check url "
            "(host, port, sub-path)",
        },
    ),
    "insufficient_role": Cause(
        "authorization",
        {
            "permission": "The credential is valid (authenticated), but its role does not allow "
            "this request: Grafana needs {permission}.",
            "": "The credential is valid (authenticated), but its role does not allow this "
            "request: Grafana said {said!r}.",
        },
        {
            "": "Give the service account (or user) a role or permission that includes {needed} "
            "(for example with grafana_ops.auth.service_account role=Editor/Admin); a new token "
            "is not needed."
        },
    ),
    "endpoint_requires_user": Cause(
        "authorization",
        {
            "": "The credential authenticated, but {url} is only available to users, not "
            "to service accounts ('Endpoint only available for users')."
        },
        {
            "": "Call it with a user's credentials, or use an endpoint meant for service "
            "accounts; the token itself is fine."
        },
    ),
    "endpoint_removed": Cause(
        "authorization",
        {
            "redirect": "Grafana redirects {url} instead of answering (HTTP {status}): the endpoint "
            "is not an API route here, or url lacks the sub-path Grafana is served under.",
            "": "Grafana does not serve {url} (HTTP {status}): the endpoint does not exist in this "
            "version or was removed (for example /api/auth/keys in Grafana 12).",
        },
        {
            "": "Use the endpoint's replacement in this Grafana version (legacy API keys: "
            "/api/serviceaccounts and /api/serviceaccounts/<id>/tokens), and check url's sub-path."
        },
    ),
}

CAUSE_VERDICT = {code: entry.verdict for code, entry in CAUSES.items()}
CAUSE_ORDER = tuple(CAUSES)


def cause(
    code: str, evidence: Iterable[str], summary: str = "", remediation: str = "", **fields: Any
) -> Dict[str, Any]:
    """The cause ``code`` as ``diagnose`` returns it, its texts filled with ``fields``.

    ``summary`` and ``remediation`` pick the variant (``""``: the default one).
    """
    entry = CAUSES[code]
    return {
        "code": code,
        "summary": text(code, summary, **fields),
        "remediation": entry.remediations[remediation].format(**fields),
        "evidence": list(evidence),
    }


def text(code: str, variant: str = "", **fields: Any) -> str:
    """One summary variant of ``code``, filled (also for parts that other variants embed)."""
    return CAUSES[code].summaries[variant].format(**fields)


def remedy(code: str, variant: str, **fields: Any) -> str:
    """One remediation variant of ``code``, filled (for parts that other variants embed)."""
    return CAUSES[code].remediations[variant].format(**fields)
