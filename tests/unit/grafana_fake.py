# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one fake Grafana of the unit tests, at the client's one seam (``session.request``).

:class:`FakeGrafana` holds the service accounts and tokens of one org and answers the
``/api/serviceaccounts`` endpoints as the API contract says (status codes, ``message`` and
``messageId``, the search's paging, token names unique per org, the server's ``Date``), with a
movable clock, a request log and a fault queue.  Tests get it from the fixtures in
``conftest.py``; the integration tests run against the Grafana API double instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import random
import string
from email.utils import format_datetime
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import (
    GrafanaClient,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_format import (
    glsa_checksum,
)

SA = "/api/serviceaccounts"
BASE_URL = "http://127.0.0.1:3000"
PROXY_URL = "http://127.0.0.1:8080/grafana"
JSON = "application/json; charset=UTF-8"
SERVER_NOW = dt.datetime(
    2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc
)  # far from the test machine's clock
ANSWER_DATE = dt.datetime(2026, 11, 29, 12, 0, 0, tzinfo=dt.timezone.utc)
DAY = 86400
TOKEN = "glsa_iNValIdinValiDinvalidinvalidinva_5b582697"  # well-formed, known to no Grafana
DAY_LIMIT_TEXT = (
    "The expiration date input exceeds the limit for service account access tokens expiration date"
)


class FakeResponse:
    """What ``requests`` would return: status, headers (with the server's ``Date``), text.

    ``body`` is JSON-encoded unless it is already text; ``now`` is the ``Date`` (the fake
    Grafana passes its own clock; a scripted answer is dated :data:`ANSWER_DATE`).
    """

    def __init__(
        self,
        status: int,
        body: Any = None,
        text: Optional[str] = None,
        content_type: str = JSON,
        now: Optional[dt.datetime] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> None:
        self.status_code = status
        date = format_datetime(now or ANSWER_DATE, usegmt=True)
        self.headers = CaseInsensitiveDict({"Content-Type": content_type, "Date": date})
        self.headers.update(headers or {})
        if isinstance(body, str) and text is None:
            text = body
        self.text = text if text is not None else (json.dumps(body) if body is not None else "")


def scripted_client(answers: Any, url: str = BASE_URL, **kwargs: Any) -> Any:
    """``(client, session, sleeps)``: a client (token :data:`TOKEN` unless given) over a
    :class:`ScriptedSession` answering ``answers``; ``sleeps`` records the back-off waits."""
    session = ScriptedSession(*answers)
    sleeps: List[float] = []
    kwargs.setdefault("token", TOKEN)
    return GrafanaClient(url, session=session, sleep=sleeps.append, **kwargs), session, sleeps


class ScriptedSession:
    """A ``requests`` session that answers from a script (responses or exceptions), in order,
    and records every call: for the client's own tests, below the fake Grafana."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: List[Dict[str, Any]] = []
        self.headers: Dict[str, str] = {}
        self.verify: Any = True
        self.cert: Any = None

    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        self.calls.append(dict(method=method, url=url, **kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def api_error(status: int, message: str, message_id: Optional[str] = None) -> Dict[str, Any]:
    """Grafana's error body (10.x+ adds ``messageId`` and ``statusCode``)."""
    body: Dict[str, Any] = {"message": message, "traceID": ""}
    if message_id:
        body.update(messageId=message_id, statusCode=status)
    return {"status": status, "body": body}


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_key() -> str:
    """A well-formed service-account key (valid checksum)."""
    secret = "".join(random.choices(string.ascii_letters + string.digits, k=32))
    return f"glsa_{secret}_{glsa_checksum('glsa_' + secret)}"


def bots_grafana() -> FakeGrafana:
    """A fake with accounts ci-bot (id 1) and other-bot (id 2), the clock at 2026-11-29
    12:00 UTC and token ids counting from 1 (the token tests' world)."""
    fake = FakeGrafana(now=ANSWER_DATE, first_token_id=1)
    fake.add("ci-bot")
    fake.add("other-bot")
    return fake


class FakeGrafana:
    """Service accounts and tokens of one org, Grafana's answers, a clock and a fault queue.

    Policies a test may set: ``version`` (9.x has no role None), ``max_ttl`` (``[auth]
    api_key_max_seconds_to_live``, -1 = none), ``day_limit`` (``token_expiration_day_limit``),
    ``duplicate_status`` (the status of a duplicate token name).
    """

    def __init__(
        self,
        version: str = "12.2",
        org_id: int = 1,
        now: dt.datetime = SERVER_NOW,
        first_token_id: int = 101,
    ) -> None:
        self.version = version
        self.org_id = org_id
        self.now = now
        self.accounts: Dict[int, Dict[str, Any]] = {}
        self.tokens: Dict[int, List[Dict[str, Any]]] = {}
        self.keys: Dict[int, str] = {}
        self.log: List[Dict[str, Any]] = []
        self.faults: List[Dict[str, Any]] = []
        self.max_ttl = -1
        self.day_limit = 0
        self.duplicate_status = 400
        self._next_account = 1
        self._token_ids = itertools.count(first_token_id)

    # ------------------------------------------------------------- test helpers
    def add(
        self,
        name: str,
        role: str = "Viewer",
        disabled: bool = False,
        account_id: Optional[int] = None,
    ) -> Dict[str, Any]:
        """Create an account directly (no request); returns a copy of it."""
        account_id = account_id if account_id is not None else self._next_account
        self._next_account = max(self._next_account, account_id) + 1
        account = {
            "id": account_id,
            "uid": f"uid{account_id}",
            "name": name,
            "login": f"sa-{self.org_id}-{name.lower()}".replace(" ", "-"),
            "orgId": self.org_id,
            "isDisabled": disabled,
            "role": role,
            "tokens": 0,
            "avatarUrl": f"/avatar/{account_id}",
        }
        self.accounts[account_id] = account
        return dict(account)

    def add_token(
        self, account_id: int, name: str, expires_in: Optional[int], revoked: bool = False
    ) -> int:
        """Create a token directly, expiring ``expires_in`` seconds from now (``None``: never)."""
        token_id = next(self._token_ids)
        expiration = None if expires_in is None else self.now + dt.timedelta(seconds=expires_in)
        self.tokens.setdefault(account_id, []).append(
            {
                "id": token_id,
                "name": name,
                "created": iso(self.now),
                "lastUsedAt": None,
                "expiration": iso(expiration) if expiration else None,
                "secondsUntilExpiration": 0,
                "hasExpired": expires_in is not None and expires_in <= 0,
                "isRevoked": revoked,
            }
        )
        self.accounts[account_id]["tokens"] += 1
        return token_id

    def fault(
        self,
        method: str,
        path: str,
        *,
        status: int = 500,
        body: Any = None,
        text: Optional[str] = None,
        content_type: str = JSON,
        error: Optional[Exception] = None,
        drop: bool = False,
        after_effect: bool = False,
        effect: Any = None,
        suffix: bool = False,
        skip: int = 0,
    ) -> None:
        """Queue a fault for the next ``method`` on ``path`` (or any path ending in it, ``suffix``).

        The fault answers ``status``/``body``/``text``, or raises ``error`` (``drop``: the
        connection closes without an answer).  ``after_effect``: the request takes effect first.
        ``effect`` runs when the fault fires; ``skip`` lets that many matching requests pass.
        """
        self.faults.append(
            dict(
                method=method,
                path=path,
                status=status,
                body=body,
                text=text,
                content_type=content_type,
                error=error,
                drop=drop,
                after_effect=after_effect,
                effect=effect,
                suffix=suffix,
                skip=skip,
            )
        )

    def client(self, **kwargs: Any) -> GrafanaClient:
        """A client whose session is this fake (Basic admin credentials unless given)."""
        session = requests.Session()
        session.request = self.request  # type: ignore[method-assign]
        if "token" not in kwargs:
            kwargs.setdefault("username", "admin")
            kwargs.setdefault("password", "admin-secret")
        return GrafanaClient(BASE_URL, session=session, sleep=lambda _s: None, **kwargs)

    def calls(self) -> List[str]:
        return [f"{entry['method']} {entry['path']}" for entry in self.log]

    def writes(self) -> List[str]:
        return [call for call in self.calls() if not call.startswith("GET ")]

    def account_named(self, name: str) -> Dict[str, Any]:
        return next(a for a in self.accounts.values() if a["name"] == name)

    def token_names(self, account_name: str) -> List[str]:
        """The account's token names, oldest first."""
        return [t["name"] for t in self.tokens.get(self.account_named(account_name)["id"], [])]

    def expire_all(self) -> None:
        """Mark every token whose expiration has passed (on the fake's clock) as expired."""
        for token in itertools.chain.from_iterable(self.tokens.values()):
            token["hasExpired"] = token["expiration"] is not None and token["expiration"] <= iso(
                self.now
            )

    # ------------------------------------------------------------- the seam
    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        path = urlsplit(url).path
        body = kwargs.get("json")
        self.log.append(
            {
                "method": method,
                "path": path,
                "params": dict(kwargs.get("params") or {}),
                "body": body,
                "headers": dict(kwargs.get("headers") or {}),
            }
        )
        fault = self._take_fault(method, path)
        if fault is not None and not fault["after_effect"]:
            return self._fault_answer(fault)
        answer = self._answer(method, path, body or {}, kwargs.get("params") or {})
        if fault is not None:
            return self._fault_answer(fault)
        return answer

    def _take_fault(self, method: str, path: str) -> Optional[Dict[str, Any]]:
        for fault in self.faults:
            if fault["method"] == method and (
                path.endswith(fault["path"]) if fault["suffix"] else path == fault["path"]
            ):
                if fault["skip"] > 0:
                    fault["skip"] -= 1
                    return None
                self.faults.remove(fault)
                return fault
        return None

    def _fault_answer(self, fault: Dict[str, Any]) -> FakeResponse:
        if fault["effect"]:
            fault["effect"]()
        if fault["drop"]:
            raise requests.exceptions.ConnectionError("Connection aborted. RemoteDisconnected")
        if fault["error"] is not None:
            raise fault["error"]
        body = (
            fault["body"]
            if fault["body"] is not None or fault["text"] is not None
            else {"message": "boom"}
        )
        return FakeResponse(
            fault["status"],
            body,
            text=fault["text"],
            content_type=fault["content_type"],
            now=self.now,
        )

    def _answer(
        self, method: str, path: str, body: Dict[str, Any], params: Dict[str, Any]
    ) -> FakeResponse:
        answer = self._route(method, path, body, params)
        if isinstance(answer, FakeResponse):
            return answer
        return FakeResponse(answer[0], answer[1], now=self.now)

    def _route(self, method: str, path: str, body: Dict[str, Any], params: Dict[str, Any]) -> Any:
        if path == "/api/health":
            return 200, {"database": "ok", "version": self.version, "commit": "abc"}
        if path == f"{SA}/search" and method == "GET":
            return self._search(params)
        if path == SA and method == "POST":
            return self._create(body)
        parts = path[len(SA) + 1 :].split("/") if path.startswith(SA + "/") else []
        if not parts or not parts[0].isdigit():
            return 404, {"message": "Not found"}
        account_id = int(parts[0])
        if account_id not in self.accounts:
            return self._error(
                api_error(404, "service account not found", "serviceaccounts.ErrNotFound")
            )
        if len(parts) == 1:
            return self._one(method, account_id, body)
        if parts[1:] == ["tokens"]:
            return (
                self._list_tokens(account_id) if method == "GET" else self._mint(account_id, body)
            )
        if len(parts) == 3 and parts[1] == "tokens" and method == "DELETE":
            return self._drop(account_id, int(parts[2]))
        return 404, {"message": "Not found"}

    # ------------------------------------------------------------- accounts
    def _search(self, params: Dict[str, Any]) -> Any:
        query = str(params.get("query") or "").lower()
        found = [
            dict(a)
            for a in sorted(self.accounts.values(), key=lambda a: a["login"])
            if query in a["name"].lower() or query in a["login"]
        ]
        per, page = int(params.get("perpage", 1000)), int(params.get("page", 1))
        return 200, {
            "totalCount": len(found),
            "serviceAccounts": found[(page - 1) * per : page * per],
            "page": page,
            "perPage": per,
        }

    def _roles(self) -> tuple:
        return (
            ("Viewer", "Editor", "Admin")
            if self.version.startswith("9.")
            else ("None", "Viewer", "Editor", "Admin")
        )

    def _create(self, body: Dict[str, Any]) -> Any:
        role = body.get("role", "Viewer")
        if role not in self._roles():
            return self._error(
                api_error(400, "invalid role specified", "serviceaccounts.ErrInvalidRoleSpecified")
            )
        login = f"sa-{self.org_id}-{body['name'].lower()}".replace(" ", "-")
        if any(a["login"] == login for a in self.accounts.values()):
            return self._error(
                api_error(400, "service account already exists", "serviceaccounts.ErrAlreadyExists")
            )
        account = self.add(body["name"], role, bool(body.get("isDisabled")))
        account["avatarUrl"] = ""
        return 201, account

    def _one(self, method: str, account_id: int, body: Dict[str, Any]) -> Any:
        account = self.accounts[account_id]
        if method == "DELETE":
            del self.accounts[account_id]
            self.tokens.pop(account_id, None)  # deleting an account deletes its tokens
            return 200, {"message": "Service account deleted"}
        if method == "GET":
            return 200, dict(account)
        if "role" in body and body["role"] not in self._roles():
            return self._error(
                api_error(400, "invalid role specified", "serviceaccounts.ErrInvalidRoleSpecified")
            )
        # Grafana applies what a PATCH carries and keeps the rest (contract §13 C7)
        account.update({key: body[key] for key in ("name", "role", "isDisabled") if key in body})
        profile = {**account, "createdAt": "2031-01-01T00:00:00Z", "teams": None}
        return 200, {
            "id": account_id,
            "message": "Service account updated",
            "name": account["name"],
            "serviceaccount": profile,
        }

    # ------------------------------------------------------------- tokens
    def _list_tokens(self, account_id: int) -> Any:
        now = iso(self.now)  # Grafana judges expiry when it answers, on its own clock
        return 200, [
            dict(
                t,
                hasExpired=t["hasExpired"]
                or (t["expiration"] is not None and t["expiration"] <= now),
            )
            for t in self.tokens.get(account_id, [])
        ]

    def _mint(self, account_id: int, body: Dict[str, Any]) -> Any:
        ttl = body.get("secondsToLive") or 0
        if self.max_ttl != -1 and ttl == 0:
            return 400, {"message": "Number of seconds before expiration should be set"}
        if self.max_ttl != -1 and ttl > self.max_ttl:
            return 400, {
                "message": "Number of seconds before expiration is greater than the global limit"
            }
        if self.day_limit and ttl > self.day_limit * DAY:
            return FakeResponse(
                400, text=DAY_LIMIT_TEXT, content_type="text/plain; charset=utf-8", now=self.now
            )
        if any(t["name"] == body["name"] for ts in self.tokens.values() for t in ts):
            error = api_error(
                400,
                "service account token with given name already exists in the organization",
                "serviceaccounts.ErrTokenAlreadyExists",
            )
            return self.duplicate_status, error["body"]
        token_id = self.add_token(account_id, body["name"], ttl or None)
        self.keys[token_id] = new_key()
        return 200, {"id": token_id, "name": body["name"], "key": self.keys[token_id]}

    def _drop(self, account_id: int, token_id: int) -> Any:
        before = self.tokens.get(account_id, [])
        self.tokens[account_id] = [t for t in before if t["id"] != token_id]
        if len(before) == len(self.tokens[account_id]):
            return self._error(
                api_error(
                    404, "service account token not found", "serviceaccounts.ErrTokenNotFound"
                )
            )
        self.accounts[account_id]["tokens"] -= 1
        return 200, {"message": "Service account token deleted"}

    @staticmethod
    def _error(error: Dict[str, Any]) -> Any:
        return error["status"], error["body"]


class FakeGrafanaBehindProxy(FakeGrafana):
    """The fake, authenticating like 12.2, optionally behind a proxy at :data:`PROXY_URL`: what
    ``diagnose`` probes.  One service-account token is known (``token``, account ``ci`` id 7,
    whose token ``ci-token`` has expired); Basic ``admin:<admin_password>`` is the org admin.

    Knobs: ``expired`` (the token's key is expired), ``org`` (its org), ``echo_token`` (401
    bodies echo the Authorization sent), ``strip`` (the proxy drops Authorization),
    ``proxy_down``, ``proxy_answer`` / ``proxy_auth_answer`` ((status, text, content type): the
    proxy answers every / every authenticated request itself), ``everything`` ((status, body):
    Grafana answers every authenticated probe with it).  ``sent`` records ``(method, url,
    Authorization, X-Grafana-Org-Id)`` of every request.
    """

    def __init__(self, token: str, admin_password: str) -> None:
        super().__init__(now=ANSWER_DATE, first_token_id=3)
        self.token = token
        self.admin_password = admin_password
        self.sent: List[Any] = []
        self.expired = self.strip = self.proxy_down = self.echo_token = False
        self.org = 1
        self.proxy_answer: Any = None
        self.proxy_auth_answer: Any = None
        self.everything: Any = None
        self.add("ci", account_id=7)
        self.add_token(7, "ci-token", -36 * 3600)

    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        headers = dict(kwargs.get("headers") or {})
        self.sent.append(
            (method, url, headers.get("Authorization"), headers.get("X-Grafana-Org-Id"))
        )
        if url.startswith(PROXY_URL):
            if self.proxy_down:
                raise requests.exceptions.ConnectionError("[Errno 111] Connection refused")
            answer = self.proxy_answer or (
                self.proxy_auth_answer if headers.get("Authorization") else None
            )
            if answer:
                return FakeResponse(answer[0], text=answer[1], content_type=answer[2], now=self.now)
            if self.strip:
                headers.pop("Authorization", None)
            url = BASE_URL + url[len(PROXY_URL) :]
        path = urlsplit(url).path
        if self.everything and path != "/api/health":
            return FakeResponse(*self.everything, now=self.now)
        if path != "/api/health" and headers.get("Authorization") == self._admin():
            return super().request(method, url, **dict(kwargs, headers=headers))
        return FakeResponse(*self._probe(path, headers), now=self.now)

    def _admin(self) -> str:
        return "Basic " + base64.b64encode(f"admin:{self.admin_password}".encode()).decode()

    def _probe(self, path: str, headers: Dict[str, str]) -> Any:
        if path == "/api/health":
            return 200, {"database": "ok", "version": "12.2.0"}
        auth = headers.get("Authorization")
        if auth is None or not auth.startswith("Bearer "):
            return _unauthorized("Unauthorized", "auth.unauthorized")
        if auth != f"Bearer {self.token}":
            if self.echo_token:
                return 401, {"message": f"Invalid API key {auth}", "messageId": "api-key.invalid"}
            return _unauthorized("Invalid API key", "api-key.invalid")
        if self.expired:
            return _unauthorized("Expired API key", "api-key.expired")
        if headers.get("X-Grafana-Org-Id") not in (None, str(self.org)):
            return _unauthorized(
                "API key does not belong to the requested organization",
                "api-key.organization-mismatch",
            )
        return {
            "/api/dashboards/home": (200, {"meta": {}}),
            "/api/user": (
                200,
                {"id": 0, "uid": "service-account:7", "login": "sa-1-ci", "name": "ci", "orgId": 1},
            ),
            "/api/org": (200, {"id": 1, "name": "Main Org."}),
        }.get(path, (404, {"message": "Not found"}))


def _unauthorized(message: str, message_id: str) -> Any:
    return 401, {
        "extra": None,
        "message": message,
        "messageId": message_id,
        "statusCode": 401,
        "traceID": "",
    }
