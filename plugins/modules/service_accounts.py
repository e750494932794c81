#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: service_accounts
short_description: Reconcile a list of Grafana service accounts and their tokens in one call
version_added: 0.1.0
description:
  - Brings every service account of O(accounts) and each of its tokens to the declared state in
    one module run, for one organization (O(org_id)). This is what the
    C(grafana_ops.auth.service_accounts) role calls, once per organization.
  - Each account takes the options of M(grafana_ops.auth.service_account), each token the
    options of M(grafana_ops.auth.service_account_token); they behave the same way (token
    ownership, rotation suffix, rotation window, O(accounts[].tokens[].keep_previous), pruning,
    atomic key delivery).
  - Every account and token is validated before the first request (names, states, roles,
    durations and their bounds, rotation windows, key-file modes, owners and groups, duplicate
    account names, account names that differ only in case or in spaces against dashes - Grafana
    derives the same login C(sa-<org>-<name in lower case, spaces as ->) from them, so the
    second could never be created - and duplicate token names, which Grafana keeps unique per
    organization). One bad entry fails the task with one message
    listing every problem, and nothing is sent.
  - "Efficient: the organization's accounts are listed with one (paged) search, not one search
    per account. Then an account costs nothing when unchanged and one request to create,
    update or delete; an account that declares tokens costs one token listing (none when it
    was just created) plus one request per minted or retired token. A rerun with nothing to
    change sends no write."
  - O(purge=true) makes the list authoritative, deleting the accounts of the organization that
    are not listed (with all their tokens). Accounts Grafana manages itself (external service
    accounts, C(isExternal) or a C(sa-<org>-extsvc-) login) are never purged.
  - "Keys of tokens minted by this run are returned in RV(minted_keys), and only there (with
    O(accounts[].tokens[].dest) only on request). Put C(no_log: true) on the task."
author:
  - Grafana Ops contributors (@grafana-ops)
options:
  accounts:
    description:
      - The service accounts to reconcile, in this organization.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Exact name of the service account.
        type: str
        required: true
      state:
        description:
          - V(present) creates or updates the account; V(absent) deletes it (and its tokens).
        type: str
        choices: [present, absent]
        default: present
      role:
        description:
          - Org role of the account, V(None), V(Viewer), V(Editor) or V(Admin), in any case.
          - Left alone on an existing account when not set; a new account gets V(Viewer).
        type: str
      disabled:
        description:
          - Whether the account is disabled. Left alone when not set.
        type: bool
      tokens:
        description:
          - Tokens of this account, as for M(grafana_ops.auth.service_account_token).
          - Ignored for an account with O(accounts[].state=absent) (deleting it deletes its tokens).
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description:
              - Token name; rotated tokens get the suffix C(-r<UTC YYYYMMDDHHMMSS>).
              - Unique per organization across all accounts.
            type: str
            required: true
          state:
            description:
              - V(present) ensures a usable owned token; V(absent) deletes every owned token.
            type: str
            choices: [present, absent]
            default: present
          ttl:
            description:
              - Lifetime of a newly minted token (seconds or V(90m), V(12h), V(30d)); V(0) = never expires.
            type: raw
            default: 30d
          rotation_window:
            description:
              - A current token with less than this time left is replaced. Shorter than O(accounts[].tokens[].ttl).
            type: raw
            default: '0'
          keep_previous:
            description:
              - Leave a replaced token valid until it expires (V(true)) or delete it once the
                new one exists (V(false)). See also O(retire_previous).
            type: bool
            default: true
          prune_expired:
            description:
              - Delete owned tokens that expired or were revoked.
            type: bool
            default: true
          dest:
            description:
              - File, on the host running the module, to write the key of a newly minted token to,
                as O(grafana_ops.auth.service_account_token#module:dest) does - a new file, created
                C(0600) (or the stricter mode), given its owner, group and mode before the first
                byte of the key, renamed over the old one (never written through a symlink, never
                inheriting the old file's owner or mode); no trailing newline. The directory must
                exist.
              - A missing or empty O(accounts[].tokens[].dest), a symlink, or a file not owned by
                O(accounts[].tokens[].owner) (the user running the task when not set) while a
                token is valid makes the module mint a replacement (the key cannot be read back)
                and warn.
              - With O(accounts[].tokens[].dest), the key is not put in RV(minted_keys) unless
                O(accounts[].tokens[].return_key=true).
            type: path
          mode:
            description:
              - Permissions of O(accounts[].tokens[].dest), a quoted octal string (V('0600')) or
                a symbolic mode. An unquoted YAML number such as C(600) is decimal and is
                refused (see O(grafana_ops.auth.service_account_token#module:mode)).
            type: raw
            default: '0600'
          return_key:
            description:
              - Put the key in RV(minted_keys) even though O(accounts[].tokens[].dest) is set.
            type: bool
            default: false
          owner:
            description:
              - Owner of O(accounts[].tokens[].dest) (needs root to be another user).
            type: str
          group:
            description:
              - Group of O(accounts[].tokens[].dest).
            type: str
          key_missing:
            description:
              - Set this when the consumer of the key no longer has it (for example the role
                found a key file missing on a host). A valid token is then replaced by a new
                one, as with a missing O(accounts[].tokens[].dest).
            type: bool
            default: false
  purge:
    description:
      - Delete every service account of the organization that is not in O(accounts), with its
        tokens. Never deletes an external (Grafana-managed) account.
      - Off by default; turn it on only for an organization whose accounts are all managed
        here.
    type: bool
    default: false
  retire_previous:
    description:
      - V(false) keeps every replaced token in this run, as if each token had
        O(accounts[].tokens[].keep_previous=true). The role uses it to verify new keys before
        old ones are retired by a second run with V(true).
    type: bool
    default: true
  expiring_within:
    description:
      - Current tokens with less than this time left are listed in RV(expiring) (same syntax
        and bound as O(accounts[].tokens[].ttl), at most 9223372036 seconds).
    type: raw
    default: 7d
extends_documentation_fragment:
  - grafana_ops.auth.connection
  - grafana_ops.auth.connection.attributes_action_group
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Sends only the reads (the search and the token listings of existing accounts) and
        predicts every result. No key is returned in check mode.
  diff_mode:
    support: full
    details:
      - Per account, the managed fields and the owned tokens (name, expiration, state) before
        and after. Never a key.
  idempotent:
    description:
      - A rerun reports C(changed=false) and sends no write until a token needs replacing.
    support: full
  platform:
    support: full
    platforms: posix
notes:
  - "Put C(no_log: true) on the task: RV(minted_keys) holds the keys minted by the run."
  - "If an account fails part-way, the task fails naming it; accounts finished before it stay
    done and their minted keys are still returned in RV(minted_keys) of the failed result, so no key
    is lost."
  - One organization per call (O(org_id)); call the module once per organization.
seealso:
  - module: grafana_ops.auth.service_account
  - module: grafana_ops.auth.service_account_token
  - module: grafana_ops.auth.service_account_info
  - module: grafana_ops.auth.diagnose
"""

EXAMPLES = r"""
- name: Reconcile the accounts of the main organization
  grafana_ops.auth.service_accounts:
    url: https://grafana.example.com
    url_username: admin
    url_password: "{{ grafana_admin_password }}"
    accounts:
      - name: ci-deployer
        role: Editor
        tokens:
          - name: deploy
            ttl: 30d
            rotation_window: 7d
      - name: prometheus-reader
        role: Viewer
        tokens:
          - name: prometheus
            ttl: 90d
            rotation_window: 14d
            keep_previous: false
            dest: /etc/prometheus/grafana-token
      - name: old-exporter
        state: absent
  register: grafana_accounts
  no_log: true  # keys of minted tokens are in the result

- name: Show what changed, without keys
  ansible.builtin.debug:
    msg: >-
      created={{ grafana_accounts.created }} rotated={{ grafana_accounts.rotated | map(attribute='name') }}
      expiring={{ grafana_accounts.expiring | map(attribute='name') }}

- name: Make organization 2 exactly this list (delete any other account)
  grafana_ops.auth.service_accounts:
    url: https://grafana.example.com
    token: "{{ grafana_admin_token }}"
    org_id: 2
    purge: true
    accounts:
      - name: reporting
        role: Viewer
  no_log: true
"""

RETURN = r"""
results:
  description: One entry per listed account (in list order), then one per purged account.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Account name.
      type: str
    action:
      description: V(created), V(adopted), V(updated), V(unchanged), V(deleted), V(absent) or V(purged).
      type: str
    changed:
      description: Whether the account or any of its tokens changed.
      type: bool
    service_account:
      description: Grafana's account object after the run (V(null) when deleted or absent).
      type: dict
    tokens:
      description: One entry per declared token.
      type: list
      elements: dict
      contains:
        name:
          description: The declared token name.
          type: str
        action:
          description: V(created), V(rotated), V(pruned), V(updated), V(unchanged), V(deleted) or V(absent).
          type: str
        rotated:
          description: A new token replaced an owned one.
          type: bool
        pruned:
          description: Owned tokens deleted (each V(id), V(name), V(reason)).
          type: list
          elements: dict
        dest_written:
          description: The key was written to O(accounts[].tokens[].dest).
          type: bool
        token:
          description: The current token after the run (Grafana's object plus V(expired), V(revoked),
            V(seconds_left)); never a key.
          type: dict
  sample:
    - name: ci-deployer
      action: created
      changed: true
      service_account: {id: 2, name: ci-deployer, login: sa-1-ci-deployer, role: Editor, isDisabled: false}
      tokens:
        - name: deploy
          action: created
          rotated: false
          pruned: []
          dest_written: false
          token: {id: 1, name: deploy, expiration: "2026-12-29T15:00:00Z", seconds_left: 2592000}
minted_keys:
  description:
    - The keys of the tokens minted by this run (never in check mode), each with V(account),
      V(token) (the declared name), V(name) (the token's actual name, with a rotation suffix
      when rotated), V(dest) (or V(null)) and V(key). V(key) is absent for a token with
      O(accounts[].tokens[].dest) unless O(accounts[].tokens[].return_key=true). Empty when
      nothing was minted.
    - "Secret: use C(no_log: true)."
  returned: always
  type: list
  elements: dict
  sample:
    - account: ci-deployer
      token: deploy
      name: deploy
      key: glsa_...
      dest: null
created:
  description: Names of the accounts created.
  returned: always
  type: list
  elements: str
  sample: [ci-deployer]
updated:
  description: Names of the accounts whose role or disabled flag changed.
  returned: always
  type: list
  elements: str
  sample: []
deleted:
  description: Names of the listed accounts deleted (O(accounts[].state=absent)).
  returned: always
  type: list
  elements: str
  sample: []
purged:
  description: Names of the unlisted accounts deleted by O(purge=true).
  returned: always
  type: list
  elements: str
  sample: [forgotten-account]
minted:
  description: Tokens minted (first ones and rotations), each V(account), V(token), V(name).
  returned: always
  type: list
  elements: dict
  sample: [{account: ci-deployer, token: deploy, name: deploy}]
rotated:
  description: Tokens replaced by a new one, each V(account), V(token), V(name) (the new token).
  returned: always
  type: list
  elements: dict
  sample: [{account: ci-deployer, token: deploy, name: deploy-r20261129150000}]
pruned:
  description: Owned tokens deleted, each V(account), V(token), V(id), V(name), V(reason).
  returned: always
  type: list
  elements: dict
  sample: [{account: ci-deployer, token: deploy, id: 3, name: deploy, reason: expired}]
expiring:
  description:
    - Current tokens with less than O(expiring_within) left on the Grafana server's clock,
      each V(account), V(token), V(name), V(expiration), V(seconds_left), V(expires_in).
  returned: always
  type: list
  elements: dict
  sample: [{account: ci-deployer, token: deploy, name: deploy, expiration: "2026-12-01T15:00:00Z",
            seconds_left: 172800, expires_in: 2d}]
diff:
  description: Per account name, the managed fields and owned tokens before and after. Never a key.
  returned: in diff mode
  type: dict
msg:
  description: What the run did, in one line (counts only, never a key); on failure, the cause.
  returned: always
  type: str
  sample: "2 listed account(s): 1 created, 0 updated, 0 deleted, 0 purged; 1 token(s) minted
    (0 rotation(s)), 0 pruned; 0 expiring soon."
"""

from typing import Any, Dict  # noqa: E402

from ansible_collections.grafana_ops.auth.plugins.module_utils._runner import (  # noqa: E402
    grafana_module,
    run_module,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_accounts import run  # noqa: E402
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_plan import (
    token_argument_spec,
)  # noqa: E402


def token_options() -> Dict[str, Any]:
    return dict(
        token_argument_spec(),
        owner=dict(type="str"),
        group=dict(type="str"),
        key_missing=dict(type="bool", default=False, no_log=False),
    )


def argument_spec() -> Dict[str, Any]:
    account = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        role=dict(type="str"),
        disabled=dict(type="bool"),
        tokens=dict(
            type="list", elements="dict", default=[], no_log=False, options=token_options()
        ),
    )
    return dict(
        accounts=dict(type="list", elements="dict", required=True, options=account),
        purge=dict(type="bool", default=False),
        retire_previous=dict(type="bool", default=True),
        expiring_within=dict(type="raw", default="7d", no_log=False),
    )


def main() -> None:
    module = grafana_module(argument_spec(), supports_check_mode=True)
    run_module(module, run)


if __name__ == "__main__":
    main()
