# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``service_account_info`` module: accounts and their tokens, with an expiry report.

Cost: one search (plus one request per further page of 1000) and, when tokens are needed,
one token listing per account that has tokens (the search already says how many).  Expiry
is judged on the Grafana server's clock (``client.now()``), never the controller's.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import (
    GrafanaClient,
    optional_import,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._duration import parse_duration
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaInputError,
    GrafanaMissingLibrary,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._sa_api import (
    account_tokens,
    iter_service_accounts,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_status import annotate_token

jmespath, JMESPATH_IMPORT_ERROR = optional_import("jmespath")

# Grafana's own "expiring soon" window: secondsUntilExpiration is only set within 7 days.
DEFAULT_EXPIRING_WITHIN = 7 * 86400
TOKEN_LIST_KEY = "token_list"


def run(module: Any, clients: Any) -> Dict[str, Any]:
    """The ``service_account_info`` module: validate ``query`` and ``expiring_within``, then read."""
    params = module.params
    if params["query"] is not None and JMESPATH_IMPORT_ERROR is not None:
        raise GrafanaMissingLibrary(
            missing_required_lib("jmespath"), exception=JMESPATH_IMPORT_ERROR
        )
    client = clients.connection()
    query = compile_query(params["query"])
    window = params["expiring_within"]
    return collect(
        client,
        name=params["name"],
        search=params["search"],
        include_tokens=params["include_tokens"],
        query=query,
        expiring_within=None if window is None else parse_duration(window, "expiring_within"),
    )


def compile_query(expression: Optional[str]) -> Any:
    """Compile the JMESPath ``query`` before any request, so a typo costs nothing."""
    if expression is None:
        return None
    if jmespath is None:
        raise GrafanaInputError("query needs the Python library 'jmespath'.")
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as err:
        raise GrafanaInputError(
            f"query {expression!r} is not a valid JMESPath expression: {err}"
        ) from None


def find_accounts(
    client: GrafanaClient, name: Optional[str], search: Optional[str]
) -> List[Dict[str, Any]]:
    """Accounts named exactly ``name``, or matching the substring ``search``, or all."""
    query = name if name is not None else search
    return [
        account
        for account in iter_service_accounts(client, query)
        if name is None or account.get("name") == name
    ]


def token_entry(account: Dict[str, Any], token: Dict[str, Any]) -> Dict[str, Any]:
    """One row of ``expiring_tokens``/``expired_tokens`` (``token`` is annotated)."""
    return {
        "service_account_id": account.get("id"),
        "service_account_name": account.get("name"),
        "token_id": token.get("id"),
        "token_name": token.get("name"),
        "expiration": token.get("expiration"),
        "seconds_left": token.get("seconds_left"),
        "expired": token.get("expired"),
        "revoked": token.get("revoked"),
    }


def expiry_class(token: Dict[str, Any], window: int) -> Optional[str]:
    """``expired``, ``expiring`` (not expired, at most ``window`` seconds left) or ``None``."""
    if token.get("expired"):
        return "expired"
    left = token.get("seconds_left")
    if left is not None and window > 0 and left <= window:
        return "expiring"
    return None


def token_report(
    client: GrafanaClient, accounts: List[Dict[str, Any]], window: int, keep_lists: bool
) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]], List[Dict[str, Any]]]:
    """``(accounts, expiring, expired)``; accounts carry ``token_list`` when ``keep_lists``."""
    now = client.now()
    result: List[Dict[str, Any]] = []
    found: Dict[str, List[Dict[str, Any]]] = {"expiring": [], "expired": []}
    for account in accounts:
        tokens = [annotate_token(token, now) for token in account_tokens(client, account)]
        for token in tokens:
            kind = expiry_class(token, window)
            if kind:
                found[kind].append(token_entry(account, token))
        result.append({**account, TOKEN_LIST_KEY: tokens} if keep_lists else account)
    return result, found["expiring"], found["expired"]


def collect(
    client: GrafanaClient,
    *,
    name: Optional[str] = None,
    search: Optional[str] = None,
    include_tokens: bool = False,
    expiring_within: Optional[int] = None,
    query: Any = None,
) -> Dict[str, Any]:
    """The module result: accounts, the expiry report and the ``query`` result.

    Tokens are listed when ``include_tokens`` is true or ``expiring_within`` is given;
    otherwise the two token lists are empty and no token request is made.
    """
    accounts = find_accounts(client, name, search)
    expiring: List[Dict[str, Any]] = []
    expired: List[Dict[str, Any]] = []
    if include_tokens or expiring_within is not None:
        window = DEFAULT_EXPIRING_WITHIN if expiring_within is None else expiring_within
        accounts, expiring, expired = token_report(client, accounts, window, include_tokens)
    result: Dict[str, Any] = {
        "changed": False,
        "service_accounts": accounts,
        "expiring_tokens": expiring,
        "expired_tokens": expired,
    }
    result["query_result"] = query.search(result_view(result)) if query is not None else None
    return result


def result_view(result: Dict[str, Any]) -> Dict[str, Any]:
    """What ``query`` is applied to: the three data returns, by their return names."""
    return {key: result[key] for key in ("service_accounts", "expiring_tokens", "expired_tokens")}
