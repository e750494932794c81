"""Contract §3: every authentication situation, per version profile, body for body.

One table: situation -> (status, exact body) for the authn releases (10.4, 11.6, 12.2) and
for 9.5's legacy context handler, with per-release overrides where the contract says so.
All 401/403 bodies here come from writer C / JsonApiErr: ``application/json; charset=UTF-8``
and a trailing newline (json.Encoder), which is why the no-auth body is 102 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

import pytest
from double_support import JSON_UTF8, VERSIONS, Client, forge_glsa


def writer_c(message_id: str, message: str) -> bytes:
    return (
        '{"extra":null,"message":"%s","messageId":"%s","statusCode":401,"traceID":""}\n'
        % (message, message_id)
    ).encode()


def legacy(message: str) -> bytes:
    return ('{"message":"%s"}\n' % message).encode()


UNAUTHORIZED = writer_c("auth.unauthorized", "Unauthorized")
INVALID = writer_c("api-key.invalid", "Invalid API key")
EXPIRED = writer_c("api-key.expired", "Expired API key")
REVOKED = writer_c("api-key.revoked", "Revoked API key")
MISMATCH = writer_c(
    "api-key.organization-mismatch", "API key does not belong to the requested organization"
)
DISABLED = writer_c("identity.disabled", "Unauthorized")
PASSWORD = writer_c("password-auth.failed", "Invalid username or password")
FALLBACK = b'{"message":"Unauthorized","traceID":""}\n'
BAD_BASIC_95 = legacy("Invalid Basic Auth Header")
INVALID_95 = legacy("Invalid API key")
PASSWORD_95 = legacy("Invalid username or password")
OK = (200, None)

Expect = Tuple[int, Optional[bytes]]


@dataclass
class World:
    """Credentials in every state the table needs, created through the real API."""

    valid: str
    expired: str
    revoked: str
    deleted: str
    sa_deleted: str
    disabled: str
    legacy: str


def build_world(client: Client) -> World:
    account, valid = client.token_for("Admin", "robot")
    expired = client.create_token(account["id"], "short", ttl=30)["key"]
    revoked = client.create_token(account["id"], "revoked")
    client.control("POST", f"tokens/{revoked['id']}/revoke")
    deleted = client.create_token(account["id"], "deleted")
    assert (
        client.admin(
            "DELETE", f"/api/serviceaccounts/{account['id']}/tokens/{deleted['id']}"
        ).status_code
        == 200
    )
    gone, sa_deleted = client.token_for("Viewer", "gone")
    assert client.admin("DELETE", f"/api/serviceaccounts/{gone['id']}").status_code == 200
    sleepy = client.create_sa("sleepy", "Viewer", isDisabled=True)
    disabled = client.create_token(sleepy["id"], "sleepy")["key"]
    plain_key = client.control("POST", "legacy_keys", {"name": "old-key", "role": "Admin"})["key"]
    client.control("POST", "clock", {"advance": 31})
    return World(valid, expired, revoked["key"], deleted["key"], sa_deleted, disabled, plain_key)


@dataclass
class Situation:
    name: str
    request: Callable[[World], Dict[str, Any]]
    authn: Expect
    legacy_95: Expect
    overrides: Dict[str, Expect] = field(default_factory=dict)
    settings: Dict[str, Any] = field(default_factory=dict)

    def expected(self, version: str) -> Expect:
        if version in self.overrides:
            return self.overrides[version]
        return self.legacy_95 if version == "9.5" else self.authn


def bearer(token: str) -> Dict[str, Any]:
    return {"authorization": f"Bearer {token}"}


def flip_last(token: str) -> str:
    return token[:-1] + ("0" if token[-1] != "0" else "1")


OLD_AUTHN_UNKNOWN = {"10.4": (401, FALLBACK), "11.6": (401, FALLBACK)}

SITUATIONS = [
    Situation("1-no-header", lambda w: {}, (401, UNAUTHORIZED), (401, legacy("Unauthorized"))),
    Situation(
        "2-no-scheme",
        lambda w: {"authorization": w.valid},
        (401, UNAUTHORIZED),
        (401, BAD_BASIC_95),
    ),
    Situation(
        "3-lower-case-bearer",
        lambda w: {"authorization": "bearer " + w.valid},
        (401, UNAUTHORIZED),
        (401, BAD_BASIC_95),
    ),
    Situation(
        "3-upper-case-bearer",
        lambda w: {"authorization": "BEARER " + w.valid},
        (401, UNAUTHORIZED),
        (401, BAD_BASIC_95),
    ),
    Situation(
        "3-token-scheme",
        lambda w: {"authorization": "Token " + w.valid},
        (401, UNAUTHORIZED),
        (401, BAD_BASIC_95),
    ),
    Situation(
        "4-bad-checksum", lambda w: bearer(flip_last(w.valid)), (401, INVALID), (401, INVALID_95)
    ),
    Situation(
        "4-wrong-part-count", lambda w: bearer("glsa_abc"), (401, INVALID), (401, INVALID_95)
    ),
    Situation(
        "5-non-gl-garbage", lambda w: bearer("not-a-token"), (401, INVALID), (401, INVALID_95)
    ),
    Situation(
        "5-two-spaces", lambda w: {"authorization": "Bearer  " + w.valid}, (401, INVALID), OK
    ),
    Situation(
        "6-deleted-token",
        lambda w: bearer(w.deleted),
        (401, INVALID),
        (401, INVALID_95),
        OLD_AUTHN_UNKNOWN,
    ),
    Situation(
        "6-never-minted",
        lambda w: bearer(forge_glsa()),
        (401, INVALID),
        (401, INVALID_95),
        OLD_AUTHN_UNKNOWN,
    ),
    Situation(
        "6-deleted-sa",
        lambda w: bearer(w.sa_deleted),
        (401, INVALID),
        (401, INVALID_95),
        OLD_AUTHN_UNKNOWN,
    ),
    Situation(
        "7-expired", lambda w: bearer(w.expired), (401, EXPIRED), (401, legacy("Expired API key"))
    ),
    Situation(
        "8-revoked", lambda w: bearer(w.revoked), (401, REVOKED), (401, legacy("Revoked token"))
    ),
    Situation("9-org-header-other", lambda w: dict(bearer(w.valid), org=2), (401, MISMATCH), OK),
    Situation(
        "9-target-org-query",
        lambda w: dict(bearer(w.valid), params={"targetOrgId": "2"}),
        (401, MISMATCH),
        OK,
    ),
    Situation("9-org-header-same", lambda w: dict(bearer(w.valid), org=1), OK, OK),
    Situation("10-org-header-non-numeric", lambda w: dict(bearer(w.valid), org="abc"), OK, OK),
    Situation(
        "11-disabled-sa",
        lambda w: bearer(w.disabled),
        (401, DISABLED),
        (401, legacy("Service account is disabled")),
    ),
    Situation(
        "12-plain-legacy-key",
        lambda w: bearer(w.legacy),
        (401, INVALID),
        OK,
        {"10.4": OK, "11.6": OK},
    ),
    Situation(
        "13-basic-wrong-password",
        lambda w: {"basic": ("admin", "wrong")},
        (401, PASSWORD),
        (401, PASSWORD_95),
    ),
    Situation(
        "13-basic-unknown-user",
        lambda w: {"basic": ("nobody", "x")},
        (401, PASSWORD),
        (401, PASSWORD_95),
    ),
    Situation(
        "14-basic-empty-password",
        lambda w: {"basic": ("admin", "")},
        (401, PASSWORD),
        (401, PASSWORD_95),
    ),
    Situation("13-basic-ok", lambda w: {"basic": ("admin", "admin")}, OK, OK),
    Situation(
        "15-basic-disabled",
        lambda w: {"basic": ("admin", "admin")},
        (401, UNAUTHORIZED),
        (401, legacy("Unauthorized")),
        settings={"basic_auth_enabled": False},
    ),
    Situation("16-basic-api-key", lambda w: {"basic": ("api_key", w.valid)}, OK, OK),
    Situation(
        "16-basic-api-key-basic-disabled",
        lambda w: {"basic": ("api_key", w.valid)},
        OK,
        OK,
        settings={"basic_auth_enabled": False},
    ),
    Situation(
        "17-basic-api-key-garbage",
        lambda w: {"basic": ("api_key", "garbage")},
        (401, INVALID),
        (401, INVALID_95),
    ),
    # The Basic client also fails ("api_key" is no user); with a non-errutil API-key error first,
    # errors.As finds the Basic client's password-auth.failed in the join.
    Situation(
        "17-basic-api-key-deleted",
        lambda w: {"basic": ("api_key", w.deleted)},
        (401, INVALID),
        (401, INVALID_95),
        {"10.4": (401, PASSWORD), "11.6": (401, PASSWORD)},
    ),
    Situation(
        "18-malformed-basic",
        lambda w: {"authorization": "Basic !!!not-base64"},
        (401, UNAUTHORIZED),
        (401, BAD_BASIC_95),
    ),
    Situation("19-trailing-spaces", lambda w: {"authorization": f"Bearer {w.valid}   "}, OK, OK),
    Situation(
        "20-health-ignores-credentials",
        lambda w: dict(bearer("garbage"), path="/api/health"),
        OK,
        OK,
    ),
    Situation(
        "public-unknown-route-ignores-bad-token",
        lambda w: dict(bearer("garbage"), path="/api/nope"),
        (404, legacy("Not found")),
        (401, INVALID_95),
    ),
]

CASES = [
    pytest.param(version, situation, id=f"{version}-{situation.name}")
    for version in VERSIONS
    for situation in SITUATIONS
]


class Worlds:
    """One dedicated double per version with one world each: the table only reads state,
    so building the world once per version (not per row) keeps the table fast."""

    def __init__(self, launcher) -> None:
        self.launcher = launcher
        self.built: Dict[str, Tuple[Client, World]] = {}

    def __getitem__(self, version: str) -> Tuple[Client, World]:
        if version not in self.built:
            client = Client(self.launcher.start("--version", version).url, version=version)
            self.built[version] = (client, build_world(client))
        return self.built[version]


@pytest.fixture(scope="module")
def worlds(launcher) -> Worlds:
    return Worlds(launcher)


@pytest.mark.parametrize("version,situation", CASES)
def test_auth_situation(worlds: Worlds, version: str, situation: Situation) -> None:
    client, world = worlds[version]
    arguments = situation.request(world)
    path = arguments.pop("path", "/api/dashboards/home")
    client.settings(**situation.settings)
    try:
        response = client.call("GET", path, **arguments)
    finally:
        client.settings(basic_auth_enabled=True)
    status, body = situation.expected(version)
    assert response.status_code == status, response.content
    if body is not None:
        assert response.content == body
        assert response.headers["Content-Type"] == JSON_UTF8
        assert response.headers["Content-Length"] == str(len(body))
    elif path == "/api/dashboards/home":
        assert response.json()["dashboard"]["title"] == "Home"


def test_no_auth_body_is_102_bytes_as_observed_on_grafana_11(grafana: Client) -> None:
    response = grafana.call("GET", "/api/user")
    assert response.headers["Content-Length"] == "102"


@pytest.mark.parametrize("grafana", ["12.2"], indirect=True)
def test_disabled_sa_is_rejected_only_after_the_token_checks(grafana: Client) -> None:
    """Expiry is checked before the disabled flag (validateApiKey order)."""
    account = grafana.create_sa("late", "Viewer", isDisabled=True)
    key = grafana.create_token(account["id"], "t", ttl=10)["key"]
    assert grafana.call("GET", "/api/org", token=key).content == DISABLED
    grafana.control("POST", "clock", {"advance": 11})
    assert grafana.call("GET", "/api/org", token=key).content == EXPIRED


def test_the_org_header_of_a_deleted_key_does_not_matter(grafana: Client) -> None:
    """Lookup comes first: a deleted token is invalid whatever org it asks for."""
    assert grafana.call("GET", "/api/org", token=forge_glsa(), org=2).content == INVALID


@pytest.mark.parametrize("grafana", ["11.6"], indirect=True)
def test_contract_test_vector_decodes(grafana: Client) -> None:
    """11.x tells "well-formed but unknown" (fallback body) apart from a bad checksum."""
    vector = "glsa_iNValIdinValiDinvalidinvalidinva_5b582697"
    assert grafana.call("GET", "/api/org", token=vector).content == FALLBACK
    assert grafana.call("GET", "/api/org", token=flip_last(vector)).content == INVALID
