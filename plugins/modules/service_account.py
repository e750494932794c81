#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: service_account
short_description: Ensure a Grafana service account exists with a given role and state
version_added: 0.1.0
description:
  - Creates, updates or deletes one Grafana service account, found by its exact name.
  - Reads the account once and writes only what differs. A rerun with nothing to change sends
    exactly one request (the search) and no write.
  - A create that fails without a clear answer (HTTP 5xx, timeout, dropped connection) is not
    retried blindly; the account is read back by name and adopted when Grafana did create it,
    so there is never a duplicate. The same happens when another run created the account
    first (Grafana's C(service account already exists)).
  - Tokens are managed with M(grafana_ops.auth.service_account_token); to manage many accounts
    in one call use M(grafana_ops.auth.service_accounts).
author:
  - Grafana Ops contributors (@grafana-ops)
options:
  name:
    description:
      - Exact name of the service account.
      - Grafana derives the login from it (lower-cased, spaces turned into dashes), so two names
        that differ only in case or space-versus-dash cannot coexist in one organization.
      - A rename is not supported; the name identifies the account.
    type: str
    required: true
  state:
    description:
      - V(present) creates the account or updates it; V(absent) deletes it with all its tokens.
    type: str
    choices: [present, absent]
    default: present
  role:
    description:
      - Organization role of the service account. Any case is accepted (V(editor) is
        V(Editor)); the result always shows Grafana's spelling.
      - When omitted, a new account gets Grafana's default role V(Viewer) and an existing
        account keeps its role.
      - V(None) (no basic role) needs Grafana 10.x or later.
      - The credential running the task cannot give a role higher than its own org role.
    type: str
  disabled:
    description:
      - Whether the service account is disabled. Tokens of a disabled account are rejected
        with HTTP 401.
      - When omitted, a new account is enabled and an existing account is left as it is.
    type: bool
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
      - Sends only the search; the result predicts the account that would be created or
        updated, with the fields that can be known before Grafana assigns them.
  diff_mode:
    support: full
    details:
      - Shows V(name), V(role) and V(isDisabled) before and after.
  idempotent:
    description: A second run with the same options reports C(changed=false) and sends no write.
    support: full
notes:
  - Grafana's search is a substring match on name, login and email, paged at 1000; the module
    filters the matches for the exact name and follows pages.
  - Updates send the full object (name, role, isDisabled) in one C(PATCH), that is the current
    state plus the change. Grafana would also apply a partial C(PATCH).
  - O(org_id) is sent as the C(X-Grafana-Org-Id) header on every request; no user's current
    organization is ever switched.
seealso:
  - module: grafana_ops.auth.service_account_info
  - module: grafana_ops.auth.service_account_token
  - module: grafana_ops.auth.service_accounts
  - name: Grafana service account API
    description: Grafana's documentation of the endpoints this module uses.
    link: https://grafana.com/docs/grafana/latest/developers/http_api/serviceaccount/
"""

EXAMPLES = r"""
- name: Ensure a CI service account with the Editor role
  grafana_ops.auth.service_account:
    url: https://grafana.example.com
    url_username: admin
    url_password: "{{ grafana_admin_password }}"
    name: ci-deployer
    role: editor
  register: sa

- name: Use the account's id later
  ansible.builtin.debug:
    msg: "{{ sa.service_account.id }} has role {{ sa.service_account.role }}"

- name: Disable an account in organization 2 without changing its role
  grafana_ops.auth.service_account:
    url: https://grafana.example.com
    token: "{{ grafana_admin_token }}"
    org_id: 2
    name: legacy-exporter
    disabled: true

- name: Set connection options once for a whole play
  module_defaults:
    group/grafana_ops.auth.grafana:
      url: https://grafana.example.com
      token: "{{ grafana_admin_token }}"
  block:
    - name: Remove an account and all its tokens
      grafana_ops.auth.service_account:
        name: old-dashboard-sync
        state: absent
"""

RETURN = r"""
service_account:
  description:
    - The service account after the run, as Grafana names its fields (the shape of
      Grafana's search and create answers).
    - An empty dictionary when O(state=absent).
    - In check mode, the predicted account; for a new account only the fields that can be
      known before Grafana assigns them (no RV(service_account.id), and no C(login), whose
      form depends on the Grafana version).
  returned: always
  type: dict
  sample:
    id: 4
    uid: aeb0bkq9kfvgge
    name: ci-deployer
    login: sa-1-ci-deployer
    orgId: 1
    isDisabled: false
    role: Editor
    tokens: 0
    avatarUrl: /avatar/3f8a2f3c5e6a1b9d0c7e4f2a1b3c5d7e
  contains:
    id:
      description: Numeric id of the account (what M(grafana_ops.auth.service_account_token) takes as
        its C(service_account_id)).
      type: int
      returned: when the account exists (not in check mode for a new account)
    uid:
      description: UID of the account, on Grafana versions that have one.
      type: str
      returned: when the server provides it
    name:
      description: Name of the account.
      type: str
      returned: success
    login:
      description: Login Grafana derived from the name and organization.
      type: str
      returned: when known
    orgId:
      description: Organization the account belongs to.
      type: int
      returned: when known
    isDisabled:
      description: Whether the account is disabled.
      type: bool
      returned: success
    role:
      description: Organization role, spelled as Grafana does (V(None), V(Viewer), V(Editor), V(Admin)).
      type: str
      returned: success
    tokens:
      description: Number of tokens the account has (a count, not the tokens).
      type: int
      returned: success
diff:
  description:
    - The managed fields V(name), V(role) and V(isDisabled) before and after the run; an empty
      dictionary for an account that does not exist.
  returned: in diff mode
  type: dict
  sample:
    before:
      name: ci-deployer
      role: Viewer
      isDisabled: false
    after:
      name: ci-deployer
      role: Editor
      isDisabled: false
"""

from typing import Any, Dict

from ansible_collections.grafana_ops.auth.plugins.module_utils._runner import (
    grafana_module,
    run_module,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_account import run


def argument_spec() -> Dict[str, Any]:
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        role=dict(type="str"),
        disabled=dict(type="bool"),
    )


def main() -> None:
    module = grafana_module(argument_spec(), supports_check_mode=True)
    run_module(module, run)


if __name__ == "__main__":
    main()
