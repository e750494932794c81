"""Contract §10 (health), dashboards, generic 404s."""

from __future__ import annotations

import pytest
from double_support import JSON, JSON_UTF8, TEXT, Client, Spec

HEALTH = {
    "12.2": b'{\n  "database": "ok",\n  "version": "12.2.0",\n  "commit": "3a1b9c8d7e"\n}',
    "11.6": b'{\n  "database": "ok",\n  "version": "11.6.4",\n  "commit": "0f6c4e2a18"\n}',
    "10.4": b'{\n  "database": "ok",\n  "version": "10.4.19",\n  "commit": "7e9f1b6c52"\n}',
    "9.5": b'{\n  "commit": "c1e4a4b3ae",\n  "database": "ok",\n  "version": "9.5.21"\n}',
}


@pytest.mark.parametrize("grafana", list(HEALTH), indirect=True)
def test_health_bytes_per_version(grafana: Client, spec: Spec) -> None:
    response = grafana.call("GET", "/api/health", token="whatever")
    assert (response.status_code, response.content) == (200, HEALTH[grafana.version])
    assert response.headers["Content-Type"] == JSON_UTF8
    spec.check(response, "GET", "/health")


def test_health_head_has_headers_but_no_body(grafana: Client) -> None:
    response = grafana.call("HEAD", "/api/health")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["Content-Length"] == str(len(HEALTH["12.2"]))


def test_failing_database_gives_503_with_the_health_struct(grafana: Client, spec: Spec) -> None:
    grafana.settings(database_ok=False)
    response = grafana.call("GET", "/api/health")
    assert response.status_code == 503
    assert response.json() == {"database": "failing", "version": "12.2.0", "commit": "3a1b9c8d7e"}
    # Known spec error (SOURCE.md): the spec documents 503 as ErrorResponseBody, which needs "message".
    assert spec.errors(response.json(), "GET", "/health", 503) == [
        "'message' is a required property"
    ]


def test_healthz(grafana: Client) -> None:
    response = grafana.call("GET", "/healthz", basic=("admin", "wrong"))
    assert (response.status_code, response.content, response.headers["Content-Type"]) == (
        200,
        b"Ok",
        TEXT,
    )


def test_home_dashboard(grafana: Client, spec: Spec) -> None:
    key = grafana.key_for("None", "nobody")
    response = grafana.call("GET", "/api/dashboards/home", token=key)
    assert response.status_code == 200 and response.headers["Content-Type"] == JSON
    assert list(response.json()) == ["dashboard", "meta"]
    assert response.json()["meta"]["canEdit"] is False
    spec.check(response, "GET", "/dashboards/home")


def test_save_dashboard_bumps_the_version(grafana: Client, spec: Spec) -> None:
    key = grafana.key_for("Editor", "writer")
    first = grafana.call(
        "POST",
        "/api/dashboards/db",
        token=key,
        json={"dashboard": {"title": "Hello World", "uid": "hw"}},
    )
    assert first.status_code == 200
    assert list(first.json()) == sorted(first.json())
    assert {k: first.json()[k] for k in ("status", "slug", "uid", "url", "version")} == {
        "status": "success",
        "slug": "hello-world",
        "uid": "hw",
        "url": "/d/hw/hello-world",
        "version": 1,
    }
    spec.check(first, "POST", "/dashboards/db")
    second = grafana.call(
        "POST", "/api/dashboards/db", token=key, json={"dashboard": {"title": "Hello", "uid": "hw"}}
    )
    assert (second.json()["version"], second.json()["id"]) == (2, first.json()["id"])


def test_save_dashboard_needs_a_title(grafana: Client) -> None:
    assert grafana.admin("POST", "/api/dashboards/db", json={"dashboard": {}}).status_code == 400
    assert grafana.admin("POST", "/api/dashboards/db", json={}).status_code == 400


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/nothing"),
        ("GET", "/api/serviceaccounts"),
        ("PUT", "/api/serviceaccounts/search"),
        ("POST", "/api/user"),
        ("GET", "/__double__x"),
        ("GET", "/"),
    ],
)
def test_unknown_routes_and_methods_are_404(grafana: Client, method: str, path: str) -> None:
    response = grafana.admin(method, path)
    assert (response.status_code, response.content) == (404, b'{"message":"Not found"}\n')
    assert response.headers["Content-Type"] == JSON_UTF8


def test_trailing_slash_is_tolerated(grafana: Client) -> None:
    assert grafana.admin("POST", "/api/serviceaccounts/", json={"name": "slash"}).status_code == 201
