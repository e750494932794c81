# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``textfile_metrics`` end to end through ``main()``: the Grafana side is the in-memory fake
behind ``requests.Session.request`` (its clock, in 2031, is far from the test machine's)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.grafana_ops.auth.plugins.modules import textfile_metrics
from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import (
    SERVER_NOW,
)
from ansible_collections.grafana_ops.auth.tests.unit.toolkit import (
    CONNECTION,
    promtool_check,
    run_main,
)
from ansible_collections.grafana_ops.auth.tests.unit.toolkit import (
    parse_metrics as parse,
)

BASE = {"grafana": "http://127.0.0.1:3000"}


@pytest.fixture
def fake(grafana_session):
    ci = grafana_session.add("ci", role="Editor")
    grafana_session.add_token(ci["id"], "ci-soon", 3600)
    grafana_session.add_token(ci["id"], "ci-forever", None)
    grafana_session.add("idle", disabled=True)
    return grafana_session


def run(args, capsys, connection=True):
    args = {**(CONNECTION if connection else {"url": CONNECTION["url"]}), **args}
    return run_main(textfile_metrics, args, capsys)


def value(got, name, **labels):
    return got[("grafana_ops_" + name, frozenset(dict(BASE, **labels).items()))]


def test_tokens_and_accounts_on_grafanas_clock(fake, tmp_path, capsys):
    dest = tmp_path / "grafana.prom"
    code, result = run({"dest": str(dest), "labels": {"env": "prod"}}, capsys)
    assert code == 0, result
    assert result["changed"] is True and result["tokens"] == 2 and result["service_accounts"] == 2
    assert result["timestamp"] == SERVER_NOW.timestamp()
    text = dest.read_text()
    got = parse(text)
    labels = {"env": "prod", "org_id": "1", "service_account": "ci"}
    assert value(got, "token_expires_in_seconds", token_name="ci-soon", **labels) == 3600
    assert (
        value(got, "token_expiry_timestamp_seconds", token_name="ci-soon", **labels)
        == SERVER_NOW.timestamp() + 3600
    )
    assert value(got, "token_expires_in_seconds", token_name="ci-forever", **labels) == float("inf")
    assert value(got, "service_account_info", role="Editor", **labels) == 1
    assert (
        value(got, "service_account_disabled", env="prod", org_id="1", service_account="idle") == 1
    )
    assert (
        value(got, "metrics_timestamp_seconds", env="prod", source="service_accounts")
        == SERVER_NOW.timestamp()
    )
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644
    assert "admin-secret" not in text
    assert fake.writes() == []
    promtool_check(text, tmp_path)


def test_check_mode_writes_nothing_and_diff_shows_the_file(fake, tmp_path, capsys):
    dest = tmp_path / "grafana.prom"
    code, result = run(
        {"dest": str(dest), "_ansible_check_mode": True, "_ansible_diff": True}, capsys
    )
    assert code == 0 and result["changed"] is True
    assert not dest.exists()
    assert result["diff"]["before"] == "" and "grafana_ops_token_expired" in result["diff"]["after"]


def test_same_content_is_not_a_change_but_the_mode_is(fake, tmp_path, capsys):
    dest = tmp_path / "grafana.prom"
    assert run({"dest": str(dest)}, capsys)[1]["changed"] is True
    first = dest.read_text()
    code, result = run({"dest": str(dest)}, capsys)  # the fake's clock did not move
    assert code == 0 and result["changed"] is False and dest.read_text() == first
    code, result = run({"dest": str(dest), "mode": "0640"}, capsys)
    assert result["changed"] is True and stat.S_IMODE(dest.stat().st_mode) == 0o640
    fake.now = fake.now.replace(hour=fake.now.hour + 1)
    code, result = run({"dest": str(dest), "mode": "0640"}, capsys)
    assert result["changed"] is True
    assert (
        value(
            parse(dest.read_text()),
            "token_expires_in_seconds",
            token_name="ci-soon",
            org_id="1",
            service_account="ci",
        )
        == 0
    )  # one hour on: the token expires right now
    assert (
        value(
            parse(dest.read_text()),
            "token_expired",
            token_name="ci-soon",
            org_id="1",
            service_account="ci",
        )
        == 1
    )


def test_diagnose_only_sends_no_request_and_needs_no_credential(fake, tmp_path, capsys):
    dest = tmp_path / "diagnose.prom"
    results = [
        {
            "host": "web1",
            "result": {
                "verdict": "proxy",
                "causes": [{"code": "proxy_strips_authorization"}],
                "observations": [{"elapsed_ms": 250.0}],
            },
        }
    ]
    code, result = run(
        {
            "dest": str(dest),
            "service_account_metrics": False,
            "diagnose_results": results,
            "instance": "prod-grafana",
        },
        capsys,
        connection=False,
    )
    assert code == 0, result
    assert fake.calls() == []
    got = parse(dest.read_text())
    key = (
        "grafana_ops_diagnose_verdict",
        frozenset(
            {
                "grafana": "prod-grafana",
                "host": "web1",
                "verdict": "proxy",
                "cause": "proxy_strips_authorization",
            }.items()
        ),
    )
    assert got[key] == 1
    assert (
        "grafana_ops_diagnose_duration_seconds",
        frozenset({"grafana": "prod-grafana", "host": "web1"}.items()),
    ) in got
    assert result["hosts"] == 1 and result["tokens"] == 0


@pytest.mark.parametrize(
    "args, match",
    [
        ({"labels": {"host": "x"}}, "labels: 'host' is set by the module itself"),
        ({"service_account_metrics": False}, "nothing to write"),
        ({"prefix": "1bad"}, "prefix '1bad'"),
        ({"org_ids": [0]}, "org_ids: 0"),
    ],
)
def test_bad_input_is_named_before_a_write(fake, tmp_path, capsys, args, match):
    dest = tmp_path / "grafana.prom"
    code, result = run({"dest": str(dest), **args}, capsys)
    assert code == 1 and match in result["msg"]
    assert not dest.exists() and fake.writes() == []


def test_a_failed_listing_leaves_the_previous_file(fake, tmp_path, capsys):
    dest = tmp_path / "grafana.prom"
    dest.write_text("previous\n")
    fake.fault("GET", "/api/serviceaccounts/search", status=500)
    fake.fault("GET", "/api/serviceaccounts/search", status=500)
    fake.fault("GET", "/api/serviceaccounts/search", status=500)
    fake.fault("GET", "/api/serviceaccounts/search", status=500)
    code, result = run({"dest": str(dest)}, capsys)
    assert code == 1 and "HTTP 500" in result["msg"]
    assert dest.read_text() == "previous\n"
    assert sorted(os.listdir(tmp_path)) == ["grafana.prom"]


def test_a_name_without_prom_is_warned_about(fake, tmp_path, capsys):
    code, result = run({"dest": str(tmp_path / "grafana.txt")}, capsys)
    assert code == 0 and "only *.prom files" in json.dumps(result["warnings"])
