# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The read side (``_service_account_info``): selection, token expiry on the server clock, JMESPath."""

from __future__ import annotations

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaInputError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._sa_api import (
    iter_service_accounts,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_account_info import (
    DEFAULT_EXPIRING_WITHIN,
    collect,
    compile_query,
    expiry_class,
)
from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import (
    SA,
    FakeGrafana,
)

DAY = 86400


@pytest.mark.parametrize(
    "token, window, expected",
    [
        ({"expired": True, "seconds_left": 0}, DAY, "expired"),
        ({"expired": False, "seconds_left": 3600}, DAY, "expiring"),
        ({"expired": False, "seconds_left": DAY}, DAY, "expiring"),  # the window is inclusive
        ({"expired": False, "seconds_left": DAY + 1}, DAY, None),
        ({"expired": False, "seconds_left": None}, DAY, None),  # never expires
        ({"expired": False, "seconds_left": 10}, 0, None),  # window 0 = expired only
        ({"expired": True, "seconds_left": 0, "revoked": True}, 0, "expired"),
    ],
)
def test_classify(token, window, expected):
    assert expiry_class(token, window) == expected


def fleet():
    """ci (4 tokens of every kind), idle (no token), ci-old (1 far token)."""
    fake = FakeGrafana()
    ci = fake.add("ci", role="Editor")["id"]
    fake.add("idle")
    old = fake.add("ci-old")["id"]
    fake.add_token(ci, "gone", -60)
    fake.add_token(ci, "soon", 2 * DAY)
    fake.add_token(ci, "forever", None)
    fake.add_token(ci, "scanned", 3600, revoked=True)
    fake.add_token(old, "far", 90 * DAY)
    return fake


def test_expiry_is_judged_on_the_server_clock_and_revoked_tokens_are_reported():
    fake = fleet()
    result = collect(fake.client(), expiring_within=7 * DAY)
    assert [
        (t["token_name"], t["seconds_left"], t["revoked"]) for t in result["expiring_tokens"]
    ] == [("soon", 2 * DAY, False), ("scanned", 3600, True)]
    assert [
        (t["service_account_name"], t["token_name"], t["expired"]) for t in result["expired_tokens"]
    ] == [("ci", "gone", True)]
    assert set(result["expired_tokens"][0]) == {
        "service_account_id",
        "service_account_name",
        "token_id",
        "token_name",
        "expiration",
        "seconds_left",
        "expired",
        "revoked",
    }
    assert all("token_list" not in account for account in result["service_accounts"])


def test_token_listing_is_skipped_for_accounts_without_tokens():
    fake = fleet()
    collect(fake.client(), include_tokens=True)
    assert fake.calls() == [f"GET {SA}/search", f"GET {SA}/1/tokens", f"GET {SA}/3/tokens"]


@pytest.mark.parametrize(
    "include_tokens, expiring_within, token_calls, lists",
    [
        (False, None, 0, False),
        (True, None, 2, True),
        (False, 0, 2, False),
        (False, 30 * DAY, 2, False),
    ],
)
def test_what_is_requested_and_returned(include_tokens, expiring_within, token_calls, lists):
    fake = fleet()
    result = collect(fake.client(), include_tokens=include_tokens, expiring_within=expiring_within)
    assert len(fake.calls()) == 1 + token_calls
    assert all(("token_list" in account) is lists for account in result["service_accounts"])
    assert result["changed"] is False and result["query_result"] is None
    if not token_calls:
        assert result["expiring_tokens"] == result["expired_tokens"] == []


def test_token_list_entries_carry_expiry_flags():
    fake = fleet()
    accounts = collect(fake.client(), include_tokens=True)["service_accounts"]
    ci = next(a for a in accounts if a["name"] == "ci")
    by_name = {t["name"]: t for t in ci["token_list"]}
    assert ci["tokens"] == 4 and len(by_name) == 4
    assert (by_name["gone"]["expired"], by_name["gone"]["seconds_left"]) == (True, 0)
    assert (by_name["forever"]["expired"], by_name["forever"]["seconds_left"]) == (False, None)
    assert by_name["scanned"]["revoked"] is True and by_name["soon"]["revoked"] is False


def test_default_window_is_seven_days_when_tokens_are_listed():
    fake = fleet()
    fake.add_token(3, "eight-days", 8 * DAY)
    result = collect(fake.client(), include_tokens=True)
    assert DEFAULT_EXPIRING_WITHIN == 7 * DAY
    assert {t["token_name"] for t in result["expiring_tokens"]} == {"soon", "scanned"}


@pytest.mark.parametrize(
    "name, search, expected",
    [
        ("ci", None, ["ci"]),
        ("c", None, []),
        (None, "ci", ["ci", "ci-old"]),
        (None, None, ["ci", "ci-old", "idle"]),
        ("nobody", None, []),
    ],
)
def test_selection(name, search, expected):
    fake = fleet()
    result = collect(fake.client(), name=name, search=search)
    assert sorted(a["name"] for a in result["service_accounts"]) == expected


def test_jq_equivalent_query():
    fake = fleet()
    query = compile_query(
        "service_accounts[].{id: id, name: name, role: role, isDisabled: isDisabled}"
    )
    result = collect(fake.client(), query=query)
    assert result["query_result"][0] == {
        "id": 1,
        "name": "ci",
        "role": "Editor",
        "isDisabled": False,
    }
    assert len(result["query_result"]) == 3


def test_query_sees_token_lists_and_reports():
    fake = fleet()
    query = compile_query(
        "{revoked: service_accounts[].token_list[?revoked][].name, "
        "expired: expired_tokens[].token_name}"
    )
    result = collect(fake.client(), include_tokens=True, query=query)
    assert result["query_result"] == {"revoked": ["scanned"], "expired": ["gone"]}


@pytest.mark.parametrize("expression", ["service_accounts[", "[?", "foo ||"])
def test_bad_query_is_an_input_error(expression):
    with pytest.raises(GrafanaInputError, match="not a valid JMESPath"):
        compile_query(expression)


def test_no_query_compiles_to_none():
    assert compile_query(None) is None


def test_pages_are_followed():
    fake = FakeGrafana()
    for index in range(5):
        fake.add(f"bulk-{index}")
    accounts = list(iter_service_accounts(fake.client(), "bulk", page_size=2))
    assert len(accounts) == 5 and len(fake.calls()) == 3
