# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``service_accounts`` end to end through ``main()``, Grafana faked at ``requests.Session.request``."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.grafana_ops.auth.plugins.modules import service_accounts
from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import SA
from ansible_collections.grafana_ops.auth.tests.unit.toolkit import CONNECTION, run_main


@pytest.fixture
def fake(grafana_session):
    return grafana_session


def run(args, capsys):
    """Run ``main()`` with ``args``; return (exit code, result dict)."""
    return run_main(service_accounts, {**CONNECTION, **args}, capsys)


def test_apply_delivers_the_key_and_the_rerun_writes_nothing(fake, monkeypatch, capsys, tmp_path):
    dest = tmp_path / "ci.token"
    accounts = [
        {"name": "ci", "role": "editor", "tokens": [{"name": "deploy", "dest": str(dest)}]},
        {"name": "reader"},
    ]
    code, first = run({"accounts": accounts}, capsys)
    assert code == 0 and first["changed"] is True
    assert first["created"] == ["ci", "reader"]
    assert first["msg"].startswith("2 listed account(s): 2 created, 0 updated")
    assert "1 token(s) minted" in first["msg"] and "glsa_" not in first["msg"]
    assert len(first["minted_keys"]) == 1 and first["minted_keys"][0]["dest"] == str(dest)
    assert "key" not in first["minted_keys"][0]  # with dest, only on request (return_key)
    assert dest.read_text().startswith("glsa_") and dest.read_text() not in json.dumps(first)
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert first["results"][0]["tokens"][0]["dest_written"] is True
    fake.log.clear()
    code, again = run({"accounts": accounts}, capsys)
    assert code == 0 and again["changed"] is False and again["minted_keys"] == []
    assert "keys" not in again and again["msg"].endswith("Nothing changed.")
    assert fake.writes() == []


def test_check_mode_with_diff_sends_no_write(fake, monkeypatch, capsys):
    code, result = run(
        {
            "accounts": [{"name": "ci", "tokens": [{"name": "deploy"}]}],
            "_ansible_check_mode": True,
            "_ansible_diff": True,
        },
        capsys,
    )
    assert code == 0 and result["changed"] is True and result["minted_keys"] == []
    assert result["diff"]["after"]["accounts"]["ci"]["tokens"][0]["name"] == "deploy"
    assert fake.writes() == []


def test_bad_input_fails_once_before_any_request(fake, monkeypatch, capsys):
    code, result = run(
        {
            "accounts": [
                {"name": "ok"},
                {"name": "bad", "role": "owner"},
                {"name": "x", "tokens": [{"name": "t", "ttl": "forever"}]},
            ]
        },
        capsys,
    )
    assert code == 1 and result["failed"] is True
    assert "role 'owner'" in result["msg"] and "ttl" in result["msg"]
    assert fake.log == []


def test_bad_expiring_within_fails_before_any_request(fake, monkeypatch, capsys):
    code, result = run({"accounts": [{"name": "ok"}], "expiring_within": "a while"}, capsys)
    assert code == 1 and "expiring_within" in result["msg"] and fake.log == []


def test_purge_is_off_unless_asked(fake, monkeypatch, capsys):
    fake.add("stray")
    code, result = run({"accounts": [{"name": "keep"}]}, capsys)
    assert code == 0 and result["purged"] == []
    code, result = run({"accounts": [{"name": "keep"}], "purge": True}, capsys)
    assert code == 0 and result["purged"] == ["stray"]
    assert [a["name"] for a in fake.accounts.values()] == ["keep"]


def test_a_failure_part_way_still_returns_minted_keys(fake, monkeypatch, capsys):
    fake.fault(
        "POST",
        SA,
        status=403,
        body={
            "message": "can not assign a role higher than user's role",
            "messageId": "serviceaccounts.ErrRoleForbidden",
        },
    )
    fake.add("first")
    code, result = run(
        {
            "accounts": [
                {"name": "first", "tokens": [{"name": "t1"}]},
                {"name": "second", "role": "Admin"},
            ]
        },
        capsys,
    )
    assert code == 1 and "second" in result["msg"] and "higher" in result["msg"]
    assert [k["token"] for k in result["minted_keys"]] == ["t1"]
    assert "glsa_" not in result["msg"]


def test_return_key_puts_the_key_of_a_delivered_token_in_minted_keys(fake, capsys, tmp_path):
    dest = tmp_path / "ci.token"
    accounts = [
        {"name": "ci", "tokens": [{"name": "deploy", "dest": str(dest), "return_key": True}]}
    ]
    code, result = run({"accounts": accounts}, capsys)
    assert code == 0 and result["minted_keys"][0]["key"] == dest.read_text()


@pytest.mark.parametrize(
    "token, words",
    [
        ({"mode": 600}, "mode 600 is a YAML integer"),
        ({"mode": "0999"}, "is not a file mode"),
        ({"owner": "no-such-user-here"}, "no user named"),
        ({"group": "no-such-group-here"}, "no group named"),
    ],
)
def test_a_bad_key_file_option_is_refused_before_any_request(fake, capsys, tmp_path, token, words):
    accounts = [
        {"name": "ci", "tokens": [{"name": "deploy", "dest": str(tmp_path / "k"), **token}]}
    ]
    code, result = run({"accounts": accounts}, capsys)
    assert code == 1 and words in result["msg"]
    assert fake.log == [] and not (tmp_path / "k").exists()


def test_colliding_account_names_send_nothing(fake, capsys):
    code, result = run({"accounts": [{"name": "Team-A"}, {"name": "team-a"}]}, capsys)
    assert code == 1 and "collide" in result["msg"] and fake.log == []
