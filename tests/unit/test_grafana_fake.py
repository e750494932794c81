# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fake Grafana of the unit tests answers as the API contract says (its own tests)."""

from __future__ import annotations

import pytest

from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import FakeGrafana


# ------------------------------------------------------------------ the fake's own tests
def test_fake_search_is_a_substring_match_and_pages():
    fake = FakeGrafana()
    for name in ("ci", "ci-2", "other"):
        fake.add(name)
    status, body = fake._search({"query": "ci", "perpage": 1, "page": 2})
    assert (
        status == 200
        and body["totalCount"] == 2
        and [a["name"] for a in body["serviceAccounts"]] == ["ci-2"]
    )


def test_fake_applies_a_partial_patch_like_grafana():
    fake = FakeGrafana()
    account = fake.add("ci")
    status, body = fake._one("PATCH", account["id"], {"role": "Editor"})
    assert status == 200 and body["serviceaccount"]["role"] == "Editor"
    assert (
        fake.accounts[account["id"]]["name"] == "ci"
        and fake.accounts[account["id"]]["role"] == "Editor"
    )


@pytest.mark.parametrize("version, status", [("9.5", 400), ("12.2", 201)])
def test_fake_role_none_depends_on_version(version, status):
    assert FakeGrafana(version)._create({"name": "x", "role": "None"})[0] == status
