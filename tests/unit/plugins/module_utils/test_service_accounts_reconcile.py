# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconciling a list of accounts: validation, purge selection, request budgets, failures.

Grafana is the unit tests' one fake (``tests/unit/grafana_fake.py``) behind the client's
request seam.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Dict, List

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils import _service_accounts
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaInputError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._sa_api import (
    iter_service_accounts,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_accounts import (
    ReconcileError,
    Reconciler,
    is_external,
    parse_accounts,
    purge_candidates,
)
from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import (
    SA,
    FakeGrafana,
)

DAY = 86400


def reconcile(
    grafana: FakeGrafana, accounts: List[Dict[str, Any]], **kwargs: Any
) -> Dict[str, Any]:
    purge = kwargs.pop("purge", False)
    client = grafana.client(org_id=1)
    return Reconciler(client, **kwargs).run(parse_accounts(accounts), purge=purge)


def ten_accounts() -> List[Dict[str, Any]]:
    return [
        {"name": f"svc-{n}", "role": "Viewer", "tokens": [{"name": f"tok-{n}", "ttl": "1d"}]}
        for n in range(10)
    ]


# ------------------------------------------------------------------ validation (pure)
@pytest.mark.parametrize(
    "accounts, expected",
    [
        ([{"name": "a", "role": "superuser"}], "is not a Grafana role"),
        ([{"name": ""}], "non-empty"),
        ([{"name": "   "}], "non-empty"),
        ([{"name": "a", "state": "gone"}], "present or absent"),
        ([{"name": "a", "tokens": [{"name": "t", "ttl": "5 parsecs"}]}], "ttl"),
        (
            [{"name": "a", "tokens": [{"name": "t", "ttl": "1d", "rotation_window": "1d"}]}],
            "rotation_window",
        ),
        ([{"name": "a", "tokens": [{"name": ""}]}], "token name"),
        ([{"name": "a", "tokens": [{"name": "t", "state": "maybe"}]}], "present or absent"),
        ([{"name": "a"}, {"name": "a", "role": "Admin"}], "listed 2 times"),
        (
            [{"name": "a", "tokens": [{"name": "t"}]}, {"name": "b", "tokens": [{"name": "t"}]}],
            "unique per organization",
        ),
        (
            [{"name": "a", "tokens": [{"name": "t"}, {"name": "t-r20261129120000"}]}],
            "looks like a rotated token",
        ),
        (["not a dict"], "must be a dictionary"),
        ([{"name": "a", "tokens": ["x"]}], "must be a dictionary"),
        ([{"name": "Team-A"}, {"name": "team-a"}], "'Team-A' and 'team-a' collide"),
        ([{"name": "ops sa"}, {"name": "ops-sa"}], "'ops sa' and 'ops-sa' collide"),
        ([{"name": "OPS SA"}, {"name": "ops-sa", "role": "Admin"}], "sa-<org>-ops-sa"),
        ([{"name": "-x"}, {"name": "x"}], "collide"),
        (
            [{"name": "a", "tokens": [{"name": "t", "ttl": "3000000d"}]}],
            "ttl: '3000000d' is too long",
        ),
        (
            [{"name": "a", "tokens": [{"name": "t", "ttl": 0, "rotation_window": "9" * 20}]}],
            "rotation_window: .* is too long",
        ),
    ],
)
def test_bad_specs_are_refused_before_any_request(grafana, accounts, expected):
    with pytest.raises(GrafanaInputError, match=expected) as caught:
        reconcile(grafana, [{"name": "fine"}] + accounts)
    assert "nothing was sent" in str(caught.value)
    assert grafana.log == []


def test_colliding_names_are_fine_when_only_one_is_present(grafana):
    result = reconcile(grafana, [{"name": "team-a", "state": "absent"}, {"name": "Team-A"}])
    assert result["created"] == ["Team-A"]


def test_huge_expiring_within_is_refused():
    with pytest.raises(GrafanaInputError, match="^expiring_within: .* too long"):
        _service_accounts.expiring_seconds("3000000d")


def test_every_problem_is_reported_in_one_message():
    with pytest.raises(GrafanaInputError) as caught:
        parse_accounts(
            [
                {"name": "a", "role": "root"},
                {"name": "b", "tokens": [{"name": "t", "ttl": "soon"}]},
                {"name": "a"},
            ]
        )
    text = str(caught.value)
    assert "accounts[0] ('a')" in text and "role 'root'" in text
    assert "accounts[1] ('b') tokens[0] ('t')" in text and "ttl" in text
    assert "listed 2 times" in text


def test_valid_specs_are_normalised():
    parsed = parse_accounts(
        [
            {
                "name": "a",
                "role": "EDITOR",
                "tokens": [
                    {
                        "name": "t",
                        "ttl": "30d",
                        "rotation_window": "7d",
                        "dest": "/x/t",
                        "mode": "0640",
                        "key_missing": True,
                    }
                ],
            }
        ]
    )
    assert parsed[0].spec.role == "Editor"
    token = parsed[0].tokens[0]
    assert (token.spec.ttl, token.spec.rotation_window) == (30 * DAY, 7 * DAY)
    assert token.file_params == {"dest": "/x/t", "mode": "0640", "owner": None, "group": None}
    assert token.key_missing is True


# ------------------------------------------------------------------ purge selection (pure)
@pytest.mark.parametrize(
    "account, external",
    [
        ({"name": "a", "login": "sa-1-a"}, False),
        ({"name": "a", "login": "sa-1-a", "isExternal": False}, False),
        ({"name": "grafana-oncall", "login": "sa-1-extsvc-grafana-oncall"}, True),
        ({"name": "plugin", "login": "sa-1-plugin", "isExternal": True}, True),
    ],
)
def test_external_accounts_are_recognised(account, external):
    assert is_external(account) is external


def test_purge_selects_unlisted_non_external_accounts_only():
    listed = [
        {"name": "keep"},
        {"name": "stray"},
        {"name": "ext", "isExternal": True},
        {"name": "svc", "login": "sa-1-extsvc-svc"},
        {"name": "Keep"},
    ]
    assert [a["name"] for a in purge_candidates(listed, ["keep"])] == ["stray", "Keep"]
    assert purge_candidates([], ["keep"]) == []


# ------------------------------------------------------------------ budgets at the seam
def test_first_run_costs_one_search_and_two_writes_per_account(grafana):
    result = reconcile(grafana, ten_accounts())
    calls = grafana.calls()
    assert calls.count(f"GET {SA}/search") == 1
    assert calls.count(f"POST {SA}") == 10
    assert len([c for c in calls if c.startswith("POST") and c.endswith("/tokens")]) == 10
    assert len(calls) == 1 + 2 * 10  # no token listing for accounts created in this run
    assert result["created"] == [f"svc-{n}" for n in range(10)]
    assert [k["token"] for k in result["minted_keys"]] == [f"tok-{n}" for n in range(10)]
    assert all(k["key"].startswith("glsa_") for k in result["minted_keys"])


def test_rerun_sends_reads_only_and_no_key(grafana):
    reconcile(grafana, ten_accounts())
    grafana.log.clear()
    result = reconcile(grafana, ten_accounts())
    assert grafana.writes() == []
    assert len(grafana.calls()) == 1 + 10  # one search, one token listing per account
    assert result["changed"] is False and result["minted_keys"] == []
    assert {r["action"] for r in result["results"]} == {"unchanged"}
    assert "key" not in str(result["results"])


def test_accounts_without_tokens_cost_only_the_search(grafana):
    reconcile(grafana, [{"name": f"a{n}"} for n in range(5)])
    grafana.log.clear()
    reconcile(grafana, [{"name": f"a{n}"} for n in range(5)])
    assert grafana.calls() == [f"GET {SA}/search"]


def test_search_pages_are_followed(grafana, monkeypatch):
    for n in range(5):
        grafana.add(f"p{n}")
    monkeypatch.setattr(
        _service_accounts,
        "iter_service_accounts",
        functools.partial(iter_service_accounts, page_size=2),
    )
    result = reconcile(grafana, [{"name": "p4"}])
    assert grafana.calls().count(f"GET {SA}/search") == 3
    assert result["results"][0]["action"] == "unchanged" and grafana.writes() == []


def test_check_mode_predicts_without_writes(grafana):
    grafana.add("old", role="Viewer")
    result = reconcile(
        grafana, ten_accounts()[:2] + [{"name": "old", "role": "Admin"}], check_mode=True, diff=True
    )
    assert grafana.writes() == []
    assert result["changed"] is True and result["minted_keys"] == []
    assert result["created"] == ["svc-0", "svc-1"] and result["updated"] == ["old"]
    assert [m["token"] for m in result["minted"]] == ["tok-0", "tok-1"]
    assert result["diff"]["before"]["accounts"]["old"]["role"] == "Viewer"
    assert result["diff"]["after"]["accounts"]["old"]["role"] == "Admin"
    assert result["diff"]["after"]["accounts"]["svc-0"]["tokens"][0]["name"] == "tok-0"


# ------------------------------------------------------------------ purge and absent
def test_purge_deletes_only_unlisted_non_external_accounts(grafana):
    grafana.add("keep")
    grafana.add("stray")
    ext = grafana.add("oncall")
    grafana.accounts[ext["id"]]["login"] = "sa-1-extsvc-oncall"
    result = reconcile(grafana, [{"name": "keep"}], purge=True)
    assert result["purged"] == ["stray"]
    assert sorted(a["name"] for a in grafana.accounts.values()) == ["keep", "oncall"]
    assert grafana.writes() == [f"DELETE {SA}/2"]


def test_without_purge_nothing_unlisted_is_touched(grafana):
    grafana.add("stray")
    result = reconcile(grafana, [{"name": "keep"}])
    assert result["purged"] == [] and "stray" in [a["name"] for a in grafana.accounts.values()]


def test_purge_in_check_mode_only_predicts(grafana):
    grafana.add("stray")
    result = reconcile(grafana, [], purge=True, check_mode=True)
    assert result["purged"] == ["stray"] and result["changed"] is True and grafana.writes() == []


def test_absent_accounts_are_deleted_and_their_tokens_ignored(grafana):
    grafana.add("gone")
    result = reconcile(
        grafana,
        [
            {"name": "gone", "state": "absent", "tokens": [{"name": "t"}]},
            {"name": "never", "state": "absent"},
        ],
    )
    assert result["deleted"] == ["gone"]
    assert [r["action"] for r in result["results"]] == ["deleted", "absent"]
    assert grafana.writes() == [f"DELETE {SA}/1"]


# ------------------------------------------------------------------ rotation and retiring
def rotating() -> List[Dict[str, Any]]:
    return [
        {
            "name": "ci",
            "tokens": [
                {"name": "deploy", "ttl": "10d", "rotation_window": "3d", "keep_previous": False}
            ],
        }
    ]


def test_rotation_mints_and_retires_the_previous_token(grafana):
    reconcile(grafana, rotating())
    grafana.now += dt.timedelta(days=8)
    result = reconcile(grafana, rotating())
    assert [r["token"] for r in result["rotated"]] == ["deploy"]
    assert result["minted_keys"][0]["name"].startswith("deploy-r")
    assert [p["reason"] for p in result["pruned"]] == ["replaced"]
    assert grafana.token_names("ci") == [result["minted_keys"][0]["name"]]


def test_retire_previous_false_keeps_the_old_token_for_a_second_pass(grafana):
    reconcile(grafana, rotating())
    grafana.now += dt.timedelta(days=8)
    first = reconcile(grafana, rotating(), retire_previous=False)
    assert first["pruned"] == [] and len(grafana.token_names("ci")) == 2
    grafana.log.clear()
    second = reconcile(grafana, rotating())
    assert second["minted_keys"] == [] and [p["name"] for p in second["pruned"]] == ["deploy"]
    assert grafana.token_names("ci") == [first["minted_keys"][0]["name"]]
    assert grafana.writes() == [f"DELETE {SA}/1/tokens/101"]


def test_key_missing_replaces_a_valid_token(grafana):
    spec = [{"name": "ci", "tokens": [{"name": "deploy"}]}]
    reconcile(grafana, spec)
    spec[0]["tokens"][0]["key_missing"] = True
    client = grafana.client(org_id=1)
    result = Reconciler(client).run(parse_accounts(spec))
    assert result["rotated"] and result["minted_keys"][0]["name"].startswith("deploy-r")
    assert any("consuming host" in w for w in client.warnings)


def test_expiring_tokens_are_listed(grafana):
    spec = [
        {"name": "ci", "tokens": [{"name": "short", "ttl": "2d"}, {"name": "long", "ttl": "30d"}]}
    ]
    result = reconcile(grafana, spec, expiring_within=7 * DAY)
    assert [(e["token"], e["expires_in"]) for e in result["expiring"]] == [("short", "2d")]


# ------------------------------------------------------------------ failures part-way
def test_a_failure_part_way_returns_the_keys_already_minted(grafana):
    grafana.fault("POST", SA, status=500, body={"message": "boom"})
    grafana.add("a-first")
    accounts = [{"name": "a-first", "tokens": [{"name": "t1"}]}, {"name": "b-second"}]
    # the create of b-second fails with 500 and the re-read does not find it
    with pytest.raises(ReconcileError) as caught:
        reconcile(grafana, accounts)
    kwargs = caught.value.fail_kwargs()
    assert "b-second" in kwargs["msg"] and "a-first" in kwargs["msg"]
    assert [k["token"] for k in kwargs["minted_keys"]] == ["t1"]
    assert kwargs["minted_keys"][0]["key"].startswith("glsa_")
    assert "glsa_" not in kwargs["msg"]
