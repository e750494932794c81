# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small in-memory Grafana behind ``requests.Session.request`` for the service-account tests.

It is the one mock point (the client's request seam): the real ``GrafanaClient`` builds
headers, retries and parses responses; this fake only answers like Grafana would, keeps a
request log and applies queued faults.  The tests at the bottom pin the fake itself.
"""

from __future__ import annotations

import datetime as dt
import json
from email.utils import format_datetime
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

import pytest
import requests

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import GrafanaClient

SA = "/api/serviceaccounts"
SERVER_NOW = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)  # far from the test machine's clock


class FakeRaw:
    """What ``requests`` would return: status, headers, text."""

    def __init__(self, status: int, body: Any, date: dt.datetime) -> None:
        self.status_code = status
        self.text = "" if body is None else (body if isinstance(body, str) else json.dumps(body))
        self.headers = {"Content-Type": "application/json", "Date": format_datetime(date, usegmt=True)}


def api_error(status: int, message: str, message_id: Optional[str] = None) -> Dict[str, Any]:
    body: Dict[str, Any] = {"message": message, "traceID": ""}
    if message_id:
        body.update(messageId=message_id, statusCode=status)
    return {"status": status, "body": body}


class FakeGrafana:
    """Service accounts and tokens of one org, answering as the contract says."""

    def __init__(self, version: str = "12.2", org_id: int = 1) -> None:
        self.version = version
        self.org_id = org_id
        self.now = SERVER_NOW
        self.accounts: Dict[int, Dict[str, Any]] = {}
        self.tokens: Dict[int, List[Dict[str, Any]]] = {}
        self.log: List[Dict[str, Any]] = []
        self.faults: List[Dict[str, Any]] = []
        self._next = 1

    # ------------------------------------------------------------- test helpers
    def add(self, name: str, role: str = "Viewer", disabled: bool = False) -> Dict[str, Any]:
        account = {"id": self._next, "uid": f"uid{self._next}", "name": name,
                   "login": f"sa-{self.org_id}-{name.lower()}".replace(" ", "-"),
                   "orgId": self.org_id, "isDisabled": disabled, "role": role, "tokens": 0,
                   "avatarUrl": f"/avatar/{self._next}"}
        self.accounts[self._next] = account
        self._next += 1
        return dict(account)

    def add_token(self, account_id: int, name: str, expires_in: Optional[int], revoked: bool = False) -> None:
        expiration = None if expires_in is None else (self.now + dt.timedelta(seconds=expires_in))
        token = {"id": 100 + sum(len(t) for t in self.tokens.values()), "name": name,
                 "created": "2031-01-01T00:00:00Z", "lastUsedAt": None,
                 "expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ") if expiration else None,
                 "secondsUntilExpiration": 0,
                 "hasExpired": expires_in is not None and expires_in <= 0, "isRevoked": revoked}
        self.tokens.setdefault(account_id, []).append(token)
        self.accounts[account_id]["tokens"] += 1

    def fault(self, method: str, path: str, **kwargs: Any) -> None:
        """Queue a fault: ``status``/``body`` to answer, ``after_effect``, ``drop``, ``effect``."""
        self.faults.append(dict(method=method, path=path, **kwargs))

    def client(self, **kwargs: Any) -> GrafanaClient:
        session = requests.Session()
        session.request = self.request  # type: ignore[method-assign]
        kwargs.setdefault("username", "admin")
        kwargs.setdefault("password", "admin-secret")
        return GrafanaClient("http://127.0.0.1:3000", session=session, sleep=lambda _s: None, **kwargs)

    def calls(self) -> List[str]:
        return [f"{entry['method']} {entry['path']}" for entry in self.log]

    def writes(self) -> List[str]:
        return [call for call in self.calls() if not call.startswith("GET ")]

    # ------------------------------------------------------------- the seam
    def request(self, method: str, url: str, **kwargs: Any) -> FakeRaw:
        path = urlsplit(url).path
        body = kwargs.get("json")
        self.log.append({"method": method, "path": path, "params": dict(kwargs.get("params") or {}),
                         "body": body, "headers": dict(kwargs.get("headers") or {})})
        fault = self._take_fault(method, path)
        if fault is not None and not fault.get("after_effect"):
            return self._fault_answer(fault)
        status, answer = self._route(method, path, body, kwargs.get("params") or {})
        if fault is not None:
            return self._fault_answer(fault)
        return FakeRaw(status, answer, self.now)

    def _take_fault(self, method: str, path: str) -> Optional[Dict[str, Any]]:
        for index, fault in enumerate(self.faults):
            if fault["method"] == method and fault["path"] == path:
                return self.faults.pop(index)
        return None

    def _fault_answer(self, fault: Dict[str, Any]) -> FakeRaw:
        if fault.get("effect"):
            fault["effect"]()
        if fault.get("drop"):
            raise requests.exceptions.ConnectionError("Connection aborted. RemoteDisconnected")
        return FakeRaw(fault.get("status", 500), fault.get("body", {"message": "boom"}), self.now)

    def _route(self, method: str, path: str, body: Any, params: Dict[str, Any]):
        if path == "/api/health":
            return 200, {"database": "ok", "version": self.version, "commit": "abc"}
        if path == f"{SA}/search" and method == "GET":
            return self._search(params)
        if path == SA and method == "POST":
            return self._create(body or {})
        parts = path[len(SA) + 1:].split("/") if path.startswith(SA + "/") else []
        if len(parts) == 1 and parts[0].isdigit():
            return self._one(method, int(parts[0]), body or {})
        if len(parts) == 2 and parts[1] == "tokens" and method == "GET":
            return 200, list(self.tokens.get(int(parts[0]), []))
        return 404, {"message": "Not found"}

    def _search(self, params: Dict[str, Any]):
        query = str(params.get("query") or "").lower()
        found = [dict(a) for a in sorted(self.accounts.values(), key=lambda a: a["login"])
                 if query in a["name"].lower() or query in a["login"]]
        per, page = int(params.get("perpage", 1000)), int(params.get("page", 1))
        return 200, {"totalCount": len(found), "serviceAccounts": found[(page - 1) * per:page * per],
                     "page": page, "perPage": per}

    def _roles(self) -> tuple:
        return ("Viewer", "Editor", "Admin") if self.version.startswith("9.") else ("None", "Viewer", "Editor", "Admin")

    def _create(self, body: Dict[str, Any]):
        role = body.get("role", "Viewer")
        if role not in self._roles():
            return self._error(api_error(400, "invalid role specified", "serviceaccounts.ErrInvalidRoleSpecified"))
        login = f"sa-{self.org_id}-{body['name'].lower()}".replace(" ", "-")
        if any(a["login"] == login for a in self.accounts.values()):
            return self._error(api_error(400, "service account already exists", "serviceaccounts.ErrAlreadyExists"))
        account = self.add(body["name"], role, bool(body.get("isDisabled")))
        account["avatarUrl"] = ""
        return 201, account

    def _one(self, method: str, account_id: int, body: Dict[str, Any]):
        account = self.accounts.get(account_id)
        if account is None:
            return self._error(api_error(404, "service account not found", "serviceaccounts.ErrNotFound"))
        if method == "DELETE":
            del self.accounts[account_id]
            return 200, {"message": "Service account deleted"}
        if method == "GET":
            return 200, dict(account)
        if "role" in body and body["role"] not in self._roles():
            return self._error(api_error(400, "invalid role specified", "serviceaccounts.ErrInvalidRoleSpecified"))
        # Grafana applies what a PATCH carries and keeps the rest (contract §13 C7)
        account.update({key: body[key] for key in ("name", "role", "isDisabled") if key in body})
        profile = {**account, "createdAt": "2031-01-01T00:00:00Z", "teams": None}
        return 200, {"id": account_id, "message": "Service account updated", "name": account["name"],
                     "serviceaccount": profile}

    @staticmethod
    def _error(error: Dict[str, Any]):
        return error["status"], error["body"]


# ------------------------------------------------------------------ the fake's own tests
def test_fake_search_is_a_substring_match_and_pages():
    fake = FakeGrafana()
    for name in ("ci", "ci-2", "other"):
        fake.add(name)
    status, body = fake._search({"query": "ci", "perpage": 1, "page": 2})
    assert status == 200 and body["totalCount"] == 2 and [a["name"] for a in body["serviceAccounts"]] == ["ci-2"]


def test_fake_applies_a_partial_patch_like_grafana():
    fake = FakeGrafana()
    account = fake.add("ci")
    status, body = fake._one("PATCH", account["id"], {"role": "Editor"})
    assert status == 200 and body["serviceaccount"]["role"] == "Editor"
    assert fake.accounts[account["id"]]["name"] == "ci" and fake.accounts[account["id"]]["role"] == "Editor"


@pytest.mark.parametrize("version, status", [("9.5", 400), ("12.2", 201)])
def test_fake_role_none_depends_on_version(version, status):
    assert FakeGrafana(version)._create({"name": "x", "role": "None"})[0] == status
