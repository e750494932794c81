# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of atomic key delivery, with a real AnsibleModule writing into tmp_path."""

from __future__ import annotations

import os
import stat

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.grafana_ops.auth.plugins.module_utils._delivery import (
    DeliveryError,
    KeyFile,
    key_file_params,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import GrafanaInputError

from ansible_collections.grafana_ops.auth.tests.unit.module_args import patch_module_args

KEY = "glsa_iNValIdinValiDinvalidinvalidinva_5b582697"


def make_module(check_mode=False, **params):
    args = dict(params)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args):
        return AnsibleModule(argument_spec=dict(dest=dict(type="path"), mode=dict(type="raw", default="0600")),
                             add_file_common_args=True, supports_check_mode=True)


def key_file(path, check_mode=False, **params):
    module = make_module(check_mode=check_mode, dest=str(path), **params)
    return KeyFile(module, key_file_params(module.params))


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writes_key_without_newline_mode_0600(tmp_path):
    dest = tmp_path / "token"
    key_file(dest).write(KEY)
    assert dest.read_bytes() == KEY.encode()
    assert mode_of(dest) == 0o600
    assert os.listdir(tmp_path) == ["token"]  # no temporary file left behind


def test_honours_requested_mode(tmp_path):
    dest = tmp_path / "token"
    key_file(dest, mode="0640").write(KEY)
    assert mode_of(dest) == 0o640


def test_new_file_is_private_even_with_a_loose_umask(tmp_path):
    dest = tmp_path / "token"
    old = os.umask(0o000)
    try:
        key_file(dest).write(KEY)
    finally:
        os.umask(old)
    assert mode_of(dest) == 0o600


def test_replaces_existing_file_atomically_and_fixes_its_mode(tmp_path):
    dest = tmp_path / "token"
    dest.write_text("glsa_old\n")
    os.chmod(dest, 0o644)
    inode = os.stat(dest).st_ino
    key_file(dest).write(KEY)
    assert dest.read_text() == KEY
    assert os.stat(dest).st_ino != inode  # renamed over, not rewritten in place
    assert mode_of(dest) == 0o600


def test_module_fail_json_is_restored_after_write(tmp_path):
    kf = key_file(tmp_path / "token")
    kf.write(KEY)
    assert "fail_json" not in vars(kf.module)


@pytest.mark.parametrize("content, expected", [
    (None, "missing"),
    ("", "empty"),
    ("  \n", "empty"),
    (KEY, "present"),
])
def test_status(tmp_path, content, expected):
    dest = tmp_path / "token"
    if content is not None:
        dest.write_text(content)
    assert key_file(dest).status() == expected


def test_preflight_missing_directory(tmp_path):
    with pytest.raises(GrafanaInputError, match="does not exist"):
        key_file(tmp_path / "nope" / "token").preflight()


def test_preflight_dest_is_a_directory(tmp_path):
    with pytest.raises(GrafanaInputError, match="is a directory"):
        key_file(tmp_path).preflight()


def test_preflight_unwritable_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, how: False)  # root ignores permissions
    with pytest.raises(GrafanaInputError, match="not writable"):
        key_file(tmp_path / "token").preflight()


def test_preflight_unknown_owner_and_group(tmp_path):
    with pytest.raises(GrafanaInputError, match="no user named"):
        key_file(tmp_path / "token", owner="no-such-user-grafana-ops").preflight()
    with pytest.raises(GrafanaInputError, match="no group named"):
        key_file(tmp_path / "token", group="no-such-group-grafana-ops").preflight()


def test_preflight_other_owner_needs_root(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 4242)
    with pytest.raises(GrafanaInputError, match="only root"):
        key_file(tmp_path / "token", owner="0").preflight()


def test_preflight_ok(tmp_path):
    key_file(tmp_path / "token").preflight()


def test_write_failure_before_the_move_is_not_delivered(tmp_path, monkeypatch):
    dest = tmp_path / "token"
    dest.write_text("glsa_old")
    kf = key_file(dest)

    def broken_move(*args, **kwargs):
        raise Exception("Could not replace it")  # what ansible-core 2.19+ raises

    monkeypatch.setattr(kf.module, "atomic_move", broken_move)
    with pytest.raises(DeliveryError) as caught:
        kf.write(KEY)
    assert caught.value.delivered is False
    assert KEY not in str(caught.value)
    assert dest.read_text() == "glsa_old"
    assert sorted(os.listdir(tmp_path)) == ["token"]


def test_fail_json_inside_a_file_helper_becomes_an_error(tmp_path, monkeypatch):
    kf = key_file(tmp_path / "token")

    def fails(*args, **kwargs):
        kf.module.fail_json(msg="chown failed")

    monkeypatch.setattr(kf.module, "set_fs_attributes_if_different", fails)
    with pytest.raises(DeliveryError, match="chown failed") as caught:
        kf.write(KEY)
    assert caught.value.delivered is False
    assert os.listdir(tmp_path) == []


def test_temp_file_creation_failure(tmp_path, monkeypatch):
    import tempfile

    def no_temp(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", no_temp)
    with pytest.raises(DeliveryError, match="could not create a temporary file") as caught:
        key_file(tmp_path / "token").write(KEY)
    assert caught.value.delivered is False


def test_fix_attributes(tmp_path):
    dest = tmp_path / "token"
    dest.write_text(KEY)
    os.chmod(dest, 0o644)
    assert key_file(dest).fix_attributes() is True
    assert mode_of(dest) == 0o600
    assert key_file(dest).fix_attributes() is False


def test_fix_attributes_check_mode_predicts_without_changing(tmp_path):
    dest = tmp_path / "token"
    dest.write_text(KEY)
    os.chmod(dest, 0o644)
    assert key_file(dest, check_mode=True).fix_attributes() is True
    assert mode_of(dest) == 0o644


def test_fix_attributes_missing_file(tmp_path):
    assert key_file(tmp_path / "token").fix_attributes() is False
