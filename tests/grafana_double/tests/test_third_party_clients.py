"""Issue 13 item 3: two Python clients people drive Grafana with, run against every profile.

``grafana-client`` (niquests) and ``grafana-api-sdk`` (httpx) each go through their
service-account rhythm: create, read, update the role with a partial body, create a token,
list tokens, delete the token, delete the account; and each meets a duplicate token name
(Grafana's 400, contract §13 C2). Every step is read back through the double's API or its
request log, so a client that silently did nothing cannot pass. One double per profile
(session-wide, from conftest) serves both clients.
"""

from __future__ import annotations

import logging
from typing import Iterator

import pytest
from double_support import ADMIN, VERSIONS, Client, glsa_is_valid

grafana_client = pytest.importorskip(
    "grafana_client", reason="pip install grafana-client (hacking/requirements-dev.txt)"
)
grafana_client_errors = pytest.importorskip("grafana_client.client")
grafana_api_model = pytest.importorskip(
    "grafana_api.model", reason="pip install grafana-api-sdk (hacking/requirements-dev.txt)"
)
grafana_api_sa = pytest.importorskip("grafana_api.service_account")

DUPLICATE = {
    "message": "service account token with given name already exists in the organization",
    "messageId": "serviceaccounts.ErrTokenAlreadyExists",
    "statusCode": 400,
    "traceID": "",
}
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def no_environment_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Both clients honour proxy variables; loopback traffic must reach the double itself."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield


def login(version: str, name: str) -> str:
    return f"sa-{name}" if version == "9.5" else f"sa-1-{name}"


def calls(grafana: Client) -> list:
    return [
        (entry["method"], entry["path"], entry["status"])
        for entry in grafana.control("GET", "requests")
    ]


def stored_account(grafana: Client, account_id: int) -> dict:
    response = grafana.admin("GET", f"/api/serviceaccounts/{account_id}")
    assert response.status_code == 200, response.text
    return response.json()


def stored_token_names(grafana: Client, account_id: int) -> list:
    return [
        token["name"]
        for token in grafana.admin("GET", f"/api/serviceaccounts/{account_id}/tokens").json()
    ]


# --- grafana-client ---------------------------------------------------------------------------


def make_grafana_client(grafana: Client):
    api = grafana_client.GrafanaApi.from_url(grafana.base_url, credential=ADMIN, timeout=10)
    api.client.s.trust_env = False
    return api


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_grafana_client_service_account_rhythm(grafana: Client) -> None:
    api = make_grafana_client(grafana)
    sa = api.serviceaccount

    created = sa.create({"name": "Client Bot", "role": "Viewer"})
    assert (created["name"], created["login"], created["role"], created["isDisabled"]) == (
        "Client Bot",
        login(grafana.version, "client-bot"),
        "Viewer",
        False,
    )
    account_id = created["id"]
    assert ("uid" in created) is (grafana.version in ("11.6", "12.2"))

    read = sa.get(account_id)
    assert (read["id"], read["name"], read["role"]) == (account_id, "Client Bot", "Viewer")
    assert (
        read["accessControl"]["serviceaccounts:write"] is True
    )  # the client asks ?accesscontrol=true

    grafana.control("DELETE", "requests")
    updated = sa.update(account_id, {"role": "Editor"})  # a partial body, as the client sends it
    assert (updated["message"], updated["serviceaccount"]["role"]) == (
        "Service account updated",
        "Editor",
    )
    assert calls(grafana) == [("PATCH", f"/api/serviceaccounts/{account_id}", 200)]
    stored = stored_account(grafana, account_id)
    assert (stored["name"], stored["role"], stored["isDisabled"]) == ("Client Bot", "Editor", False)

    token = sa.create_token(account_id, {"name": "ci", "secondsToLive": 3600})
    assert token["name"] == "ci" and glsa_is_valid(token["key"])
    assert grafana.call("GET", "/api/org", token=token["key"]).status_code == 200

    listed = sa.get_tokens(account_id)
    assert [(item["id"], item["name"], item["hasExpired"]) for item in listed] == [
        (token["id"], "ci", False)
    ]
    assert listed[0]["expiration"] is not None

    with pytest.raises(grafana_client_errors.GrafanaBadInputError) as duplicate:
        sa.create_token(account_id, {"name": "ci"})
    assert (duplicate.value.status_code, duplicate.value.response) == (400, DUPLICATE)
    assert stored_token_names(grafana, account_id) == ["ci"]

    assert sa.delete_token(account_id, token["id"]) == {"message": "Service account token deleted"}
    assert stored_token_names(grafana, account_id) == []
    assert grafana.call("GET", "/api/org", token=token["key"]).status_code == 401

    found = sa.search_one("Client Bot")
    assert found["id"] == account_id
    assert sa.delete(account_id) == {"message": "Service account deleted"}
    assert grafana.admin("GET", f"/api/serviceaccounts/{account_id}").status_code == 404
    with pytest.raises(grafana_client_errors.GrafanaClientError) as gone:
        sa.get(account_id)
    assert gone.value.status_code == 404


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_grafana_client_errors_by_status(grafana: Client) -> None:
    """The client maps statuses to exception classes; the double must answer the same ones."""
    stranger = grafana_client.GrafanaApi.from_url(
        grafana.base_url, credential="glsa_not_a_token", timeout=10
    )
    stranger.client.s.trust_env = False
    with pytest.raises(grafana_client_errors.GrafanaUnauthorizedError):
        stranger.serviceaccount.get_tokens(1)
    api = make_grafana_client(grafana)
    with pytest.raises(grafana_client_errors.GrafanaBadInputError) as bad:
        api.serviceaccount.create({"name": "x", "role": "viewer"})
    assert bad.value.response["messageId"] == "serviceaccounts.ErrInvalidRoleSpecified"
    account = api.serviceaccount.create({"name": "twice", "role": "Viewer"})
    with pytest.raises(grafana_client_errors.GrafanaBadInputError):
        api.serviceaccount.create({"name": "twice", "role": "Viewer"})
    assert [item["id"] for item in api.serviceaccount.search_all(query="twice")] == [account["id"]]


# --- grafana-api-sdk --------------------------------------------------------------------------


def make_sdk(grafana: Client):
    model = grafana_api_model.APIModel(
        host=grafana.base_url, username=ADMIN[0], password=ADMIN[1], timeout=10.0, retries=False
    )
    return grafana_api_sa.ServiceAccount(model)


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_grafana_api_sdk_service_account_rhythm(
    grafana: Client, caplog: pytest.LogCaptureFixture
) -> None:
    sa = make_sdk(grafana)

    created = sa.create_service_account("SDK Bot", "Viewer")
    assert (created["name"], created["login"], created["role"]) == (
        "SDK Bot",
        login(grafana.version, "sdk-bot"),
        "Viewer",
    )
    account_id = created["id"]

    read = sa.get_service_account_by_id(account_id)
    assert (read["id"], read["name"], read["role"], read["isDisabled"]) == (
        account_id,
        "SDK Bot",
        "Viewer",
        False,
    )

    grafana.control("DELETE", "requests")
    updated = sa.update_service_account(
        account_id, "SDK Bot", "Editor"
    )  # name + role, no isDisabled
    assert (updated["id"], updated["serviceaccount"]["role"]) == (account_id, "Editor")
    assert calls(grafana) == [("PATCH", f"/api/serviceaccounts/{account_id}", 200)]
    stored = stored_account(grafana, account_id)
    assert (stored["role"], stored["isDisabled"]) == ("Editor", False)

    token = sa.create_service_account_token_by_id(account_id, "deploy", "Viewer")
    assert token["name"] == "deploy" and glsa_is_valid(token["key"])
    assert grafana.call("GET", "/api/org", token=token["key"]).status_code == 200

    listed = sa.get_service_account_tokens_by_id(account_id)
    assert [(item["id"], item["name"], item["expiration"]) for item in listed] == [
        (token["id"], "deploy", None)
    ]

    caplog.clear()
    with caplog.at_level(logging.ERROR), pytest.raises(Exception) as duplicate:
        sa.create_service_account_token_by_id(account_id, "deploy", "Viewer")
    assert duplicate.type is Exception  # the SDK raises a bare Exception and logs the body
    assert "service account token with given name already exists in the organization" in caplog.text
    assert "'statusCode': 400" in caplog.text
    assert stored_token_names(grafana, account_id) == ["deploy"]

    assert sa.delete_service_account_token_by_id(account_id, token["id"]) is None
    assert stored_token_names(grafana, account_id) == []
    assert grafana.call("GET", "/api/org", token=token["key"]).status_code == 401

    assert sa.delete_service_account(account_id) is None
    assert grafana.admin("GET", f"/api/serviceaccounts/{account_id}").status_code == 404
    logged = calls(grafana)
    assert ("DELETE", f"/api/serviceaccounts/{account_id}", 200) in logged
    assert all(status != 500 for _method, _path, status in logged)
