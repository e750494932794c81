"""Contract §4 and §6: token format, list/create/delete, TTL rules, expiry, lastUsedAt."""

from __future__ import annotations

from datetime import datetime

import pytest
from double_support import JSON, TEXT, VERSIONS, Client, Spec, glsa_is_valid, ordered_keys

TOKEN_KEYS = [
    "id",
    "name",
    "created",
    "lastUsedAt",
    "expiration",
    "secondsUntilExpiration",
    "hasExpired",
    "isRevoked",
]
DUPLICATE = (
    b'{"message":"service account token with given name already exists in the organization",'
    b'"messageId":"serviceaccounts.ErrTokenAlreadyExists","statusCode":400,"traceID":""}'
)
SA_NOT_FOUND = (
    b'{"message":"service account not found","messageId":"serviceaccounts.ErrNotFound",'
    b'"statusCode":404,"traceID":""}'
)
T0 = "2030-01-01T00:00:00Z"


def parse(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def tokens_of(grafana: Client, sa_id: int) -> list:
    response = grafana.admin("GET", f"/api/serviceaccounts/{sa_id}/tokens")
    assert response.status_code == 200
    return response.json()


# --- create -------------------------------------------------------------------------------


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_create_returns_200_with_a_real_glsa_key(grafana: Client, spec: Spec) -> None:
    account = grafana.create_sa("minter")
    response = grafana.admin(
        "POST", f"/api/serviceaccounts/{account['id']}/tokens", json={"name": "first"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON
    assert ordered_keys(response) == ["id", "name", "key"]
    key = response.json()["key"]
    assert glsa_is_valid(key) and len(key) == 46
    assert key in grafana.control("GET", "secrets")["keys"]
    spec.check(response, "POST", "/serviceaccounts/{serviceAccountId}/tokens")


def test_new_token_authenticates_as_its_sa(grafana: Client) -> None:
    account, key = grafana.token_for("Viewer", "reader")
    body = grafana.call("GET", "/api/user", token=key).json()
    assert (body["uid"], body["login"]) == (f"service-account:{account['id']}", "sa-1-reader")


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_duplicate_name_is_400_not_the_specs_409(grafana: Client, spec: Spec) -> None:
    """Known spec error (SOURCE.md): the spec lists 409 for createToken, the code sends 400.
    9.5 included (contract §13 C2: errutil ErrDuplicateToken since PR #64299)."""
    account = grafana.create_sa("one")
    grafana.create_token(account["id"], "shared")
    response = grafana.admin(
        "POST", f"/api/serviceaccounts/{account['id']}/tokens", json={"name": "shared"}
    )
    assert (response.status_code, response.content) == (400, DUPLICATE)
    assert (
        "409"
        in spec.document["paths"]["/serviceaccounts/{serviceAccountId}/tokens"]["post"]["responses"]
    )
    spec.check(response, "POST", "/serviceaccounts/{serviceAccountId}/tokens")


def test_names_are_unique_per_org_across_sas_and_legacy_keys(grafana: Client) -> None:
    first, second = grafana.create_sa("first"), grafana.create_sa("second")
    grafana.create_token(first["id"], "deploy")
    grafana.control("POST", "legacy_keys", {"name": "old", "role": "Viewer"})
    for name in ("deploy", "old"):
        response = grafana.admin(
            "POST", f"/api/serviceaccounts/{second['id']}/tokens", json={"name": name}
        )
        assert (response.status_code, response.content) == (400, DUPLICATE)
    grafana.admin("POST", "/api/orgs", json={"name": "Other"})
    elsewhere = grafana.create_sa("third", org=2)
    assert grafana.create_token(elsewhere["id"], "deploy", org=2)["name"] == "deploy"


def test_negative_ttl(grafana: Client) -> None:
    account = grafana.create_sa("neg")
    response = grafana.admin(
        "POST",
        f"/api/serviceaccounts/{account['id']}/tokens",
        json={"name": "n", "secondsToLive": -1},
    )
    assert response.status_code == 400
    assert response.content == (
        b'{"message":"invalid SecondsToLive value","messageId":"serviceaccounts.ErrInvalidInput",'
        b'"statusCode":400,"traceID":""}'
    )


@pytest.mark.parametrize(
    "payload",
    [{}, {"name": ""}, {"name": "x", "secondsToLive": "60"}, {"name": "x", "secondsToLive": 1.5}],
)
def test_bad_token_body(grafana: Client, payload: dict) -> None:
    account = grafana.create_sa("bad")
    response = grafana.admin("POST", f"/api/serviceaccounts/{account['id']}/tokens", json=payload)
    assert (response.status_code, response.content) == (
        400,
        b'{"message":"Bad request data","traceID":""}',
    )


def test_unknown_sa_is_404_before_the_body_is_read(grafana: Client) -> None:
    response = grafana.admin("POST", "/api/serviceaccounts/999/tokens", data=b"{broken")
    assert (response.status_code, response.content) == (404, SA_NOT_FOUND)


@pytest.mark.parametrize(
    "ttl,status,body",
    [
        (0, 400, b'{"message":"Number of seconds before expiration should be set"}'),
        (
            3601,
            400,
            b'{"message":"Number of seconds before expiration is greater than the global limit"}',
        ),
        (3600, 200, None),
    ],
)
def test_global_max_ttl(grafana: Client, ttl: int, status: int, body: bytes) -> None:
    grafana.settings(api_key_max_seconds_to_live=3600)
    account = grafana.create_sa("capped")
    response = grafana.admin(
        "POST",
        f"/api/serviceaccounts/{account['id']}/tokens",
        json={"name": "t", "secondsToLive": ttl},
    )
    assert response.status_code == status
    if body is not None:
        assert response.content == body and response.headers["Content-Type"] == JSON


@pytest.mark.parametrize("ttl,status", [(3600, 200), (86400, 200), (3 * 86400, 400)])
def test_day_limit_answers_in_plain_text(grafana: Client, ttl: int, status: int) -> None:
    grafana.control("POST", "clock", {"now": "2030-01-01T12:00:00Z"})
    grafana.settings(token_expiration_day_limit=1)
    account = grafana.create_sa("limited")
    response = grafana.admin(
        "POST",
        f"/api/serviceaccounts/{account['id']}/tokens",
        json={"name": "t", "secondsToLive": ttl},
    )
    assert response.status_code == status
    if status == 400:
        assert response.headers["Content-Type"] == TEXT
        assert response.text == (
            "The expiration date input exceeds the limit for service account access tokens "
            "expiration date"
        )


# --- list ---------------------------------------------------------------------------------


@pytest.mark.parametrize("grafana", VERSIONS, indirect=True)
def test_list_dto_order_and_sorting(grafana: Client, spec: Spec) -> None:
    account = grafana.create_sa("lister")
    for name in ("charlie", "alpha", "bravo"):
        grafana.create_token(account["id"], name)
    response = grafana.admin("GET", f"/api/serviceaccounts/{account['id']}/tokens")
    assert [item["name"] for item in response.json()] == ["alpha", "bravo", "charlie"]
    assert list(response.json()[0]) == TOKEN_KEYS
    first = response.json()[0]
    assert (first["lastUsedAt"], first["expiration"], first["secondsUntilExpiration"]) == (
        None,
        None,
        0,
    )
    assert (first["hasExpired"], first["isRevoked"]) == (False, False)
    spec.check(response, "GET", "/serviceaccounts/{serviceAccountId}/tokens")


def test_list_of_unknown_sa_is_empty(grafana: Client) -> None:
    assert tokens_of(grafana, 4242) == []


def test_seconds_until_expiration_only_within_seven_days(grafana: Client) -> None:
    grafana.control("POST", "clock", {"now": T0})
    account = grafana.create_sa("soon")
    grafana.create_token(account["id"], "a-hour", ttl=3600)
    grafana.create_token(account["id"], "b-month", ttl=30 * 86400)
    hour, month = tokens_of(grafana, account["id"])
    assert 3500 < hour["secondsUntilExpiration"] <= 3600
    assert parse(hour["expiration"]) - parse(hour["created"]) == 3600
    assert month["secondsUntilExpiration"] == 0
    assert parse(month["expiration"]) - parse(month["created"]) == 30 * 86400


def test_expiry_is_inclusive_and_follows_the_clock(grafana: Client) -> None:
    grafana.control("POST", "clock", {"now": T0})
    account, key = grafana.token_for("Viewer", "tick", ttl=60)
    assert tokens_of(grafana, account["id"])[0]["expiration"] == "2030-01-01T00:01:00Z"
    grafana.control("POST", "clock", {"now": "2030-01-01T00:00:50Z"})
    assert grafana.call("GET", "/api/org", token=key).status_code == 200
    grafana.control("POST", "clock", {"now": "2030-01-01T00:01:00Z"})
    expired = grafana.call("GET", "/api/org", token=key)
    assert expired.status_code == 401 and expired.json()["messageId"] == "api-key.expired"
    grafana.control("POST", "clock", {"advance": 1})
    listed = tokens_of(grafana, account["id"])[0]
    assert (listed["hasExpired"], listed["secondsUntilExpiration"]) == (True, 0)


def test_last_used_at_is_written_at_most_every_five_minutes(grafana: Client) -> None:
    grafana.control("POST", "clock", {"now": T0})
    account, key = grafana.token_for("Viewer", "used")
    assert tokens_of(grafana, account["id"])[0]["lastUsedAt"] is None
    grafana.call("GET", "/api/org", token=key)
    first = tokens_of(grafana, account["id"])[0]["lastUsedAt"]
    assert first.startswith("2030-01-01T00:0")
    grafana.control("POST", "clock", {"advance": 120})
    grafana.call("GET", "/api/org", token=key)
    assert tokens_of(grafana, account["id"])[0]["lastUsedAt"] == first
    grafana.control("POST", "clock", {"advance": 181})
    grafana.call("GET", "/api/org", token=key)
    assert parse(tokens_of(grafana, account["id"])[0]["lastUsedAt"]) - parse(first) >= 301


def test_failed_use_does_not_touch_last_used_at(grafana: Client) -> None:
    account, key = grafana.token_for("Viewer", "quiet")
    grafana.call("GET", "/api/org", token=key, org=2)
    assert tokens_of(grafana, account["id"])[0]["lastUsedAt"] is None


def test_revocation_shows_in_the_list(grafana: Client) -> None:
    account = grafana.create_sa("scanned")
    token = grafana.create_token(account["id"], "leaked")
    assert grafana.control("POST", f"tokens/{token['id']}/revoke") == {
        "id": token["id"],
        "isRevoked": True,
    }
    assert tokens_of(grafana, account["id"])[0]["isRevoked"] is True


# --- delete -------------------------------------------------------------------------------


def test_delete_token(grafana: Client) -> None:
    account = grafana.create_sa("deleter")
    token = grafana.create_token(account["id"], "gone")
    response = grafana.admin("DELETE", f"/api/serviceaccounts/{account['id']}/tokens/{token['id']}")
    assert (response.status_code, response.content) == (
        200,
        b'{"message":"Service account token deleted"}',
    )
    assert tokens_of(grafana, account["id"]) == []
    assert grafana.call("GET", "/api/org", token=token["key"]).status_code == 401


def test_delete_unknown_token_is_404(grafana: Client) -> None:
    account = grafana.create_sa("deleter")
    response = grafana.admin("DELETE", f"/api/serviceaccounts/{account['id']}/tokens/777")
    assert response.status_code == 404
    assert response.content == (
        b'{"message":"service account token not found",'
        b'"messageId":"serviceaccounts.ErrTokenNotFound","statusCode":404,"traceID":""}'
    )


def test_delete_token_of_another_sa_is_404(grafana: Client) -> None:
    owner, other = grafana.create_sa("owner"), grafana.create_sa("other")
    token = grafana.create_token(owner["id"], "mine")
    assert (
        grafana.admin(
            "DELETE", f"/api/serviceaccounts/{other['id']}/tokens/{token['id']}"
        ).status_code
        == 404
    )
    assert len(tokens_of(grafana, owner["id"])) == 1


def test_delete_non_integer_token_id_is_400(grafana: Client) -> None:
    account = grafana.create_sa("deleter")
    response = grafana.admin("DELETE", f"/api/serviceaccounts/{account['id']}/tokens/abc")
    assert (response.status_code, response.content) == (
        400,
        b'{"message":"Token ID is invalid","traceID":""}',
    )
