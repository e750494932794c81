# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service_account_token module end to end: arguments in, JSON out, a file on disk.

Grafana is the unit tests' fake (tests/unit/grafana_fake.py), plugged in at requests' session seam.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest
import requests

from ansible_collections.grafana_ops.auth.plugins.module_utils._token_format import (
    is_glsa,
)
from ansible_collections.grafana_ops.auth.plugins.modules import service_account_token
from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import bots_grafana
from ansible_collections.grafana_ops.auth.tests.unit.toolkit import patch_module_args

PASSWORD = "s3cret-admin-password"


@pytest.fixture
def grafana(monkeypatch):
    fake = bots_grafana()
    monkeypatch.setattr(
        requests.Session, "request", lambda self, method, url, **kw: fake.request(method, url, **kw)
    )
    return fake


def run_module(capsys, check_mode=False, diff=False, **args):
    params = dict(
        url="http://127.0.0.1:3000",
        url_username="admin",
        url_password=PASSWORD,
        service_account="ci-bot",
        name="ci",
    )
    params.update(args)
    params = {k: v for k, v in params.items() if v is not None}
    if check_mode:
        params["_ansible_check_mode"] = True
    if diff:
        params["_ansible_diff"] = True
    with patch_module_args(params), pytest.raises(SystemExit):
        service_account_token.main()
    return json.loads(capsys.readouterr().out)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_mints_delivers_and_is_idempotent(grafana, capsys, tmp_path):
    dest = tmp_path / "token"
    result = run_module(capsys, dest=str(dest), ttl="30d", rotation_window="7d")
    assert result["changed"] is True and result["dest_written"] is True
    key = dest.read_text()
    assert is_glsa(key) and "key" not in result  # with dest, the key is only in dest
    assert key not in json.dumps(result)
    assert dest.read_bytes() == key.encode()  # no trailing newline
    assert mode_of(dest) == 0o600
    assert PASSWORD not in json.dumps(result)
    assert "expires in 30d" in result["msg"]  # not masked: ttl is no secret

    grafana.log.clear()
    again = run_module(capsys, dest=str(dest), ttl="30d", rotation_window="7d")
    assert again["changed"] is False and "key" not in again and again["dest_written"] is False
    assert [c.split()[0] for c in grafana.calls()] == ["GET", "GET"]
    assert dest.read_text() == key


def test_lost_dest_re_mints_with_a_warning(grafana, capsys, tmp_path):
    dest = tmp_path / "token"
    first = run_module(capsys, dest=str(dest), return_key=True)
    dest.unlink()
    result = run_module(capsys, dest=str(dest), return_key=True)
    assert (
        result["changed"] is True and result["rotated"] is True and result["dest_written"] is True
    )
    assert result["key"] != first["key"] and dest.read_text() == result["key"]
    assert result["token"]["name"].startswith("ci-r")
    assert "missing although token 'ci' is still valid" in json.dumps(result["warnings"])
    assert sorted(grafana.token_names("ci-bot")) == [
        "ci",
        result["token"]["name"],
    ]  # keep_previous defaults to true


def test_mode_drift_is_fixed_without_minting(grafana, capsys, tmp_path):
    dest = tmp_path / "token"
    run_module(capsys, dest=str(dest))
    os.chmod(dest, 0o644)
    result = run_module(capsys, dest=str(dest))
    assert result["changed"] is True and "key" not in result and result["dest_written"] is False
    assert mode_of(dest) == 0o600


def test_check_mode_writes_nothing(grafana, capsys, tmp_path):
    dest = tmp_path / "token"
    result = run_module(capsys, check_mode=True, diff=True, dest=str(dest))
    assert result["changed"] is True and result["dest_written"] is True and "key" not in result
    assert result["diff"]["after"]["tokens"][0]["name"] == "ci"
    assert not dest.exists() and grafana.writes() == []


def test_missing_dest_directory_fails_before_minting(grafana, capsys, tmp_path):
    result = run_module(capsys, dest=str(tmp_path / "nope" / "token"))
    assert result["failed"] is True and "does not exist" in result["msg"]
    assert grafana.writes() == []


def test_rotation_window_not_shorter_than_ttl_fails_before_any_request(grafana, capsys):
    result = run_module(capsys, ttl="7d", rotation_window="7d")
    assert result["failed"] is True and "must be shorter than ttl" in result["msg"]
    assert grafana.calls() == []


@pytest.mark.parametrize(
    "args, message",
    [
        ({"service_account": None}, "one of the following is required"),
        ({"service_account_id": 1}, "mutually exclusive"),
    ],
)
def test_account_options(grafana, capsys, args, message):
    result = run_module(capsys, **args)
    assert result["failed"] is True and message in result["msg"]


def test_rotation_from_the_server_clock(grafana, capsys, tmp_path):
    dest = tmp_path / "token"
    first = run_module(
        capsys,
        dest=str(dest),
        ttl="10d",
        rotation_window="3d",
        keep_previous=False,
        return_key=True,
    )
    grafana.now += dt.timedelta(days=8)
    result = run_module(
        capsys,
        dest=str(dest),
        ttl="10d",
        rotation_window="3d",
        keep_previous=False,
        return_key=True,
    )
    assert result["rotated"] is True and dest.read_text() == result["key"] != first["key"]
    assert result["pruned"] == [{"id": first["token"]["id"], "name": "ci", "reason": "replaced"}]


@pytest.mark.parametrize("mode", [600, 644, 400])
def test_a_decimal_yaml_mode_is_refused_before_any_request(grafana, capsys, tmp_path, mode):
    dest = tmp_path / "token"
    result = run_module(capsys, dest=str(dest), mode=mode)
    assert result["failed"] is True and f"mode {mode} is a YAML integer" in result["msg"]
    assert "'0600'" in result["msg"]
    assert grafana.calls() == [] and not dest.exists()


@pytest.mark.parametrize(
    "option, value", [("ttl", "3000000d"), ("ttl", "9" * 20), ("rotation_window", "300000w")]
)
def test_a_ttl_beyond_what_grafana_accepts_is_refused_before_any_request(
    grafana, capsys, option, value
):
    for check_mode in (False, True):
        grafana.log.clear()
        result = run_module(capsys, **{option: value, "_ansible_check_mode": check_mode})
        assert result["failed"] is True and result["msg"].startswith(f"{option}: ")
        assert "at most" in result["msg"] and "Traceback" not in json.dumps(result)
        assert grafana.calls() == [] and sorted(grafana.token_names("ci-bot")) == []
