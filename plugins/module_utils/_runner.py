# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every module, and the one place errors become fail_json.

The options are documented once, in the ``grafana_ops.auth.connection`` doc fragment; keep
the two in step (the validate-modules sanity test compares them).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import (
    REQUESTS_IMPORT_ERROR,
    GrafanaClient,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import GrafanaError


def connection_argument_spec() -> Dict[str, Any]:
    """The connection options, each with its environment fallback."""
    return dict(
        url=dict(type="str", required=True, fallback=(env_fallback, ["GRAFANA_URL"])),
        token=dict(type="str", no_log=True, fallback=(env_fallback, ["GRAFANA_TOKEN"])),
        url_username=dict(type="str", fallback=(env_fallback, ["GRAFANA_USER"])),
        url_password=dict(type="str", no_log=True, fallback=(env_fallback, ["GRAFANA_PASSWORD"])),
        org_id=dict(type="int", fallback=(env_fallback, ["GRAFANA_ORG_ID"])),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        client_cert=dict(type="path"),
        client_key=dict(type="path"),
        timeout=dict(type="int", default=30),
    )


def grafana_module(argument_spec: Dict[str, Any], **kwargs: Any) -> AnsibleModule:
    """An ``AnsibleModule`` with the connection options merged in and ``requests`` checked."""
    spec = connection_argument_spec()
    spec.update(argument_spec)
    kwargs.setdefault("required_together", []).append(("url_username", "url_password"))
    module = AnsibleModule(argument_spec=spec, **kwargs)
    if REQUESTS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    if module.params["timeout"] <= 0:
        module.fail_json(msg=f"timeout must be a positive number of seconds, got {module.params['timeout']}.")
    org_id = module.params.get("org_id")
    if org_id is not None and org_id <= 0:
        module.fail_json(msg=f"org_id must be a positive organization id (1 is Grafana's default org), got "
                             f"{org_id}: Grafana would silently act on the user's current org instead. "
                             "Leave org_id unset for the default org.")
    return module


def client_from_params(params: Dict[str, Any], **overrides: Any) -> GrafanaClient:
    """Build the client from module parameters (token wins over basic credentials)."""
    options: Dict[str, Any] = dict(
        token=params.get("token"),
        username=None if params.get("token") else params.get("url_username"),
        password=None if params.get("token") else params.get("url_password"),
        org_id=params.get("org_id"),
        validate_certs=params.get("validate_certs", True),
        ca_path=params.get("ca_path"),
        client_cert=params.get("client_cert"),
        client_key=params.get("client_key"),
        timeout=params.get("timeout") or 30,
    )
    options.update(overrides)
    return GrafanaClient(params["url"], **options)


def run_module(module: AnsibleModule, work: Callable[[GrafanaClient], Dict[str, Any]],
               *, needs_credentials: bool = True) -> None:
    """Build the client, run ``work`` and exit; a :class:`GrafanaError` fails the task once."""
    params = module.params
    if needs_credentials and not (params.get("token") or params.get("url_username")):
        module.fail_json(msg="No credentials: set token (or GRAFANA_TOKEN), or url_username and "
                             "url_password (or GRAFANA_USER and GRAFANA_PASSWORD).")
    client: Optional[GrafanaClient] = None
    try:
        client = client_from_params(params)
        result = work(client)
    except GrafanaError as err:
        _warn(module, client)
        module.fail_json(**err.fail_kwargs())
    _warn(module, client)
    module.exit_json(**result)


def _warn(module: AnsibleModule, client: Optional[GrafanaClient]) -> None:
    """Pass the client's warnings (e.g. credentials over plain HTTP) on, success or failure."""
    for warning in client.warnings if client is not None else ():
        module.warn(warning)
