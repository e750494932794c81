# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options shared by every module of grafana_ops.auth."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of Grafana, including any sub-path it is served under, for example
        V(http://localhost:3000) or V(https://example.com/grafana).
      - If not set, the environment variable E(GRAFANA_URL) is used.
    type: str
    required: true
  token:
    description:
      - "A service-account token (V(glsa_...)) sent as C(Authorization: Bearer <token>)."
      - Surrounding whitespace, such as the newline of a token read from a file, is removed;
        whitespace inside the token is an error.
      - Takes precedence over O(url_username)/O(url_password).
      - If not set, the environment variable E(GRAFANA_TOKEN) is used.
    type: str
  url_username:
    description:
      - User for HTTP Basic authentication, for example the Grafana server admin.
      - If not set, the environment variable E(GRAFANA_USER) is used.
    type: str
  url_password:
    description:
      - Password for O(url_username).
      - If not set, the environment variable E(GRAFANA_PASSWORD) is used.
    type: str
  org_id:
    description:
      - Organization to act in, sent as the C(X-Grafana-Org-Id) header on every request.
      - The user's current organization is never switched.
      - A service-account token only works in its own organization.
      - If not set, the environment variable E(GRAFANA_ORG_ID) is used; without it Grafana uses
        the credential's own (or current) organization.
    type: int
  validate_certs:
    description:
      - Verify Grafana's TLS certificate.
      - Set O(ca_path) for a private CA rather than turning this off.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) that signed Grafana's certificate.
    type: path
  client_cert:
    description:
      - PEM client certificate for mutual TLS.
    type: path
  client_key:
    description:
      - PEM private key for O(client_cert), when it is not in the same file.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP response.
      - Idempotent requests are retried on connection errors, HTTP 429 and 5xx with a capped
        backoff that honours C(Retry-After); creations are never retried blindly.
    type: int
    default: 30
requirements:
  - requests
notes:
  - Credentials never appear in results, messages or diffs; tokens are shown as a short
    redacted prefix such as C(glsa_ab…(redacted)).
"""

    ATTRIBUTES_ACTION_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/grafana_ops.auth.grafana) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - grafana_ops.auth.grafana
"""
