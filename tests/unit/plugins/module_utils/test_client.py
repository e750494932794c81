# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the shared client, at its one seam: ``session.request``."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import (
    GrafanaClient,
    normalise_url,
    retry_after_seconds,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaAPIError,
    GrafanaConnectionError,
    GrafanaInputError,
)
from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import (
    TOKEN,
    FakeResponse,
    ScriptedSession,
    scripted_client,
)


def make(*answers, **kwargs):
    return scripted_client(answers, "http://127.0.0.1:3000/grafana/", **kwargs)


def test_joins_sub_path_and_builds_bearer_and_org_headers():
    client, session, _sleeps = make(FakeResponse(200, {"ok": True}), org_id=2)
    response = client.get("/api/org")
    call = session.calls[0]
    assert call["url"] == "http://127.0.0.1:3000/grafana/api/org"
    assert call["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert call["headers"]["X-Grafana-Org-Id"] == "2"
    assert response.body == {"ok": True}


def test_builds_basic_header_when_no_token():
    client, session, _sleeps = make(
        FakeResponse(200, {}), token=None, username="admin", password="s3cret"
    )
    client.get("/api/user")
    expected = "Basic " + base64.b64encode(b"admin:s3cret").decode()
    assert session.calls[0]["headers"]["Authorization"] == expected


def test_per_request_org_override_and_no_auth():
    client, session, _sleeps = make(FakeResponse(200, {}), org_id=1)
    client.get("/api/health", auth=False, org_id=None)
    headers = session.calls[0]["headers"]
    assert "Authorization" not in headers
    assert "X-Grafana-Org-Id" not in headers


@pytest.mark.parametrize("raw", [TOKEN + "\n", "  " + TOKEN, TOKEN + " \t"])
def test_token_whitespace_is_trimmed(raw):
    client, session, _sleeps = make(FakeResponse(200, {}), token=raw)
    client.get("/api/user")
    assert session.calls[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "raw, fragment",
    [
        (f"Bearer {TOKEN}", "bare key"),
        ("glsa_abc def", "whitespace"),
        ("   ", "empty"),
    ],
)
def test_unusable_tokens_are_input_errors(raw, fragment):
    with pytest.raises(GrafanaInputError) as err:
        make(token=raw)
    assert fragment in str(err.value)
    assert "abc def" not in str(err.value)


@pytest.mark.parametrize("url", ["localhost:3000", "ftp://grafana", "http://", ""])
def test_url_without_scheme_or_host_is_rejected(url):
    with pytest.raises(GrafanaInputError, match="absolute http"):
        normalise_url(url)


def test_get_retries_5xx_then_succeeds_with_backoff():
    client, session, sleeps = make(
        FakeResponse(503, {"message": "busy"}),
        FakeResponse(502, text="bad gw", content_type="text/plain"),
        FakeResponse(200, {"ok": 1}),
    )
    assert client.get("/api/health").status == 200
    assert len(session.calls) == 3
    assert sleeps == [0.5, 1.0]


def test_retry_after_is_honoured():
    client, _session, sleeps = make(
        FakeResponse(429, {"message": "slow down"}, headers={"Retry-After": "2"}),
        FakeResponse(200, {}),
    )
    client.get("/api/user")
    assert sleeps == [2.0]


def test_retry_after_beyond_cap_is_not_waited_for():
    client, session, sleeps = make(
        FakeResponse(503, {"message": "maintenance"}, headers={"Retry-After": "120"})
    )
    with pytest.raises(GrafanaAPIError) as err:
        client.get("/api/user")
    assert sleeps == [] and len(session.calls) == 1
    assert err.value.status == 503


def test_retries_are_capped_and_the_error_says_so():
    client, session, sleeps = make(
        *[FakeResponse(500, {"message": "Internal Server Error"}) for _attempt in range(4)]
    )
    with pytest.raises(GrafanaAPIError) as err:
        client.get("/api/serviceaccounts/search")
    assert len(session.calls) == 4 and len(sleeps) == 3
    assert "after 4 attempts" in str(err.value)
    assert "Internal Server Error" in str(err.value)


def test_post_is_not_retried_on_5xx():
    client, session, _sleeps = make(FakeResponse(500, {"message": "Internal Server Error"}))
    with pytest.raises(GrafanaAPIError):
        client.post("/api/serviceaccounts", {"name": "x"}, expected=(201,))
    assert len(session.calls) == 1


def test_post_is_retried_on_429():
    client, session, _sleeps = make(
        FakeResponse(429, {"message": "Too many"}), FakeResponse(201, {"id": 1})
    )
    assert client.post("/api/serviceaccounts", {"name": "x"}, expected=(201,)).body == {"id": 1}
    assert len(session.calls) == 2


def test_connection_errors_retry_idempotent_only():
    refused = requests.exceptions.ConnectionError(
        "HTTPConnectionPool(...): [Errno 111] Connection refused')"
    )
    client, session, _sleeps = make(refused, FakeResponse(200, {}))
    assert client.get("/api/health").status == 200
    client, session, _sleeps = make(refused)
    with pytest.raises(GrafanaConnectionError) as err:
        client.post("/api/serviceaccounts", {"name": "x"})
    assert len(session.calls) == 1
    assert err.value.kind == "connection"
    assert "Connection refused" in str(err.value)


def test_tls_errors_are_not_retried_and_say_what_to_do():
    client, session, _sleeps = make(requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(GrafanaConnectionError) as err:
        client.get("/api/health")
    assert err.value.kind == "tls" and len(session.calls) == 1
    assert "ca_path" in str(err.value)


def test_timeout_error_names_the_timeout():
    timeouts = [requests.exceptions.ReadTimeout("read timed out") for _attempt in range(4)]
    client, _session, _sleeps = make(*timeouts, timeout=3)
    with pytest.raises(GrafanaConnectionError) as err:
        client.get("/api/health")
    assert err.value.kind == "timeout"
    assert "within 3 s" in str(err.value)


def test_error_carries_grafana_message_and_id_but_no_credential():
    body = {
        "message": "service account already exists",
        "messageId": "serviceaccounts.ErrAlreadyExists",
        "statusCode": 400,
        "traceID": "",
    }
    client, session, _sleeps = make(FakeResponse(400, body))
    with pytest.raises(GrafanaAPIError) as err:
        client.post("/api/serviceaccounts", {"name": "x"}, expected=(201,))
    failure = err.value.fail_kwargs()
    assert failure["status"] == 400
    assert failure["grafana_message_id"] == "serviceaccounts.ErrAlreadyExists"
    assert (
        "POST /api/serviceaccounts failed with HTTP 400 from http://127.0.0.1:3000/grafana"
        in failure["msg"]
    )
    assert TOKEN not in json.dumps(failure)


def test_html_error_page_is_named_as_such():
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    client, _session, _sleeps = make(
        FakeResponse(502, text=page, content_type="text/html"), retries=0
    )
    with pytest.raises(GrafanaAPIError) as err:
        client.get("/api/health")
    assert "HTML page ('502 Bad Gateway')" in str(err.value)
    assert "proxy" in str(err.value)


def test_plain_text_body_is_quoted():
    text = "The expiration date input exceeds the limit for service account access tokens expiration date"
    client, _session, _sleeps = make(
        FakeResponse(400, text=text, content_type="text/plain; charset=utf-8")
    )
    with pytest.raises(GrafanaAPIError) as err:
        client.post("/api/serviceaccounts/1/tokens", {"name": "t"})
    assert "exceeds the limit" in str(err.value)


def test_secret_echoed_in_a_body_is_scrubbed():
    client, _session, _sleeps = make(
        FakeResponse(400, text=f"bad token {TOKEN}", content_type="text/plain")
    )
    with pytest.raises(GrafanaAPIError) as err:
        client.get("/api/user")
    assert TOKEN not in str(err.value)
    assert "glsa_iN" in str(err.value)


def test_now_follows_the_server_date_header():
    client, _session, _sleeps = make(FakeResponse(200, {}))
    client.get("/api/health")
    assert client.now().isoformat() == "2026-11-29T12:00:00+00:00"


def test_plain_http_to_a_remote_host_warns():
    client = GrafanaClient("http://grafana.example.com", token=TOKEN, session=ScriptedSession())
    assert any("plain HTTP" in w for w in client.warnings)
    assert TOKEN not in " ".join(client.warnings)
    local = GrafanaClient("http://127.0.0.1:3000", token=TOKEN, session=ScriptedSession())
    assert local.warnings == []


def test_retry_after_http_date():
    now = GrafanaClient("http://localhost", session=ScriptedSession()).now()
    assert retry_after_seconds("garbage", now) is None
    assert retry_after_seconds("5", now) == 5.0
