# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client's trust rules, proven with a real ``requests`` session against a real HTTP server.

* the credential sent is only ever the one given in the options (``~/.netrc``, ``NETRC`` and
  URL userinfo never replace or add one);
* URLs with userinfo, a query string or a fragment are refused before anything is sent;
* an expected answer that is not Grafana's JSON of the expected shape is an error naming
  what answered;
* every form of a sent credential is scrubbed from text that came back.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import (
    GrafanaClient,
    normalise_url,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaAPIError,
    GrafanaConnectionError,
    GrafanaInputError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_format import (
    scrub,
    secret_forms,
)

TOKEN = "glsa_iNValIdinValiDinvalidinvalidinva_5b582697"
ADMIN_PASSWORD = "netrc-admin-password"


class Server:
    """A loopback HTTP server that records each request's headers and answers as told."""

    def __init__(self):
        self.seen = []
        self.answer = (200, "application/json", json.dumps({"login": "sa-1-ci", "id": 2}))
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self):
                owner.seen.append(
                    {"path": self.path, "authorization": self.headers.get("Authorization")}
                )
                status, content_type, text = owner.answer
                if callable(text):
                    text = text(self.headers)
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _reply

            def log_message(self, *args):  # keep pytest output clean
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server():
    with Server() as srv:
        yield srv


def write_netrc(path):
    path.write_text(f"machine 127.0.0.1 login admin password {ADMIN_PASSWORD}\n", encoding="utf-8")
    path.chmod(0o600)
    return path


ADMIN_BASIC = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()

# credential kind -> (client options, the Authorization the server must see)
CREDENTIALS = {
    "token": (dict(token=TOKEN), f"Bearer {TOKEN}"),
    "basic": (
        dict(username="ci", password="given-password"),
        "Basic " + base64.b64encode(b"ci:given-password").decode(),
    ),
    "none": ({}, None),
}


@pytest.mark.parametrize("source", ["NETRC", "HOME"])
@pytest.mark.parametrize("kind", sorted(CREDENTIALS))
@pytest.mark.parametrize("auth", [True, False])
def test_netrc_never_replaces_or_adds_a_credential(
    server, tmp_path, monkeypatch, source, kind, auth
):
    if source == "NETRC":
        monkeypatch.setenv("NETRC", str(write_netrc(tmp_path / "netrc")))
    else:
        monkeypatch.delenv("NETRC", raising=False)
        monkeypatch.setenv("HOME", str(tmp_path))
        write_netrc(tmp_path / ".netrc")
    options, expected = CREDENTIALS[kind]
    client = GrafanaClient(server.url, retries=0, **options)
    client.get("/api/user", expected=None, auth=auth)
    sent = server.seen[-1]["authorization"]
    assert sent != ADMIN_BASIC
    assert sent == (expected if auth else None)


def test_a_raw_header_given_on_purpose_is_sent_as_is_with_netrc_present(
    server, tmp_path, monkeypatch
):
    monkeypatch.setenv("NETRC", str(write_netrc(tmp_path / "netrc")))
    client = GrafanaClient(server.url, retries=0)
    client.get(
        "/api/user", expected=None, auth=False, headers={"Authorization": "bearer lower-case"}
    )
    assert server.seen[-1]["authorization"] == "bearer lower-case"


def test_environment_proxy_settings_still_apply(server, monkeypatch):
    """trust_env stays on for proxies: NO_PROXY/HTTP_PROXY are honoured (only auth is pinned)."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("NO_PROXY", "")
    client = GrafanaClient(server.url, token=TOKEN, retries=0, timeout=5)
    with pytest.raises(GrafanaConnectionError):
        client.get("/api/user")
    assert server.seen == []
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    client.get("/api/user")
    assert server.seen[-1]["authorization"] == f"Bearer {TOKEN}"


# ------------------------------------------------------------------ URLs


BASES = ["http://127.0.0.1:3000", "https://grafana.example.com/grafana"]
USERINFO = ["admin:admin@", "admin@", ":secret@", "a%40b:p%3Ass@"]
TAILS = ["?orgId=2", "/?orgId=2", "#/dashboards", "?", "/d/abc?orgId=1#x"]


@pytest.mark.parametrize("base,userinfo", list(itertools.product(BASES, USERINFO)))
@pytest.mark.parametrize("option", ["url", "proxy_urls[0]"])
def test_userinfo_in_a_url_is_refused_naming_the_option(base, userinfo, option):
    scheme, rest = base.split("://", 1)
    url = f"{scheme}://{userinfo}{rest}"
    with pytest.raises(GrafanaInputError) as err:
        normalise_url(url, option=option)
    text = str(err.value)
    assert text.startswith(f"{option} ")
    assert "user name or password" in text
    assert "admin:admin" not in text and "secret" not in text and "p%3Ass" not in text


@pytest.mark.parametrize("base,tail", list(itertools.product(BASES, TAILS)))
def test_query_or_fragment_is_refused(base, tail):
    with pytest.raises(GrafanaInputError) as err:
        normalise_url(base + tail)
    assert "query string or fragment" in str(err.value)
    assert "org_id" in str(err.value)


def test_userinfo_url_sends_nothing(server):
    scheme, rest = server.url.split("://", 1)
    with pytest.raises(GrafanaInputError):
        GrafanaClient(f"{scheme}://admin:admin@{rest}", token=TOKEN)
    assert server.seen == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:3000", "http://127.0.0.1:3000/", "https://h/grafana/"]
)
def test_plain_base_urls_are_kept(url):
    assert normalise_url(url) == url.rstrip("/")


def test_a_non_numeric_port_is_a_clear_error():
    with pytest.raises(GrafanaInputError) as err:
        normalise_url("http://127.0.0.1:30x0")
    assert "not a valid URL" in str(err.value)


# ------------------------------------------------------------------ what answered

LOGIN_PAGE = (
    "<!doctype html><html><head><title>Sign in \u2013 Example SSO</title></head>"
    "<body><form>...</form></body></html>"
)

NOT_GRAFANA = [
    (
        (200, "text/html; charset=utf-8", LOGIN_PAGE),
        dict,
        "an HTML page titled 'Sign in \u2013 Example SSO'",
    ),
    ((200, "text/plain", "welcome to the captive portal"), dict, "a non-JSON body (text/plain"),
    ((200, "application/json", ""), dict, "an empty body"),
    (
        (200, "application/json", json.dumps({"serviceAccounts": []})),
        list,
        "JSON of another shape (a object",
    ),
    ((200, "application/json", json.dumps([1, 2])), list, "JSON of another shape (a array"),
    ((200, "application/json", json.dumps(["x"])), dict, "JSON of another shape (a array"),
]


@pytest.mark.parametrize("answer,shape,described", NOT_GRAFANA)
def test_an_expected_status_that_is_not_grafana_json_is_an_error(server, answer, shape, described):
    server.answer = answer
    client = GrafanaClient(server.url + "/grafana", token=TOKEN, retries=0)
    with pytest.raises(GrafanaAPIError) as err:
        client.get("/api/serviceaccounts/search", shape=shape)
    text = str(err.value)
    assert described in text
    assert f"{server.url}/grafana/api/serviceaccounts/search" in text
    assert "instead of Grafana's API" in text


def test_grafana_json_of_the_expected_shape_passes(server):
    server.answer = (200, "application/json", json.dumps([{"id": 1}]))
    client = GrafanaClient(server.url, token=TOKEN, retries=0)
    assert client.get("/api/serviceaccounts/1/tokens", shape=list).body == [{"id": 1}]


def test_a_404_names_the_full_url_and_the_sub_path(server):
    server.answer = (404, "application/json", json.dumps({"message": "Not found"}))
    client = GrafanaClient(server.url + "/wrong", token=TOKEN, retries=0)
    with pytest.raises(GrafanaAPIError) as err:
        client.get("/api/serviceaccounts/search")
    text = str(err.value)
    assert f"{server.url}/wrong/api/serviceaccounts/search" in text
    assert "sub-path" in text and "root_url" in text


def test_a_404_grafana_names_is_not_a_path_problem(server):
    server.answer = (
        404,
        "application/json",
        json.dumps(
            {"message": "service account not found", "messageId": "serviceaccounts.ErrNotFound"}
        ),
    )
    client = GrafanaClient(server.url, token=TOKEN, retries=0)
    with pytest.raises(GrafanaAPIError) as err:
        client.get("/api/serviceaccounts/7")
    assert "sub-path" not in str(err.value)


# ------------------------------------------------------------------ echoed credentials


def echo_page(headers):
    return (
        f"<html><title>401</title><pre>Authorization: {headers.get('Authorization')}</pre></html>"
    )


@pytest.mark.parametrize(
    "options,forms",
    [
        (
            dict(username="admin", password="pass-word-1"),
            ["pass-word-1", base64.b64encode(b"admin:pass-word-1").decode()],
        ),
        (dict(username="admin", password="short"), [base64.b64encode(b"admin:short").decode()]),
        (dict(token=TOKEN), [TOKEN]),
    ],
)
def test_an_echoing_proxy_page_never_carries_the_credential_back(server, options, forms):
    server.answer = (401, "text/html", echo_page)
    client = GrafanaClient(server.url, retries=0, **options)
    with pytest.raises(GrafanaAPIError) as err:
        client.get("/api/user")
    failure = json.dumps(err.value.fail_kwargs())
    for form in forms:
        assert form not in failure


SECRET_CASES = {
    "token": dict(token=TOKEN),
    "long password": dict(username="admin", password="correct horse battery"),
    "short password": dict(username="admin", password="admin"),
    "api key pair": dict(token="eyJrIjoiYWJjIn0="),
}


@pytest.mark.parametrize("case", sorted(SECRET_CASES))
def test_every_encoded_form_is_scrubbed(case):
    options = SECRET_CASES[case]
    forms = secret_forms(options.get("token"), options.get("username"), options.get("password"))
    assert forms, case
    for form in forms:
        for text in (
            form,
            f"x {form} y",
            f"Authorization: Basic {form}",
            f"key={form}&x=1",
            f'{{"echo": "{form}"}}',
        ):
            assert form not in scrub(text, forms), (case, text)


def test_short_secrets_are_matched_as_values_not_inside_words():
    forms = secret_forms(username="admin", password="admin")
    assert scrub("the administrator looked it up", forms) == "the administrator looked it up"
    assert "admin" not in scrub("password=admin;", forms).replace("administrator", "")
    encoded = base64.b64encode(b"admin:admin").decode()
    assert encoded not in scrub(f"Basic {encoded}", forms)


def test_url_quoted_password_is_scrubbed():
    password = "p@ss w/rd&more"
    forms = secret_forms(username="u", password=password)
    assert quote(password, safe="") not in scrub(f"?password={quote(password, safe='')}", forms)


@pytest.mark.parametrize(
    "text",
    [
        "\\1admin:pw-secret@127.0.0.1:3000",
        "admin:pw-secret@127.0.0.1:3000/grafana",
        "ftp://admin:pw-secret@h/x",
        "http//admin:pw-secret@h",
        "admin:pw-secret@h?token=pw-secret",
        "http://admin:pw-secret@h:30x0/",
    ],
)
def test_a_malformed_url_is_never_echoed_with_its_password(text):
    with pytest.raises(GrafanaInputError) as err:
        normalise_url(text)
    assert "pw-secret" not in str(err.value)


@pytest.mark.parametrize(
    "text",
    [
        "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))",  # urllib3
        "Remote end closed connection without response",  # urllib3-future (niquests), same event
    ],
)
def test_a_dropped_connection_is_named_whichever_urllib3_reports_it(text):
    import requests

    class Dropping:
        headers, verify, cert = {}, True, None

        def request(self, *args, **kwargs):
            raise requests.exceptions.ConnectionError(text)

    client = GrafanaClient("http://127.0.0.1:3000", token=TOKEN, retries=0, session=Dropping())
    with pytest.raises(GrafanaConnectionError) as err:
        client.get("/api/user")
    assert "closed the connection without a response" in str(err.value)
