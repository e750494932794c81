"""Contract §8: /api/user per release, /api/org, org switching by header; /api/orgs."""

from __future__ import annotations

import pytest
from double_support import JSON, VERSIONS, Client, Spec, ordered_keys

USER_KEYS = [
    "id",
    "uid",
    "email",
    "name",
    "login",
    "theme",
    "orgId",
    "isGrafanaAdmin",
    "isDisabled",
    "isExternal",
    "isExternallySynced",
    "isGrafanaAdminExternallySynced",
    "authLabels",
    "updatedAt",
    "createdAt",
    "avatarUrl",
]
ZERO = "0001-01-01T00:00:00Z"


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_user_for_basic_admin(grafana: Client, spec: Spec) -> None:
    response = grafana.admin("GET", "/api/user")
    assert response.status_code == 200
    expected_keys = (
        USER_KEYS if grafana.version != "9.5" else [key for key in USER_KEYS if key != "uid"]
    )
    assert ordered_keys(response) == expected_keys
    body = response.json()
    assert (body["id"], body["login"], body["email"], body["orgId"], body["isGrafanaAdmin"]) == (
        1,
        "admin",
        "admin@localhost",
        1,
        True,
    )
    spec.check(response, "GET", "/user")


@pytest.mark.parametrize("grafana", ["12.2"], indirect=True)
def test_user_for_sa_token_is_synthetic_in_12(grafana: Client, spec: Spec) -> None:
    account, key = grafana.token_for("Viewer", "Robot One")
    response = grafana.call("GET", "/api/user", token=key)
    assert response.status_code == 200
    assert response.json() == {
        "id": 0,
        "uid": f"service-account:{account['id']}",
        "email": "sa-1-robot-one",
        "name": "Robot One",
        "login": "sa-1-robot-one",
        "theme": "",
        "orgId": 1,
        "isGrafanaAdmin": False,
        "isDisabled": False,
        "isExternal": False,
        "isExternallySynced": False,
        "isGrafanaAdminExternallySynced": False,
        "authLabels": None,
        "updatedAt": ZERO,
        "createdAt": ZERO,
        "avatarUrl": "",
    }
    assert ordered_keys(response) == USER_KEYS
    assert "isServiceAccount" not in response.json()
    spec.check(response, "GET", "/user")


@pytest.mark.parametrize("grafana", ["10.4", "11.6"], indirect=True)
def test_user_for_sa_token_is_forbidden_in_10_and_11(grafana: Client) -> None:
    key = grafana.key_for("Admin", "robot")
    response = grafana.call("GET", "/api/user", token=key)
    assert (response.status_code, response.content) == (
        403,
        b'{"message":"Endpoint only available for users"}',
    )
    assert response.headers["Content-Type"] == JSON


@pytest.mark.parametrize("grafana", ["9.5"], indirect=True)
def test_user_for_sa_token_is_its_real_row_in_9(grafana: Client) -> None:
    account, key = grafana.token_for("Viewer", "robot")
    body = grafana.call("GET", "/api/user", token=key).json()
    assert (body["id"], body["login"], body["email"], body["isGrafanaAdmin"]) == (
        account["id"],
        "sa-robot",
        "sa-robot",
        False,
    )


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_current_org(grafana: Client, spec: Spec) -> None:
    response = grafana.admin("GET", "/api/org")
    assert response.content == (
        b'{"id":1,"name":"Main Org.","address":{"address1":"","address2":"","city":"",'
        b'"zipCode":"","state":"","country":""}}'
    )
    spec.check(response, "GET", "/org")


def test_basic_user_switches_org_with_the_header(grafana: Client) -> None:
    assert grafana.admin("POST", "/api/orgs", json={"name": "Second"}).json()["orgId"] == 2
    assert grafana.admin("GET", "/api/org", org=2).json()["name"] == "Second"
    assert grafana.admin("GET", "/api/user", org=2).json()["orgId"] == 2
    assert grafana.admin("GET", "/api/org", org="junk").json()["id"] == 1


def test_basic_user_outside_its_org_has_no_role(grafana: Client) -> None:
    grafana.admin("POST", "/api/orgs", json={"name": "Second"})
    login, password = grafana.add_user("viewer", role="Viewer")
    assert grafana.call("GET", "/api/org", basic=(login, password)).status_code == 200
    outside = grafana.call("GET", "/api/org", basic=(login, password), org=2)
    assert outside.status_code == 403 and "orgs:read" in outside.json()["message"]
    assert grafana.call("GET", "/api/user", basic=(login, password), org=2).json()["orgId"] == 2


def test_sa_token_is_bound_to_its_org(grafana: Client) -> None:
    grafana.admin("POST", "/api/orgs", json={"name": "Second"})
    account = grafana.create_sa("remote", "Viewer", org=2)
    key = grafana.create_token(account["id"], "t", org=2)["key"]
    assert grafana.call("GET", "/api/org", token=key).json()["name"] == "Second"
    assert grafana.call("GET", "/api/org", token=key, org=2).status_code == 200
    mismatch = grafana.call("GET", "/api/org", token=key, org=1)
    assert mismatch.json()["messageId"] == "api-key.organization-mismatch"


def test_target_org_query_wins_over_the_header(grafana: Client) -> None:
    key = grafana.key_for("Viewer", "q")
    assert (
        grafana.call("GET", "/api/org", token=key, org=2, params={"targetOrgId": "1"}).status_code
        == 200
    )
    assert (
        grafana.call("GET", "/api/org", token=key, org=1, params={"targetOrgId": "2"}).status_code
        == 401
    )
    assert (
        grafana.call("GET", "/api/org", token=key, org=1, params={"targetOrgId": "x"}).status_code
        == 200
    )


@pytest.mark.parametrize("grafana", ["9.5"], indirect=True)
def test_9_ignores_the_org_header_for_keys(grafana: Client) -> None:
    key = grafana.key_for("Viewer", "old")
    response = grafana.call("GET", "/api/org", token=key, org=7)
    assert response.status_code == 200 and response.json()["id"] == 1


# --- /api/orgs ------------------------------------------------------------------------------


def test_create_org(grafana: Client, spec: Spec) -> None:
    response = grafana.admin("POST", "/api/orgs", json={"name": "Platform"})
    assert (response.status_code, response.content) == (
        200,
        b'{"message":"Organization created","orgId":2}',
    )
    spec.check(response, "POST", "/orgs")
    taken = grafana.admin("POST", "/api/orgs", json={"name": "Platform"})
    assert (taken.status_code, taken.json()["message"]) == (409, "Organization name taken")
    assert grafana.admin("POST", "/api/orgs", json={}).status_code == 400


def test_list_orgs(grafana: Client, spec: Spec) -> None:
    grafana.admin("POST", "/api/orgs", json={"name": "Beta"})
    grafana.admin("POST", "/api/orgs", json={"name": "Alpha"})
    response = grafana.admin("GET", "/api/orgs")
    assert response.json() == [
        {"id": 3, "name": "Alpha"},
        {"id": 2, "name": "Beta"},
        {"id": 1, "name": "Main Org."},
    ]
    spec.check(response, "GET", "/orgs")
    assert grafana.admin("GET", "/api/orgs", params={"query": "alp"}).json() == [
        {"id": 3, "name": "Alpha"}
    ]


def test_created_org_makes_the_creator_its_admin(grafana: Client) -> None:
    grafana.admin("POST", "/api/orgs", json={"name": "Mine"})
    assert grafana.admin("GET", "/api/serviceaccounts/search", org=2).status_code == 200
