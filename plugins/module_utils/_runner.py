# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared module runner: connection options, the client factory, and the one place
errors become ``fail_json``.

Every module's ``main()`` is ``run_module(grafana_module(argument_spec(), ...), run)``, where
``run(module, clients)`` lives in the module_util named after the module and returns the result.

The options are documented once, in the ``grafana_ops.auth.connection`` doc fragment; keep
the two in step (the validate-modules sanity test compares them).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import (
    REQUESTS_IMPORT_ERROR,
    GrafanaClient,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaError,
    GrafanaInputError,
)


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
        module.fail_json(
            msg=f"timeout must be a positive number of seconds, got {module.params['timeout']}."
        )
    org_id = module.params.get("org_id")
    if org_id is not None and org_id <= 0:
        module.fail_json(
            msg=f"org_id must be a positive organization id (1 is Grafana's default org), got "
            f"{org_id}: Grafana would silently act on the user's current org instead. "
            "Leave org_id unset for the default org."
        )
    return module


NO_CREDENTIALS: Tuple[Optional[str], Optional[str], Optional[str]] = (None, None, None)
_SAME: Any = object()


class Clients:
    """The one place clients are built, from the module's connection options.

    :meth:`connection` is the task's own client; :meth:`build` varies it (another base URL,
    org, credential or retry count) for ``diagnose`` and the per-org reads of
    ``textfile_metrics``.  Every client built here is remembered, so that the runner passes
    each one's warnings on (plain HTTP) and the callers can count requests.
    """

    def __init__(self, params: Dict[str, Any]) -> None:
        self.params = params
        self.built: List[GrafanaClient] = []
        self.notes: List[str] = []

    def connection(self) -> GrafanaClient:
        """The client for the task's ``url`` and credential (which must be given)."""
        params = self.params
        if not (params.get("token") or params.get("url_username")):
            raise GrafanaInputError(
                "No credentials: set token (or GRAFANA_TOKEN), or url_username and "
                "url_password (or GRAFANA_USER and GRAFANA_PASSWORD)."
            )
        return self.build()

    def build(
        self,
        *,
        url: Optional[str] = None,
        org_id: Any = _SAME,
        credentials: Any = _SAME,
        retries: int = 3,
    ) -> GrafanaClient:
        """A client for ``url`` (default: the ``url`` option) with the connection's TLS options.

        ``credentials`` is ``(token, username, password)``; a token wins over Basic ones.
        """
        params = self.params
        if credentials is _SAME:
            credentials = (
                params.get("token"),
                params.get("url_username"),
                params.get("url_password"),
            )
        token, username, password = credentials
        client = GrafanaClient(
            url if url is not None else params["url"],
            token=token,
            username=None if token else username,
            password=None if token else password,
            org_id=params.get("org_id") if org_id is _SAME else org_id,
            validate_certs=params.get("validate_certs", True),
            ca_path=params.get("ca_path"),
            client_cert=params.get("client_cert"),
            client_key=params.get("client_key"),
            timeout=params.get("timeout") or 30,
            retries=retries,
        )
        self.built.append(client)
        return client

    def note(self, warning: str) -> None:
        """A warning of the run itself (not of one client)."""
        self.notes.append(warning)

    def warnings(self) -> List[str]:
        """Every warning, once each, in the order they arose."""
        found = [w for client in self.built for w in client.warnings] + self.notes
        return list(dict.fromkeys(found))


def run_module(
    module: AnsibleModule, run: Callable[[AnsibleModule, Clients], Dict[str, Any]]
) -> None:
    """Run the module's ``run`` and exit; a :class:`GrafanaError` fails the task, once, here."""
    clients = Clients(module.params)
    try:
        result = run(module, clients)
    except GrafanaError as err:
        _warn(module, clients)
        module.fail_json(**err.fail_kwargs())
    _warn(module, clients)
    module.exit_json(**result)


def _warn(module: AnsibleModule, clients: Clients) -> None:
    """Pass the warnings on (e.g. credentials over plain HTTP), success or failure."""
    for warning in clients.warnings():
        module.warn(warning)
