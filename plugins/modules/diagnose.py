#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: diagnose
short_description: Find out why Grafana answers 401 or 403 to a credential, directly and through proxies
version_added: 0.1.0
description:
  - Verifies a Grafana credential end to end and, when it fails, says which of the known causes it
    is, with the evidence and the fix.
  - First lints the credential offline, exactly as it was given (before any trimming) - whitespace
    such as the trailing newline of a token file, a malformed raw C(Authorization) header, a
    C(glsa_) token whose checksum does not validate, a legacy API key.
  - Then sends a few probes to Grafana directly (O(url)) and through every proxy in O(proxy_urls) -
    C(GET /api/health) without credentials, the O(endpoint) with the credential, C(GET /api/user)
    (who the credential is) and C(GET /api/org) (which organization) - and compares the answers.
    User and org probes are skipped after a 401. No probe is retried, so a proxy's 502 is seen as it is.
  - Classifies the answers by HTTP status first, then Grafana's C(messageId), then its C(message), so
    that Grafana 9.5, 10.4, 11.6 and 12.x bodies are all understood.
  - V(ok) is a guarantee, not a default - the verdict is V(ok) only when Grafana's own JSON proved an
    authenticated identity directly (the endpoint answered 2xx with JSON and C(/api/user) read the
    identity back) and every proxy answered every probe with the same status as its direct twin
    (and with Grafana's JSON where Grafana answered JSON); anything else names at least one cause.
  - The verdict is the category of the most fundamental cause, in the order a request travels -
    V(connectivity) (nothing answers, TLS) before V(proxy) (the proxy changes or stops the request)
    before V(authentication) (Grafana rejects the credential, HTTP 401) before V(authorization)
    (Grafana knows who it is but refuses the endpoint - HTTP 403, or the endpoint does not exist).
  - Never changes anything in Grafana; with admin credentials it only reads the service account and
    its token list.
author:
  - Grafana Ops contributors (@grafana-ops)
extends_documentation_fragment:
  - grafana_ops.auth.connection
  - grafana_ops.auth.connection.attributes_action_group
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    support: full
    platforms: posix
    details:
      - Runs wherever Python and C(requests) run and talks to Grafana (and the proxies) over HTTP(S).
  check_mode:
    support: full
    details: The module only reads; it behaves the same in check mode.
  diff_mode:
    support: none
  idempotent:
    description: The module never changes anything; every run reports C(changed=false).
    support: full
options:
  url:
    description:
      - Grafana's own URL, without any proxy in front, for example V(http://localhost:3000).
      - Every probe is sent here first; the answers are the reference for O(proxy_urls).
      - If not set, the environment variable E(GRAFANA_URL) is used.
    type: str
    required: true
  token:
    description:
      - The service-account token under test, as the client uses it.
      - Unlike other modules, the raw value is linted before it is trimmed; whitespace is reported
        as cause V(token_whitespace), and the trimmed token is probed to tell whether it works once
        trimmed.
      - The credential under test is the first of O(authorization_header), O(token_file), O(token),
        O(url_username) that is set (environment fallbacks included); with none of them the probes
        are sent without credentials.
      - If not set, the environment variable E(GRAFANA_TOKEN) is used.
    type: str
  url_username:
    description:
      - User name under test for HTTP Basic authentication.
      - If not set, the environment variable E(GRAFANA_USER) is used.
    type: str
  url_password:
    description:
      - Password for O(url_username). When it is actually a token, the diagnosis says so.
      - If not set, the environment variable E(GRAFANA_PASSWORD) is used.
    type: str
  org_id:
    description:
      - The organization the credential is expected to work in; sent as C(X-Grafana-Org-Id) and
        compared with the organization Grafana reports.
      - If not set, the environment variable E(GRAFANA_ORG_ID) is used.
    type: int
  token_file:
    description:
      - Path to a file holding the token under test, read raw (a trailing newline is reported, not
        silently removed).
    type: path
  authorization_header:
    description:
      - The complete C(Authorization) header value exactly as the user's tool sends it, for example
        V(Bearer glsa_...) or V(bearer glsa_...). It is sent verbatim, so a lower-case scheme, a
        missing scheme or two spaces are reproduced and reported as V(malformed_header).
    type: str
  proxy_urls:
    description:
      - Base URLs that reach the same Grafana through reverse proxies, with any sub-path, for
        example V(https://grafana.example.com) or V(http://127.0.0.1:8080/grafana).
      - Each gets the same probes; RV(parity) compares their statuses with the direct ones.
    type: list
    elements: str
    default: []
  endpoint:
    description:
      - Path (relative to each base URL) used to test authentication.
      - The default is readable by any signed-in identity, so a failure there is about
        authentication, not permissions. Give the endpoint that fails for you to diagnose a 403 or 404.
    type: str
    default: /api/dashboards/home
  admin_token:
    description:
      - Optional admin token for deeper checks - the service account's role and disabled flag, the
        token's expiry and last use, and telling a deleted token from a deleted account.
    type: str
  admin_url_username:
    description:
      - Optional admin user for the deeper checks (with O(admin_url_password)).
    type: str
  admin_url_password:
    description:
      - Password of O(admin_url_username).
    type: str
  service_account:
    description:
      - Name of the service account the credential is expected to belong to.
      - Grafana has no API that maps a key to its account or token, so when a well-formed token is
        unknown to Grafana only this hint, O(token_name) and admin credentials can tell whether the
        account was deleted (V(service_account_deleted)), the token was deleted (V(token_deleted)),
        or the key is not that token at all (V(token_invalid)).
    type: str
  token_name:
    description:
      - Name of the token the credential is expected to be (see O(service_account)).
    type: str
  require_parity:
    description:
      - Fail when any proxy answers differently from Grafana directly, or a proxy cause was found.
      - The failure message names the cause, its evidence and the fix; all return values are still returned.
    type: bool
    default: false
  fail_on_problem:
    description:
      - Fail when the verdict is not V(ok), with a message that reads like the diagnosis.
    type: bool
    default: false
  keys:
    description:
      - Verify several tokens in one run instead of one credential, for example every key a
        provisioning run minted. Each key gets the whole diagnosis (the same probes, directly and
        through O(proxy_urls)); the results are in RV(key_results), one per entry, in order.
      - When set, O(token), O(token_file), O(authorization_header), O(url_username) and
        O(url_password) are not used; O(org_id), O(service_account) and O(token_name) are the
        defaults of the entries that do not set their own.
      - A key passes when its verdict is V(ok) and, with O(proxy_urls), the proxies answered the
        same as Grafana directly. The top-level RV(verdict) is V(ok) only when every key passed;
        O(fail_on_problem) and O(require_parity) fail the task when any key did not pass, naming
        each such key by its label, verdict and causes.
    type: list
    elements: dict
    version_added: 0.1.0
    suboptions:
      token:
        description:
          - The token to verify (never returned).
        type: str
        required: true
      label:
        description:
          - Name of the key in RV(key_results) and in messages, for example V(account/token). Default
            C(keys[<index>]).
        type: str
      org_id:
        description:
          - Organization the key should work in (default O(org_id)).
        type: int
      service_account:
        description:
          - Service account the key should belong to (default O(service_account)).
        type: str
      token_name:
        description:
          - Token name the key should be (default O(token_name)).
        type: str
notes:
  - Requests sent - 4 per base URL when the credential works, 2 after a 401, 1 when nothing answers,
    plus 2 or 3 for the admin lookup; none when the token under test is empty.
  - Cause codes are stable identifiers - V(missing_credentials), V(malformed_header),
    V(token_whitespace), V(token_malformed), V(legacy_api_key), V(token_invalid), V(token_deleted),
    V(service_account_deleted), V(token_expired), V(token_revoked), V(service_account_disabled),
    V(org_mismatch), V(basic_auth_disabled), V(basic_credentials_invalid),
    V(proxy_strips_authorization), V(proxy_basic_auth_intercepts), V(proxy_path_mismatch),
    V(proxy_unreachable), V(grafana_unreachable), V(insufficient_role), V(endpoint_requires_user),
    V(endpoint_removed), V(tls_error), V(proxy_answers_itself), V(proxy_status_mismatch),
    V(unexpected_response).
  - V(proxy_answers_itself) (verdict V(proxy)) - a proxy answered with its own page instead of Grafana's
    (an nginx 403 from C(deny) or a location that does not cover C(/api/), a 400/413/431 from a header or
    body size limit such as C(large_client_header_buffers), a 302 to an SSO login URL, a 200 HTML login page,
    a 500 JSON from a sidecar or WAF). Evidence - the proxy's answer (status, what answered, for example
    C(an HTML page titled '403 Forbidden')) next to the direct one. Remediation - let the proxy pass
    C(/api/) to Grafana unchanged (a location or router rule that covers it, no deny rule, login gate or
    size limit in the way).
  - V(proxy_status_mismatch) (verdict V(proxy)) - catch-all for a proxy whose answer is Grafana's JSON but
    has another status than the direct one, with no more specific cause. Evidence - both answers.
    Remediation - compare the proxy's configuration with the reverse_proxy role's template; it must pass
    path, C(Authorization), C(X-Grafana-Org-Id) and body unchanged to the same Grafana as O(url).
  - V(unexpected_response) (verdict V(authentication), meaning "not proven") - catch-all for a direct answer
    that is neither success nor a failure Grafana is known to give - for example 400, 405, 407, 418 or 431 on
    every probe (a token file far too large for a header does this), an HTML or text page, or a 2xx whose body
    is not Grafana's JSON identity. Evidence - the answer and what answered. Remediation - check what answers
    at O(url) (an SSO page, a captive portal, another service, a request-size limit).
  - An empty or whitespace-only O(token_file) (or O(token)) is V(missing_credentials), found offline - the
    lint names the file, and no request is sent.
  - A proxy's own 401 (a non-Grafana body with C(WWW-Authenticate) Basic) is told apart from Grafana's
    401 (JSON with C(messageId)) by its body.
seealso:
  - module: grafana_ops.auth.service_account_token
  - module: grafana_ops.auth.service_account_info
"""

EXAMPLES = r"""
- name: Why does this token get 401? (ad hoc - ansible localhost -m grafana_ops.auth.diagnose -a '...')
  grafana_ops.auth.diagnose:
    url: http://localhost:3000
    token_file: /run/secrets/grafana
  register: diagnosis

- name: Show the verdict, the cause and the fix
  ansible.builtin.debug:
    msg: "{{ diagnosis.msg }}"

- name: Prove the token works the same directly and through nginx and Traefik, or fail naming the cause
  grafana_ops.auth.diagnose:
    url: http://127.0.0.1:3000
    proxy_urls:
      - https://grafana.example.com
      - https://example.com/grafana
    token: "{{ grafana_token }}"
    require_parity: true
    fail_on_problem: true

- name: Reproduce what curl sends, header and all
  grafana_ops.auth.diagnose:
    url: http://localhost:3000
    authorization_header: "bearer {{ grafana_token }}"

- name: Deleted token, deleted account, or never issued? Ask with admin credentials and hints
  grafana_ops.auth.diagnose:
    url: https://grafana.example.com
    token: "{{ grafana_token }}"
    org_id: 2
    service_account: ci-deployer
    token_name: ci-deployer-2026
    admin_url_username: admin
    admin_url_password: "{{ grafana_admin_password }}"

- name: Why does this Viewer account get 403 on dashboard writes?
  grafana_ops.auth.diagnose:
    url: http://localhost:3000
    token: "{{ grafana_token }}"
    endpoint: /api/serviceaccounts/search
"""

RETURN = r"""
verdict:
  description:
    - V(ok) only when Grafana's own JSON proved an authenticated identity directly and every proxy answered
      every probe with the same status as its direct twin (then RV(causes) is empty); else the category of the
      most fundamental cause - V(connectivity), V(proxy), V(authentication) or V(authorization).
  returned: always
  type: str
  sample: authentication
causes:
  description: The causes found, most fundamental first (empty when the verdict is V(ok)).
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: Stable cause identifier (see the notes).
      type: str
      sample: token_expired
    summary:
      description: What is wrong, in one or two sentences.
      type: str
    remediation:
      description: What to do about it.
      type: str
    evidence:
      description: The observations (and admin findings) the cause rests on, one line each.
      type: list
      elements: str
      sample:
        - "GET http://localhost:3000/api/dashboards/home (direct endpoint probe) -> HTTP 401
          'Expired API key' (messageId api-key.expired)"
observations:
  description: Every probe sent, in order.
  returned: always
  type: list
  elements: dict
  contains:
    url:
      description: The URL requested (no credentials, no query string).
      type: str
    base_url:
      description: The base URL (O(url) or one of O(proxy_urls)) the probe belongs to.
      type: str
    target:
      description: V(direct) or V(proxy).
      type: str
    probe:
      description: V(health), V(endpoint), V(user) or V(org).
      type: str
    status:
      description: HTTP status, or V(null) when there was no response.
      type: int
    message:
      description: Grafana's C(message), or the title/text of a non-JSON body (a proxy's error page).
      type: str
    message_id:
      description: Grafana's C(messageId) (10.x and later), if any.
      type: str
    www_authenticate:
      description: The C(WWW-Authenticate) response header, if any.
      type: str
    location:
      description: The C(Location) header of a redirect, if any.
      type: str
    body:
      description: V(json), V(html), V(text) or V(empty).
      type: str
    version:
      description: Grafana's version from the health probe, when it says.
      type: str
    elapsed_ms:
      description: Time to the response, in milliseconds.
      type: float
    error:
      description: Why there was no response (refused, timeout, TLS failure), else V(null).
      type: str
    error_kind:
      description: V(connection), V(timeout) or V(tls) when there was no response.
      type: str
identity:
  description:
    - Who Grafana says the credential is. Grafana 10.x-11.x answer C(/api/user) for a service account
      with 403 C(Endpoint only available for users), which still proves it authenticated as a service account.
    - With admin credentials also the account's role and disabled flag and, with O(token_name), the token's
      expiry, revocation and last use. When the credential fails, these come from the admin lookup of the
      account named by O(service_account) (the account the credential was expected to be), and
      RV(identity.authenticated) is V(false).
  returned: always
  type: dict
  contains:
    authenticated:
      description:
        - Whether Grafana accepted the credential directly - its JSON identity was read back, or it refused
          the endpoint with its own 403/404/410 for a known identity. A 2xx that is not Grafana's JSON is no proof.
      type: bool
    kind:
      description: V(service_account), V(user) or V(api_key) (legacy key on an old Grafana), V(null) if unknown.
      type: str
    id:
      description: The service account's or user's id, when known.
      type: int
    login:
      description: Login, for example V(sa-1-ci-deployer).
      type: str
    name:
      description: Display name.
      type: str
    org_id:
      description: The organization Grafana acted in.
      type: int
    org_name:
      description: Its name.
      type: str
    role:
      description: The service account's role (admin lookup only).
      type: str
    disabled:
      description: Whether the service account is disabled (admin lookup only).
      type: bool
    token_name:
      description: The token named by O(token_name), if found (admin lookup).
      type: str
    token_expiration:
      description: Its expiry time, V(null) for never.
      type: str
    token_last_used_at:
      description: When Grafana last saw it used (updated at most every 5 minutes).
      type: str
    token_revoked:
      description: Whether it is revoked.
      type: bool
    token_expired:
      description: Whether it has expired.
      type: bool
    admin_error:
      description: Why the admin lookup failed, if it did.
      type: str
parity:
  description: The statuses of each probe directly and through each proxy, side by side.
  returned: always
  type: dict
  contains:
    match:
      description:
        - True when every proxy answered every probe with the direct status (and with Grafana's JSON where
          Grafana answered JSON) and no proxy cause was found.
        - False when O(proxy_urls) is given but no probe was sent (an empty O(token_file)).
      type: bool
    probes:
      description: One entry per probe - C(probe), C(direct) (status) and C(proxies) (base URL to status).
      type: list
      elements: dict
  sample:
    match: false
    probes:
      - {probe: endpoint, direct: 200, proxies: {"http://127.0.0.1:8080": 401}}
token_lint:
  description: Offline findings about the credential as given, each with C(code) and C(message).
  returned: always
  type: list
  elements: dict
  sample:
    - {code: token_whitespace, message: "The token_file ends with a newline; ..."}
credential:
  description: The credential under test, redacted (V(glsa_ab…(redacted)), V(user 'admin') or V((none))).
  returned: always
  type: str
key_results:
  description:
    - With O(keys), one entry per key, in order; each has V(label), V(passed) (verdict V(ok), an
      authenticated identity and, with O(proxy_urls), matching proxy answers), and the key's
      V(verdict), V(causes), V(identity), V(parity), V(credential) (redacted), V(request_count) and
      V(msg) as described for the single credential. Never a key.
    - Then the top-level RV(verdict) is V(ok) when every key passed, else the verdict of the first
      key that did not; RV(causes) holds the causes of every key that did not pass; RV(observations)
      is empty.
  returned: when O(keys) is set
  type: list
  elements: dict
  sample:
    - label: ci-deployer/deploy
      passed: true
      verdict: ok
      causes: []
      credential: glsa_ab...(redacted)
      request_count: 4
      msg: "verdict ok: ..."
request_count:
  description: HTTP requests this run sent.
  returned: always
  type: int
msg:
  description: One readable line - the verdict, the main cause, its evidence and the fix.
  returned: always
  type: str
  sample: "verdict authentication: token_expired: The token has expired ... Fix: Mint a new token ..."
"""

from typing import Any, Dict

from ansible_collections.grafana_ops.auth.plugins.module_utils._diagnose import run
from ansible_collections.grafana_ops.auth.plugins.module_utils._runner import (
    grafana_module,
    run_module,
)


def argument_spec() -> Dict[str, Any]:
    return dict(
        token_file=dict(type="path", no_log=False),
        authorization_header=dict(type="str", no_log=True),
        proxy_urls=dict(type="list", elements="str", default=[]),
        endpoint=dict(type="str", default="/api/dashboards/home"),
        admin_token=dict(type="str", no_log=True),
        admin_url_username=dict(type="str"),
        admin_url_password=dict(type="str", no_log=True),
        service_account=dict(type="str"),
        token_name=dict(type="str", no_log=False),
        require_parity=dict(type="bool", default=False),
        fail_on_problem=dict(type="bool", default=False),
        keys=dict(
            type="list",
            elements="dict",
            no_log=False,
            options=dict(
                token=dict(type="str", required=True, no_log=True),
                label=dict(type="str"),
                org_id=dict(type="int"),
                service_account=dict(type="str"),
                token_name=dict(type="str", no_log=False),
            ),
        ),
    )


def main() -> None:
    module = grafana_module(
        argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[("admin_token", "admin_url_username")],
        required_together=[("admin_url_username", "admin_url_password")],
    )
    run_module(module, run)


if __name__ == "__main__":
    main()
