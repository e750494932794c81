"""The control API: clock, request log, faults, settings, secrets, reset, seeding helpers."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest
import requests
from double_support import Client


def clock_now(grafana: Client) -> datetime:
    return datetime.fromisoformat(grafana.control("GET", "clock")["now"].replace("Z", "+00:00"))


# --- clock ----------------------------------------------------------------------------------


def test_clock_set_and_advance(grafana: Client) -> None:
    assert grafana.control("POST", "clock", {"now": "2031-05-06T07:08:09Z"})["now"].startswith(
        "2031-05-06T07:08:"
    )
    moved = grafana.control("POST", "clock", {"advance": 3600})
    assert moved["now"].startswith("2031-05-06T08:08:")
    assert clock_now(grafana).year == 2031


def test_date_header_follows_the_clock(grafana: Client) -> None:
    grafana.control("POST", "clock", {"now": "2030-01-01T00:00:00Z"})
    response = grafana.call("GET", "/api/health")
    date = response.headers["Date"]
    assert date.startswith("Tue, 01 Jan 2030 00:00:") and date.endswith(" GMT")
    assert parsedate_to_datetime(date).year == 2030
    denied = grafana.call("GET", "/api/user")
    assert denied.headers["Date"].startswith("Tue, 01 Jan 2030")


def test_clock_rejects_bad_input(grafana: Client) -> None:
    for body in ({"now": "yesterday"}, {"advance": "soon"}):
        response = grafana.http.post(f"{grafana.base_url}/__double__/clock", json=body)
        assert response.status_code == 400 and "error" in response.json()


# --- request log ----------------------------------------------------------------------------


def test_request_log_records_summaries_and_never_credentials(grafana: Client) -> None:
    key = grafana.key_for("Admin", "logged")
    legacy = grafana.control("POST", "legacy_keys", {"name": "old", "role": "Admin"})["key"]
    grafana.control("DELETE", "requests")
    grafana.call("GET", "/api/org", token=key, org=1, params={"x": "1"})
    grafana.call("GET", "/api/org", basic=("admin", "admin"))
    grafana.call("GET", "/api/org", authorization="bearer " + legacy)
    grafana.call("GET", "/api/org")
    grafana.call("GET", "/api/search", params={"token": key})
    log = grafana.control("GET", "requests")
    assert [entry["auth_scheme"] for entry in log] == ["bearer", "basic", "other", "none", "none"]
    assert [entry["status"] for entry in log] == [200, 200, 401, 401, 404]
    assert log[0]["org_header"] == "1" and log[1]["org_header"] is None
    assert (log[0]["method"], log[0]["path"], log[0]["query"]) == ("GET", "/api/org", "x=1")
    assert set(log[0]) == {"method", "path", "query", "status", "auth_scheme", "org_header", "time"}
    dump = json.dumps(log)
    for secret in (key, legacy, "YWRtaW46YWRtaW4=", "admin:admin"):
        assert secret not in dump
    assert "(redacted)" in log[4]["query"]


def test_control_calls_are_not_logged_and_delete_clears(grafana: Client) -> None:
    grafana.call("GET", "/api/health")
    grafana.control("GET", "settings")
    assert [entry["path"] for entry in grafana.control("GET", "requests")] == ["/api/health"]
    assert grafana.control("DELETE", "requests") == []
    assert grafana.control("GET", "requests") == []


# --- faults ---------------------------------------------------------------------------------


def test_status_fault_with_headers_then_normal_service(grafana: Client) -> None:
    grafana.control(
        "POST",
        "faults",
        {
            "method": "GET",
            "path": "/api/org",
            "status": 503,
            "body": "<h1>busy</h1>",
            "content_type": "text/html",
            "headers": {"Retry-After": "1"},
        },
    )
    faulted = grafana.admin("GET", "/api/org")
    assert (faulted.status_code, faulted.text, faulted.headers["Retry-After"]) == (
        503,
        "<h1>busy</h1>",
        "1",
    )
    assert faulted.headers["Content-Type"] == "text/html"
    assert grafana.admin("GET", "/api/org").status_code == 200
    assert [entry["status"] for entry in grafana.control("GET", "requests")] == [503, 200]


def test_fault_matching_by_method_regex_and_times(grafana: Client) -> None:
    grafana.control(
        "POST",
        "faults",
        [
            {
                "method": "POST",
                "path_regex": r"^/api/serviceaccounts/\d+/tokens$",
                "status": 502,
                "times": 2,
            }
        ],
    )
    account = grafana.create_sa("target")
    assert grafana.admin("GET", f"/api/serviceaccounts/{account['id']}/tokens").status_code == 200
    statuses = [
        grafana.admin(
            "POST", f"/api/serviceaccounts/{account['id']}/tokens", json={"name": f"t{i}"}
        ).status_code
        for i in range(3)
    ]
    assert statuses == [502, 502, 200]
    assert grafana.control("GET", "faults") == []


def test_status_fault_without_after_effect_changes_nothing(grafana: Client) -> None:
    grafana.control(
        "POST", "faults", {"method": "POST", "path": "/api/serviceaccounts", "status": 500}
    )
    assert grafana.admin("POST", "/api/serviceaccounts", json={"name": "lost"}).status_code == 500
    assert grafana.admin("GET", "/api/serviceaccounts/search").json()["totalCount"] == 0


def test_after_effect_performs_the_write_then_fails(grafana: Client) -> None:
    grafana.control(
        "POST",
        "faults",
        {
            "method": "POST",
            "path": "/api/serviceaccounts",
            "status": 500,
            "body": {"message": "Internal Server Error"},
            "after_effect": True,
        },
    )
    response = grafana.admin("POST", "/api/serviceaccounts", json={"name": "half-done"})
    assert response.status_code == 500 and response.json() == {"message": "Internal Server Error"}
    assert response.headers["Content-Type"] == "application/json"
    assert (
        grafana.admin("GET", "/api/serviceaccounts/search").json()["serviceAccounts"][0]["name"]
        == "half-done"
    )


def test_delay_then_normal_answer(grafana: Client) -> None:
    grafana.control("POST", "faults", {"path": "/api/health", "delay": 0.3})
    started = time.monotonic()
    assert grafana.call("GET", "/api/health").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_delay_triggers_client_timeouts(grafana: Client) -> None:
    grafana.control("POST", "faults", {"path": "/api/health", "delay": 1.0, "status": 504})
    with pytest.raises(requests.exceptions.ReadTimeout):
        grafana.http.get(f"{grafana.base_url}/api/health", timeout=0.2)
    deadline = time.monotonic() + 5  # let the delayed request finish before the next test resets
    while not grafana.control("GET", "requests") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert grafana.control("GET", "requests")[0]["status"] == 504


def test_drop_closes_without_a_response(grafana: Client) -> None:
    grafana.control("POST", "faults", {"method": "GET", "path": "/api/org", "drop": True})
    with pytest.raises(requests.exceptions.ConnectionError):
        grafana.admin("GET", "/api/org")
    assert grafana.admin("GET", "/api/org").status_code == 200
    assert grafana.control("GET", "requests")[0]["status"] is None


def test_drop_after_effect_loses_only_the_answer(grafana: Client) -> None:
    account = grafana.create_sa("victim")
    grafana.control(
        "POST",
        "faults",
        {"method": "POST", "path_regex": "/tokens$", "drop": True, "after_effect": True},
    )
    with pytest.raises(requests.exceptions.ConnectionError):
        grafana.admin(
            "POST", f"/api/serviceaccounts/{account['id']}/tokens", json={"name": "orphan"}
        )
    assert [
        t["name"]
        for t in grafana.admin("GET", f"/api/serviceaccounts/{account['id']}/tokens").json()
    ] == ["orphan"]


def test_faults_match_health_under_any_method_when_method_is_omitted(grafana: Client) -> None:
    grafana.control("POST", "faults", {"path": "/api/health", "status": 418})
    assert grafana.call("HEAD", "/api/health").status_code == 418


@pytest.mark.parametrize(
    "bad",
    [
        {"path": "/x"},
        {"status": 42},
        {"status": 500, "times": 0},
        {"status": 500, "colour": "red"},
        {"status": 500, "path": "/a", "path_regex": "b"},
        "text",
    ],
)
def test_invalid_faults_are_rejected_whole(grafana: Client, bad) -> None:
    response = grafana.http.post(
        f"{grafana.base_url}/__double__/faults", json=[{"status": 500}, bad]
    )
    assert response.status_code == 400
    assert grafana.control("GET", "faults") == []


def test_faults_list_and_clear(grafana: Client) -> None:
    listed = grafana.control(
        "POST", "faults", {"method": "get", "path": "/api/org", "status": 500, "times": 3}
    )
    assert listed[0]["method"] == "GET" and listed[0]["times"] == 3
    assert grafana.control("DELETE", "faults") == []
    assert grafana.admin("GET", "/api/org").status_code == 200


# --- settings, secrets, reset, helpers --------------------------------------------------------


def test_settings_defaults_and_validation(grafana: Client) -> None:
    assert grafana.control("GET", "settings") == {
        "basic_auth_enabled": True,
        "api_key_max_seconds_to_live": -1,
        "token_expiration_day_limit": 0,
        "version": "12.2",
        "database_ok": True,
    }
    for bad in (
        {"version": "8.0"},
        {"basic_auth_enabled": "no"},
        {"nonsense": 1},
        {"token_expiration_day_limit": True},
    ):
        assert (
            grafana.http.post(f"{grafana.base_url}/__double__/settings", json=bad).status_code
            == 400
        )
    assert grafana.control("GET", "settings")["version"] == "12.2"


def test_version_switch_is_live(grafana: Client) -> None:
    grafana.settings(version="9.5")
    assert grafana.call("GET", "/api/health").json()["version"] == "9.5.21"
    assert grafana.call("GET", "/api/user").content == b'{"message":"Unauthorized"}\n'


def test_secrets_survive_reset(grafana: Client) -> None:
    key = grafana.key_for("Viewer", "secretive")
    grafana.add_user("pat", password="correct-horse-battery")
    grafana.reset()
    secrets = grafana.control("GET", "secrets")
    assert key in secrets["keys"] and "correct-horse-battery" in secrets["passwords"]


def test_reset_restores_initial_state(grafana: Client) -> None:
    grafana.create_sa("temp")
    grafana.admin("POST", "/api/orgs", json={"name": "Temp"})
    grafana.settings(basic_auth_enabled=False, version="10.4")
    grafana.control("POST", "clock", {"advance": 86400 * 365})
    grafana.control("POST", "faults", {"path": "/api/org", "status": 500})
    grafana.reset()
    assert grafana.control("GET", "settings")["version"] == "12.2"
    assert abs((clock_now(grafana) - datetime.now(timezone.utc)).total_seconds()) < 5
    assert grafana.control("GET", "faults") == [] and grafana.control("GET", "requests") == []
    assert grafana.admin("GET", "/api/serviceaccounts/search").json()["totalCount"] == 0
    assert grafana.admin("GET", "/api/orgs").json() == [{"id": 1, "name": "Main Org."}]
    assert grafana.create_sa("fresh")["id"] == 2


def test_seeded_user_logs_in(grafana: Client) -> None:
    login, password = grafana.add_user("editor", role="Editor", email="editor@example.com")
    assert (
        grafana.call("GET", "/api/user", basic=("editor@example.com", password)).json()["login"]
        == login
    )
    assert grafana.call("GET", "/api/user", basic=("EDITOR", password)).status_code == 200
    duplicate = grafana.http.post(
        f"{grafana.base_url}/__double__/users", json={"login": "editor", "password": "x"}
    )
    assert duplicate.status_code == 400


def test_seed_helpers_validate(grafana: Client) -> None:
    base = f"{grafana.base_url}/__double__"
    assert (
        grafana.http.post(f"{base}/legacy_keys", json={"name": "k", "role": "root"}).status_code
        == 400
    )
    assert (
        grafana.http.post(f"{base}/legacy_keys", json={"name": "k", "org_id": 9}).status_code == 400
    )
    assert grafana.http.post(f"{base}/users", json={"login": "x"}).status_code == 400
    assert grafana.http.post(f"{base}/tokens/99/revoke").status_code == 404
    assert grafana.http.get(f"{base}/nope").status_code == 404
