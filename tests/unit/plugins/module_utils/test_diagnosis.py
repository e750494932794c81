# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Table-driven tests of the diagnose rules: observations built by hand, no HTTP.

Bodies are the ones grafana-api-contract.md gives for each version profile (9.5, 10.4, 11.6, 12.2).
"""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils import (
    _diagnosis as rules,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_format import (
    glsa_checksum,
)

DIRECT = "http://127.0.0.1:3000"
PROXY = "http://127.0.0.1:8080"
SECRET = "abcdefghijklmnopqrstuvwxyz012345"
GLSA = f"glsa_{SECRET}_{glsa_checksum('glsa_' + SECRET)}"
BAD_GLSA = f"glsa_{SECRET}_00000000"
LEGACY = base64.b64encode(json.dumps({"k": "x" * 32, "n": "old-key", "id": 1}).encode()).decode()


def writer_c(message, message_id, status=401):
    """10.x+ auth middleware body (contract §1 writer C)."""
    return {
        "extra": None,
        "message": message,
        "messageId": message_id,
        "statusCode": status,
        "traceID": "",
    }


FALLBACK = {"message": "Unauthorized", "traceID": ""}  # 10.x/11.x unknown glsa token
NO_AUTH_12 = writer_c("Unauthorized", "auth.unauthorized")
NO_AUTH_9 = {"message": "Unauthorized"}
HOME = {"meta": {"isHome": True}, "dashboard": {"title": "Home"}}
ORG1 = {"id": 1, "name": "Main Org.", "address": {}}
ORG2 = {"id": 2, "name": "Second", "address": {}}
USER_12 = {"id": 0, "uid": "service-account:7", "login": "sa-1-ci", "name": "ci", "orgId": 1}
USER_9 = {"id": 7, "login": "sa-1-ci", "name": "ci", "orgId": 1}
USER_ADMIN = {
    "id": 1,
    "uid": "u1",
    "login": "admin",
    "name": "admin",
    "orgId": 1,
    "isGrafanaAdmin": True,
}
USERS_ONLY = {"message": "Endpoint only available for users"}
DENIED = {
    "accessErrorId": "ACE0123456789",
    "title": "Access denied",
    "message": "You'll need additional permissions to perform this action. "
    "Permissions needed: serviceaccounts:create",
}


def obs(
    probe,
    status=None,
    body=None,
    *,
    target="direct",
    base=None,
    www=None,
    kind=None,
    text=None,
    location=None,
    error=None,
    error_kind=None,
):
    """One observation as _probe.observation() records it."""
    base = base or (DIRECT if target == "direct" else PROXY)
    path = {
        "health": "/api/health",
        "endpoint": "/api/dashboards/home",
        "user": "/api/user",
        "org": "/api/org",
    }[probe]
    item = {
        "url": base + path,
        "base_url": base,
        "target": target,
        "probe": probe,
        "status": status,
        "message": None,
        "message_id": None,
        "www_authenticate": www,
        "location": location,
        "body": None,
        "version": None,
        "elapsed_ms": 1.0,
        "error": error,
        "error_kind": error_kind,
        "data": None,
    }
    if isinstance(body, dict):
        item.update(
            body="json", message=body.get("message"), message_id=body.get("messageId"), data=body
        )
    elif status is not None:
        item.update(body=kind or ("text" if text else "empty"), message=text)
    return item


def health(target="direct", **kw):
    return obs("health", 200, {"database": "ok", "version": "12.2.0"}, target=target, **kw)


def token_cred(token=GLSA, lint=None):
    lint = rules.lint_token(token) if lint is None else lint
    return rules.describe_credential("token", token=token.strip(), lint=lint)


def header_cred(header):
    return rules.describe_credential("header", header=header, lint=rules.lint_header(header))


def basic_cred(user="admin", password="wrong"):
    return rules.describe_credential("basic", username=user, password=password)


NONE = rules.describe_credential("none")


def failing(body, status=401, cred=None):
    """A direct run whose endpoint probe failed; user/org skipped as the prober does."""
    return [health(), obs("endpoint", status, body)], cred or token_cred()


def working(user=None, org=None, endpoint_status=200, endpoint_body=None, user_status=200):
    user, org, endpoint_body = user or USER_12, org or ORG1, endpoint_body or HOME
    return [
        health(),
        obs("endpoint", endpoint_status, endpoint_body),
        obs("user", user_status, user),
        obs("org", 200, org),
    ]


# (id, observations, credential, org_id, expected cause codes, verdict)
CASES = [
    # --- authentication, every version profile -------------------------------------------------
    (
        "12.2 expired",
        *failing(writer_c("Expired API key", "api-key.expired")),
        None,
        ["token_expired"],
        "authentication",
    ),
    (
        "9.5 expired",
        *failing({"message": "Expired API key"}),
        None,
        ["token_expired"],
        "authentication",
    ),
    (
        "11.6 revoked",
        *failing(writer_c("Revoked API key", "api-key.revoked")),
        None,
        ["token_revoked"],
        "authentication",
    ),
    (
        "9.5 revoked",
        *failing({"message": "Revoked token"}),
        None,
        ["token_revoked"],
        "authentication",
    ),
    (
        "12.2 org mismatch",
        *failing(
            writer_c(
                "API key does not belong to the requested organization",
                "api-key.organization-mismatch",
            )
        ),
        2,
        ["org_mismatch"],
        "authentication",
    ),
    (
        "10.4 disabled",
        *failing(writer_c("Unauthorized", "identity.disabled")),
        None,
        ["service_account_disabled"],
        "authentication",
    ),
    (
        "9.5 disabled",
        *failing({"message": "Service account is disabled"}),
        None,
        ["service_account_disabled"],
        "authentication",
    ),
    (
        "12.2 unknown glsa",
        *failing(writer_c("Invalid API key", "api-key.invalid")),
        None,
        ["token_invalid"],
        "authentication",
    ),
    ("11.6 unknown glsa fallback", *failing(FALLBACK), None, ["token_invalid"], "authentication"),
    ("10.4 unknown glsa fallback", *failing(FALLBACK), None, ["token_invalid"], "authentication"),
    (
        "9.5 unknown glsa",
        *failing({"message": "Invalid API key"}),
        None,
        ["token_invalid"],
        "authentication",
    ),
    (
        "9.5 unknown glsa before fix (500)",
        *failing({"message": "Invalid API key"}, status=500),
        None,
        ["token_invalid"],
        "authentication",
    ),
    (
        "9.5 SA row gone (500)",
        *failing({"message": "Unable to link API key to service account"}, status=500),
        None,
        ["service_account_deleted"],
        "authentication",
    ),
    (
        "12.2 legacy key",
        *failing(writer_c("Invalid API key", "api-key.invalid"), cred=token_cred(LEGACY)),
        None,
        ["legacy_api_key"],
        "authentication",
    ),
    (
        "12.2 bad checksum",
        *failing(writer_c("Invalid API key", "api-key.invalid"), cred=token_cred(BAD_GLSA)),
        None,
        ["token_malformed"],
        "authentication",
    ),
    (
        "12.2 no credential",
        *failing(NO_AUTH_12, cred=NONE),
        None,
        ["missing_credentials"],
        "authentication",
    ),
    (
        "9.5 no credential",
        *failing(NO_AUTH_9, cred=NONE),
        None,
        ["missing_credentials"],
        "authentication",
    ),
    (
        "12.2 basic disabled",
        *failing(NO_AUTH_12, cred=basic_cred("admin", "secret")),
        None,
        ["basic_auth_disabled"],
        "authentication",
    ),
    (
        "9.5 basic disabled",
        *failing(NO_AUTH_9, cred=basic_cred("admin", "secret")),
        None,
        ["basic_auth_disabled"],
        "authentication",
    ),
    (
        "12.2 bad password",
        *failing(
            writer_c("Invalid username or password", "password-auth.failed"), cred=basic_cred()
        ),
        None,
        ["basic_credentials_invalid"],
        "authentication",
    ),
    (
        "10.x bad password as 400",
        *failing(
            writer_c("Invalid username or password", "password-auth.failed", 400),
            status=400,
            cred=basic_cred(),
        ),
        None,
        ["basic_credentials_invalid"],
        "authentication",
    ),
    (
        "9.5 bad password",
        *failing({"message": "Invalid username or password"}, cred=basic_cred()),
        None,
        ["basic_credentials_invalid"],
        "authentication",
    ),
    (
        "lower-case bearer",
        *failing(NO_AUTH_12, cred=header_cred(f"bearer {GLSA}")),
        None,
        ["malformed_header"],
        "authentication",
    ),
    (
        "no scheme",
        *failing(NO_AUTH_12, cred=header_cred(GLSA)),
        None,
        ["malformed_header"],
        "authentication",
    ),
    (
        "two spaces",
        *failing(
            writer_c("Invalid API key", "api-key.invalid"), cred=header_cred(f"Bearer  {GLSA}")
        ),
        None,
        ["malformed_header"],
        "authentication",
    ),
    (
        "9.5 bad basic header",
        *failing({"message": "Invalid Basic Auth Header"}, cred=header_cred("Basic !!!")),
        None,
        ["malformed_header"],
        "authentication",
    ),
    # --- authorization ---------------------------------------------------------------------------
    (
        "403 permission",
        working(endpoint_status=403, endpoint_body=DENIED),
        token_cred(),
        None,
        ["insufficient_role"],
        "authorization",
    ),
    (
        "9.5 403 legacy",
        working(user=USER_9, endpoint_status=403, endpoint_body={"message": "Permission denied"}),
        token_cred(),
        None,
        ["insufficient_role"],
        "authorization",
    ),
    (
        "users only",
        working(user=USERS_ONLY, user_status=403, endpoint_status=403, endpoint_body=USERS_ONLY),
        token_cred(),
        None,
        ["endpoint_requires_user"],
        "authorization",
    ),
    (
        "12.2 404 endpoint",
        working(endpoint_status=404, endpoint_body={"message": "Not found"}),
        token_cred(),
        None,
        ["endpoint_removed"],
        "authorization",
    ),
    (
        "11.6 410 endpoint",
        working(endpoint_status=410, endpoint_body={"message": "this endpoint has been removed"}),
        token_cred(),
        None,
        ["endpoint_removed"],
        "authorization",
    ),
    # --- ok in every profile ---------------------------------------------------------------------
    ("12.2 ok", working(), token_cred(), 1, [], "ok"),
    (
        "11.6 ok (users only on /api/user)",
        working(user=USERS_ONLY, user_status=403),
        token_cred(),
        1,
        [],
        "ok",
    ),
    ("9.5 ok", working(user=USER_9), token_cred(), 1, [], "ok"),
    (
        "9.5 org header ignored",
        working(user=USER_9, org=ORG1),
        token_cred(),
        2,
        ["org_mismatch"],
        "authentication",
    ),
    (
        "basic admin ok",
        working(user=USER_ADMIN),
        basic_cred("admin", "admin-password"),
        None,
        [],
        "ok",
    ),
    (
        "9.5 legacy key ok",
        working(user=USERS_ONLY, user_status=403),
        token_cred(LEGACY),
        None,
        [],
        "ok",
    ),
    # --- connectivity ----------------------------------------------------------------------------
    (
        "refused",
        [
            obs(
                "health",
                error="could not get a response (Connection refused)",
                error_kind="connection",
            )
        ],
        token_cred(),
        None,
        ["grafana_unreachable"],
        "connectivity",
    ),
    (
        "tls",
        [obs("health", error="TLS handshake failed (certificate verify failed)", error_kind="tls")],
        token_cred(),
        None,
        ["tls_error"],
        "connectivity",
    ),
    (
        "database failing",
        [obs("health", 503, {"database": "failing"})],
        token_cred(),
        None,
        ["grafana_unreachable"],
        "connectivity",
    ),
    (
        "not grafana",
        [obs("health", 404, kind="html", text="404 Not Found")],
        token_cred(),
        None,
        ["grafana_unreachable"],
        "connectivity",
    ),
    (
        "endpoint 502",
        [health(), obs("endpoint", 502, kind="html", text="502 Bad Gateway")],
        token_cred(),
        None,
        ["grafana_unreachable"],
        "connectivity",
    ),
]


@pytest.mark.parametrize(
    "observations, cred, org_id, codes, verdict", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_classify(observations, cred, org_id, codes, verdict):
    result = rules.classify(observations, cred, [], org_id)
    assert [c["code"] for c in result["causes"]] == codes
    assert result["verdict"] == verdict
    for item in result["causes"]:
        assert item["summary"] and item["remediation"] and item["evidence"]
        assert GLSA not in json.dumps(item)


# --- proxies --------------------------------------------------------------------------------------
def proxied(
    endpoint_status,
    endpoint_body=None,
    *,
    health_status=200,
    www=None,
    kind=None,
    text=None,
    location=None,
    error=None,
):
    if error:
        return [obs("health", target="proxy", error=error, error_kind="connection")]
    result = [
        obs(
            "health",
            health_status,
            {"database": "ok"} if health_status == 200 else None,
            target="proxy",
            kind=kind if health_status != 200 else None,
            text=text if health_status != 200 else None,
            location=location if health_status != 200 else None,
        )
    ]
    result.append(
        obs(
            "endpoint",
            endpoint_status,
            endpoint_body,
            target="proxy",
            www=www,
            kind=kind,
            text=text,
            location=location,
        )
    )
    return result


PROXY_CASES = [
    (
        "pass",
        proxied(200, HOME)
        + [obs("user", 200, USER_12, target="proxy"), obs("org", 200, ORG1, target="proxy")],
        [],
        True,
    ),
    ("nginx strips", proxied(401, NO_AUTH_12), ["proxy_strips_authorization"], False),
    ("traefik strips on 9.5", proxied(401, NO_AUTH_9), ["proxy_strips_authorization"], False),
    (
        "nginx basic",
        proxied(401, www='Basic realm="grafana"', kind="html", text="401 Authorization Required"),
        ["proxy_basic_auth_intercepts"],
        False,
    ),
    (
        "traefik basic",
        proxied(401, www='Basic realm="traefik"', kind="text", text="401 Unauthorized"),
        ["proxy_basic_auth_intercepts"],
        False,
    ),
    (
        "sub-path 404",
        proxied(404, health_status=404, kind="html", text="404 Not Found"),
        ["proxy_path_mismatch"],
        False,
    ),
    (
        "redirect",
        proxied(
            301,
            health_status=301,
            kind="html",
            text="301 Moved Permanently",
            location=PROXY + "/grafana/",
        ),
        ["proxy_path_mismatch"],
        False,
    ),
    (
        "bad gateway",
        proxied(502, health_status=502, kind="html", text="502 Bad Gateway"),
        ["proxy_unreachable"],
        False,
    ),
    (
        "gateway timeout",
        proxied(504, health_status=504, kind="html", text="504 Gateway Time-out"),
        ["proxy_unreachable"],
        False,
    ),
    (
        "html 503",
        proxied(503, health_status=503, kind="html", text="503 Service Unavailable"),
        ["proxy_unreachable"],
        False,
    ),
    (
        "proxy down",
        proxied(None, error="could not get a response (Connection refused)"),
        ["proxy_unreachable"],
        False,
    ),
]


@pytest.mark.parametrize(
    "proxy_obs, codes, match", [c[1:] for c in PROXY_CASES], ids=[c[0] for c in PROXY_CASES]
)
def test_proxy_causes(proxy_obs, codes, match):
    result = rules.classify(working() + proxy_obs, token_cred(), [], 1)
    assert [c["code"] for c in result["causes"]] == codes
    assert result["verdict"] == ("ok" if not codes else "proxy")
    assert result["parity"]["match"] is match
    endpoint_row = next(r for r in result["parity"]["probes"] if r["probe"] == "endpoint")
    assert endpoint_row["direct"] == 200


def test_proxy_strips_even_when_token_is_expired():
    """Grafana saw no credential through the proxy but an expired one directly: both causes."""
    direct, cred = failing(writer_c("Expired API key", "api-key.expired"))
    result = rules.classify(direct + proxied(401, NO_AUTH_12), cred, [], None)
    assert [c["code"] for c in result["causes"]] == ["proxy_strips_authorization", "token_expired"]
    assert result["verdict"] == "proxy"


def test_same_401_through_proxy_is_parity():
    direct, cred = failing(writer_c("Expired API key", "api-key.expired"))
    result = rules.classify(
        direct + proxied(401, writer_c("Expired API key", "api-key.expired")), cred, [], None
    )
    assert [c["code"] for c in result["causes"]] == ["token_expired"]
    assert result["parity"]["match"] is True


def test_no_credential_through_proxy_is_not_stripping():
    direct, cred = failing(NO_AUTH_12, cred=NONE)
    result = rules.classify(direct + proxied(401, NO_AUTH_12), cred, [], None)
    assert [c["code"] for c in result["causes"]] == ["missing_credentials"]


# --- identity ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "user, status, kind, ident_id, login",
    [
        (USER_12, 200, "service_account", 7, "sa-1-ci"),
        (USER_9, 200, "service_account", 7, "sa-1-ci"),
        (USERS_ONLY, 403, "service_account", None, None),
        (USER_ADMIN, 200, "user", 1, "admin"),
    ],
    ids=["12.2 synthetic", "9.5 profile", "10.4/11.6 forbidden", "user"],
)
def test_identity(user, status, kind, ident_id, login):
    result = rules.classify(working(user=user, user_status=status), token_cred(), [], 1)
    ident = result["identity"]
    assert (ident["kind"], ident["id"], ident["login"], ident["org_id"]) == (
        kind,
        ident_id,
        login,
        1,
    )
    assert ident["authenticated"] is True


# --- admin refinement of an unknown token ---------------------------------------------------------
ACCOUNT = {"id": 7, "name": "ci", "login": "sa-1-ci", "role": "Viewer", "isDisabled": False}


@pytest.mark.parametrize(
    "admin, code",
    [
        (None, "token_invalid"),
        ({"service_account_hint": "ci", "service_account": None}, "service_account_deleted"),
        (
            {
                "service_account_hint": "ci",
                "token_name_hint": "t1",
                "service_account": ACCOUNT,
                "tokens": [{"name": "t2"}],
                "token": None,
            },
            "token_deleted",
        ),
        (
            {
                "service_account_hint": "ci",
                "token_name_hint": "t1",
                "service_account": ACCOUNT,
                "tokens": [{"name": "t1"}],
                "token": {"name": "t1"},
            },
            "token_invalid",
        ),
        ({"service_account_hint": "ci", "service_account": ACCOUNT, "tokens": []}, "token_invalid"),
        ({"error": "HTTP 401", "service_account_hint": "ci"}, "token_invalid"),
    ],
    ids=["no admin", "account gone", "token gone", "other key", "no token hint", "admin failed"],
)
@pytest.mark.parametrize(
    "body",
    [writer_c("Invalid API key", "api-key.invalid"), FALLBACK, {"message": "Invalid API key"}],
    ids=["12.2", "10.4/11.6", "9.5"],
)
def test_refine_invalid(admin, code, body):
    observations, cred = failing(body)
    result = rules.classify(observations, cred, [], None, admin)
    assert [c["code"] for c in result["causes"]] == [code]


def test_admin_identity_details():
    admin = {
        "service_account": ACCOUNT,
        "token": {
            "name": "t1",
            "expiration": None,
            "lastUsedAt": "2026-11-29T10:00:00Z",
            "isRevoked": False,
            "hasExpired": False,
        },
    }
    ident = rules.classify(working(), token_cred(), [], 1, admin)["identity"]
    assert ident["role"] == "Viewer" and ident["disabled"] is False
    assert ident["token_name"] == "t1" and ident["token_last_used_at"] == "2026-11-29T10:00:00Z"


# --- whitespace ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "works, codes", [(True, ["token_whitespace"]), (False, ["token_whitespace", "token_invalid"])]
)
def test_whitespace_trimmed(works, codes):
    lint = rules.lint_token(GLSA + "\n", "token_file")
    cred = rules.describe_credential("token", token=GLSA, lint=lint)
    observations = working() if works else failing(FALLBACK)[0]
    result = rules.classify(observations, cred, lint, None, None, trimmed_works=works)
    assert [c["code"] for c in result["causes"]] == codes
    assert ("works once trimmed" in result["causes"][0]["summary"]) is works


# --- lint ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, codes",
    [
        (GLSA, []),
        (GLSA + "\n", ["token_whitespace"]),
        (" " + GLSA, ["token_whitespace"]),
        ("\ufeff" + GLSA, ["token_whitespace"]),
        (GLSA[:20] + " " + GLSA[20:], ["token_whitespace", "token_malformed"]),
        (BAD_GLSA, ["token_malformed"]),
        (GLSA[:-1], ["token_malformed"]),
        ("glc_eyJvIjoiMTIzIn0=", ["token_malformed"]),
        ("not-a-token", ["token_malformed"]),
        (LEGACY, ["legacy_api_key"]),
        (LEGACY + "\r\n", ["token_whitespace", "legacy_api_key"]),
        ("Bearer " + GLSA, ["malformed_header"]),
    ],
)
def test_lint_token(raw, codes):
    findings = rules.lint_token(raw, "token_file")
    assert [f["code"] for f in findings] == codes
    assert all(GLSA not in f["message"] and LEGACY not in f["message"] for f in findings)


@pytest.mark.parametrize(
    "raw, codes",
    [
        (f"Bearer {GLSA}", []),
        (f"Bearer {GLSA} ", []),
        (f"bearer {GLSA}", ["malformed_header"]),
        (f"BEARER {GLSA}", ["malformed_header"]),
        (f"Bearer  {GLSA}", ["malformed_header"]),
        (GLSA, ["malformed_header"]),
        (f"Token {GLSA}", ["malformed_header", "token_malformed"]),
        (f"Authorization: Bearer {GLSA}", ["malformed_header"]),
        (f"Bearer {GLSA}\n", ["token_whitespace"]),
        (f"Bearer {BAD_GLSA}", ["token_malformed"]),
        (f"Bearer {LEGACY}", ["legacy_api_key"]),
        ("Basic " + base64.b64encode(b"admin:admin").decode(), []),
        ("Basic not-base64!", ["malformed_header"]),
    ],
)
def test_lint_header(raw, codes):
    assert [f["code"] for f in rules.lint_header(raw)] == codes


def test_credential_facts_never_hold_the_secret():
    facts = rules.describe_credential("basic", username="api_key", password=GLSA)
    assert facts["token_format"] == "glsa" and facts["password_is_token"] is True
    assert GLSA not in json.dumps(facts)
    header = rules.describe_credential("header", header=f"Bearer {GLSA}", lint=[])
    assert header["scheme"] == "bearer" and header["redacted"].startswith("glsa_")
    assert GLSA not in json.dumps(header)


def test_basic_password_that_is_a_token():
    observations, cred = failing(
        writer_c("Invalid username or password", "password-auth.failed"),
        cred=basic_cred("ci", GLSA),
    )
    found = rules.classify(observations, cred, [], None)["causes"][0]
    assert found["code"] == "basic_credentials_invalid" and "Bearer" in found["remediation"]


def test_insufficient_role_names_permission():
    found = rules.classify(working(endpoint_status=403, endpoint_body=DENIED), token_cred(), [], 1)[
        "causes"
    ][0]
    assert "serviceaccounts:create" in found["summary"]


def test_verdict_order():
    causes = [
        {"code": "insufficient_role"},
        {"code": "token_expired"},
        {"code": "proxy_unreachable"},
    ]
    assert rules.verdict_for(causes) == "proxy"
    assert rules.verdict_for(causes + [{"code": "tls_error"}]) == "connectivity"
    assert rules.verdict_for([]) == "ok"
    assert set(rules.CAUSE_VERDICT.values()) == set(rules.VERDICT_ORDER)


def test_summary_line():
    result = rules.classify(*failing(writer_c("Expired API key", "api-key.expired")), [], None)
    line = rules.summary_line(result, 0)
    assert line.startswith("verdict authentication: token_expired:") and "Fix:" in line
    ok = rules.summary_line(rules.classify(working(), token_cred(), [], 1), 1)
    assert (
        ok.startswith("verdict ok:")
        and "sa-1-ci" in ok
        and "1 proxy answers every probe with the same status" in ok
    )


@pytest.mark.parametrize(
    "direct_body",
    [writer_c("Invalid API key", "api-key.invalid"), FALLBACK, {"message": "Invalid API key"}],
    ids=["12.2", "10.4/11.6", "9.5"],
)
def test_wrong_token_still_shows_a_stripping_proxy(direct_body):
    """The reverse_proxy role's wrong-token probe: Grafana's answer differs once the header is gone."""
    direct, cred = failing(direct_body)
    stripped = (
        NO_AUTH_9 if "traceID" not in direct_body and "messageId" not in direct_body else NO_AUTH_12
    )
    result = rules.classify(direct + proxied(401, stripped), cred, [], None)
    assert [c["code"] for c in result["causes"]] == ["proxy_strips_authorization", "token_invalid"]
    assert result["parity"]["match"] is False


def test_basic_api_key_header_is_a_token():
    header = "Basic " + base64.b64encode(f"api_key:{GLSA}".encode()).decode()
    cred = header_cred(header)
    assert (
        cred["scheme"] == "basic"
        and cred["token_format"] == "glsa"
        and cred["username"] == "api_key"
    )
    result = rules.classify(
        *failing(writer_c("Invalid API key", "api-key.invalid"), cred=cred), [], None
    )
    assert [c["code"] for c in result["causes"]] == ["token_invalid"]
    ok = rules.classify(working(), cred, [], 1)
    assert ok["verdict"] == "ok" and ok["identity"]["kind"] == "service_account"
