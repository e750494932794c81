"""Contract §7: the role/permission matrix and the writer-D 403 body."""

from __future__ import annotations

import json
import re
from typing import Optional

import pytest
from double_support import JSON_UTF8, Client

ROLES = ["None", "Viewer", "Editor", "Admin"]
DASHBOARD = {"dashboard": {"title": "Matrix"}}
# (method, path, body, the permission named in the 403, the lowest role allowed)
MATRIX = [
    ("GET", "/api/user", None, None, "None"),
    ("GET", "/api/org", None, "orgs:read", "Viewer"),
    ("GET", "/api/dashboards/home", None, None, "None"),
    (
        "POST",
        "/api/dashboards/db",
        DASHBOARD,
        "any of dashboards:create, dashboards:write",
        "Editor",
    ),
    ("GET", "/api/serviceaccounts/search", None, "serviceaccounts:read", "Admin"),
    (
        "POST",
        "/api/serviceaccounts",
        {"name": "made-by-caller", "role": "None"},
        "serviceaccounts:create",
        "Admin",
    ),
    ("GET", "/api/serviceaccounts/{target}", None, "serviceaccounts:read", "Admin"),
    (
        "PATCH",
        "/api/serviceaccounts/{target}",
        {"name": "renamed"},
        "serviceaccounts:write",
        "Admin",
    ),
    ("DELETE", "/api/serviceaccounts/{target}", None, "serviceaccounts:delete", "Admin"),
    ("GET", "/api/serviceaccounts/{target}/tokens", None, "serviceaccounts:read", "Admin"),
    (
        "POST",
        "/api/serviceaccounts/{target}/tokens",
        {"name": "by-caller"},
        "serviceaccounts:write",
        "Admin",
    ),
    (
        "DELETE",
        "/api/serviceaccounts/{target}/tokens/{token}",
        None,
        "serviceaccounts:write",
        "Admin",
    ),
    ("POST", "/api/orgs", {"name": "New Org"}, "orgs:create", "nobody"),
    ("GET", "/api/orgs", None, "orgs:read", "nobody"),
]
CASES = [
    pytest.param(role, *row, id=f"{role}-{row[0]}-{row[1]}") for role in ROLES for row in MATRIX
]
RANK = {"None": 0, "Viewer": 1, "Editor": 2, "Admin": 3, "nobody": 9}


def assert_denied(response, permission: str) -> None:
    assert response.status_code == 403
    assert response.headers["Content-Type"] == JSON_UTF8
    assert response.content.endswith(b"}\n")
    body = json.loads(response.content)
    assert list(body) == ["accessErrorId", "message", "title"]
    assert re.fullmatch(r"ACE\d{10}", body["accessErrorId"])
    assert body["title"] == "Access denied"
    assert body["message"] == (
        "You'll need additional permissions to perform this action. "
        f"Permissions needed: {permission}"
    )


def call(grafana: Client, credential: dict, method: str, path: str, body: Optional[dict]):
    target = grafana.create_sa("target")
    token = grafana.create_token(target["id"], "target-token")
    path = path.format(target=target["id"], token=token["id"])
    return grafana.call(method, path, json=body, **credential)


@pytest.mark.parametrize("role,method,path,body,permission,lowest", CASES)
def test_sa_token_matrix(
    grafana: Client,
    role: str,
    method: str,
    path: str,
    body: Optional[dict],
    permission: Optional[str],
    lowest: str,
) -> None:
    key = grafana.key_for(role, "caller")
    response = call(grafana, {"token": key}, method, path, body)
    if RANK[role] >= RANK[lowest]:
        assert response.status_code in (200, 201), response.text
    else:
        assert_denied(response, permission)


@pytest.mark.parametrize("role", ["Viewer", "Editor"])
@pytest.mark.parametrize("method,path,body,permission,lowest", [row[:5] for row in MATRIX[:6]])
def test_basic_user_matrix(
    grafana: Client,
    role: str,
    method: str,
    path: str,
    body: Optional[dict],
    permission: Optional[str],
    lowest: str,
) -> None:
    login, password = grafana.add_user(f"person-{role.lower()}", role=role)
    response = call(grafana, {"basic": (login, password)}, method, path, body)
    if RANK[role] >= RANK[lowest]:
        assert response.status_code in (200, 201), response.text
    else:
        assert_denied(response, permission)


def test_access_error_ids_are_random(grafana: Client) -> None:
    key = grafana.key_for("Viewer", "curious")
    ids = {
        grafana.call("GET", "/api/serviceaccounts/search", token=key).json()["accessErrorId"]
        for _position in range(5)
    }
    assert len(ids) > 1


def test_server_admin_can_manage_orgs(grafana: Client) -> None:
    assert grafana.admin("POST", "/api/orgs", json={"name": "Ops"}).status_code == 200
    assert grafana.admin("GET", "/api/orgs").status_code == 200


@pytest.mark.parametrize("grafana", ["9.5"], indirect=True)
def test_9_uses_the_same_rbac_403(grafana: Client) -> None:
    key = grafana.key_for("Viewer", "old")
    assert_denied(
        grafana.call("POST", "/api/serviceaccounts", token=key, json={"name": "x"}),
        "serviceaccounts:create",
    )
