#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: service_account_token
short_description: Ensure a usable Grafana service-account token, rotate it, deliver its key to a file
version_added: 0.1.0
description:
  - Ensures that a Grafana service account has a token named O(name) that is neither expired
    nor revoked, replaces it before it lapses (O(rotation_window)), retires or prunes the old
    ones, and writes the key of a new token atomically to O(dest).
  - "Grafana shows a token's key only once, in the answer that creates it. The key is therefore
    written to O(dest), or returned (RV(key)) when there is no O(dest) or O(return_key=true),
    only by the run that mints the token; later runs return RV(token) without a key. Register
    the result with C(no_log: true) on the task."
  - "The module owns exactly the tokens of the account named O(name) and those named
    C(<name>-r<UTC YYYYMMDDHHMMSS>) or C(<name>-r<UTC YYYYMMDDHHMMSS>-NN) (the rotation suffix
    it generates; C(-01) to C(-99) are added when two tokens are minted in the same second).
    Other tokens of the account are never touched. The first token is named O(name) itself."
  - The current token is the newest owned token that is neither expired nor revoked. Expiry is
    judged on the Grafana server's clock (its C(Date) header), so a skewed clock on the host
    running the task cannot cause an early or a late rotation.
  - A rerun with nothing to change sends the account lookup and one token listing, and no write.
    A first run adds exactly one create to that.
author:
  - Grafana Ops contributors (@grafana-ops)
options:
  service_account:
    description:
      - Exact name of the service account that holds the token.
      - Exactly one of O(service_account) and O(service_account_id) is required.
    type: str
  service_account_id:
    description:
      - Numeric id of the service account (RV(grafana_ops.auth.service_account#module:service_account.id)).
    type: int
  name:
    description:
      - Name of the token. Rotated tokens get a time suffix, see the description.
      - Grafana requires token names to be unique per organization across all service
        accounts (and legacy API keys), not only within one account.
    type: str
    required: true
  state:
    description:
      - V(present) ensures a usable owned token exists (minting, rotating and pruning as needed).
      - V(absent) deletes every owned token, expired, revoked or valid. O(dest) is not removed;
        delete the file with M(ansible.builtin.file) if you want it gone.
    type: str
    choices: [present, absent]
    default: present
  ttl:
    description:
      - Lifetime of a newly minted token, as seconds or a duration such as V(90m), V(12h),
        V(30d) or V(1h30m).
      - V(0) mints tokens that never expire (and are therefore never inside a rotation window).
      - Only applies when a token is minted; changing O(ttl) does not replace the current token,
        the new value is used at the next rotation.
      - At most 9223372036 seconds (about 292 years, what Grafana can compute an expiry for,
        a Go C(time.Duration)); a longer value (a typo such as V(3000000d)) is refused before
        any request, in check mode too. The same bound applies to O(rotation_window).
      - Grafana may limit token lifetimes (C([auth] api_key_max_seconds_to_live),
        C([service_accounts] token_expiration_day_limit)); the module explains such refusals.
    type: raw
    default: 30d
  rotation_window:
    description:
      - A current token with less than this time left is replaced by a new one (same duration
        syntax as O(ttl)).
      - Must be shorter than O(ttl) (unless O(ttl=0)); otherwise the task fails before any request.
      - V(0) (the default) replaces a token only once it has expired.
    type: raw
    default: '0'
  keep_previous:
    description:
      - When a token is replaced, V(true) leaves the old one valid until it expires, so that
        consumers still holding its key keep working while they pick up the new one.
      - V(false) deletes the old token once the new one exists. With V(false) every owned
        token other than the current one is deleted on every run, so only one is ever left.
    type: bool
    default: true
  prune_expired:
    description:
      - Delete owned tokens that have expired, and owned tokens that are revoked (for example
        by Grafana's secret scanning); neither can ever authenticate again.
      - Only matters with O(keep_previous=true); with V(false) every non-current owned token is
        deleted anyway.
    type: bool
    default: true
  dest:
    description:
      - File to write the key of a newly minted token to. The key belongs to its owner from the
        first byte - a new temporary file in the same directory is created with mode C(0600) (or
        the stricter O(mode)) without following symlinks, given O(owner), O(group) (the user
        running the task and its group when not set) and O(mode) before the key is written, then
        synced and renamed over O(dest). The key has no trailing newline.
      - An existing O(dest) is replaced by that new file, never written through or reused - a
        symlink is replaced (its target is left alone), and the old file's owner and mode are
        not inherited.
      - When O(dest) is set, the key is not returned (RV(key) is absent) unless
        O(return_key=true), so that it is not printed at C(-v) or written to C(ANSIBLE_LOG_PATH).
      - Written only when a token is minted; a run that mints nothing leaves its content alone
        (but still applies O(mode), O(owner) and O(group)).
      - An existing O(dest) that is a symlink, or a file not owned by O(owner) (the user running
        the task when O(owner) is not set), is not trusted to hold the key (someone else may
        have put it there). It is handled like a missing file - a new token is minted and its
        key replaces the file - and the module warns.
      - If the file is missing or empty while a valid token exists, the key cannot be recovered
        (Grafana never shows it again), so the module mints a new rotation-suffixed token, writes
        its key, retires the old token as O(keep_previous) says, reports C(changed) and warns.
      - The directory must exist and be writable; this is checked before a token is minted.
        If the key cannot be written anyway, the just-minted token is deleted again (nobody
        would hold its key) and the task fails.
    type: path
  mode:
    description:
      - Permissions of O(dest) - an octal string such as V('0600') or V('0640') (quote it in
        YAML), V('0o600'), or a symbolic mode such as V(u=rw,go=).
      - "An unquoted YAML number is ambiguous - C(mode: 0600) is the number 384 (octal 600), but
        C(mode: 600) is the decimal number 600, which Ansible's file modules take literally
        (octal 1130, C(---x-wx--T)). A number is therefore accepted only when it is a plausible
        key-file mode (no setuid, setgid, sticky or execute bit, no write without read); C(600),
        C(640), C(644), C(400) and the like are refused before any request, with the quoted
        form to use."
    type: raw
    default: '0600'
  return_key:
    description:
      - Return the key of a newly minted token in RV(key) even though O(dest) is set.
      - Without O(dest) the key is always returned (there is nowhere else to put it).
    type: bool
    default: false
extends_documentation_fragment:
  - grafana_ops.auth.connection
  - grafana_ops.auth.connection.attributes_action_group
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    details:
      - Sends the account lookup and the token listing only; RV(rotated), RV(pruned) and
        RV(dest_written) predict what would happen, RV(token) is the token that would be
        current (predicted, without RV(token.id), for a token that would be minted). No key is
        ever returned in check mode.
  diff_mode:
    support: full
    details:
      - Shows the owned tokens (name, expiration, state) before and after. Never a key.
  idempotent:
    description:
      - A rerun reports C(changed=false) and sends no write until a token needs replacing
        (it expired, was revoked, entered the rotation window, or O(dest) went missing).
    support: full
  safe_file_operations:
    description: Uses Ansible's atomic move for O(dest).
    support: full
  platform:
    support: full
    platforms: posix
    details:
      - Runs wherever Python and C(requests) run and talks to Grafana over HTTP(S); O(dest)
        needs a POSIX file system.
notes:
  - "Put C(no_log: true) on every task that registers the result of a run that may mint a token
    without O(dest) (or with O(return_key=true)): RV(key) is in it."
  - "A create that fails without a clear answer (HTTP 5xx, timeout, dropped connection) is not
    retried: the key may have been lost on the way. The module lists the tokens again; if Grafana
    did create the token it is deleted (nobody holds its key), and the task fails saying so. A
    rerun mints normally."
  - "Two runs ensuring the same token at the same moment both see it missing; Grafana refuses the
    second create as a duplicate name, and that run fails saying another run created the token
    (which holds its key). Do not manage the same token from two places at once."
  - Grafana lists at most 300 tokens per account; keep O(prune_expired) on.
  - O(org_id) is sent as the C(X-Grafana-Org-Id) header on every request; tokens belong to the
    organization of their service account and only work there.
seealso:
  - module: grafana_ops.auth.service_account
  - module: grafana_ops.auth.service_account_info
  - module: grafana_ops.auth.service_accounts
  - module: grafana_ops.auth.diagnose
  - name: Grafana service account token API
    description: Grafana's documentation of the endpoints this module uses.
    link: https://grafana.com/docs/grafana/latest/developers/http_api/serviceaccount/
"""

EXAMPLES = r"""
- name: Ensure a token for a CI account and keep its key in a private file
  grafana_ops.auth.service_account_token:
    url: https://grafana.example.com
    url_username: admin
    url_password: "{{ grafana_admin_password }}"
    service_account: ci-deployer
    name: ci
    ttl: 30d
    dest: /etc/grafana-ci/token
    owner: ci
    mode: "0600"
  no_log: true  # the result holds the key on the run that mints it

# Rotate a CI secret: run this from CI (for example daily). A token with less than 7 days left
# is replaced; the previous one stays valid until it expires so running jobs keep working, and
# expired ones are pruned. The new key is pushed to the CI system only when one was minted.
- name: Rotate the deploy token before it lapses
  grafana_ops.auth.service_account_token:
    url: https://grafana.example.com
    token: "{{ lookup('ansible.builtin.env', 'GRAFANA_ADMIN_TOKEN') }}"
    service_account: ci-deployer
    name: deploy
    ttl: 30d
    rotation_window: 7d
    keep_previous: true
    prune_expired: true
    dest: "{{ runner_temp }}/grafana-deploy-token"
    return_key: true  # also return the key (to push it below); without it, dest alone holds it
  register: deploy_token
  no_log: true

- name: Push the new key to the CI secret store (only when it changed)
  ansible.builtin.command:
    argv: [gh, secret, set, GRAFANA_TOKEN, --repo, example/app, --body, "{{ deploy_token.key }}"]
  when: deploy_token.key is defined
  changed_when: true
  no_log: true

- name: Report what happened without showing the key
  ansible.builtin.debug:
    msg: "current token {{ deploy_token.token.name }}, rotated={{ deploy_token.rotated }},
      pruned={{ deploy_token.pruned | map(attribute='name') }}"

- name: A token that never expires, in organization 2, for an account given by id
  grafana_ops.auth.service_account_token:
    url: https://grafana.example.com
    token: "{{ grafana_admin_token }}"
    org_id: 2
    service_account_id: 7
    name: exporter
    ttl: 0
  register: exporter_token
  no_log: true

- name: Remove every token the module owns under that name
  grafana_ops.auth.service_account_token:
    url: https://grafana.example.com
    token: "{{ grafana_admin_token }}"
    service_account: ci-deployer
    name: deploy
    state: absent
"""

RETURN = r"""
token:
  description:
    - Grafana's token object (as listed by Grafana, never with a key) of the current owned
      token after the run, plus the computed V(expired), V(revoked) and V(seconds_left).
    - For a token minted in this run the object is built from Grafana's create answer and the
      server clock (Grafana's answer carries no dates).
    - V(null) when O(state=absent).
  returned: always
  type: dict
  sample:
    id: 12
    name: deploy-r20261129150000
    created: "2026-11-29T15:00:00Z"
    lastUsedAt: null
    expiration: "2026-12-29T15:00:00Z"
    secondsUntilExpiration: 0
    hasExpired: false
    isRevoked: false
    expired: false
    revoked: false
    seconds_left: 2592000
  contains:
    id:
      description: Token id (absent from a check-mode prediction of a new token).
      type: int
      returned: success
    name:
      description: Token name, O(name) or O(name) with the rotation suffix.
      type: str
      returned: success
    expiration:
      description: When the token expires (RFC 3339, UTC); V(null) if it never does.
      type: str
      returned: success
    seconds_left:
      description: Seconds until expiry on the Grafana server's clock; V(null) if it never expires.
      type: int
      returned: success
key:
  description:
    - The key (V(glsa_...)) of the token minted in this run. Grafana never shows it again.
    - "Only returned when a token was minted by this run, never in check mode, and with O(dest)
      only when O(return_key=true). Use C(no_log: true) on the task."
  returned: when a token was minted, and O(dest) is not set or O(return_key=true)
  type: str
  sample: glsa_...
rotated:
  description:
    - Whether a new token replaced an owned one (inside the rotation window, expired, revoked,
      or its key file missing). A first token is not a rotation.
  returned: always
  type: bool
  sample: true
pruned:
  description:
    - The owned tokens deleted by this run (predicted in check mode), each with V(id), V(name)
      and V(reason) (V(expired), V(revoked), V(replaced) with O(keep_previous=false), or
      V(absent)).
  returned: always
  type: list
  elements: dict
  sample:
    - id: 9
      name: deploy-r20261030150000
      reason: expired
dest_written:
  description: Whether the key was written (would be written, in check mode) to O(dest).
  returned: always
  type: bool
  sample: true
msg:
  description: What the run did (or would do) and why, in words.
  returned: always
  type: str
  sample: >-
    Token 'deploy-r20261129150000' created (expires in 30d) because token 'deploy' is inside
    the rotation window (7d), 6d23h left; its key written to /run/ci/token.
diff:
  description: Owned tokens (name, expiration, state) before and after the run. Never a key.
  returned: in diff mode
  type: dict
  sample:
    before:
      tokens:
        - name: deploy
          expiration: "2026-12-05T15:00:00Z"
          state: valid
    after:
      tokens:
        - name: deploy
          expiration: "2026-12-05T15:00:00Z"
          state: valid
        - name: deploy-r20261129150000
          expiration: "2026-12-29T15:00:00Z"
          state: valid
"""

from typing import Any, Dict  # noqa: E402

from ansible_collections.grafana_ops.auth.plugins.module_utils._runner import (  # noqa: E402
    grafana_module,
    run_module,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_account_token import run  # noqa: E402
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_plan import (
    token_argument_spec,
)  # noqa: E402


def argument_spec() -> Dict[str, Any]:
    return dict(
        service_account=dict(type="str"),
        service_account_id=dict(type="int"),
        **token_argument_spec(),
    )


def main() -> None:
    module = grafana_module(
        argument_spec(),
        supports_check_mode=True,
        add_file_common_args=True,
        mutually_exclusive=[("service_account", "service_account_id")],
        required_one_of=[("service_account", "service_account_id")],
    )
    run_module(module, run)


if __name__ == "__main__":
    main()
