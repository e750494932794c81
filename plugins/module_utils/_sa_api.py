# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service-account lookups shared by every module that names an account.

Grafana's search ``query`` is a substring match on name, login and email, and pages at
``perpage`` (1000 by default): an exact-name lookup must filter the matches and follow pages.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import GrafanaClient
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaAPIError,
    GrafanaInputError,
)

SA_PATH = "/api/serviceaccounts"
SEARCH_PAGE_SIZE = 1000
ROLES = ("None", "Viewer", "Editor", "Admin")


def canonical_role(role: Optional[str]) -> Optional[str]:
    """``viewer`` -> ``Viewer``: Grafana's role check is case-sensitive, users are not."""
    if role is None:
        return None
    for known in ROLES:
        if known.lower() == str(role).strip().lower():
            return known
    raise GrafanaInputError(
        f"role {role!r} is not a Grafana role; use one of {', '.join(ROLES)} (any case).")


def search_results(body: Any) -> List[Dict[str, Any]]:
    """The accounts of a search page (9.0 named the key ``orgServiceAccounts``)."""
    if not isinstance(body, dict):
        return []
    found = body.get("serviceAccounts")
    if found is None:
        found = body.get("orgServiceAccounts")
    return list(found or [])


def iter_service_accounts(client: GrafanaClient, query: Optional[str] = None,
                          page_size: int = SEARCH_PAGE_SIZE) -> Iterator[Dict[str, Any]]:
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
        return client.get(f"{SA_PATH}/{account_id}", shape=dict).body
    except GrafanaAPIError as err:
        if err.status == 404 and err.message is not None:  # Grafana's own JSON 404, not a proxy's page
            return None
        raise


def require_service_account(client: GrafanaClient, name: Optional[str] = None,
                            account_id: Any = None) -> Dict[str, Any]:
    """Resolve an account by name or id, or raise a clear error naming what is missing."""
    account = get_service_account(client, account_id) if account_id is not None \
        else find_service_account(client, name or "")
    if account is None:
        what = f"id {account_id}" if account_id is not None else f"name {name!r}"
        org = f" in org {client.org_id}" if client.org_id else ""
        raise GrafanaInputError(
            f"No service account with {what}{org}. Create it first "
            "(grafana_ops.auth.service_account), or check org_id.")
    return account
