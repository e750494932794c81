"""Test support: run the double as a real process, talk to it over HTTP, check the spec.

Nothing here uses the double's own code but its process launcher
(``grafana_double.launcher.DoubleProcess``, shared with ``bench/run.py`` and, through its command
line, the ``test_grafana`` role): expectations are written from the contract
(``grafana-api-contract.md``) so a bug in the double cannot hide in a shared helper.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import string
import struct
import sys
import zlib
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import requests

REPO_ROOT = Path(__file__).resolve().parents[3]
# the double ships in the collection, inside the test_grafana role (standard library only)
DOUBLE_ROOT = REPO_ROOT / "roles" / "test_grafana" / "files"
sys.path.insert(0, str(DOUBLE_ROOT))
# The one Python launcher (process handling only: the expectations below never use the double's code)
from grafana_double.launcher import DoubleProcess  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

VERSIONS = ("9.5", "10.4", "11.6", "12.2")
ADMIN = ("admin", "admin")

JSON = "application/json"
JSON_UTF8 = "application/json; charset=UTF-8"
TEXT = "text/plain; charset=utf-8"

GLSA_RE = re.compile(r"^glsa_[0-9A-Za-z]{32}_[0-9a-f]{8}$")


# --- token format, written independently of the double -----------------------------------


def glsa_checksum(prefix_and_secret: str) -> str:
    return struct.pack("<I", zlib.crc32(prefix_and_secret.encode())).hex()


def forge_glsa() -> str:
    """A well-formed token (valid checksum) that no double ever minted."""
    secret = "".join(
        secrets.choice(string.ascii_letters + string.digits) for _position in range(32)
    )
    return f"glsa_{secret}_{glsa_checksum('glsa_' + secret)}"


def glsa_is_valid(token: str) -> bool:
    if not GLSA_RE.match(token):
        return False
    prefix, secret, check = token.split("_")
    return glsa_checksum(f"{prefix}_{secret}") == check


# --- processes ----------------------------------------------------------------------------

# --- HTTP client --------------------------------------------------------------------------


class Client:
    """A requests session against one double, with shortcuts for the admin and control API."""

    def __init__(
        self,
        base_url: str,
        verify: Any = True,
        admin: Tuple[str, str] = ADMIN,
        version: str = "12.2",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.http = requests.Session()
        self.http.trust_env = False  # never route loopback traffic through an environment proxy
        self.http.verify = verify
        self.admin_credentials = admin

    def call(
        self,
        method: str,
        path: str,
        *,
        token: Optional[str] = None,
        basic: Optional[Tuple[str, str]] = None,
        authorization: Optional[str] = None,
        org: Any = None,
        headers: Optional[Dict[str, str]] = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One request; ``token``/``basic``/``authorization`` build the Authorization header."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if authorization is not None:
            sent["Authorization"] = authorization
        if org is not None:
            sent["X-Grafana-Org-Id"] = str(org)
        return self.http.request(
            method, self.base_url + path, headers=sent, auth=basic, timeout=10, **kwargs
        )

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.call(method, path, basic=self.admin_credentials, **kwargs)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(
            method, f"{self.base_url}/__double__/{path}", json=body, timeout=10
        )
        assert response.ok, response.text
        return response.json()

    def reset(self) -> None:
        self.control("POST", "reset")

    def settings(self, **changes: Any) -> Dict[str, Any]:
        return self.control("POST", "settings", changes)

    def create_sa(
        self, name: str, role: Optional[str] = "Viewer", org: Any = None, **extra: Any
    ) -> Dict[str, Any]:
        body = dict(extra, name=name)
        if role is not None:
            body["role"] = role
        response = self.admin("POST", "/api/serviceaccounts", json=body, org=org)
        assert response.status_code == 201, response.text
        return response.json()

    def create_token(
        self, sa_id: Any, name: str = "tok", ttl: int = 0, org: Any = None
    ) -> Dict[str, Any]:
        response = self.admin(
            "POST",
            f"/api/serviceaccounts/{sa_id}/tokens",
            json={"name": name, "secondsToLive": ttl},
            org=org,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def token_for(
        self, role: str = "Admin", name: str = "robot", ttl: int = 0
    ) -> Tuple[Dict[str, Any], str]:
        """A new SA with ``role`` and one token; returns (SA, key)."""
        account = self.create_sa(name, role)
        return account, self.create_token(account["id"], f"{name}-token", ttl)["key"]

    def key_for(self, role: str = "Admin", name: str = "robot", ttl: int = 0) -> str:
        """Only the key of :meth:`token_for`."""
        return self.token_for(role, name, ttl)[1]

    def add_user(
        self, login: str, role: str = "Viewer", password: str = "pw-secret-1", **extra: Any
    ) -> Tuple[str, str]:
        self.control("POST", "users", dict(extra, login=login, password=password, role=role))
        return login, password


# --- OpenAPI subset -----------------------------------------------------------------------


def spec_path() -> Path:
    configured = os.environ.get("GRAFANA_OPENAPI_SUBSET")
    if configured:
        return Path(configured)
    return REPO_ROOT.parent / "shared" / "grafana-openapi" / "auth-subset.json"


def strip_nulls(value: Any) -> Any:
    """Drop null-valued object members before validating.

    Go marshals nil pointers and nil slices (``lastUsedAt``, ``expiration``, ``teams``,
    ``authLabels``) as ``null``; Swagger 2.0 has no ``nullable`` and Grafana's generated spec
    marks none of these, so a literal validator would reject every real Grafana body.
    """
    if isinstance(value, dict):
        return {key: strip_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [strip_nulls(item) for item in value]
    return value


class Spec:
    """Validates response bodies against ``auth-subset.json`` (refs resolved in the whole file)."""

    def __init__(self, path: Path, jsonschema: Any) -> None:
        self.document = json.loads(path.read_text())
        self._jsonschema = jsonschema

    def response_schema(self, method: str, template: str, status: int) -> Dict[str, Any]:
        operation = self.document["paths"][template][method.lower()]
        documented = operation["responses"].get(str(status))
        assert documented is not None, f"{status} is not documented for {method} /api{template}"
        if "$ref" in documented:
            documented = self.document["responses"][documented["$ref"].split("/")[-1]]
        return documented.get("schema", {})

    def errors(self, body: Any, method: str, template: str, status: int) -> List[str]:
        schema = dict(self.document, allOf=[self.response_schema(method, template, status)])
        validator = self._jsonschema.Draft4Validator(
            schema, format_checker=self._jsonschema.Draft4Validator.FORMAT_CHECKER
        )
        return [error.message for error in validator.iter_errors(strip_nulls(body))]

    def check(self, response: requests.Response, method: str, template: str) -> None:
        """Assert the status is documented and the body matches its schema."""
        problems = self.errors(response.json(), method, template, response.status_code)
        assert not problems, problems


def ordered_keys(response: requests.Response) -> List[str]:
    """Top-level keys in the order the server wrote them."""
    return list(json.loads(response.content).keys())
