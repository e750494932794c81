# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``service_account`` and ``service_account_info`` end to end through ``main()``.

The Grafana side is the in-memory fake behind ``requests.Session.request``.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils import (
    _service_account_info,
)
from ansible_collections.grafana_ops.auth.plugins.modules import (
    service_account,
    service_account_info,
)
from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import (
    SA,
)
from ansible_collections.grafana_ops.auth.tests.unit.toolkit import CONNECTION, run_main


@pytest.fixture
def fake(grafana_session):
    return grafana_session


def run(module, args, capsys):
    """Run ``module.main()`` with ``args``; return (exit code, result dict)."""
    return run_main(module, {**CONNECTION, **args}, capsys)


# ------------------------------------------------------------------ service_account
def test_check_mode_create_with_diff(fake, monkeypatch, capsys):
    code, result = run(
        service_account,
        {
            "name": "ci",
            "role": "EDITOR",
            "org_id": 1,
            "_ansible_check_mode": True,
            "_ansible_diff": True,
        },
        capsys,
    )
    assert code == 0 and result["changed"] is True
    assert result["service_account"] == {
        "name": "ci",
        "orgId": 1,
        "isDisabled": False,
        "role": "Editor",
        "tokens": 0,
    }
    assert result["diff"] == {
        "before": {},
        "after": {"name": "ci", "role": "Editor", "isDisabled": False},
    }
    assert fake.writes() == [] and fake.accounts == {}


def test_apply_then_rerun(fake, monkeypatch, capsys):
    first = run(service_account, {"name": "ci", "role": "admin"}, capsys)[1]
    fake.log.clear()
    again = run(service_account, {"name": "ci", "role": "Admin"}, capsys)[1]
    assert first["changed"] is True and first["service_account"]["role"] == "Admin"
    assert (
        again["changed"] is False
        and again["service_account"]["id"] == first["service_account"]["id"]
    )
    assert fake.calls() == [f"GET {SA}/search"]
    assert "diff" not in again


def test_delete_returns_an_empty_account_and_diff(fake, monkeypatch, capsys):
    fake.add("ci", role="Editor")
    result = run(service_account, {"name": "ci", "state": "absent", "_ansible_diff": True}, capsys)[
        1
    ]
    assert result["changed"] is True and result["service_account"] == {}
    assert result["diff"] == {
        "before": {"name": "ci", "role": "Editor", "isDisabled": False},
        "after": {},
    }
    assert fake.accounts == {}


def test_bad_role_fails_before_any_request(fake, monkeypatch, capsys):
    code, result = run(service_account, {"name": "ci", "role": "root"}, capsys)
    assert code == 1 and result["failed"] is True and "not a Grafana role" in result["msg"]
    assert fake.log == []


def test_role_none_on_9x_fails_with_a_clear_message(fake, monkeypatch, capsys):
    fake.version = "9.5.21"
    code, result = run(service_account, {"name": "ci", "role": "none"}, capsys)
    assert code == 1 and "role None needs Grafana 10.x or later" in result["msg"]
    assert result["status"] == 400 and "admin-secret" not in json.dumps(result)


# ------------------------------------------------------------------ service_account_info
def test_info_in_check_mode_with_query(fake, monkeypatch, capsys):
    ci = fake.add("ci", role="Editor")["id"]
    fake.add_token(ci, "old", -5)
    fake.add_token(ci, "soon", 3600)
    result = run(
        service_account_info,
        {
            "expiring_within": "7d",
            "_ansible_check_mode": True,
            "query": "service_accounts[].{id: id, name: name, role: role, isDisabled: isDisabled}",
        },
        capsys,
    )[1]
    assert result["changed"] is False
    assert result["query_result"] == [
        {"id": ci, "name": "ci", "role": "Editor", "isDisabled": False}
    ]
    assert [t["token_name"] for t in result["expiring_tokens"]] == ["soon"]
    assert [t["token_name"] for t in result["expired_tokens"]] == ["old"]
    assert fake.writes() == []


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"expiring_within": "soon"}, "expiring_within"),
        ({"query": "service_accounts["}, "not a valid JMESPath"),
        ({"name": "a", "search": "b"}, "mutually exclusive"),
    ],
)
def test_info_bad_options_fail_before_any_request(fake, monkeypatch, capsys, args, fragment):
    code, result = run(service_account_info, args, capsys)
    assert code == 1 and fragment in result["msg"] and fake.log == []


def test_info_without_jmespath_asks_for_the_library(fake, monkeypatch, capsys):
    monkeypatch.setattr(_service_account_info, "JMESPATH_IMPORT_ERROR", "Traceback: no jmespath")
    code, result = run(service_account_info, {"query": "service_accounts"}, capsys)
    assert code == 1 and "jmespath" in result["msg"] and fake.log == []


def test_info_without_query_does_not_need_jmespath(fake, monkeypatch, capsys):
    monkeypatch.setattr(_service_account_info, "JMESPATH_IMPORT_ERROR", "Traceback: no jmespath")
    code, result = run(service_account_info, {}, capsys)
    assert code == 0 and result["service_accounts"] == [] and result["query_result"] is None
