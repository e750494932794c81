# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reliability rules of the client, table-driven at the ``session.request`` seam.

What is retried (idempotent methods on connection errors, 429 and 5xx; POST only on 429),
what never is (read timeouts, TLS errors, POST on 5xx or a dropped connection), how long it
waits (Retry-After, capped backoff) and what the final error says.
"""

from __future__ import annotations

import pytest
import requests

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import (
    GrafanaClient,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaAPIError,
    GrafanaConnectionError,
)
from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import (
    TOKEN,
    FakeResponse,
    ScriptedSession,
    scripted_client,
)

PASSWORD = "s3cret-Passw0rd-for-tests"


def make(answers, **kwargs):
    return scripted_client(answers, **kwargs)


def ok():
    return FakeResponse(200, {"ok": True})


def status(code, retry_after=None, body=None, content_type="application/json"):
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return FakeResponse(
        code,
        body if body is not None else {"message": "busy"},
        headers=headers,
        content_type=content_type,
    )


def drop():
    return requests.exceptions.ConnectionError(
        "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"
    )


def read_timeout():
    return requests.exceptions.ReadTimeout("HTTPConnectionPool: Read timed out. (read timeout=2)")


# method, answers, expected outcome ("ok" or the error type), calls made, sleeps
RETRY_TABLE = [
    ("GET", [status(503, "1"), status(503, "1"), ok()], "ok", 3, [1.0, 1.0]),
    ("GET", [status(429, "2"), ok()], "ok", 2, [2.0]),
    ("GET", [status(502), ok()], "ok", 2, [0.5]),
    ("GET", [status(500), status(500), status(500), ok()], "ok", 4, [0.5, 1.0, 2.0]),
    ("GET", [status(503)] * 4, GrafanaAPIError, 4, [0.5, 1.0, 2.0]),
    ("DELETE", [status(503, "0"), ok()], "ok", 2, [0.0]),
    ("PATCH", [drop(), ok()], "ok", 2, [0.5]),
    ("GET", [drop(), drop(), drop(), drop()], GrafanaConnectionError, 4, [0.5, 1.0, 2.0]),
    # a read timeout is never retried: the user's timeout bounds the task
    ("GET", [read_timeout()], GrafanaConnectionError, 1, []),
    (
        "GET",
        [requests.exceptions.SSLError("certificate verify failed")],
        GrafanaConnectionError,
        1,
        [],
    ),
    # POST: only 429 (Grafana did not process it) is retried
    ("POST", [status(429, "1"), ok()], "ok", 2, [1.0]),
    ("POST", [status(500)], GrafanaAPIError, 1, []),
    ("POST", [status(503, "1")], GrafanaAPIError, 1, []),
    ("POST", [drop()], GrafanaConnectionError, 1, []),
    ("POST", [read_timeout()], GrafanaConnectionError, 1, []),
    # Retry-After longer than the cap: no waiting at all
    ("GET", [status(429, "3600")], GrafanaAPIError, 1, []),
    ("GET", [status(503, "31")], GrafanaAPIError, 1, []),
    ("GET", [status(503, "30"), ok()], "ok", 2, [30.0]),
    # 4xx other than 429 are answers, not transient
    ("GET", [status(404)], GrafanaAPIError, 1, []),
    ("GET", [status(401)], GrafanaAPIError, 1, []),
]


@pytest.mark.parametrize("method,answers,outcome,calls,sleeps", RETRY_TABLE)
def test_retry_table(method, answers, outcome, calls, sleeps):
    client, session, slept = make(answers)
    if outcome == "ok":
        assert client.request(method, "/api/x", body={} if method != "GET" else None).status == 200
    else:
        with pytest.raises(outcome):
            client.request(method, "/api/x", body={} if method != "GET" else None)
    assert len(session.calls) == calls
    assert slept == sleeps
    assert not session.answers, "every queued answer was used"


def test_backoff_is_capped():
    client, _session, slept = make([status(500)] * 7, retries=6, max_retry_wait=3.0)
    with pytest.raises(GrafanaAPIError):
        client.get("/api/x")
    assert slept == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_retries_exhausted_message_names_status_attempts_and_body():
    client, _session, _slept = make(
        [status(503, "0", body="Service Unavailable", content_type="text/plain")] * 4
    )
    with pytest.raises(GrafanaAPIError) as err:
        client.get("/api/serviceaccounts/search")
    text = str(err.value)
    assert "GET /api/serviceaccounts/search failed with HTTP 503 after 4 attempts" in text
    assert "Service Unavailable" in text
    assert err.value.status == 503


def test_retry_after_beyond_the_cap_is_named():
    client, _session, _slept = make([status(429, "3600", body={"message": "Too Many Requests"})])
    with pytest.raises(GrafanaAPIError) as err:
        client.get("/api/x")
    text = str(err.value)
    assert "HTTP 429" in text and "Retry-After" in text and "3600" in text and "30 s" in text


def test_http_date_retry_after():
    client, _session, slept = make([status(503, "Sun, 29 Nov 2026 12:00:05 GMT"), ok()])
    client.get("/api/x")
    assert len(slept) == 1 and 0 <= slept[0] <= 5


def test_html_error_page_names_status_and_title_never_the_markup():
    page = (
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
        "<hr>nginx</body></html>"
    )
    client, _session, _slept = make([status(502, body=page, content_type="text/html")] * 4)
    with pytest.raises(GrafanaAPIError) as err:
        client.get("/api/health")
    text = str(err.value)
    assert "HTTP 502" in text and "HTML page" in text and "502 Bad Gateway" in text
    assert "<html" not in text and "proxy" in text


def test_dropped_connection_message_is_plain():
    client, _session, _slept = make([drop()], retries=0)
    with pytest.raises(GrafanaConnectionError) as err:
        client.get("/api/health")
    assert err.value.kind == "connection"
    assert "could not get a response" in str(err.value)
    assert "Traceback" not in str(err.value)


def test_timeout_message_names_the_timeout_and_is_not_retried():
    client, session, _slept = make([read_timeout()], timeout=2)
    with pytest.raises(GrafanaConnectionError) as err:
        client.get("/api/health")
    assert err.value.kind == "timeout" and "no response within 2 s" in str(err.value)
    assert [c["method"] for c in session.calls] == ["GET"]


@pytest.mark.parametrize(
    "url,credential,warns",
    [
        ("http://grafana.example.com", {"token": TOKEN}, True),
        ("http://10.0.0.5:3000", {"username": "admin", "password": PASSWORD}, True),
        ("http://127.0.0.1:3000", {"token": TOKEN}, False),
        ("http://[::1]:3000", {"token": TOKEN}, False),
        ("http://localhost:3000", {"token": TOKEN}, False),
        ("https://grafana.example.com", {"token": TOKEN}, False),
        ("http://grafana.example.com", {"token": None}, False),
    ],
)
def test_plain_http_warning(url, credential, warns):
    client = GrafanaClient(url, session=ScriptedSession(), **credential)
    assert bool([w for w in client.warnings if "plain HTTP" in w]) is warns
    for warning in client.warnings:
        assert TOKEN not in warning and PASSWORD not in warning


def test_no_credential_in_any_error_text():
    """A proxy or Grafana echoing the client's own credential back never reaches a message."""
    for credential, secret in (
        ({"token": TOKEN}, TOKEN),
        ({"username": "admin", "password": PASSWORD, "token": None}, PASSWORD),
    ):
        client, _session, _slept = make(
            [status(400, body={"message": f"echo {secret}"})], **credential
        )
        with pytest.raises(GrafanaAPIError) as err:
            client.get("/api/x")
        assert secret not in str(err.value)
        assert "(redacted)" in str(err.value)


@pytest.mark.parametrize(
    "code,words",
    [
        (429, "rate limiting"),
        (502, "unavailable or overloaded"),
        (503, "unavailable or overloaded"),
        (504, "unavailable or overloaded"),
        (500, "internal error"),
    ],
)
def test_status_hint_for_transient_statuses(code, words):
    client, _session, _slept = make([status(code)] * 4)
    with pytest.raises(GrafanaAPIError) as err:
        client.get("/api/x")
    assert words in str(err.value)
