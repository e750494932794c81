# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one API layer: every service-account and token endpoint the collection calls.

Nothing else in the collection builds a ``/api/serviceaccounts`` path.  Each function is one
endpoint (or one paged walk of it) and answers with Grafana's JSON of the expected shape, or
raises; what to do about an answer (adopt, retry, explain) is decided by the callers.

Grafana's search ``query`` is a substring match on name, login and email, and pages at
``perpage`` (1000 by default): an exact-name lookup must filter the matches and follow pages.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import GrafanaClient
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaAPIError,
    GrafanaError,
    GrafanaInputError,
)

SA_PATH = "/api/serviceaccounts"
SEARCH_PAGE_SIZE = 1000


def search_results(body: Any) -> List[Dict[str, Any]]:
    """The accounts of a search page (9.0 named the key ``orgServiceAccounts``)."""
    if not isinstance(body, dict):
        return []
    found = body.get("serviceAccounts")
    if found is None:
        found = body.get("orgServiceAccounts")
    return list(found or [])


def iter_service_accounts(
    client: GrafanaClient, query: Optional[str] = None, page_size: int = SEARCH_PAGE_SIZE
) -> Iterator[Dict[str, Any]]:
    """Every service account of the org matching ``query`` (substring), following pages."""
    page = 1
    seen = 0
    while True:
        params: Dict[str, Any] = {"perpage": page_size, "page": page}
        if query:
            params["query"] = query
        response = client.get(f"{SA_PATH}/search", params=params, shape=dict)
        body = response.body
        if not any(key in body for key in ("serviceAccounts", "orgServiceAccounts")):
            raise client.not_grafana(response)
        accounts = search_results(body)
        yield from accounts
        seen += len(accounts)
        total = body.get("totalCount", seen) if isinstance(body, dict) else seen
        if not accounts or seen >= total or len(accounts) < page_size:
            return
        page += 1


def find_service_account(client: GrafanaClient, name: str) -> Optional[Dict[str, Any]]:
    """The account whose name is exactly ``name``, or ``None`` (one request in the usual case)."""
    for account in iter_service_accounts(client, query=name):
        if account.get("name") == name:
            return account
    return None


def get_service_account(client: GrafanaClient, account_id: Any) -> Optional[Dict[str, Any]]:
    """The account with this id (or UID), or ``None`` when Grafana answers 404."""
    try:
        return client.get(account_path(account_id), shape=dict).body
    except GrafanaAPIError as err:
        if (
            err.status == 404 and err.message is not None
        ):  # Grafana's own JSON 404, not a proxy's page
            return None
        raise


def require_service_account(
    client: GrafanaClient, name: Optional[str] = None, account_id: Any = None
) -> Dict[str, Any]:
    """Resolve an account by name or id, or raise a clear error naming what is missing."""
    account = (
        get_service_account(client, account_id)
        if account_id is not None
        else find_service_account(client, name or "")
    )
    if account is None:
        what = f"id {account_id}" if account_id is not None else f"name {name!r}"
        org = f" in org {client.org_id}" if client.org_id else ""
        raise GrafanaInputError(
            f"No service account with {what}{org}. Create it first "
            "(grafana_ops.auth.service_account), or check org_id."
        )
    return account


# ------------------------------------------------------------------ accounts: writes
def account_path(account_id: Any) -> str:
    return f"{SA_PATH}/{account_id}"


def create_account(client: GrafanaClient, body: Dict[str, Any]) -> Any:
    """``POST /api/serviceaccounts``; the body Grafana answered (8.x: ``{id, message}``)."""
    return client.post(SA_PATH, body=body, expected=(200, 201), shape=dict).body


def update_account(client: GrafanaClient, account_id: Any, body: Dict[str, Any]) -> Any:
    """``PATCH /api/serviceaccounts/<id>``; the answer wraps the profile (``serviceaccount``)."""
    return client.patch(account_path(account_id), body=body, shape=dict).body


def delete_account(client: GrafanaClient, account_id: Any) -> None:
    """Delete one account; one already gone (404) counts as deleted."""
    client.delete(account_path(account_id), expected=(200, 404), shape=dict)


# ------------------------------------------------------------------ tokens
def tokens_path(account_id: Any) -> str:
    return f"{SA_PATH}/{account_id}/tokens"


def list_tokens(client: GrafanaClient, account_id: Any) -> List[Dict[str, Any]]:
    """The account's tokens (Grafana caps the list at 300, ordered by name)."""
    return list(client.get(tokens_path(account_id), shape=list).body)


def account_tokens(client: GrafanaClient, account: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A searched account's tokens; no request when the search says it has none."""
    if account.get("tokens") == 0:
        return []
    return list_tokens(client, account["id"])


def create_token(client: GrafanaClient, account_id: Any, name: str, seconds_to_live: int) -> Any:
    """``POST .../tokens``: the raw :class:`~._client.Response` (its key is checked by the caller)."""
    body = {"name": name, "secondsToLive": seconds_to_live}
    return client.post(tokens_path(account_id), body=body, expected=(200, 201))


def delete_token(client: GrafanaClient, account_id: Any, token_id: Any) -> None:
    """Delete one token; one already gone (404) counts as deleted."""
    client.delete(f"{tokens_path(account_id)}/{token_id}", expected=(200, 404), shape=dict)


# ------------------------------------------------------------------ server
def grafana_version(client: GrafanaClient) -> Optional[str]:
    """The version ``/api/health`` reports (no credential sent), or ``None``."""
    try:
        body = client.get("/api/health", auth=False, expected=None).body
    except GrafanaError:
        return None
    return body.get("version") if isinstance(body, dict) else None
