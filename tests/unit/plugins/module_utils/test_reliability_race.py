# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two runs minting the same token at once: the loser says so (found by reliability_faults)."""

from __future__ import annotations

import datetime as dt

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import GrafanaAPIError
from ansible_collections.grafana_ops.auth.plugins.module_utils._sa_token import ensure_token, token_spec

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.timezone.utc)
DUPLICATE = {400: "service account token with given name already exists in the organization",
             409: "service account token rf-tok already exists"}


class Answer:
    def __init__(self, body):
        self.body = body
        self.status = 200


class RacingClient:
    """Lists no token, then refuses the create as a duplicate; the second listing has it."""

    def __init__(self, status, winner_account=True):
        self.status = status
        self.listings = [[], [{"id": 9, "name": "rf-tok", "expiration": None, "isRevoked": False,
                               "hasExpired": False}] if winner_account else []]
        self.warnings = []
        self.calls = []

    def now(self):
        return NOW

    def get(self, path, **_kwargs):
        self.calls.append(("GET", path))
        return Answer(self.listings.pop(0))

    def post(self, path, **_kwargs):
        self.calls.append(("POST", path))
        raise GrafanaAPIError(f"POST {path} failed with HTTP {self.status}", method="POST", path=path,
                              status=self.status, message=DUPLICATE[self.status])

    def delete(self, path, **_kwargs):  # pragma: no cover - must not happen
        raise AssertionError("no delete expected")


@pytest.mark.parametrize("status", [400, 409])
def test_the_loser_of_a_race_says_another_run_created_it(status):
    client = RacingClient(status)
    spec = token_spec({"name": "rf-tok", "ttl": "30d", "state": "present"})
    with pytest.raises(GrafanaAPIError) as err:
        ensure_token(client, {"id": 3, "name": "rf-acct"}, spec)
    text = str(err.value)
    assert "another run at the same time" in text and "minted no token" in text
    assert "held by another service account" not in text
    assert [c[0] for c in client.calls] == ["GET", "POST", "GET"]


def test_a_name_held_elsewhere_is_still_explained_as_such():
    client = RacingClient(400, winner_account=False)
    spec = token_spec({"name": "rf-tok", "ttl": "30d", "state": "present"})
    with pytest.raises(GrafanaAPIError) as err:
        ensure_token(client, {"id": 3, "name": "rf-acct"}, spec)
    assert "unique per organization" in str(err.value)
