# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one verdict rule as a generated truth table.

Every combination of what Grafana answers directly x what a proxy answers x which kind of
credential is under test goes through the real rules (:func:`_diagnosis.classify`), with the
observations the prober would record (same probe order, same skips).  For each row:

* verdict ``ok`` <=> the direct answer proves an identity (Grafana's JSON, 2xx, identity read
  back) and every proxy probe has the same status (and Grafana's JSON where Grafana answered);
* never a non-``ok`` verdict without a cause, never an ``ok`` with a cause;
* every cause has a summary, a remediation and evidence; the summary line says "same status"
  only for ``ok``.

The expectation is computed from the generator's own knowledge of each answer (which answers
are "Grafana proving an identity", which proxy answers pass the request through unchanged),
not from the rules under test.
"""

from __future__ import annotations

import base64
import itertools
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
PATHS = {
    "health": "/api/health",
    "endpoint": "/api/dashboards/home",
    "user": "/api/user",
    "org": "/api/org",
}
AUTHENTICATED = ("endpoint", "user", "org")


def writer_c(message, message_id, status=401):
    return {
        "extra": None,
        "message": message,
        "messageId": message_id,
        "statusCode": status,
        "traceID": "",
    }


# An answer: (status, body kind, payload, headers) or ("error", kind, text).
def json_answer(status, body, **headers):
    return {"status": status, "body": "json", "data": body, "headers": headers}


def page(status, kind, text="", **headers):
    return {"status": status, "body": kind, "text": text, "headers": headers}


def no_answer(kind, text):
    return {"error": text, "error_kind": kind}


HEALTH = json_answer(200, {"database": "ok", "version": "12.2.0"})
HOME = json_answer(200, {"meta": {"isHome": True}, "dashboard": {"title": "Home"}})
USER = json_answer(
    200, {"id": 0, "uid": "service-account:7", "login": "sa-1-ci", "name": "ci", "orgId": 1}
)
USER_ADMIN = json_answer(200, {"id": 1, "uid": "u1", "login": "admin", "name": "admin", "orgId": 1})
USERS_ONLY = json_answer(403, {"message": "Endpoint only available for users"})
ORG = json_answer(200, {"id": 1, "name": "Main Org.", "address": {}})
DENIED = json_answer(
    403,
    {
        "accessErrorId": "ACE0123456789",
        "title": "Access denied",
        "message": "You'll need additional permissions to perform this action. "
        "Permissions needed: dashboards:read",
    },
)

# Answers that are not success, not identity: the same set serves Grafana directly and a proxy.
FAILURES = {
    **{
        f"401 {mid}": json_answer(401, writer_c(msg, mid))
        for msg, mid in [
            ("Unauthorized", "auth.unauthorized"),
            ("Invalid API key", "api-key.invalid"),
            ("Expired API key", "api-key.expired"),
            ("Revoked API key", "api-key.revoked"),
            (
                "API key does not belong to the requested organization",
                "api-key.organization-mismatch",
            ),
            ("Unauthorized", "identity.disabled"),
            ("Invalid username or password", "password-auth.failed"),
        ]
    },
    "401 fallback": json_answer(401, {"message": "Unauthorized", "traceID": ""}),
    "401 9.x invalid": json_answer(401, {"message": "Invalid API key"}),
    "403 access denied": DENIED,
    "403 users only": USERS_ONLY,
    "400 json": json_answer(400, {"message": "bad request", "traceID": ""}),
    "404 json": json_answer(404, {"message": "Not found"}),
    "405 json": json_answer(405, {"message": "Method Not Allowed"}),
    "418 json": json_answer(418, {"message": "I'm a teapot"}),
    "431 json": json_answer(431, {"message": "Request Header Fields Too Large"}),
    "500 json": json_answer(500, {"message": "Internal Server Error", "traceID": ""}),
    "500 sidecar json": json_answer(500, {"error": "policy check failed", "code": 500}),
    "503 json": json_answer(503, {"message": "Service Unavailable"}),
    "200 html": page(200, "html", "Sign in - Example SSO"),
    "200 text": page(200, "text", "captive portal"),
    "200 empty": page(200, "empty"),
    "200 json not grafana": json_answer(200, ["not", "an", "object"]),
    "403 html": page(403, "html", "403 Forbidden"),
    "400 html": page(400, "html", "400 Request Header Or Cookie Too Large"),
    "404 html": page(404, "html", "404 Not Found"),
    "431 empty": page(431, "empty"),
    "500 html": page(500, "html", "500 Internal Server Error"),
    "502 html": page(502, "html", "502 Bad Gateway"),
    "connection refused": no_answer("connection", "could not get a response (Connection refused)"),
    "timeout": no_answer("timeout", "timed out after 30 s"),
}
PROXY_ONLY = {
    "401 basic challenge": page(
        401, "html", "401 Authorization Required", **{"WWW-Authenticate": 'Basic realm="grafana"'}
    ),
    "401 digest challenge": page(
        401, "text", "Unauthorized", **{"WWW-Authenticate": 'Digest realm="x", nonce="n"'}
    ),
    "302 to login": page(
        302, "html", "302 Found", Location="https://sso.example.com/login?next=/api"
    ),
    "301 sub-path": page(301, "html", "301 Moved Permanently", Location=PROXY + "/grafana/"),
    "413 html": page(413, "html", "413 Request Entity Too Large"),
}

# What Grafana answers directly: per authenticated probe.  ``proven`` is the generator's truth.
DIRECT_CASES = {
    "ok 12.x": ({"endpoint": HOME, "user": USER, "org": ORG}, True),
    "ok 10.x/11.x users only": ({"endpoint": HOME, "user": USERS_ONLY, "org": ORG}, True),
    "ok user": ({"endpoint": HOME, "user": USER_ADMIN, "org": ORG}, True),
    "ok 9.x legacy key": (
        {"endpoint": HOME, "user": json_answer(404, {"message": "User not found"}), "org": ORG},
        True,
    ),
    "endpoint ok, user 404, org html": (
        {
            "endpoint": HOME,
            "user": json_answer(404, {"message": "User not found"}),
            "org": FAILURES["200 html"],
        },
        False,
    ),
    "endpoint ok, user html": ({"endpoint": HOME, "user": FAILURES["200 html"], "org": ORG}, False),
    "endpoint ok, user 400": ({"endpoint": HOME, "user": FAILURES["400 json"], "org": ORG}, False),
    "endpoint ok, org 418": ({"endpoint": HOME, "user": USER, "org": FAILURES["418 json"]}, False),
    "endpoint ok, user json list": (
        {"endpoint": HOME, "user": FAILURES["200 json not grafana"], "org": ORG},
        False,
    ),
    **{
        name: ({probe: answer for probe in AUTHENTICATED}, False)
        for name, answer in FAILURES.items()
    },
}
PROXY_CASES = {
    "no proxy": None,
    "passes through": "same",
    **{f"all {name}": answer for name, answer in {**FAILURES, **PROXY_ONLY}.items()},
    **{
        f"authenticated {name}": ("auth", answer)
        for name, answer in {**FAILURES, **PROXY_ONLY}.items()
    },
}
CREDENTIALS = {
    "token": rules.describe_credential("token", token=GLSA, lint=[]),
    "basic": rules.describe_credential("basic", username="admin", password="admin-password"),
    "none": rules.describe_credential("none"),
    "malformed": rules.describe_credential(
        "header", header=f"bearer {GLSA}", lint=rules.lint_header(f"bearer {GLSA}")
    ),
}


def observation(target, base, probe, answer):
    item = {
        "url": base + PATHS[probe],
        "base_url": base,
        "target": target,
        "probe": probe,
        "status": None,
        "message": None,
        "message_id": None,
        "www_authenticate": None,
        "location": None,
        "body": None,
        "version": None,
        "elapsed_ms": 1.0,
        "error": None,
        "error_kind": None,
        "data": None,
    }
    if "error" in answer:
        item.update(error=answer["error"], error_kind=answer["error_kind"])
        return item
    headers = answer.get("headers") or {}
    item.update(
        status=answer["status"],
        body=answer["body"],
        www_authenticate=headers.get("WWW-Authenticate"),
        location=headers.get("Location"),
    )
    if answer["body"] == "json":
        data = answer["data"]
        item["data"] = data
        if isinstance(data, dict):
            item.update(message=data.get("message"), message_id=data.get("messageId"))
    else:
        item["message"] = answer.get("text") or None
    return item


def probe_run(target, base, answer_for):
    """The prober's order and skips: health; endpoint; user and org unless 401/5xx/no answer."""
    out = [observation(target, base, "health", answer_for("health"))]
    if out[-1]["error"]:
        return out
    out.append(observation(target, base, "endpoint", answer_for("endpoint")))
    endpoint = out[-1]
    if endpoint["error"] or endpoint["status"] == 401 or endpoint["status"] >= 500:
        return out
    out.extend(observation(target, base, probe, answer_for(probe)) for probe in ("user", "org"))
    return out


def rows():
    for (dname, (dcase, proven)), (pname, pcase), (cname, cred) in itertools.product(
        DIRECT_CASES.items(), PROXY_CASES.items(), CREDENTIALS.items()
    ):
        yield dname, dcase, proven, pname, pcase, cname, cred


def run_row(dcase, pcase, cred):
    direct_answer = {"health": HEALTH, **dcase}
    observations = probe_run("direct", DIRECT, direct_answer.__getitem__)
    if pcase is None:
        return observations, observations, []
    if pcase == "same":
        proxied = probe_run("proxy", PROXY, direct_answer.__getitem__)
    elif isinstance(pcase, tuple):
        proxied = probe_run(
            "proxy", PROXY, lambda probe: direct_answer[probe] if probe == "health" else pcase[1]
        )
    else:
        proxied = probe_run("proxy", PROXY, lambda probe: pcase)
    return observations + proxied, observations, proxied


def statuses_equal(direct_obs, proxy_obs):
    """Every probe: same status (None when not sent), and JSON of the same type (object/list)
    where Grafana answered JSON."""
    direct = {o["probe"]: o for o in direct_obs}
    proxy = {o["probe"]: o for o in proxy_obs}
    for probe in set(direct) | set(proxy):
        d, p = direct.get(probe) or {}, proxy.get(probe) or {}
        if d.get("status") != p.get("status") or (d.get("body") == "json") != (
            p.get("body") == "json"
        ):
            return False
        if d.get("body") == "json" and type(d.get("data")) is not type(p.get("data")):
            return False
    return True


ROWS = list(rows())


def test_the_table_is_large():
    assert len(ROWS) >= 1000
    assert sum(1 for r in ROWS if r[2]) >= 100  # plenty of rows where the identity is proven


@pytest.mark.parametrize("dname", list(DIRECT_CASES))
def test_truth_table(dname):
    failures = []
    for row in ROWS:
        if row[0] != dname:
            continue
        _d, dcase, proven, pname, pcase, cname, cred = row
        observations, direct_obs, proxy_obs = run_row(dcase, pcase, cred)
        equal = pcase is None or statuses_equal(direct_obs, proxy_obs)
        result = rules.classify(observations, cred, [], None)
        codes = [c["code"] for c in result["causes"]]
        label = (
            f"direct {dname!r} x proxy {pname!r} x credential {cname!r}: "
            f"verdict {result['verdict']}, causes {codes}"
        )
        expected_ok = proven and equal
        if (result["verdict"] == "ok") != expected_ok:
            failures.append(f"{label}; expected ok={expected_ok}")
        if result["verdict"] != "ok" and not codes:
            failures.append(f"{label}; a non-ok verdict without a cause")
        if result["verdict"] == "ok" and codes:
            failures.append(f"{label}; ok with a cause")
        if result["verdict"] != "ok" and result["verdict"] != rules.verdict_for(result["causes"]):
            failures.append(f"{label}; verdict is not the causes' category")
        if pcase is not None and not equal and result["parity"]["match"]:
            failures.append(f"{label}; parity.match although the statuses differ")
        if not equal and not any(
            rules.CAUSE_VERDICT[c] in ("proxy", "connectivity") for c in codes
        ):
            failures.append(f"{label}; a disagreeing proxy without a proxy cause")
        for item in result["causes"]:
            if not (item["summary"] and item["remediation"] and item["evidence"]):
                failures.append(f"{label}; cause {item['code']} lacks summary/remediation/evidence")
        line = rules.summary_line(result, 0 if pcase is None else 1)
        if ("same status" in line) != (result["verdict"] == "ok" and pcase is not None):
            failures.append(f"{label}; summary line {line!r}")
        if GLSA in json.dumps(result):
            failures.append(f"{label}; the token appears in the result")
    assert not failures, f"{len(failures)} rows break the rule:\n" + "\n".join(failures[:20])


@pytest.mark.parametrize(
    "pname, code",
    [
        ("all 403 html", "proxy_answers_itself"),
        ("authenticated 403 html", "proxy_answers_itself"),
        ("authenticated 400 html", "proxy_answers_itself"),
        ("authenticated 431 empty", "proxy_answers_itself"),
        ("authenticated 413 html", "proxy_answers_itself"),
        ("all 200 html", "proxy_answers_itself"),
        ("all 302 to login", "proxy_answers_itself"),
        ("all 500 sidecar json", "proxy_answers_itself"),
        ("all 404 html", "proxy_path_mismatch"),
        ("all 301 sub-path", "proxy_path_mismatch"),
        ("all 401 basic challenge", "proxy_basic_auth_intercepts"),
        ("authenticated 401 auth.unauthorized", "proxy_strips_authorization"),
        ("all 502 html", "proxy_unreachable"),
        ("all connection refused", "proxy_unreachable"),
        ("authenticated 418 json", "proxy_status_mismatch"),
    ],
)
def test_proxy_answers_are_named(pname, code):
    """Issue 10 item 1: each way a proxy answers for itself is named, not 'ok'."""
    observations, _direct, _proxy = run_row(
        DIRECT_CASES["ok 12.x"][0], PROXY_CASES[pname], CREDENTIALS["token"]
    )
    result = rules.classify(observations, CREDENTIALS["token"], [], None)
    assert [c["code"] for c in result["causes"]] == [code]
    assert result["verdict"] == "proxy" and result["parity"]["match"] is False
    assert "agree" not in rules.summary_line(result, 1) and "same status" not in rules.summary_line(
        result, 1
    )


@pytest.mark.parametrize("status", [400, 405, 407, 418, 431])
@pytest.mark.parametrize("kind", ["json", "html", "empty"])
def test_unexpected_4xx_on_every_authenticated_probe_is_not_ok(status, kind):
    """Issue 10 item 2: the same 4xx on endpoint, /api/user and /api/org proves nothing."""
    answer = (
        json_answer(status, {"message": "nope"}) if kind == "json" else page(status, kind, "nope")
    )
    observations = probe_run(
        "direct", DIRECT, lambda probe: HEALTH if probe == "health" else answer
    )
    result = rules.classify(observations, CREDENTIALS["token"], [], None)
    assert result["verdict"] != "ok"
    assert [c["code"] for c in result["causes"]] == ["unexpected_response"]
    assert result["identity"]["authenticated"] is False


def test_basic_credential_rows_are_real():
    """Guard against a generator that never exercises the Basic header facts."""
    cred = CREDENTIALS["basic"]
    assert cred["scheme"] == "basic" and "admin-password" not in json.dumps(cred)
    header = "Basic " + base64.b64encode(b"admin:admin-password").decode()
    assert rules.describe_credential("header", header=header, lint=[])["scheme"] == "basic"
