"""Contract §13 (C1-C7) on every profile each row applies to, and the inputs of issue 13
item 4 (over-long names, token names differing in case, a secondsToLive beyond Go's
time arithmetic). Expected bytes are written from the contract and Grafana's source, not
computed by the double's code.
"""

from __future__ import annotations

import math
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from double_support import JSON, JSON_UTF8, TEXT, VERSIONS, Client

AUTHN = ["10.4", "11.6", "12.2"]
UID_PROFILES = ["11.6", "12.2"]  # C5/C6 apply from 11.4
BEFORE_UIDS = ["9.5", "10.4"]

# C1 as the source has it: AddDefaultResponseHeaders (pkg/middleware/middleware.go) with
# addNoCacheHeaders = "Cache-Control: no-store" and Pragma/Expires deleted (PR #62021, 9.4).
DEFAULT_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "deny",
    "X-XSS-Protection": "1; mode=block",
}
DUPLICATE = (
    b'{"message":"service account token with given name already exists in the organization",'
    b'"messageId":"serviceaccounts.ErrTokenAlreadyExists","statusCode":400,"traceID":""}'
)
SA_NOT_FOUND = (
    b'{"message":"service account not found","messageId":"serviceaccounts.ErrNotFound",'
    b'"statusCode":404,"traceID":""}'
)
TOKEN_NOT_FOUND = (
    b'{"message":"service account token not found","messageId":"serviceaccounts.ErrTokenNotFound",'
    b'"statusCode":404,"traceID":""}'
)
INVALID_TOKEN_ID = (
    b'{"message":"invalid service account token id specified",'
    b'"messageId":"serviceaccounts.ErrInvalidTokenId","statusCode":400,"traceID":""}'
)
INVALID_ID = (
    b'{"message":"invalid service account id specified","messageId":"serviceaccounts.ErrInvalidId",'
    b'"statusCode":400,"traceID":""}'
)
RETRIEVE_FAILED = b'{"message":"Failed to retrieve service account","traceID":""}'
GENERIC_404 = b'{"message":"Not found"}\n'
ID_INVALID = b'{"message":"Service Account ID is invalid","traceID":""}'
ALREADY_EXISTS = (
    b'{"message":"service account already exists","messageId":"serviceaccounts.ErrAlreadyExists",'
    b'"statusCode":400,"traceID":""}'
)


def assert_default_headers(response) -> None:
    for name, value in DEFAULT_HEADERS.items():
        assert response.headers.get(name) == value, (
            response.request.method,
            response.url,
            name,
            response.headers,
        )
    assert "Pragma" not in response.headers and "Expires" not in response.headers, response.headers


# --- C1: default response headers -----------------------------------------------------------


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_c1_every_answer_carries_the_default_headers(grafana: Client) -> None:
    account, key = grafana.token_for("Viewer", "hdr")
    answers = [
        (grafana.admin("GET", "/api/org"), 200, JSON),
        (grafana.admin("POST", "/api/serviceaccounts", json={"name": "hdr-2"}), 201, JSON),
        (grafana.admin("POST", "/api/serviceaccounts", json={}), 400, JSON),
        (grafana.call("GET", "/api/org"), 401, JSON_UTF8),
        (grafana.call("GET", "/api/serviceaccounts/search", token=key), 403, JSON_UTF8),
        (grafana.admin("GET", "/api/no-such-route"), 404, JSON_UTF8),
        (grafana.admin("GET", "/api/serviceaccounts/424242"), 404, JSON),
        (grafana.call("GET", "/api/health"), 200, JSON_UTF8),
        (grafana.call("HEAD", "/api/health"), 200, JSON_UTF8),
        (grafana.call("GET", "/healthz"), 200, TEXT),
    ]
    for response, status, content_type in answers:
        assert (response.status_code, response.headers["Content-Type"]) == (status, content_type), (
            response.url
        )
        assert_default_headers(response)


@pytest.mark.parametrize("grafana", ["9.5"], indirect=True)
def test_c1_9_writes_its_immediate_401_after_the_header_middleware(grafana: Client) -> None:
    """9.x's context handler answers a bad key at once, but it runs after
    AddDefaultResponseHeaders (pkg/api/http_server.go addMiddlewaresAndStaticRoutes)."""
    response = grafana.call("GET", "/api/no-such-route", authorization="Bearer not-a-key")
    assert response.status_code == 401
    assert_default_headers(response)


@pytest.mark.parametrize("grafana", AUTHN, indirect=True)
def test_c1_headers_on_writer_c_401_and_a_503_health(grafana: Client) -> None:
    response = grafana.call("GET", "/api/org", authorization="Bearer glsa_bad")
    assert (response.status_code, response.headers["Content-Type"]) == (401, JSON_UTF8)
    assert_default_headers(response)
    grafana.settings(database_ok=False)
    failing = grafana.call("GET", "/api/health")
    assert failing.status_code == 503
    assert_default_headers(failing)


def test_c1_the_control_api_is_not_grafana_and_faults_stand_for_a_proxy(grafana: Client) -> None:
    control = grafana.http.get(f"{grafana.base_url}/__double__/settings", timeout=10)
    assert "X-Frame-Options" not in control.headers
    grafana.control("POST", "faults", {"path": "/api/org", "status": 502, "body": "bad gateway"})
    faulted = grafana.admin("GET", "/api/org")
    assert faulted.status_code == 502 and "X-Frame-Options" not in faulted.headers


# --- C2: 9.5 duplicate token name ------------------------------------------------------------


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_c2_duplicate_token_name_is_400_errutil_on_every_profile(grafana: Client) -> None:
    account = grafana.create_sa("dup-owner")
    grafana.create_token(account["id"], "shared")
    response = grafana.admin(
        "POST", f"/api/serviceaccounts/{account['id']}/tokens", json={"name": "shared"}
    )
    assert (response.status_code, response.headers["Content-Type"], response.content) == (
        400,
        JSON,
        DUPLICATE,
    )
    assert_default_headers(response)
    listed = grafana.admin("GET", f"/api/serviceaccounts/{account['id']}/tokens").json()
    assert [token["name"] for token in listed] == ["shared"]


# --- C3: 9.5 login form -----------------------------------------------------------------------


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_c3_login_form_per_profile(grafana: Client) -> None:
    expected = "sa-ci-deployer" if grafana.version == "9.5" else "sa-1-ci-deployer"
    response = grafana.admin("POST", "/api/serviceaccounts", json={"name": "CI Deployer"})
    assert (response.status_code, response.headers["Content-Type"]) == (201, JSON)
    assert_default_headers(response)
    created = response.json()
    assert (created["name"], created["login"]) == ("CI Deployer", expected)
    read = grafana.admin("GET", f"/api/serviceaccounts/{created['id']}")
    assert read.status_code == 200
    assert_default_headers(read)
    stored = read.json()
    assert stored["login"] == expected
    found = grafana.admin("GET", "/api/serviceaccounts/search", params={"query": expected}).json()
    assert [item["id"] for item in found["serviceAccounts"]] == [created["id"]]


@pytest.mark.parametrize("grafana", ["9.5"], indirect=True)
def test_c3_9_logins_without_org_collide_across_orgs(grafana: Client) -> None:
    """Login uniqueness spans the whole user table, so in 9.5 the same name in two orgs
    collides (9.x conflict body, writer A with traceID)."""
    grafana.create_sa("twin")
    assert grafana.admin("POST", "/api/orgs", json={"name": "Second"}).status_code == 200
    response = grafana.admin("POST", "/api/serviceaccounts", json={"name": "twin"}, org=2)
    assert (response.status_code, response.content) == (
        400,
        b'{"message":"Failed to create service account","traceID":""}',
    )


@pytest.mark.parametrize("grafana", AUTHN, indirect=True)
def test_c3_org_logins_let_the_same_name_live_in_two_orgs(grafana: Client) -> None:
    grafana.create_sa("twin")
    grafana.admin("POST", "/api/orgs", json={"name": "Second"})
    assert grafana.create_sa("twin", org=2)["login"] == "sa-2-twin"


# --- C4: token id 0 ---------------------------------------------------------------------------


@pytest.mark.parametrize("grafana", AUTHN, indirect=True)
def test_c4_token_id_0_is_400_before_the_lookup(grafana: Client) -> None:
    account = grafana.create_sa("zero-token")
    grafana.create_token(account["id"], "keep")
    response = grafana.admin("DELETE", f"/api/serviceaccounts/{account['id']}/tokens/0")
    assert (response.status_code, response.headers["Content-Type"], response.content) == (
        400,
        JSON,
        INVALID_TOKEN_ID,
    )
    assert_default_headers(response)
    assert [
        token["name"]
        for token in grafana.admin("GET", f"/api/serviceaccounts/{account['id']}/tokens").json()
    ] == ["keep"]
    unknown = grafana.admin("DELETE", f"/api/serviceaccounts/{account['id']}/tokens/999")
    assert (unknown.status_code, unknown.content) == (404, TOKEN_NOT_FOUND)


@pytest.mark.parametrize("grafana", ["9.5"], indirect=True)
def test_c4_9_token_id_0_is_just_not_found(grafana: Client) -> None:
    account = grafana.create_sa("zero-token")
    response = grafana.admin("DELETE", f"/api/serviceaccounts/{account['id']}/tokens/0")
    assert (response.status_code, response.content) == (404, TOKEN_NOT_FOUND)


# --- C5: UIDs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("grafana", UID_PROFILES, indirect=True)
def test_c5_dtos_carry_uid_and_every_route_takes_it(grafana: Client) -> None:
    created = grafana.create_sa("by-uid", "Viewer")
    uid = created["uid"]
    assert list(created)[:3] == ["id", "uid", "name"]
    got = grafana.admin("GET", f"/api/serviceaccounts/{uid}")
    assert (got.status_code, got.json()["id"], got.json()["uid"]) == (200, created["id"], uid)
    assert_default_headers(got)
    searched = grafana.admin("GET", "/api/serviceaccounts/search").json()["serviceAccounts"]
    assert [(item["id"], item["uid"]) for item in searched] == [(created["id"], uid)]
    patched = grafana.admin("PATCH", f"/api/serviceaccounts/{uid}", json={"role": "Editor"})
    assert patched.status_code == 200 and patched.json()["serviceaccount"]["uid"] == uid
    token = grafana.admin("POST", f"/api/serviceaccounts/{uid}/tokens", json={"name": "t"}).json()
    assert [
        item["name"] for item in grafana.admin("GET", f"/api/serviceaccounts/{uid}/tokens").json()
    ] == ["t"]
    assert (
        grafana.admin("DELETE", f"/api/serviceaccounts/{uid}/tokens/{token['id']}").status_code
        == 200
    )
    assert grafana.admin("DELETE", f"/api/serviceaccounts/{uid}").status_code == 200
    assert grafana.admin("GET", f"/api/serviceaccounts/{created['id']}").status_code == 404


@pytest.mark.parametrize("grafana", UID_PROFILES, indirect=True)
@pytest.mark.parametrize(
    "method,suffix",
    [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("GET", "/tokens"),
        ("POST", "/tokens"),
        ("DELETE", "/tokens/1"),
    ],
)
def test_c5_unknown_uid_is_the_generic_404_even_without_credentials(
    grafana: Client, method: str, suffix: str
) -> None:
    grafana.create_sa("present")
    for path in (f"/api/serviceaccounts/abc{suffix}", f"/api/serviceaccounts/no-such-uid{suffix}"):
        for response in (
            grafana.admin(method, path, json={"name": "x"}),
            grafana.call(method, path, json={"name": "x"}),
        ):
            assert (response.status_code, response.headers["Content-Type"], response.content) == (
                404,
                JSON_UTF8,
                GENERIC_404,
            ), (method, path)
            assert_default_headers(response)


@pytest.mark.parametrize("grafana", UID_PROFILES, indirect=True)
def test_c5_another_orgs_uid_is_unknown_here(grafana: Client) -> None:
    grafana.admin("POST", "/api/orgs", json={"name": "Other"})
    foreign = grafana.create_sa("foreign", org=2)
    response = grafana.admin("GET", f"/api/serviceaccounts/{foreign['uid']}")
    assert (response.status_code, response.content) == (404, GENERIC_404)
    assert grafana.admin("GET", f"/api/serviceaccounts/{foreign['uid']}", org=2).status_code == 200


@pytest.mark.parametrize("grafana", BEFORE_UIDS, indirect=True)
def test_c5_before_11_4_no_uid_and_a_non_integer_id_is_400(grafana: Client) -> None:
    created = grafana.create_sa("plain")
    assert "uid" not in created
    assert "uid" not in grafana.admin("GET", f"/api/serviceaccounts/{created['id']}").json()
    response = grafana.admin("GET", "/api/serviceaccounts/abc")
    assert (response.status_code, response.content) == (400, ID_INVALID)
    assert grafana.call("GET", "/api/serviceaccounts/abc").status_code == 401


# --- C6: id 0 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("grafana", UID_PROFILES, indirect=True)
def test_c6_service_account_id_0(grafana: Client) -> None:
    answers = {
        ("DELETE", ""): (400, JSON, INVALID_ID),
        ("PATCH", ""): (400, JSON, INVALID_ID),
        ("GET", ""): (500, JSON, RETRIEVE_FAILED),
        ("POST", "/tokens"): (500, JSON, RETRIEVE_FAILED),
    }
    for (method, suffix), expected in answers.items():
        response = grafana.admin(method, f"/api/serviceaccounts/0{suffix}", json={"name": "n"})
        assert (
            response.status_code,
            response.headers["Content-Type"],
            response.content,
        ) == expected, (method, suffix)
        assert_default_headers(response)
    assert grafana.admin("GET", "/api/serviceaccounts/search").json()["totalCount"] == 0


@pytest.mark.parametrize("grafana", BEFORE_UIDS, indirect=True)
def test_c6_before_11_4_id_0_is_not_found(grafana: Client) -> None:
    for method, suffix in (("DELETE", ""), ("PATCH", ""), ("GET", ""), ("POST", "/tokens")):
        response = grafana.admin(method, f"/api/serviceaccounts/0{suffix}", json={"name": "n"})
        assert (response.status_code, response.content) == (404, SA_NOT_FOUND), (method, suffix)


# --- C7 is in test_service_accounts.py (test_partial_patch_changes_only_what_is_given) --------


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_c7_partial_patch_never_500_and_the_request_log_shows_one_200(grafana: Client) -> None:
    account = grafana.create_sa("partial", "Viewer")
    grafana.control("DELETE", "requests")
    response = grafana.admin(
        "PATCH", f"/api/serviceaccounts/{account['id']}", json={"isDisabled": True}
    )
    assert response.status_code == 200
    assert_default_headers(response)
    logged = grafana.control("GET", "requests")
    assert [(entry["method"], entry["status"]) for entry in logged] == [("PATCH", 200)]
    assert (
        grafana.admin("GET", f"/api/serviceaccounts/{account['id']}").json()["isDisabled"] is True
    )


# --- item 4: inputs Grafana's database decides ------------------------------------------------


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_long_names_are_stored_as_given_on_the_default_sqlite_database(grafana: Client) -> None:
    """No handler checks a length; user.name VARCHAR(255), user.login and api_key.name
    VARCHAR(190) are not enforced by SQLite, Grafana's default database (README:
    MySQL/PostgreSQL would refuse the insert and Grafana would answer 500)."""
    name = "n" * 300
    created = grafana.create_sa(name)
    stored = grafana.admin("GET", f"/api/serviceaccounts/{created['id']}").json()
    assert (stored["name"], len(stored["login"])) == (name, len(created["login"]))
    assert grafana.create_token(created["id"], "t" * 300)["name"] == "t" * 300
    listed = grafana.admin("GET", f"/api/serviceaccounts/{created['id']}/tokens")
    assert listed.status_code == 200 and [token["name"] for token in listed.json()] == ["t" * 300]


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_token_names_differing_in_case_are_distinct_but_exact_names_clash(grafana: Client) -> None:
    """``AddAPIKey`` looks the name up with SQL ``=`` (case-sensitive on SQLite)."""
    first, second = grafana.create_sa("case-a"), grafana.create_sa("case-b")
    grafana.create_token(first["id"], "Deploy")
    assert grafana.create_token(second["id"], "deploy")["name"] == "deploy"
    assert grafana.create_token(second["id"], "DEPLOY")["name"] == "DEPLOY"
    clash = grafana.admin(
        "POST", f"/api/serviceaccounts/{second['id']}/tokens", json={"name": "Deploy"}
    )
    assert (clash.status_code, clash.content) == (400, DUPLICATE)


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_service_account_names_differing_in_case_clash_on_the_login(grafana: Client) -> None:
    grafana.create_sa("Mixed Case")
    response = grafana.admin("POST", "/api/serviceaccounts", json={"name": "mixed case"})
    if grafana.version == "9.5":
        assert (response.status_code, response.content) == (
            400,
            b'{"message":"Failed to create service account","traceID":""}',
        )
    else:
        assert (response.status_code, response.content) == (400, ALREADY_EXISTS)


def go_wrapped_expiry(now: float, seconds: int) -> int:
    """``now.Add(time.Second * time.Duration(seconds)).Unix()``: the int64 product wraps."""
    nanos = (seconds * 1_000_000_000) % 2**64
    if nanos >= 2**63:
        nanos -= 2**64
    return math.floor(now + nanos / 1_000_000_000)


def unix(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


T0 = datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
@pytest.mark.parametrize("ttl", [9_223_372_036, 9_223_372_037, 10**12, 2**63 - 1])
def test_seconds_to_live_beyond_gos_duration_wraps_like_grafana(grafana: Client, ttl: int) -> None:
    """Grafana accepts any int64 and stores the wrapped expiry (possibly in the past); the
    token list keeps answering 200 and the token behaves by that expiry."""
    grafana.control("POST", "clock", {"now": "2030-01-01T00:00:00Z"})
    account = grafana.create_sa("far")
    created = grafana.admin(
        "POST",
        f"/api/serviceaccounts/{account['id']}/tokens",
        json={"name": "far", "secondsToLive": ttl},
    )
    assert created.status_code == 200
    for _round in range(2):
        listed = grafana.admin("GET", f"/api/serviceaccounts/{account['id']}/tokens")
        assert listed.status_code == 200
    token = listed.json()[0]
    expiry = unix(token["expiration"])
    low, high = go_wrapped_expiry(T0, ttl), go_wrapped_expiry(T0 + 5, ttl)
    assert low <= expiry <= high, (token, low, high)
    expired = expiry <= T0
    assert token["hasExpired"] is expired
    auth = grafana.call("GET", "/api/org", token=created.json()["key"])
    assert auth.status_code == (401 if expired else 200)
    search = grafana.admin("GET", "/api/serviceaccounts/search", params={"expiredTokens": "true"})
    assert search.status_code == 200
    assert grafana.admin("DELETE", f"/api/serviceaccounts/{account['id']}").status_code == 200


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_seconds_to_live_beyond_int64_is_bad_request_data(grafana: Client) -> None:
    account = grafana.create_sa("overflow")
    response = grafana.admin(
        "POST",
        f"/api/serviceaccounts/{account['id']}/tokens",
        data=b'{"name":"x","secondsToLive":9223372036854775808}',
    )
    assert (response.status_code, response.content) == (
        400,
        b'{"message":"Bad request data","traceID":""}',
    )
    assert grafana.admin("GET", f"/api/serviceaccounts/{account['id']}/tokens").json() == []


# --- item 2: every modelled difference cites its source ---------------------------------------


def test_every_profile_flag_cites_a_source() -> None:
    """Reads the profile table itself (the one place this suite imports the double's behaviour)."""
    sys.path.insert(
        0, str(Path(__file__).resolve().parents[3] / "roles" / "test_grafana" / "files")
    )
    from grafana_double import profiles  # noqa: PLC0415 - deliberate, see docstring

    assert profiles.uncited_flags() == ()
    for flag, (where, when) in {**profiles.SOURCES, **profiles.COMMON_SOURCES}.items():
        assert where.strip() and when.strip(), flag
    assert not hasattr(profiles.PROFILES["11.6"], "partial_patch_500")
