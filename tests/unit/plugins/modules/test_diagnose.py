# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnose module end to end at requests' session seam: what is sent, how often, what comes back."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from ansible_collections.grafana_ops.auth.plugins.module_utils import _diagnose as probe
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_format import (
    glsa_checksum,
)
from ansible_collections.grafana_ops.auth.plugins.modules import diagnose
from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import (
    BASE_URL,
    PROXY_URL,
    FakeGrafanaBehindProxy,
)
from ansible_collections.grafana_ops.auth.tests.unit.toolkit import patch_module_args

DIRECT = BASE_URL
PROXY = PROXY_URL
SECRET = "Zyxwvutsrqponmlkjihgfedcba987654"
TOKEN = f"glsa_{SECRET}_{glsa_checksum('glsa_' + SECRET)}"
ADMIN_PASSWORD = "admin-password-4711"


@pytest.fixture
def grafana(monkeypatch):
    fake = FakeGrafanaBehindProxy(TOKEN, ADMIN_PASSWORD)
    monkeypatch.setattr(
        requests.Session, "request", lambda self, method, url, **kw: fake.request(method, url, **kw)
    )
    return fake


def run(capsys, **args):
    params = dict(url=DIRECT)
    params.update(args)
    with patch_module_args(params), pytest.raises(SystemExit) as exc:
        diagnose.main()
    out = capsys.readouterr().out
    assert TOKEN not in out and SECRET not in out and ADMIN_PASSWORD not in out
    result = json.loads(out)
    result["_rc"] = exc.value.code
    return result


def test_ok_direct_and_proxy_in_eight_requests(grafana, capsys):
    result = run(capsys, token=TOKEN, proxy_urls=[PROXY], org_id=1)
    assert result["verdict"] == "ok" and result["causes"] == [] and result["_rc"] == 0
    assert result["parity"]["match"] is True
    assert [(o["target"], o["probe"], o["status"]) for o in result["observations"]] == [
        ("direct", "health", 200),
        ("direct", "endpoint", 200),
        ("direct", "user", 200),
        ("direct", "org", 200),
        ("proxy", "health", 200),
        ("proxy", "endpoint", 200),
        ("proxy", "user", 200),
        ("proxy", "org", 200),
    ]
    assert len(grafana.sent) == 8 == result["request_count"]
    assert grafana.sent[0][2] is None  # health: no credential
    assert all(c[2] == f"Bearer {TOKEN}" for c in grafana.sent if not c[1].endswith("/api/health"))
    assert all(c[3] == "1" for c in grafana.sent)  # X-Grafana-Org-Id
    assert result["identity"]["kind"] == "service_account" and result["identity"]["id"] == 7
    assert result["msg"].startswith("verdict ok:")
    assert result["changed"] is False


def test_token_file_with_newline_works_once_trimmed(grafana, capsys, tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    result = run(capsys, token_file=str(path))
    assert [f["code"] for f in result["token_lint"]] == ["token_whitespace"]
    assert [c["code"] for c in result["causes"]] == ["token_whitespace"]
    assert "works once trimmed" in result["causes"][0]["summary"]
    assert grafana.sent[1][2] == f"Bearer {TOKEN}"  # probed trimmed


def test_raw_header_sent_verbatim(grafana, capsys):
    result = run(capsys, authorization_header=f"bearer {TOKEN}", fail_on_problem=True)
    assert grafana.sent[1][2] == f"bearer {TOKEN}"
    assert result["_rc"] == 1 and result["failed"] is True
    assert (
        result["verdict"] == "authentication" and result["causes"][0]["code"] == "malformed_header"
    )
    assert "malformed_header" in result["msg"] and "Fix:" in result["msg"]
    assert len(grafana.sent) == 2  # no user/org probe after a 401


def test_proxy_strips_fails_parity_naming_the_cause(grafana, capsys):
    grafana.strip = True
    result = run(capsys, token=TOKEN, proxy_urls=[PROXY], require_parity=True)
    assert result["_rc"] == 1
    assert [c["code"] for c in result["causes"]] == ["proxy_strips_authorization"]
    assert result["parity"]["match"] is False
    assert result["msg"].startswith("Parity failed: proxy_strips_authorization")
    assert len(grafana.sent) == 6


def test_proxy_down(grafana, capsys):
    grafana.proxy_down = True
    result = run(capsys, token=TOKEN, proxy_urls=[PROXY])
    assert result["verdict"] == "proxy" and result["causes"][0]["code"] == "proxy_unreachable"
    assert result["_rc"] == 0  # an observation, not a task failure
    assert len(grafana.sent) == 5


def test_expired_with_admin_details(grafana, capsys):
    grafana.expired = True
    result = run(
        capsys,
        token=TOKEN,
        admin_url_username="admin",
        admin_url_password=ADMIN_PASSWORD,
        service_account="ci",
        token_name="ci-token",
    )
    assert result["verdict"] == "authentication" and result["causes"][0]["code"] == "token_expired"
    assert any("2026-11-28" in line for line in result["causes"][0]["evidence"])
    assert result["identity"]["role"] == "Viewer" and result["identity"]["token_expired"] is True


def test_org_mismatch_names_the_token_org(grafana, capsys):
    result = run(capsys, token=TOKEN, org_id=2)
    assert result["causes"][0]["code"] == "org_mismatch"
    assert "org 1" in result["causes"][0]["summary"]
    assert grafana.sent[-1][3] is None  # asked without the org header


def test_echoed_secret_is_scrubbed(grafana, capsys):
    grafana.echo_token = True
    other = f"glsa_{'a' * 32}_{glsa_checksum('glsa_' + 'a' * 32)}"
    result = run(capsys, token=other)
    assert other not in json.dumps(result)
    assert result["causes"][0]["code"] == "token_invalid"


def test_missing_token_file_fails_clearly(grafana, capsys, tmp_path):
    result = run(capsys, token_file=str(tmp_path / "absent"))
    assert result["_rc"] == 1 and "cannot be read" in result["msg"]
    assert grafana.sent == []


def test_no_credential(grafana, capsys, monkeypatch):
    monkeypatch.delenv("GRAFANA_TOKEN", raising=False)
    result = run(capsys)
    assert result["causes"][0]["code"] == "missing_credentials" and result["credential"] == "(none)"


def test_endpoint_must_be_a_path(grafana, capsys):
    result = run(capsys, token=TOKEN, endpoint="http://elsewhere/api/user")
    assert result["_rc"] == 1 and "must be a path" in result["msg"]


# --- issue 10: never a false "ok" ---------------------------------------------------------------
LOGIN_PAGE = "<html><head><title>Sign in - Example SSO</title></head><body>login</body></html>"
NGINX_403 = "<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center></body></html>"


@pytest.mark.parametrize(
    "answer, code",
    [
        ((403, NGINX_403, "text/html"), "proxy_answers_itself"),
        ((200, LOGIN_PAGE, "text/html"), "proxy_answers_itself"),
        (
            (500, json.dumps({"error": "policy check failed"}), "application/json"),
            "proxy_answers_itself",
        ),
    ],
    ids=["nginx own 403", "200 login page", "500 json from a sidecar"],
)
def test_proxy_answering_for_itself_is_never_ok(grafana, capsys, answer, code):
    grafana.proxy_answer = answer
    result = run(capsys, token=TOKEN, proxy_urls=[PROXY], require_parity=True)
    assert result["verdict"] == "proxy" and [c["code"] for c in result["causes"]] == [code]
    assert result["parity"]["match"] is False and result["_rc"] == 1
    assert "agree" not in result["msg"] and "same status" not in result["msg"]


def test_header_limit_through_the_proxy(grafana, capsys):
    grafana.proxy_auth_answer = (
        400,
        "<html><head><title>400 Request Header Or Cookie Too Large</title></head></html>",
        "text/html",
    )
    result = run(capsys, token=TOKEN, proxy_urls=[PROXY])
    assert [c["code"] for c in result["causes"]] == ["proxy_answers_itself"]
    assert "large_client_header_buffers" in result["causes"][0]["summary"]


@pytest.mark.parametrize("status", [400, 405, 407, 418, 431])
def test_unexpected_4xx_everywhere_fails(grafana, capsys, status):
    grafana.everything = (status, {"message": "no"})
    result = run(capsys, token=TOKEN, fail_on_problem=True)
    assert result["_rc"] == 1 and result["verdict"] != "ok"
    assert [c["code"] for c in result["causes"]] == ["unexpected_response"]
    assert result["identity"]["authenticated"] is False


@pytest.mark.parametrize(
    "content",
    ["", "\n", "\n\n\n", "  \t\r\n", "\ufeff\n"],
    ids=["empty", "newline", "newlines", "blanks", "bom"],
)
def test_blank_token_file_is_missing_credentials_without_a_request(
    grafana, capsys, tmp_path, content
):
    path = tmp_path / "token"
    path.write_text(content, encoding="utf-8")
    result = run(capsys, token_file=str(path), proxy_urls=[PROXY])
    assert grafana.sent == [] and result["request_count"] == 0 and result["observations"] == []
    assert [c["code"] for c in result["causes"]] == ["missing_credentials"]
    assert result["verdict"] == "authentication" and result["parity"]["match"] is False
    assert (
        str(path) in result["causes"][0]["summary"]
        and str(path) in result["token_lint"][0]["message"]
    )


def test_blank_token_file_with_require_parity_says_nothing_was_compared(grafana, capsys, tmp_path):
    path = tmp_path / "token"
    path.write_text("\n")
    result = run(capsys, token_file=str(path), proxy_urls=[PROXY], require_parity=True)
    assert result["_rc"] == 1 and result["msg"].startswith("Parity not checked: no probe was sent.")
    assert "missing_credentials" in result["msg"] and grafana.sent == []


def test_blank_token_option(grafana, capsys):
    result = run(capsys, token="   ")
    assert grafana.sent == [] and [c["code"] for c in result["causes"]] == ["missing_credentials"]


def test_short_admin_password_keeps_prose_and_never_survives(grafana):
    """Issue 10 item 5: password 'admin' must not turn prose into 'a…(redacted) lookup', and must
    not survive where it occurs as a value (an echoed header, an error text).

    Checked on diagnose() itself: Ansible's own no_log masking (AnsibleModule.exit_json) later
    replaces every occurrence of a no_log value, word or not, with '********'; the module's prose
    avoids the word 'admin' so that the common default password leaves it readable.
    """
    grafana.expired = True
    grafana.admin_password = "admin"
    params = dict(
        url=DIRECT,
        token=TOKEN,
        admin_url_username="admin",
        admin_url_password="admin",
        admin_token=None,
        service_account="ci",
        token_name="ci-token",
        proxy_urls=[],
        org_id=None,
        validate_certs=True,
        timeout=10,
    )
    result, _warnings = probe.diagnose(params)
    text = json.dumps(result, ensure_ascii=False)
    assert "account lookup: token 'ci-token'" in text and "(redacted)" not in text.replace(
        result["credential"], ""
    )
    assert "YWRtaW46YWRtaW4=" not in text  # Basic admin:admin never appears
    assert TOKEN not in text
    assert result["causes"][0]["code"] == "token_expired"


def test_echoed_short_password_is_scrubbed_where_it_is_a_value(grafana):
    grafana.echo_token = True
    params = dict(
        url=DIRECT,
        authorization_header="Bearer pass",
        proxy_urls=[],
        validate_certs=True,
        timeout=10,
    )
    result, _warnings = probe.diagnose(params)
    endpoint = result["observations"][1]
    assert endpoint["message"].startswith("Invalid API key ") and "pass" not in endpoint["message"]
    assert all("pass" not in line for c in result["causes"] for line in c["evidence"])


def test_echoed_basic_credentials_are_scrubbed_as_values(grafana, capsys):
    grafana.echo_token = True
    result = run(capsys, url_username="ci", url_password="hunter2x")
    text = json.dumps(result)
    assert "hunter2x" not in text and base64.b64encode(b"ci:hunter2x").decode() not in text


def test_keys_verifies_many_tokens_in_one_run(grafana, capsys):
    other = f"glsa_{'A' * 32}_{glsa_checksum('glsa_' + 'A' * 32)}"
    result = run(
        capsys,
        proxy_urls=[PROXY],
        org_id=1,
        keys=[
            {"token": TOKEN, "label": "ci/ci-token", "service_account": "ci"},
            {"token": other, "label": "ci/other"},
            {"token": TOKEN},
        ],
    )
    assert result["_rc"] == 0  # neither fail_on_problem nor require_parity
    assert other not in json.dumps(result)
    assert [(k["label"], k["passed"], k["verdict"]) for k in result["key_results"]] == [
        ("ci/ci-token", True, "ok"),
        ("ci/other", False, "authentication"),
        ("keys[2]", True, "ok"),
    ]
    assert result["verdict"] == "authentication"
    assert {c["key"] for c in result["causes"]} == {"ci/other"}
    assert result["msg"].startswith(
        "2 of 3 key(s) passed; did not pass: ci/other (verdict authentication"
    )
    # every key got the whole diagnosis, directly and through the proxy, with its own credential
    assert result["request_count"] == len(grafana.sent) == 8 + 2 + 2 + 8
    assert sum(1 for c in grafana.sent if c[2] == f"Bearer {other}") == 2


def test_keys_fail_on_problem_names_the_failing_key(grafana, capsys):
    other = f"glsa_{'A' * 32}_{glsa_checksum('glsa_' + 'A' * 32)}"
    result = run(
        capsys,
        fail_on_problem=True,
        keys=[{"token": TOKEN, "label": "good"}, {"token": other, "label": "bad"}],
    )
    assert result["_rc"] == 1 and result["failed"] is True
    assert (
        "1 of 2 key(s) passed" in result["msg"] and "bad (verdict authentication" in result["msg"]
    )
    assert other not in result["msg"]


def test_keys_require_parity_fails_when_the_proxy_strips(grafana, capsys):
    grafana.strip = True
    result = run(
        capsys, proxy_urls=[PROXY], require_parity=True, keys=[{"token": TOKEN, "label": "k"}]
    )
    assert result["_rc"] == 1
    assert (
        result["key_results"][0]["passed"] is False
        and result["key_results"][0]["verdict"] == "proxy"
    )
    assert "proxy_strips_authorization" in result["msg"]


def test_keys_all_ok_passes_with_fail_on_problem(grafana, capsys):
    result = run(
        capsys,
        fail_on_problem=True,
        require_parity=True,
        proxy_urls=[PROXY],
        keys=[{"token": TOKEN, "label": "a"}, {"token": TOKEN, "label": "b"}],
    )
    assert result["_rc"] == 0 and result["verdict"] == "ok" and result["causes"] == []
    assert result["msg"] == "2 of 2 key(s) passed."
    assert all(k["passed"] and k["identity"]["authenticated"] for k in result["key_results"])
