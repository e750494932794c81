"""Contract §5: service accounts (create, get, update, delete, search) per version profile."""

from __future__ import annotations

import re

import pytest
from double_support import JSON, VERSIONS, Client, Spec, ordered_keys

NEWER = ["10.4", "11.6", "12.2"]
BAD_REQUEST = b'{"message":"Bad request data","traceID":""}'
NOT_FOUND = (
    b'{"message":"service account not found","messageId":"serviceaccounts.ErrNotFound",'
    b'"statusCode":404,"traceID":""}'
)
INVALID_ROLE = (
    b'{"message":"invalid role specified","messageId":"serviceaccounts.ErrInvalidRoleSpecified",'
    b'"statusCode":400,"traceID":""}'
)
ROLE_FORBIDDEN = (
    b'{"message":"can not assign a role higher than user\'s role",'
    b'"messageId":"serviceaccounts.ErrRoleForbidden","statusCode":403,"traceID":""}'
)
ALREADY_EXISTS = (
    b'{"message":"service account already exists","messageId":"serviceaccounts.ErrAlreadyExists",'
    b'"statusCode":400,"traceID":""}'
)
DTO_KEYS = ["id", "uid", "name", "login", "orgId", "isDisabled", "role", "tokens", "avatarUrl"]
PROFILE_KEYS = [
    "id",
    "uid",
    "name",
    "login",
    "orgId",
    "isDisabled",
    "createdAt",
    "updatedAt",
    "avatarUrl",
    "role",
    "teams",
]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


UID_VERSIONS = ("11.6", "12.2")  # contract §13 C5: UIDs from 11.4 (PR #95401)


def without_uid(keys: list, version: str) -> list:
    return keys if version in UID_VERSIONS else [key for key in keys if key != "uid"]


def login(version: str, org: int, name: str) -> str:
    """Contract §13 C3: 9.5 logins have no org id (``sa-<org>-`` arrived with PR #83893)."""
    return f"sa-{name}" if version == "9.5" else f"sa-{org}-{name}"


# --- create -----------------------------------------------------------------------------


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_create_returns_201_dto_in_struct_order(grafana: Client, spec: Spec) -> None:
    response = grafana.admin("POST", "/api/serviceaccounts", json={"name": "My SA"})
    assert response.status_code == 201
    assert response.headers["Content-Type"] == JSON
    assert ordered_keys(response) == without_uid(DTO_KEYS, grafana.version)
    body = response.json()
    assert (body["name"], body["login"], body["orgId"], body["role"]) == (
        "My SA",
        login(grafana.version, 1, "my-sa"),
        1,
        "Viewer",
    )
    assert (body["isDisabled"], body["tokens"], body["avatarUrl"]) == (False, 0, "")
    spec.check(response, "POST", "/serviceaccounts")


@pytest.mark.parametrize("grafana", ["12.2"], indirect=True)
def test_uid_is_14_lower_case_alphanumerics(grafana: Client) -> None:
    assert re.fullmatch(r"[a-z0-9]{14}", grafana.create_sa("u")["uid"])


@pytest.mark.parametrize(
    "name,login",
    [
        ("My SA", "sa-1-my-sa"),
        ("a--b", "sa-1-a-b"),
        ("a---b", "sa-1-a--b"),
        ("x  y", "sa-1-x--y"),
        ("-lead", "sa-1-lead"),
        ("Grafana.Bot_1", "sa-1-grafana.bot_1"),
    ],
)
def test_login_generation(grafana: Client, name: str, login: str) -> None:
    assert grafana.create_sa(name)["login"] == login


def test_create_honours_role_and_disabled(grafana: Client) -> None:
    body = grafana.create_sa("ops", "Editor", isDisabled=True)
    assert (body["role"], body["isDisabled"]) == ("Editor", True)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"{}",
        b'{"name":""}',
        b"{not json",
        b'{"name":5}',
        b'{"name":"x","isDisabled":"yes"}',
        b"[1,2]",
    ],
)
def test_create_bad_request_data(grafana: Client, payload: bytes) -> None:
    response = grafana.admin("POST", "/api/serviceaccounts", data=payload)
    assert (response.status_code, response.content) == (400, BAD_REQUEST)


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_create_bad_request_data_carries_trace_id_on_every_profile(grafana: Client) -> None:
    """``response.Error`` with an error re-marshals the body with traceID since 9.0 (PR #46411)."""
    response = grafana.admin("POST", "/api/serviceaccounts", json={})
    assert (response.status_code, response.content) == (400, BAD_REQUEST)


def test_json_keys_bind_case_insensitively_like_go(grafana: Client) -> None:
    response = grafana.admin(
        "POST", "/api/serviceaccounts", json={"NAME": "shouty", "Role": "Editor"}
    )
    assert response.status_code == 201
    assert response.json()["role"] == "Editor"


@pytest.mark.parametrize("role", ["viewer", "ADMIN", "Owner", ""])
def test_role_is_case_sensitive(grafana: Client, role: str) -> None:
    response = grafana.admin("POST", "/api/serviceaccounts", json={"name": "r", "role": role})
    assert (response.status_code, response.content) == (400, INVALID_ROLE)


@pytest.mark.parametrize("grafana", NEWER, indirect=True)
def test_none_role_exists_since_10(grafana: Client) -> None:
    assert grafana.create_sa("nobody", "None")["role"] == "None"


@pytest.mark.parametrize("grafana", ["9.5"], indirect=True)
def test_9_has_no_none_role_and_prints_errutil_bodies_sorted_with_trace_id(grafana: Client) -> None:
    """Writer B re-marshals with traceID in 9.5 too (the §13 C2 body is in this form)."""
    response = grafana.admin(
        "POST", "/api/serviceaccounts", json={"name": "nobody", "role": "None"}
    )
    assert (response.status_code, response.content) == (400, INVALID_ROLE)


@pytest.mark.parametrize("grafana", NEWER, indirect=True)
def test_role_higher_than_callers_is_forbidden(grafana: Client) -> None:
    """An Editor holding serviceaccounts:create through a custom role cannot mint an Admin."""
    login, password = grafana.add_user(
        "lead", role="Editor", permissions=["serviceaccounts:create"]
    )
    response = grafana.call(
        "POST",
        "/api/serviceaccounts",
        basic=(login, password),
        json={"name": "too-strong", "role": "Admin"},
    )
    assert (response.status_code, response.content) == (403, ROLE_FORBIDDEN)
    allowed = grafana.call(
        "POST",
        "/api/serviceaccounts",
        basic=(login, password),
        json={"name": "ok", "role": "Editor"},
    )
    assert allowed.status_code == 201


@pytest.mark.parametrize("grafana", ["9.5"], indirect=True)
def test_9_has_no_role_escalation_check(grafana: Client) -> None:
    login, password = grafana.add_user(
        "lead", role="Editor", permissions=["serviceaccounts:create"]
    )
    response = grafana.call(
        "POST", "/api/serviceaccounts", basic=(login, password), json={"name": "x", "role": "Admin"}
    )
    assert response.status_code == 201


@pytest.mark.parametrize("clash", ["My SA", "MY SA", "my-sa", "My-Sa"])
def test_login_collision_is_case_insensitive_and_space_equals_dash(
    grafana: Client, clash: str
) -> None:
    grafana.create_sa("My SA")
    response = grafana.admin("POST", "/api/serviceaccounts", json={"name": clash})
    assert (response.status_code, response.content) == (400, ALREADY_EXISTS)


def test_collision_with_a_user_login_or_email(grafana: Client) -> None:
    grafana.add_user("sa-1-bob", email="sa-1-carol")
    for name in ("bob", "carol"):
        response = grafana.admin("POST", "/api/serviceaccounts", json={"name": name})
        assert (response.status_code, response.content) == (400, ALREADY_EXISTS)


def test_same_name_in_another_org_is_fine(grafana: Client) -> None:
    grafana.create_sa("twin")
    assert grafana.admin("POST", "/api/orgs", json={"name": "Second"}).json()["orgId"] == 2
    assert grafana.create_sa("twin", org=2)["login"] == "sa-2-twin"


@pytest.mark.parametrize("grafana", ["9.5"], indirect=True)
def test_9_conflict_body(grafana: Client) -> None:
    grafana.create_sa("dup")
    response = grafana.admin("POST", "/api/serviceaccounts", json={"name": "dup"})
    assert (response.status_code, response.content) == (
        400,
        b'{"message":"Failed to create service account","traceID":""}',
    )


def test_ids_are_shared_with_users(grafana: Client) -> None:
    first = grafana.create_sa("first")["id"]
    grafana.add_user("human")
    assert grafana.create_sa("second")["id"] == first + 2


# --- get ----------------------------------------------------------------------------------


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_get_returns_profile_dto(grafana: Client, spec: Spec) -> None:
    created = grafana.create_sa("Prof", "Editor")
    response = grafana.admin("GET", f"/api/serviceaccounts/{created['id']}")
    assert response.status_code == 200
    assert ordered_keys(response) == without_uid(PROFILE_KEYS, grafana.version)
    body = response.json()
    assert body["teams"] is None and "tokens" not in body
    assert re.fullmatch(r"/avatar/[0-9a-f]{32}", body["avatarUrl"])
    assert RFC3339.match(body["createdAt"]) and RFC3339.match(body["updatedAt"])
    spec.check(response, "GET", "/serviceaccounts/{serviceAccountId}")


def test_get_counts_tokens_once_there_are_some(grafana: Client) -> None:
    account = grafana.create_sa("counted")
    grafana.create_token(account["id"], "a")
    grafana.create_token(account["id"], "b")
    body = grafana.admin("GET", f"/api/serviceaccounts/{account['id']}").json()
    assert list(body)[-1] == "tokens" and body["tokens"] == 2


def test_get_with_access_control_metadata(grafana: Client) -> None:
    account = grafana.create_sa("ac")
    body = grafana.admin(
        "GET", f"/api/serviceaccounts/{account['id']}", params={"accesscontrol": "true"}
    ).json()
    assert body["accessControl"] == {
        "serviceaccounts:create": True,
        "serviceaccounts:delete": True,
        "serviceaccounts:read": True,
        "serviceaccounts:write": True,
    }


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_get_unknown_is_404(grafana: Client) -> None:
    response = grafana.admin("GET", "/api/serviceaccounts/999")
    assert (response.status_code, response.content) == (404, NOT_FOUND)


@pytest.mark.parametrize("grafana", ["9.5", "10.4"], indirect=True)
def test_get_non_integer_is_400_before_uids(grafana: Client) -> None:
    response = grafana.admin("GET", "/api/serviceaccounts/abc")
    assert (response.status_code, response.content) == (
        400,
        b'{"message":"Service Account ID is invalid","traceID":""}',
    )


def test_another_orgs_sa_is_invisible(grafana: Client) -> None:
    grafana.admin("POST", "/api/orgs", json={"name": "Other"})
    foreign = grafana.create_sa("foreign", org=2)
    response = grafana.admin("GET", f"/api/serviceaccounts/{foreign['id']}")
    assert (response.status_code, response.content) == (404, NOT_FOUND)
    assert grafana.admin("GET", f"/api/serviceaccounts/{foreign['id']}", org=2).status_code == 200


@pytest.mark.parametrize("grafana", UID_VERSIONS, indirect=True)
def test_uids_work_in_place_of_ids_from_11_4(grafana: Client) -> None:
    account = grafana.create_sa("by-uid")
    assert (
        grafana.admin("GET", f"/api/serviceaccounts/{account['uid']}").json()["id"] == account["id"]
    )
    token = grafana.admin(
        "POST", f"/api/serviceaccounts/{account['uid']}/tokens", json={"name": "t"}
    )
    assert token.status_code == 200
    assert (
        grafana.admin("GET", f"/api/serviceaccounts/{account['uid']}/tokens").json()[0]["name"]
        == "t"
    )


@pytest.mark.parametrize("grafana", ["9.5", "10.4"], indirect=True)
def test_no_uids_before_11_4(grafana: Client) -> None:
    assert "uid" not in grafana.create_sa("plain")
    assert grafana.admin("GET", "/api/serviceaccounts/abcdefghijklmn").status_code == 400


# --- update -------------------------------------------------------------------------------


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_full_patch_returns_sorted_map_with_profile(grafana: Client, spec: Spec) -> None:
    account = grafana.create_sa("Before")
    response = grafana.admin(
        "PATCH",
        f"/api/serviceaccounts/{account['id']}",
        json={"name": "After", "role": "Editor", "isDisabled": True},
    )
    assert response.status_code == 200
    assert ordered_keys(response) == ["id", "message", "name", "serviceaccount"]
    body = response.json()
    assert (body["id"], body["message"], body["name"]) == (
        account["id"],
        "Service account updated",
        "After",
    )
    profile = body["serviceaccount"]
    assert (profile["name"], profile["login"], profile["role"], profile["isDisabled"]) == (
        "After",
        login(grafana.version, 1, "before"),
        "Editor",
        True,
    )
    spec.check(response, "PATCH", "/serviceaccounts/{serviceAccountId}")


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
@pytest.mark.parametrize(
    "payload,expected",
    [
        ({"role": "Editor"}, ("partial", "Editor", False)),
        ({"name": "renamed"}, ("renamed", "Viewer", False)),
        ({"isDisabled": True}, ("partial", "Viewer", True)),
        ({"name": "n", "role": "Editor"}, ("n", "Editor", False)),
        ({}, ("partial", "Viewer", False)),
    ],
)
def test_partial_patch_changes_only_what_is_given(
    grafana: Client, payload: dict, expected: tuple
) -> None:
    """Contract §13 C7: no release answers a partial body with 500 (the old 11.6 quirk had no
    source); the change is read back through GET, not taken from the PATCH answer."""
    account = grafana.create_sa("partial", "Viewer")
    response = grafana.admin("PATCH", f"/api/serviceaccounts/{account['id']}", json=payload)
    assert response.status_code == 200
    profile = response.json()["serviceaccount"]
    assert (profile["name"], profile["role"], profile["isDisabled"]) == expected
    stored = grafana.admin("GET", f"/api/serviceaccounts/{account['id']}").json()
    assert (stored["name"], stored["role"], stored["isDisabled"]) == expected
    assert stored["login"] == login(grafana.version, 1, "partial")


def test_empty_patch_is_a_no_op(grafana: Client) -> None:
    account = grafana.create_sa("same", "Editor")
    response = grafana.admin("PATCH", f"/api/serviceaccounts/{account['id']}", data=b"")
    assert response.status_code == 200
    assert response.json()["serviceaccount"]["role"] == "Editor"


def test_patch_role_validation(grafana: Client) -> None:
    account = grafana.create_sa("v")
    response = grafana.admin(
        "PATCH", f"/api/serviceaccounts/{account['id']}", json={"role": "editor"}
    )
    assert (response.status_code, response.content) == (400, INVALID_ROLE)


def test_patch_unknown_is_404(grafana: Client) -> None:
    response = grafana.admin("PATCH", "/api/serviceaccounts/424242", json={"name": "x"})
    assert (response.status_code, response.content) == (404, NOT_FOUND)


def test_disabling_blocks_its_tokens_and_enabling_restores_them(grafana: Client) -> None:
    account, key = grafana.token_for("Viewer", "toggle")
    grafana.admin("PATCH", f"/api/serviceaccounts/{account['id']}", json={"isDisabled": True})
    assert grafana.call("GET", "/api/org", token=key).status_code == 401
    grafana.admin("PATCH", f"/api/serviceaccounts/{account['id']}", json={"isDisabled": False})
    assert grafana.call("GET", "/api/org", token=key).status_code == 200


# --- delete -------------------------------------------------------------------------------


def test_delete_removes_account_and_tokens(grafana: Client) -> None:
    account, key = grafana.token_for("Viewer", "doomed")
    response = grafana.admin("DELETE", f"/api/serviceaccounts/{account['id']}")
    assert (response.status_code, response.content) == (
        200,
        b'{"message":"Service account deleted"}',
    )
    assert grafana.admin("GET", f"/api/serviceaccounts/{account['id']}").status_code == 404
    assert grafana.call("GET", "/api/org", token=key).status_code == 401
    again = grafana.admin("DELETE", f"/api/serviceaccounts/{account['id']}")
    assert (again.status_code, again.content) == (404, NOT_FOUND)


# --- search -------------------------------------------------------------------------------


def seed(grafana: Client) -> None:
    for name in ("zeta", "Alpha", "beta bot", "gamma"):
        grafana.create_sa(name)


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_search_body_and_order(grafana: Client, spec: Spec) -> None:
    seed(grafana)
    response = grafana.admin("GET", "/api/serviceaccounts/search")
    assert ordered_keys(response) == ["totalCount", "serviceAccounts", "page", "perPage"]
    body = response.json()
    assert (body["totalCount"], body["page"], body["perPage"]) == (4, 1, 1000)
    assert [item["login"] for item in body["serviceAccounts"]] == [
        login(grafana.version, 1, name) for name in ("alpha", "beta-bot", "gamma", "zeta")
    ]
    assert list(body["serviceAccounts"][0]) == without_uid(DTO_KEYS, grafana.version)
    assert body["serviceAccounts"][0]["avatarUrl"].startswith("/avatar/")
    spec.check(response, "GET", "/serviceaccounts/search")


@pytest.mark.parametrize(
    "params,total,logins,page,per_page",
    [
        ({"perpage": "2"}, 4, ["sa-1-alpha", "sa-1-beta-bot"], 1, 2),
        ({"perpage": "2", "page": "2"}, 4, ["sa-1-gamma", "sa-1-zeta"], 2, 2),
        ({"perpage": "2", "page": "3"}, 4, [], 3, 2),
        ({"perpage": "0"}, 4, ["sa-1-alpha", "sa-1-beta-bot", "sa-1-gamma", "sa-1-zeta"], 1, 1000),
        (
            {"perpage": "-5", "page": "0"},
            4,
            ["sa-1-alpha", "sa-1-beta-bot", "sa-1-gamma", "sa-1-zeta"],
            1,
            1000,
        ),
        (
            {"perpage": "many"},
            4,
            ["sa-1-alpha", "sa-1-beta-bot", "sa-1-gamma", "sa-1-zeta"],
            1,
            1000,
        ),
        ({"query": "BOT"}, 1, ["sa-1-beta-bot"], 1, 1000),
        ({"query": "beta b"}, 1, ["sa-1-beta-bot"], 1, 1000),
        ({"query": "sa-1-g"}, 1, ["sa-1-gamma"], 1, 1000),
        ({"query": "nothing"}, 0, [], 1, 1000),
    ],
)
def test_search_paging_and_query(
    grafana: Client, params: dict, total: int, logins: list, page: int, per_page: int
) -> None:
    seed(grafana)
    body = grafana.admin("GET", "/api/serviceaccounts/search", params=params).json()
    assert [item["login"] for item in body["serviceAccounts"]] == logins
    assert (body["totalCount"], body["page"], body["perPage"]) == (total, page, per_page)


def test_search_disabled_and_expired_tokens(grafana: Client) -> None:
    seed(grafana)
    off = grafana.create_sa("off", isDisabled=True)
    stale = grafana.create_sa("stale")
    grafana.create_token(stale["id"], "short", ttl=60)
    grafana.create_token(off["id"], "short2", ttl=60)
    grafana.control("POST", "clock", {"advance": 61})
    disabled = grafana.admin(
        "GET", "/api/serviceaccounts/search", params={"disabled": "true"}
    ).json()
    assert [item["name"] for item in disabled["serviceAccounts"]] == ["off"]
    expired = grafana.admin(
        "GET", "/api/serviceaccounts/search", params={"expiredTokens": "true"}
    ).json()
    assert [item["name"] for item in expired["serviceAccounts"]] == ["off", "stale"]
    both = grafana.admin(
        "GET", "/api/serviceaccounts/search", params={"disabled": "true", "expiredTokens": "true"}
    )
    assert [item["name"] for item in both.json()["serviceAccounts"]] == ["off"]


def test_search_counts_tokens(grafana: Client) -> None:
    account = grafana.create_sa("busy")
    grafana.create_token(account["id"], "one")
    assert (
        grafana.admin("GET", "/api/serviceaccounts/search").json()["serviceAccounts"][0]["tokens"]
        == 1
    )


def test_search_only_sees_the_callers_org(grafana: Client) -> None:
    grafana.admin("POST", "/api/orgs", json={"name": "Other"})
    grafana.create_sa("here")
    grafana.create_sa("there", org=2)
    assert [
        item["name"]
        for item in grafana.admin("GET", "/api/serviceaccounts/search").json()["serviceAccounts"]
    ] == ["here"]
    other = grafana.admin("GET", "/api/serviceaccounts/search", org=2).json()["serviceAccounts"]
    assert [item["login"] for item in other] == ["sa-2-there"]
