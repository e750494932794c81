# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A dest that cannot hold a key is never reported as holding one (found by reliability_bad_input)."""

from __future__ import annotations

import datetime as dt

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.grafana_ops.auth.plugins.module_utils._delivery import (
    KeyFile,
    key_file_params,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaInputError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_accounts import (
    Reconciler,
    parse_accounts,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_plan import (
    plan_token,
    token_spec,
)
from ansible_collections.grafana_ops.auth.tests.unit.toolkit import patch_module_args


def key_file(path, mode=None):
    args = {"dest": str(path)}
    if mode is not None:
        args["mode"] = mode
    with patch_module_args(args):
        module = AnsibleModule(
            argument_spec=dict(dest=dict(type="path"), mode=dict(type="raw", default="0600")),
            add_file_common_args=True,
            supports_check_mode=True,
        )
    return KeyFile(module, key_file_params(module.params))


def layouts(tmp_path):
    (tmp_path / "plain-file").write_text("x")
    (tmp_path / "a-dir").mkdir()
    (tmp_path / "good").write_text("glsa_x")
    return {
        "under a file": (tmp_path / "plain-file" / "key", "missing", "is not a directory"),
        "a directory": (tmp_path / "a-dir", "missing", "is a directory"),
        "directory missing": (tmp_path / "nope" / "key", "missing", "does not exist"),
        "present": (tmp_path / "good", "present", None),
    }


@pytest.mark.parametrize("case", ["under a file", "a directory", "directory missing", "present"])
def test_status_and_preflight(tmp_path, case):
    path, status, error = layouts(tmp_path)[case]
    keys = key_file(path)
    assert keys.status() == status
    if error is None:
        keys.preflight()
    else:
        with pytest.raises(GrafanaInputError) as err:
            keys.preflight()
        assert error in str(err.value) and "dest" in str(err.value)


def test_current_token_with_unusable_dest_is_not_reported_current(tmp_path):
    """A current token whose dest holds no key must lead to a mint (whose preflight then fails)."""
    now = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.timezone.utc)
    token = {
        "id": 1,
        "name": "t",
        "expiration": "2026-12-29T12:00:00Z",
        "isRevoked": False,
        "hasExpired": False,
        "created": "2026-11-29T11:00:00Z",
    }
    path = layouts(tmp_path)["under a file"][0]
    missing = key_file(path).status() != "present"
    plan = plan_token(
        [token],
        token_spec({"name": "t", "ttl": "30d", "state": "present"}),
        now,
        dest_missing=missing,
    )
    assert plan.mint is not None


@pytest.mark.parametrize(
    "mode,valid",
    [
        ("0600", True),
        ("600", True),
        ("0640", True),
        ("u=rw,go=", True),
        ("u+rw", True),
        (0o600, True),
        ("rwx", False),
        ("0999", False),
        ("600000", False),
        ("u=rwz", False),
    ],
)
def test_mode_is_checked_before_a_token_is_minted(tmp_path, mode, valid):
    keys = key_file(tmp_path / "key", mode=mode)
    if valid:
        keys.preflight()
    else:
        with pytest.raises(GrafanaInputError) as err:
            keys.preflight()
        assert "mode" in str(err.value) and "0600" in str(err.value)


class NoRequestClient:
    """Any request is a test failure: the preflight must come first."""

    warnings: list = []

    def __getattr__(self, name):
        raise AssertionError(f"client.{name} used before the key files were checked")


def test_reconcile_checks_every_dest_before_the_first_request(tmp_path):
    (tmp_path / "plain-file").write_text("x")
    requests = parse_accounts(
        [
            {
                "name": "new-account",
                "tokens": [{"name": "t", "dest": str(tmp_path / "plain-file" / "k")}],
            },
        ]
    )
    reconciler = Reconciler.__new__(Reconciler)
    reconciler.client = NoRequestClient()
    reconciler.key_file_factory = lambda params: key_file(params["dest"])
    with pytest.raises(GrafanaInputError) as err:
        reconciler.run(requests)
    assert "is not a directory" in str(err.value)
