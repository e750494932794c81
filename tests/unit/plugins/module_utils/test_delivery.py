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
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaInputError,
)
from ansible_collections.grafana_ops.auth.tests.unit.toolkit import patch_module_args

KEY = "glsa_iNValIdinValiDinvalidinvalidinva_5b582697"


def make_module(check_mode=False, **params):
    args = dict(params)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args):
        return AnsibleModule(
            argument_spec=dict(dest=dict(type="path"), mode=dict(type="raw", default="0600")),
            add_file_common_args=True,
            supports_check_mode=True,
        )


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


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "missing"),
        ("", "empty"),
        ("  \n", "empty"),
        (KEY, "present"),
    ],
)
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
    real_rename = os.rename

    def broken_rename(src, dst, *args, **kwargs):
        if str(dst) == str(dest):
            raise PermissionError(1, "Operation not permitted")
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", broken_rename)
    with pytest.raises(DeliveryError, match="could not replace") as caught:
        kf.write(KEY)
    assert caught.value.delivered is False
    assert KEY not in str(caught.value)
    assert dest.read_text() == "glsa_old"
    assert sorted(os.listdir(tmp_path)) == ["token"]


def test_fail_json_inside_a_file_helper_after_the_rename_is_delivered(tmp_path, monkeypatch):
    kf = key_file(tmp_path / "token")

    def fails(*args, **kwargs):
        kf.module.fail_json(msg="chcon failed")

    monkeypatch.setattr(kf.module, "set_fs_attributes_if_different", fails)
    with pytest.raises(DeliveryError, match="chcon failed") as caught:
        kf.write(KEY)
    assert caught.value.delivered is True  # the key is in dest already: the caller keeps the token
    assert (tmp_path / "token").read_text() == KEY
    assert "fail_json" not in vars(kf.module)


def test_temp_file_creation_failure(tmp_path, monkeypatch):
    real_open = os.open

    def no_temp(path, flags, *args, **kwargs):
        if str(path).startswith(str(tmp_path)) and flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_temp)
    with pytest.raises(DeliveryError, match="could not create a temporary file") as caught:
        key_file(tmp_path / "token").write(KEY)
    assert caught.value.delivered is False
    assert os.listdir(tmp_path) == []


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


# ------------------------------------------------------------------ numeric modes
@pytest.mark.parametrize("mode", [600, 640, 644, 660, 400, 440, 444, 700, 755, 0o1130, -1, True])
def test_a_decimal_looking_yaml_integer_mode_is_refused(tmp_path, mode):
    kf = key_file(tmp_path / "token", mode=mode)
    with pytest.raises(GrafanaInputError) as caught:
        kf.validate()
    assert "mode" in str(caught.value) and "'0600'" in str(caught.value)
    if mode == 600:
        assert "0o1130" in str(caught.value) and "---x-wx--T" in str(caught.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "mode, expected",
    [
        (0o600, 0o600),
        (0o640, 0o640),
        (0o644, 0o644),
        (0o400, 0o400),
        (0o440, 0o440),
        (0o660, 0o660),
        ("0600", 0o600),
        ("600", 0o600),
        ("0o600", 0o600),
        ("0640", 0o640),
        ("u=rw,go=", 0o600),
        ("u=r,g=r,o=", 0o440),
    ],
)
def test_octal_modes_are_applied_as_written(tmp_path, mode, expected):
    dest = tmp_path / "token"
    kf = key_file(dest, mode=mode)
    kf.validate()
    kf.write(KEY)
    assert mode_of(dest) == expected and dest.read_text() == KEY


# ------------------------------------------------------------------ owner, inode, mode window
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
NOBODY = 65534


def as_nobody(code, *args):
    """Run Python ``code`` as uid/gid nobody (setpriv, a fresh process); return its stdout."""
    import subprocess

    done = subprocess.run(
        [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
            code,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def shared_dir():
    """A world-writable sticky directory, like /tmp (pytest's tmp_path is private to root)."""
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="gops-keyfile-", dir="/tmp")
    os.chmod(path, 0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def plant(path, content="planted", mode=0o644):
    return as_nobody(
        "import os, sys\nwith open(sys.argv[1], 'w') as f: f.write(sys.argv[2])\n"
        "os.chmod(sys.argv[1], int(sys.argv[3]))",
        path,
        content,
        str(mode),
    )


def nobody_reads(path):
    return as_nobody(
        "import sys\ntry:\n    print('read:' + open(sys.argv[1]).read(), end='')\n"
        "except OSError as err:\n    print(f'refused:{err.errno}', end='')",
        path,
    )


@needs_root
def test_a_dest_planted_by_another_user_is_replaced_by_a_new_inode_of_the_owner(shared_dir):
    dest = os.path.join(shared_dir, "ci.token")
    plant(dest)
    before = os.lstat(dest)
    assert before.st_uid == NOBODY
    kf = key_file(dest)
    assert kf.status() == "owned by another user"  # never trusted to hold a key
    kf.preflight()
    kf.write(KEY)
    after = os.lstat(dest)
    assert after.st_ino != before.st_ino and after.st_uid == 0 and after.st_gid == 0
    assert stat.S_IMODE(after.st_mode) == 0o600
    assert nobody_reads(dest).startswith("refused:")
    assert sorted(os.listdir(shared_dir)) == ["ci.token"]


@needs_root
@pytest.mark.parametrize("target_owner", ["nobody", "root"])
def test_a_symlink_dest_is_replaced_never_written_through(shared_dir, tmp_path, target_owner):
    victim = os.path.join(shared_dir if target_owner == "nobody" else str(tmp_path), "victim")
    if target_owner == "nobody":
        plant(victim, "victim-content", 0o644)
    else:
        with open(victim, "w") as handle:
            handle.write("victim-content")
        os.chmod(victim, 0o644)
    dest = os.path.join(shared_dir, "ci.token")
    as_nobody("import os, sys\nos.symlink(sys.argv[1], sys.argv[2])", victim, dest)
    victim_before = os.stat(victim)
    kf = key_file(dest, owner="root")
    assert kf.status() == "a symlink"
    assert kf.fix_attributes() is False  # never chmod/chown through the link
    kf.write(KEY)
    assert not os.path.islink(dest) and open(dest).read() == KEY
    assert os.lstat(dest).st_uid == 0 and mode_of(dest) == 0o600
    victim_after = os.stat(victim)
    assert open(victim).read() == "victim-content"
    assert (victim_after.st_uid, victim_after.st_mode) == (
        victim_before.st_uid,
        victim_before.st_mode,
    )


@needs_root
def test_requested_owner_holds_the_temp_file_before_the_first_byte(shared_dir, monkeypatch):
    dest = os.path.join(shared_dir, "ci.token")
    seen = []
    real_write = os.write

    def spying_write(fd, data):
        info = os.fstat(fd)
        seen.append((info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode), info.st_size))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spying_write)
    key_file(dest, owner="nobody", group="nogroup", mode="0640").write(KEY)
    monkeypatch.undo()
    assert seen and seen[0] == (NOBODY, 65534, 0o640, 0)  # owner, group, mode before byte 0
    info = os.lstat(dest)
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (NOBODY, 65534, 0o640)
    assert nobody_reads(dest) == "read:" + KEY  # the requested owner can read it


POLLER = """
import os, stat, sys
directory, stop = sys.argv[1], sys.argv[2]
leaked, seen = 0, set()
while not os.path.exists(stop):
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        try:
            info = os.lstat(path)
            kind = "dest" if name == "ci.token" else "temp" if name.endswith(".tmp") else "other"
            seen.add((kind, info.st_uid, stat.S_IMODE(info.st_mode)))
            with open(path) as handle:
                if handle.read().startswith("glsa_"):
                    leaked += 1
        except OSError:
            pass
print(leaked, sorted(seen))
"""


@needs_root
def test_an_existing_0644_dest_never_exposes_a_new_key_to_a_polling_reader(shared_dir):
    """Another user polls dest and every temporary file (mode, owner, content) during 300 writes."""
    import subprocess

    dest = os.path.join(shared_dir, "ci.token")
    with open(dest, "w") as handle:
        handle.write("old-public")
    os.chmod(dest, 0o644)
    stop = os.path.join(shared_dir, "stop")
    poller = subprocess.Popen(  # pylint: disable=consider-using-with
        [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
            POLLER,
            shared_dir,
            stop,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for round_ in range(300):
            key_file(dest).write(f"{KEY[:-8]}{round_:08x}")
    finally:
        open(stop, "w").close()
    out = poller.communicate(timeout=60)[0]
    leaked, seen = out.split(" ", 1)
    assert leaked == "0", seen
    import ast

    seen = {
        entry for entry in ast.literal_eval(seen) if entry[0] != "other"
    }  # "other": the stop file
    # every temporary file the reader saw was root's and 0600; dest was the old 0644 file or a new 0600 one
    assert seen <= {("dest", 0, 0o644), ("dest", 0, 0o600), ("temp", 0, 0o600)}, seen
    assert mode_of(dest) == 0o600 and open(dest).read().startswith("glsa_")


def test_replacing_a_0644_dest_never_gives_the_new_key_its_mode(tmp_path, monkeypatch):
    """Issue 11 item 5, deterministic: the file renamed over dest is 0600 and holds the key."""
    dest = tmp_path / "token"
    dest.write_text("glsa_old")
    os.chmod(dest, 0o644)
    seen = []
    real_rename = os.rename

    def spying_rename(src, dst, *args, **kwargs):
        if str(dst) == str(dest):
            info = os.stat(src)
            with open(src) as handle:
                seen.append((stat.S_IMODE(info.st_mode), handle.read()))
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", spying_rename)
    key_file(dest).write(KEY)
    assert seen == [(0o600, KEY)]  # 0600 before it became dest (atomic_move copied 0644 onto it)
    assert mode_of(dest) == 0o600
