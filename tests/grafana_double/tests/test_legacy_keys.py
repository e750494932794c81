"""Contract §9: legacy API keys and their migration, per release."""

from __future__ import annotations

import base64
import json

import pytest
from double_support import JSON, Client, Spec

GONE = (
    b'{"message":"this endpoint has been removed, please use POST /api/serviceaccounts and '
    b'POST /api/serviceaccounts/{id}/tokens instead"}'
)
NOT_FOUND = b'{"message":"Not found"}\n'
INVALID = b'{"extra":null,"message":"Invalid API key","messageId":"api-key.invalid","statusCode":401,"traceID":""}\n'


def seed_key(grafana: Client, name: str = "old", role: str = "Admin") -> dict:
    return grafana.control("POST", "legacy_keys", {"name": name, "role": role})


@pytest.mark.parametrize("grafana", ["9.5", "10.4"], indirect=True)
def test_create_list_use_delete(grafana: Client, spec: Spec) -> None:
    created = grafana.admin(
        "POST", "/api/auth/keys", json={"name": "ci", "role": "Viewer", "secondsToLive": 3600}
    )
    assert created.status_code == 200 and list(created.json()) == ["id", "name", "key"]
    key = created.json()["key"]
    decoded = json.loads(base64.b64decode(key))
    assert (
        list(decoded) == ["k", "n", "id"]
        and (decoded["n"], decoded["id"]) == ("ci", 1)
        and len(decoded["k"]) == 32
    )
    assert key in grafana.control("GET", "secrets")["keys"]
    assert grafana.call("GET", "/api/org", token=key).status_code == 200
    assert (
        grafana.call("GET", "/api/serviceaccounts/search", token=key).status_code == 403
    )  # a Viewer key
    listed = grafana.admin("GET", "/api/auth/keys")
    assert [item["name"] for item in listed.json()] == ["ci"]
    assert list(listed.json()[0]) == ["id", "name", "role", "expiration", "lastUsedAt"]
    spec.check(listed, "GET", "/auth/keys")
    deleted = grafana.admin("DELETE", f"/api/auth/keys/{created.json()['id']}")
    assert (deleted.status_code, deleted.content) == (200, b'{"message":"API key deleted"}')
    assert grafana.call("GET", "/api/org", token=key).status_code == 401


@pytest.mark.parametrize("grafana", ["10.4"], indirect=True)
def test_create_errors(grafana: Client) -> None:
    seed_key(grafana, "taken")
    duplicate = grafana.admin("POST", "/api/auth/keys", json={"name": "taken", "role": "Admin"})
    assert (duplicate.status_code, duplicate.json()["message"]) == (
        409,
        "API Key Organization ID And Name Must Be Unique",
    )
    assert (
        grafana.admin("POST", "/api/auth/keys", json={"name": "x", "role": "admin"}).status_code
        == 400
    )
    assert grafana.admin("POST", "/api/auth/keys", json={"name": "x"}).status_code == 400
    missing = grafana.admin("DELETE", "/api/auth/keys/999")
    assert (missing.status_code, missing.json()["message"]) == (404, "Failed to delete API key")


@pytest.mark.parametrize("grafana", ["11.6"], indirect=True)
def test_11_refuses_creation_with_410_but_keys_still_work(grafana: Client) -> None:
    response = grafana.admin("POST", "/api/auth/keys", json={"name": "ci", "role": "Admin"})
    assert (response.status_code, response.content) == (410, GONE)
    assert response.headers["Content-Type"] == JSON
    seeded = seed_key(grafana, "survivor", "Editor")
    assert grafana.call("GET", "/api/org", token=seeded["key"]).status_code == 200
    assert (
        grafana.call(
            "POST", "/api/dashboards/db", token=seeded["key"], json={"dashboard": {"title": "k"}}
        ).status_code
        == 200
    )
    assert (
        grafana.call("GET", "/api/serviceaccounts/search", token=seeded["key"]).status_code == 403
    )
    assert [item["name"] for item in grafana.admin("GET", "/api/auth/keys").json()] == ["survivor"]
    assert grafana.admin("DELETE", f"/api/auth/keys/{seeded['id']}").status_code == 200


@pytest.mark.parametrize("grafana", ["12.2"], indirect=True)
def test_12_has_no_key_routes_and_rejects_plain_keys(grafana: Client) -> None:
    for method in ("GET", "POST"):
        response = grafana.admin(method, "/api/auth/keys", json={"name": "x", "role": "Admin"})
        assert (response.status_code, response.content) == (404, NOT_FOUND)
    for path in ("/api/serviceaccounts/migrate", "/api/serviceaccounts/migrate/1"):
        assert grafana.admin("POST", path).status_code == 404
    seeded = seed_key(grafana)
    assert grafana.call("GET", "/api/org", token=seeded["key"]).content == INVALID


@pytest.mark.parametrize(
    "grafana,message",
    [
        ("9.5", "Service accounts converted"),
        ("10.4", "Service accounts migrated"),
        ("11.6", "Service accounts migrated"),
    ],
    indirect=["grafana"],
)
def test_migrate_one_key(grafana: Client, message: str) -> None:
    seeded = seed_key(grafana, "deploy", "Editor")
    response = grafana.admin("POST", f"/api/serviceaccounts/migrate/{seeded['id']}")
    assert (response.status_code, response.json()) == (200, {"message": message})
    account = grafana.admin("GET", "/api/serviceaccounts/search").json()["serviceAccounts"][0]
    assert (account["name"], account["login"], account["role"], account["tokens"]) == (
        "sa-autogen-deploy",
        "sa-autogen-1-deploy",
        "Editor",
        1,
    )
    assert (
        grafana.admin("GET", f"/api/serviceaccounts/{account['id']}/tokens").json()[0]["name"]
        == "deploy"
    )
    assert grafana.call("GET", "/api/org", token=seeded["key"]).status_code == 200
    assert grafana.admin("GET", "/api/auth/keys").json() == []


@pytest.mark.parametrize("grafana", ["10.4"], indirect=True)
def test_migrate_errors(grafana: Client) -> None:
    bad = grafana.admin("POST", "/api/serviceaccounts/migrate/abc")
    assert (bad.status_code, bad.content) == (400, b'{"message":"Key ID is invalid","traceID":""}')
    assert grafana.admin("POST", "/api/serviceaccounts/migrate/99").status_code == 500


@pytest.mark.parametrize("grafana", ["9.5", "10.4"], indirect=True)
def test_migrate_all_before_11(grafana: Client) -> None:
    seed_key(grafana, "a")
    seed_key(grafana, "b")
    response = grafana.admin("POST", "/api/serviceaccounts/migrate")
    assert (response.status_code, response.json()) == (
        200,
        {"message": "API keys migrated to service accounts"},
    )
    assert grafana.admin("GET", "/api/serviceaccounts/search").json()["totalCount"] == 2


@pytest.mark.parametrize("grafana", ["11.6"], indirect=True)
def test_migrate_all_in_11_reports_counts(grafana: Client) -> None:
    seed_key(grafana, "a")
    seed_key(grafana, "b")
    grafana.create_sa("sa-autogen-a")  # login sa-1-sa-autogen-a: no clash with sa-autogen-1-a
    response = grafana.admin("POST", "/api/serviceaccounts/migrate")
    assert (
        response.content
        == b'{"total":2,"migrated":2,"failed":0,"failedApikeyIDs":[],"failedDetails":[]}'
    )


@pytest.mark.parametrize("grafana", ["11.6"], indirect=True)
def test_migration_suffixes_clashing_logins(grafana: Client) -> None:
    first = seed_key(grafana, "dup")
    assert grafana.admin("POST", f"/api/serviceaccounts/migrate/{first['id']}").status_code == 200
    # Key names are unique per org, so make the login clash through a user instead.
    grafana.add_user("sa-autogen-1-again")
    second = seed_key(grafana, "again")
    grafana.admin("POST", f"/api/serviceaccounts/migrate/{second['id']}")
    names = [
        item["name"]
        for item in grafana.admin("GET", "/api/serviceaccounts/search").json()["serviceAccounts"]
    ]
    assert names == ["sa-autogen-again-001", "sa-autogen-dup"]


def test_key_migrated_under_11_keeps_working_after_upgrading_to_12(grafana: Client) -> None:
    grafana.settings(version="11.6")
    seeded = seed_key(grafana, "carry")
    assert grafana.admin("POST", f"/api/serviceaccounts/migrate/{seeded['id']}").status_code == 200
    grafana.settings(version="12.2")
    body = grafana.call("GET", "/api/user", token=seeded["key"]).json()
    assert body["login"] == "sa-autogen-1-carry"
