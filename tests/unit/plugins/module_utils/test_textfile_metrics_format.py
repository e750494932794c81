# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Prometheus text format of ``_metrics``: escaping, values, order, builders, atomic write.

Where ``promtool`` is installed (Debian's ``prometheus`` package; the gate installs it), the
rendered text is also checked by ``promtool check metrics``.
"""

from __future__ import annotations

import datetime as dt
import math
import stat

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils import (
    _textfile_metrics as _metrics,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaInputError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._textfile_metrics import (
    MetricSet,
    add_diagnose,
    add_service_accounts,
    check_labels,
    escape_label_value,
    format_value,
    to_epoch,
    write_atomic,
)
from ansible_collections.grafana_ops.auth.tests.unit.toolkit import (
    parse_metrics as parse,
)
from ansible_collections.grafana_ops.auth.tests.unit.toolkit import promtool_check

NOW = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
BASE = {"grafana": "http://127.0.0.1:3000"}


def iso(delta_seconds):
    return (NOW + dt.timedelta(seconds=delta_seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    "raw, escaped",
    [
        ("plain", "plain"),
        ('a "quoted" name', 'a \\"quoted\\" name'),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines", "two\\nlines"),
        ('\\"\n', '\\\\\\"\\n'),
    ],
)
def test_label_values_are_escaped(raw, escaped):
    assert escape_label_value(raw) == escaped


@pytest.mark.parametrize(
    "value, text",
    [
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (float("nan"), "NaN"),
        (3.0, "3"),
        (-7200, "-7200"),
        (0.25, "0.25"),
        (1767348000.5, "1767348000.5"),
        (True, "1"),
    ],
)
def test_values(value, text):
    assert format_value(value) == text


def test_render_is_sorted_stable_and_has_help_and_type(tmp_path):
    one, two = MetricSet(), MetricSet()
    rows = [
        ("token_expired", {"grafana": "g", "token_name": "b"}, 1),
        ("token_expired", {"token_name": "a", "grafana": "g"}, 0),
        ("service_account_tokens", {"grafana": "g", "service_account": 'x"y\\z\nw'}, 2),
    ]
    for row in rows:
        one.add(*row)
    for row in reversed(rows):
        two.add(*row)
    text = one.render()
    assert text == two.render()
    assert text.splitlines() == [
        "# HELP grafana_ops_service_account_tokens Number of tokens the service account has.",
        "# TYPE grafana_ops_service_account_tokens gauge",
        'grafana_ops_service_account_tokens{grafana="g",service_account="x\\"y\\\\z\\nw"} 2',
        "# HELP grafana_ops_token_expired 1 if the token has expired on the Grafana server's clock, else 0.",
        "# TYPE grafana_ops_token_expired gauge",
        'grafana_ops_token_expired{grafana="g",token_name="a"} 0',
        'grafana_ops_token_expired{grafana="g",token_name="b"} 1',
    ]
    assert text.endswith("\n")
    promtool_check(text, tmp_path)


def test_a_duplicate_series_is_refused():
    metrics = MetricSet()
    metrics.add("token_expired", {"token_name": "a"}, 1)
    with pytest.raises(GrafanaInputError, match="two series grafana_ops_token_expired"):
        metrics.add("token_expired", {"token_name": "a"}, 0)


@pytest.mark.parametrize(
    "labels, match",
    [
        ({"1env": "x"}, "not a valid Prometheus label name"),
        ({"__name__": "x"}, "not a valid Prometheus label name"),
        ({"env-name": "x"}, "not a valid Prometheus label name"),
        ({"host": "x"}, "set by the module itself"),
        ({"grafana": "x"}, "set by the module itself"),
        ({"env": None}, "must be a string"),
        ({"env": ["a"]}, "must be a string"),
    ],
)
def test_bad_labels_are_named(labels, match):
    with pytest.raises(GrafanaInputError, match=match):
        check_labels(labels)


def test_good_labels_become_strings():
    assert check_labels({"env": "prod", "tier": 2}) == {"env": "prod", "tier": "2"}


def listings():
    account = {
        "id": 4,
        "name": "ci-deployer",
        "orgId": 1,
        "isDisabled": False,
        "role": "Editor",
        "tokens": 4,
    }
    idle = {"id": 5, "name": "idle", "orgId": 1, "isDisabled": True, "role": "Viewer", "tokens": 0}
    tokens = [
        {
            "id": 1,
            "name": "soon",
            "expiration": iso(3600),
            "hasExpired": False,
            "isRevoked": False,
            "lastUsedAt": iso(-60),
        },
        {
            "id": 2,
            "name": "gone",
            "expiration": iso(-7200),
            "hasExpired": True,
            "isRevoked": False,
            "lastUsedAt": None,
        },
        {"id": 3, "name": "forever", "expiration": None, "hasExpired": False, "isRevoked": False},
        {
            "id": 4,
            "name": "revoked",
            "expiration": iso(86400),
            "hasExpired": False,
            "isRevoked": True,
            "lastUsedAt": "0001-01-01T00:00:00Z",
        },
    ]
    return [(None, account, tokens), (None, idle, [])]


def test_service_account_families_on_grafanas_clock(tmp_path):
    metrics = MetricSet()
    counts = add_service_accounts(metrics, listings(), NOW, dict(BASE, env="prod"))
    assert counts == {"service_accounts": 2, "tokens": 4}
    text = metrics.render()
    got = parse(text)

    def value(name, **labels):
        labels = dict(BASE, env="prod", org_id="1", service_account="ci-deployer", **labels)
        return got[("grafana_ops_" + name, frozenset(labels.items()))]

    assert value("token_expires_in_seconds", token_name="soon") == 3600
    assert value("token_expiry_timestamp_seconds", token_name="soon") == NOW.timestamp() + 3600
    assert value("token_expires_in_seconds", token_name="gone") == -7200
    assert value("token_expired", token_name="gone") == 1
    assert value("token_expired", token_name="soon") == 0
    assert value("token_expires_in_seconds", token_name="forever") == math.inf
    assert value("token_expiry_timestamp_seconds", token_name="forever") == math.inf
    assert value("token_revoked", token_name="revoked") == 1
    assert value("token_last_used_timestamp_seconds", token_name="soon") == NOW.timestamp() - 60
    assert value("token_last_used_timestamp_seconds", token_name="gone") == 0
    assert value("token_last_used_timestamp_seconds", token_name="revoked") == 0
    assert value("service_account_tokens") == 4
    assert value("service_account_disabled") == 0
    assert value("service_account_info", role="Editor") == 1
    idle = frozenset(dict(BASE, env="prod", org_id="1", service_account="idle").items())
    assert got[("grafana_ops_service_account_disabled", idle)] == 1
    assert "+Inf" in text
    promtool_check(text, tmp_path)


def diagnose_result(verdict, codes, elapsed=(12.5, 7.5)):
    return {
        "verdict": verdict,
        "causes": [{"code": c, "summary": "s", "remediation": "r", "evidence": []} for c in codes],
        "observations": [{"probe": "health", "elapsed_ms": e} for e in elapsed],
    }


def test_diagnose_families(tmp_path):
    metrics = MetricSet()
    items = [
        {"host": "web1", "result": diagnose_result("ok", [])},
        {
            "host": "web2",
            "result": diagnose_result("authentication", ["token_expired", "token_whitespace"]),
            "checked_at": "2031-05-06T07:00:00Z",
        },
        {
            "host": "web3",
            "result": {"failed": True, "msg": "unreachable"},
            "checked_at": 1000,
            "duration": 2.5,
        },
        {"host": "db1", "result": diagnose_result("ok", []), "instance": "http://db1:3000"},
    ]
    assert add_diagnose(metrics, items, NOW.timestamp(), BASE) == 4
    text = metrics.render()
    got = parse(text)

    def value(name, **labels):
        return got[("grafana_ops_" + name, frozenset(dict(BASE, **labels).items()))]

    assert value("diagnose_verdict", host="web1", verdict="ok", cause="none") == 1
    assert (
        value("diagnose_verdict", host="web2", verdict="authentication", cause="token_expired") == 1
    )
    assert value("diagnose_cause", host="web2", cause="token_whitespace") == 1
    assert value("diagnose_verdict", host="web3", verdict="error", cause="diagnose_failed") == 1
    assert value("diagnose_duration_seconds", host="web1") == 0.02
    assert value("diagnose_duration_seconds", host="web3") == 2.5
    assert value("diagnose_timestamp_seconds", host="web1") == NOW.timestamp()
    assert value("diagnose_timestamp_seconds", host="web2") == NOW.timestamp() - 489
    assert value("diagnose_timestamp_seconds", host="web3") == 1000
    db1 = frozenset(
        {"grafana": "http://db1:3000", "host": "db1", "verdict": "ok", "cause": "none"}.items()
    )
    assert got[("grafana_ops_diagnose_verdict", db1)] == 1
    assert not any(
        name == "grafana_ops_diagnose_cause" and ("host", "web1") in labels for name, labels in got
    )
    promtool_check(text, tmp_path)


@pytest.mark.parametrize(
    "items, match",
    [
        ([{"host": "a", "result": {}}, {"host": "a", "result": {}}], "host 'a' is listed twice"),
        ([{"host": "", "result": {}}], "host is empty"),
        (
            [{"host": "a", "result": {}, "checked_at": "yesterday"}],
            r"diagnose_results\[0\].checked_at",
        ),
    ],
)
def test_bad_diagnose_items_are_named(items, match):
    with pytest.raises(GrafanaInputError, match=match):
        add_diagnose(MetricSet(), items, 0.0, BASE)


def test_to_epoch():
    assert to_epoch(5, "x") == 5.0
    assert to_epoch("1767348000", "x") == 1767348000.0
    assert to_epoch("2031-05-06T07:08:09Z", "x") == NOW.timestamp()
    with pytest.raises(GrafanaInputError):
        to_epoch(True, "x")


def test_write_atomic_replaces_without_a_trace(tmp_path):
    dest = tmp_path / "grafana.prom"
    dest.write_text("old\n")
    other = tmp_path / "elsewhere"
    other.write_text("keep")
    link = tmp_path / "link.prom"
    link.symlink_to(other)
    write_atomic(str(dest), "new 1\n")
    write_atomic(str(link), "via link\n")
    assert dest.read_text() == "new 1\n"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644
    assert (
        other.read_text() == "keep" and not link.is_symlink() and link.read_text() == "via link\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "grafana.prom", "link.prom"]


def test_write_atomic_cleans_up_when_prepare_fails(tmp_path):
    dest = tmp_path / "grafana.prom"

    def boom(_tmp):
        raise OSError("no")

    with pytest.raises(OSError):
        write_atomic(str(dest), "x\n", boom)
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_names_a_missing_directory(tmp_path):
    with pytest.raises(GrafanaInputError, match="does not exist"):
        write_atomic(str(tmp_path / "nope" / "x.prom"), "x\n")
    with pytest.raises(GrafanaInputError, match="is a directory"):
        write_atomic(str(tmp_path), "x\n")


def test_every_family_has_a_unit_conformant_name():
    for name, (kind, text) in _metrics.FAMILIES.items():
        assert kind == "gauge" and text.endswith(".")
        assert not name.endswith("_total")
