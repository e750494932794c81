#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: service_account_info
short_description: Read Grafana service accounts and report expiring, expired and revoked tokens
version_added: 0.1.0
description:
  - Lists the service accounts of an organization (all of them, one by exact name, or those
    matching a search), optionally with their tokens.
  - Reports tokens that have expired or will expire soon, judged on the Grafana server's
    clock (its C(Date) header), so a skewed controller clock cannot hide or invent expiry.
  - Can reduce the result with a JMESPath O(query), the way C(jq) is used on the raw API.
  - Never changes anything.
  - Cost per run, one search request (plus one per further page of 1000 accounts) and, when
    tokens are needed, one token listing per account that has tokens.
author:
  - Grafana Ops contributors (@grafana-ops)
options:
  name:
    description:
      - Only the service account with exactly this name.
      - Mutually exclusive with O(search).
    type: str
  search:
    description:
      - Only the service accounts whose name, login or email contains this text (Grafana's
        own search C(query), case-insensitive).
      - Without O(name) and O(search), every service account of the organization is returned.
    type: str
  include_tokens:
    description:
      - Add each account's tokens to RV(service_accounts) under the key C(token_list).
      - C(tokens) is Grafana's own field and holds only the number of tokens.
    type: bool
    default: false
  expiring_within:
    description:
      - A token that has not expired but expires within this duration is listed in
        RV(expiring_tokens).
      - Seconds, or a number with a unit, for example V(3600), V(12h), V(7d), V(1w).
      - Giving this option lists the tokens of every selected account (one request per account
        that has tokens) even without O(include_tokens), so the report is never silently empty.
      - When omitted, the window is V(7d) (the window Grafana itself uses for
        C(secondsUntilExpiration)) and tokens are only listed with O(include_tokens=true).
      - V(0) reports expired tokens only.
      - At most 9223372036 seconds (about 292 years); a longer value is refused before any
        request.
    type: raw
  query:
    description:
      - A JMESPath expression applied to a dictionary with the keys C(service_accounts),
        C(expiring_tokens) and C(expired_tokens) (the module's own returns); the answer is
        returned as RV(query_result).
      - Needs the Python library C(jmespath) on the host that runs the module.
      - The expression is checked before any request is sent.
    type: str
extends_documentation_fragment:
  - grafana_ops.auth.connection
  - grafana_ops.auth.connection.attributes_action_group
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    support: full
    platforms: posix
    details:
      - Runs wherever Python and C(requests) run and talks to Grafana over HTTP(S).
  check_mode:
    support: full
    details:
      - The module only reads, so it runs normally in check mode.
  diff_mode:
    support: N/A
    details:
      - The module changes nothing.
  idempotent:
    description: The module only reads, so running it again changes nothing.
    support: full
requirements:
  - jmespath (only for O(query))
notes:
  - Revoked tokens (for example revoked by Grafana's secret scanning) are reported like any
    other token, with C(revoked=true); they stay in RV(expiring_tokens) or
    RV(expired_tokens) when their expiry puts them there. List all revoked tokens with
    O(include_tokens=true) and O(query=service_accounts[].token_list[?revoked][]).
  - Grafana lists at most 300 tokens per service account.
seealso:
  - module: grafana_ops.auth.service_account
  - module: grafana_ops.auth.service_account_token
"""

EXAMPLES = r"""
- name: List every service account of the organization
  grafana_ops.auth.service_account_info:
    url: https://grafana.example.com
    token: "{{ grafana_admin_token }}"
  register: all_accounts

# The equivalent of:
#   curl -s -H "Authorization: Bearer $TOKEN" $URL/api/serviceaccounts/search \
#     | jq '.serviceAccounts[] | {id,name,role,isDisabled}'
- name: Id, name, role and state of every account, in one line
  grafana_ops.auth.service_account_info:
    url: https://grafana.example.com
    token: "{{ grafana_admin_token }}"
    query: "service_accounts[].{id: id, name: name, role: role, isDisabled: isDisabled}"
  register: summary

- name: Show it
  ansible.builtin.debug:
    var: summary.query_result

- name: One account with its tokens, in organization 2
  grafana_ops.auth.service_account_info:
    url: https://grafana.example.com
    url_username: admin
    url_password: "{{ grafana_admin_password }}"
    org_id: 2
    name: ci-deployer
    include_tokens: true
  register: ci

- name: Alert on tokens that expire within a week, or have expired
  grafana_ops.auth.service_account_info:
    url: https://grafana.example.com
    token: "{{ grafana_admin_token }}"
    expiring_within: 7d
  register: expiry

- name: Fail the monitoring play when a token needs attention
  ansible.builtin.assert:
    that:
      - expiry.expired_tokens | length == 0
      - expiry.expiring_tokens | length == 0
    fail_msg: >-
      Tokens to rotate:
      {{ (expiry.expired_tokens + expiry.expiring_tokens)
         | map(attribute='token_name') | join(', ') }}

- name: Names of accounts whose tokens were revoked (for example by secret scanning)
  grafana_ops.auth.service_account_info:
    url: https://grafana.example.com
    token: "{{ grafana_admin_token }}"
    include_tokens: true
    query: "service_accounts[?token_list[?revoked]].name"
  register: revoked
"""

RETURN = r"""
service_accounts:
  description:
    - The selected service accounts, in Grafana's order, as Grafana names their fields.
    - C(tokens) is Grafana's token count; with O(include_tokens=true) each account also has
      C(token_list).
  returned: always
  type: list
  elements: dict
  sample:
    - id: 4
      uid: aeb0bkq9kfvgge
      name: ci-deployer
      login: sa-1-ci-deployer
      orgId: 1
      isDisabled: false
      role: Editor
      tokens: 1
      avatarUrl: /avatar/3f8a2f3c5e6a1b9d0c7e4f2a1b3c5d7e
      token_list:
        - id: 7
          name: ci-deployer
          created: "2026-01-02T10:00:00Z"
          lastUsedAt: null
          expiration: "2026-02-01T10:00:00Z"
          secondsUntilExpiration: 0
          hasExpired: false
          isRevoked: false
          expired: false
          revoked: false
          seconds_left: 2592000
  contains:
    token_list:
      description:
        - The account's tokens as Grafana lists them (never a key), each with three fields
          computed on the server clock, C(expired), C(revoked) and C(seconds_left) (seconds
          until expiry, 0 once expired, V(null) for a token that never expires).
      type: list
      elements: dict
      returned: when O(include_tokens=true)
expiring_tokens:
  description:
    - Tokens that have not expired but expire within O(expiring_within), revoked ones included.
    - Empty when no tokens were listed (neither O(include_tokens) nor O(expiring_within) given).
  returned: always
  type: list
  elements: dict
  sample:
    - service_account_id: 4
      service_account_name: ci-deployer
      token_id: 7
      token_name: ci-deployer
      expiration: "2026-02-01T10:00:00Z"
      seconds_left: 86400
      expired: false
      revoked: false
  contains:
    service_account_id:
      description: Id of the account the token belongs to.
      type: int
    service_account_name:
      description: Name of the account the token belongs to.
      type: str
    token_id:
      description: Id of the token.
      type: int
    token_name:
      description: Name of the token.
      type: str
    expiration:
      description: When the token expires, as Grafana reports it.
      type: str
    seconds_left:
      description: Seconds until the token expires, on the Grafana server's clock (0 once expired).
      type: int
    expired:
      description: Whether the token has expired.
      type: bool
    revoked:
      description: Whether Grafana marked the token revoked.
      type: bool
expired_tokens:
  description:
    - Tokens that have expired, revoked ones included, with the same fields as RV(expiring_tokens).
    - Empty when no tokens were listed.
  returned: always
  type: list
  elements: dict
query_result:
  description:
    - What O(query) selected; V(null) without O(query).
  returned: always
  type: raw
  sample:
    - id: 4
      name: ci-deployer
      role: Editor
      isDisabled: false
"""

from typing import Any, Dict

from ansible_collections.grafana_ops.auth.plugins.module_utils._runner import (
    grafana_module,
    run_module,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_account_info import run


def argument_spec() -> Dict[str, Any]:
    return dict(
        name=dict(type="str"),
        search=dict(type="str"),
        include_tokens=dict(type="bool", default=False),
        expiring_within=dict(type="raw", no_log=False),
        query=dict(type="str"),
    )


def main() -> None:
    module = grafana_module(
        argument_spec(), supports_check_mode=True, mutually_exclusive=[("name", "search")]
    )
    run_module(module, run)


if __name__ == "__main__":
    main()
