# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two runs minting the same token at once: the loser says so (found by reliability_faults)."""

from __future__ import annotations

import datetime as dt

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import GrafanaAPIError
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_account_token import ensure_token
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_plan import token_spec

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


# ------------------------------------------------------------------ two runs, one dest
class Grafana:
    """One account's tokens; creates mint keys, deletes remove."""

    def __init__(self):
        self.tokens = []
        self.keys = {}
        self.warnings = []
        self.writes = []

    def now(self):
        return NOW

    def mint(self, name):
        token = {"id": len(self.keys) + 1, "name": name, "expiration": "2026-12-29T12:00:00Z",
                 "isRevoked": False, "hasExpired": False}
        self.tokens.append(token)
        self.keys[token["id"]] = f"glsa_{'k' * 32}_{token['id']:08x}"
        return token, self.keys[token["id"]]

    def get(self, path, **_kwargs):
        return Answer([dict(t) for t in self.tokens])

    def post(self, path, body=None, **_kwargs):
        self.writes.append(("POST", body["name"]))
        token, key = self.mint(body["name"])
        return Answer({"id": token["id"], "name": token["name"], "key": key})

    def delete(self, path, **_kwargs):
        self.writes.append(("DELETE", path))
        token_id = int(path.rsplit("/", 1)[1])
        self.tokens = [t for t in self.tokens if t["id"] != token_id]
        return Answer({})


def real_key_file(path):
    from ansible.module_utils.basic import AnsibleModule
    from ansible_collections.grafana_ops.auth.plugins.module_utils._delivery import KeyFile, key_file_params
    from ansible_collections.grafana_ops.auth.tests.unit.module_args import patch_module_args
    with patch_module_args({"dest": str(path)}):
        module = AnsibleModule(argument_spec=dict(dest=dict(type="path"), mode=dict(type="raw", default="0600")),
                               add_file_common_args=True)
    return KeyFile(module, key_file_params(module.params))


@pytest.mark.parametrize("keep_previous", [True, False])
def test_the_loser_adopts_the_winners_token_instead_of_orphaning_it(tmp_path, keep_previous):
    """Issue 11 item 11: the loser listed the winner's fresh token before its key file existed."""
    grafana = Grafana()
    dest = tmp_path / "ci.token"
    spec = token_spec({"name": "ci", "ttl": "30d", "keep_previous": keep_previous})
    loser_file = real_key_file(dest)
    fingerprint = loser_file.fingerprint()  # the loser looks at dest (missing) ...
    _token, winner_key = grafana.mint("ci")  # ... the winner has minted ...
    listing = [dict(t) for t in grafana.tokens]  # ... the loser lists (valid token, no key file)
    real_key_file(dest).write(winner_key)  # ... and the winner delivers
    result = ensure_token(grafana, {"id": 3, "name": "ci-bot"}, spec, key_file=loser_file,
                          tokens=listing, dest_fingerprint=fingerprint)
    assert result["changed"] is False and result["dest_written"] is False
    assert grafana.writes == [] and [t["name"] for t in grafana.tokens] == ["ci"]
    assert dest.read_text() == winner_key  # the one valid token's key is delivered
    assert grafana.warnings == []


def test_without_a_change_of_dest_the_plan_stands(tmp_path):
    grafana = Grafana()
    dest = tmp_path / "ci.token"
    result = ensure_token(grafana, {"id": 3, "name": "ci-bot"}, token_spec({"name": "ci"}),
                          key_file=real_key_file(dest))
    assert result["changed"] is True and grafana.writes == [("POST", "ci")]
    assert dest.read_text() == grafana.keys[1]


def test_a_held_lock_makes_the_other_run_wait(tmp_path):
    import threading
    import time
    dest = tmp_path / "ci.token"
    holder = real_key_file(dest)
    order = []

    def other():
        with real_key_file(dest).lock():
            order.append("other")

    with holder.lock():
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.3)
        order.append("holder")
    thread.join(5)
    assert order == ["holder", "other"]


def test_a_lock_held_too_long_fails_clearly(tmp_path):
    from ansible_collections.grafana_ops.auth.plugins.module_utils._delivery import DeliveryError
    dest = tmp_path / "ci.token"
    with real_key_file(dest).lock():
        with pytest.raises(DeliveryError, match="another run has been delivering a key into"):
            with real_key_file(dest).lock(timeout=0.2):
                pass  # pragma: no cover
