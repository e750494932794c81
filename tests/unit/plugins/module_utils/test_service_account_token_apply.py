# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applying token plans (``_service_account_token``), against the unit tests' fake Grafana."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests

from ansible_collections.grafana_ops.auth.plugins.module_utils._delivery import (
    DeliveryError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaAPIError,
    GrafanaError,
    GrafanaInputError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_account_token import (
    run_token,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_format import (
    is_glsa,
)
from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import (
    bots_grafana,
)

NOW = dt.datetime(2026, 11, 29, 12, 0, 0, tzinfo=dt.timezone.utc)
DAY = 86400


class FakeKeyFile:
    """Stands in for _delivery.KeyFile."""

    def __init__(self, status="missing", fail=None):
        self.path = "/run/ci/token"
        self._status = status
        self.fail = fail
        self.written = []
        self.preflights = 0

    def status(self):
        return self._status

    def validate(self):
        self.validations = getattr(self, "validations", 0) + 1
        if self.fail == "validate":
            raise GrafanaInputError("mode 600 is a YAML integer")

    def preflight(self):
        self.preflights += 1
        if self.fail == "preflight":
            raise GrafanaInputError("dest directory /run/ci does not exist")

    def write(self, key):
        if self.fail in ("write", "attributes"):
            raise DeliveryError("disk full", delivered=self.fail == "attributes")
        self.written.append(key)
        self._status = "present"

    def fix_attributes(self):
        return False

    def fingerprint(self):
        return (self._status, len(self.written))

    def lock(self):
        import contextlib

        return contextlib.nullcontext()


@pytest.fixture
def grafana():
    return bots_grafana()


def run_with_client(grafana, check_mode=False, diff=False, key_file=None, **params):
    client = grafana.client(username="admin", password="admin")
    params.setdefault("service_account", "ci-bot")
    params.setdefault("name", "ci")
    result = run_token(client, params, check_mode=check_mode, diff=diff, key_file=key_file)
    return result, client


def run(grafana, **kwargs):
    return run_with_client(grafana, **kwargs)[0]


# ------------------------------------------------------------------- budgets
def test_first_run_mints_with_one_listing_and_one_create(grafana):
    result, client = run_with_client(grafana, ttl="30d")
    assert [c.split()[0] for c in grafana.calls()] == ["GET", "GET", "POST"]
    assert client.request_count == 3
    assert result["changed"] is True and result["rotated"] is False
    assert is_glsa(result["key"])
    assert result["token"]["name"] == "ci" and result["token"]["id"] == 1
    assert result["token"]["expiration"] == "2026-12-29T12:00:00Z"
    assert "key" not in result["token"]
    assert sorted(grafana.token_names("ci-bot")) == ["ci"]


def test_rerun_sends_no_write(grafana):
    run(grafana)
    grafana.log.clear()
    result = run(grafana)
    assert grafana.calls() == [
        "GET /api/serviceaccounts/search",
        "GET /api/serviceaccounts/1/tokens",
    ]
    assert result["changed"] is False and "key" not in result
    assert result["token"]["name"] == "ci" and result["pruned"] == []


def test_account_by_id(grafana):
    result = run(grafana, service_account=None, service_account_id=1)
    assert grafana.calls()[0] == "GET /api/serviceaccounts/1"
    assert result["changed"] is True


def test_unknown_account_fails_before_any_write(grafana):
    with pytest.raises(GrafanaInputError, match="No service account with name 'ghost'"):
        run(grafana, service_account="ghost")
    assert grafana.writes() == []


def test_bad_window_fails_before_any_request(grafana):
    with pytest.raises(GrafanaInputError, match="must be shorter than ttl"):
        run(grafana, ttl="1d", rotation_window="2d")
    assert grafana.calls() == []


# ------------------------------------------------------------------- rotation
def test_rotation_keeps_previous_then_prunes_it_once_expired(grafana):
    run(grafana, ttl="10d", rotation_window="3d")
    grafana.now += dt.timedelta(days=8)
    result = run(grafana, ttl="10d", rotation_window="3d")
    assert result["rotated"] is True and result["token"]["name"] == "ci-r20261207120000"
    assert sorted(grafana.token_names("ci-bot")) == ["ci", "ci-r20261207120000"]
    grafana.now += dt.timedelta(days=2)
    result = run(grafana, ttl="10d", rotation_window="3d")
    assert result["changed"] is True and "key" not in result
    assert result["pruned"] == [{"id": 1, "name": "ci", "reason": "expired"}]
    assert sorted(grafana.token_names("ci-bot")) == ["ci-r20261207120000"]


def test_rotation_without_keep_previous_deletes_old_after_create(grafana):
    run(grafana, ttl="10d", rotation_window="3d")
    grafana.now += dt.timedelta(days=8)
    grafana.log.clear()
    result = run(grafana, ttl="10d", rotation_window="3d", keep_previous=False)
    assert [c.split()[0] for c in grafana.calls()] == ["GET", "GET", "POST", "DELETE"]
    assert result["pruned"] == [{"id": 1, "name": "ci", "reason": "replaced"}]
    assert sorted(grafana.token_names("ci-bot")) == ["ci-r20261207120000"]


def test_two_rotations_in_the_same_second_get_distinct_names(grafana):
    grafana.add_token(1, "ci", -10)
    grafana.add_token(1, "ci-r20261129120000", -5)
    result = run(grafana, prune_expired=False)
    assert result["token"]["name"] == "ci-r20261129120000-01"


def test_foreign_tokens_are_left_alone(grafana):
    grafana.add_token(1, "cia", -10)
    grafana.add_token(1, "ci-other", 30 * DAY, revoked=True)
    run(grafana, keep_previous=False)
    assert sorted(grafana.token_names("ci-bot")) == ["ci", "ci-other", "cia"]


def test_absent_deletes_owned_tokens_only(grafana):
    grafana.add_token(1, "ci", -10)
    grafana.add_token(1, "ci-r20261129110000", 30 * DAY)
    grafana.add_token(1, "cia", 30 * DAY)
    result = run(grafana, state="absent")
    assert result["changed"] is True and result["token"] is None
    assert [p["reason"] for p in result["pruned"]] == ["absent", "absent"]
    assert sorted(grafana.token_names("ci-bot")) == ["cia"]
    result = run(grafana, state="absent")
    assert result["changed"] is False


# ------------------------------------------------------------------- check mode
def test_check_mode_predicts_without_writes_or_key(grafana):
    grafana.add_token(1, "ci", 2 * DAY)
    result = run(
        grafana,
        check_mode=True,
        diff=True,
        rotation_window="7d",
        keep_previous=False,
        key_file=FakeKeyFile(status="present"),
    )
    assert grafana.writes() == []
    assert "key" not in result
    assert (
        result["changed"] is True and result["rotated"] is True and result["dest_written"] is True
    )
    assert result["token"]["name"] == "ci-r20261129120000" and result["token"]["id"] is None
    assert result["pruned"] == [{"id": 1, "name": "ci", "reason": "replaced"}]
    assert [t["name"] for t in result["diff"]["after"]["tokens"]] == ["ci-r20261129120000"]
    assert "would" in result["msg"]


def test_diff_never_contains_the_key(grafana):
    result = run(grafana, diff=True)
    assert result["key"] not in json.dumps(result["diff"])
    assert result["key"] not in result["msg"]


# ------------------------------------------------------------------- delivery
def test_key_is_delivered_when_minted_and_returned_only_on_request(grafana):
    key_file = FakeKeyFile()
    result = run(grafana, key_file=key_file)
    assert "key" not in result and result["dest_written"] is True
    assert len(key_file.written) == 1 and key_file.written[0].startswith("glsa_")
    assert key_file.written[0] not in repr(result)
    key_file = FakeKeyFile()
    result = run(grafana, key_file=key_file, name="other", return_key=True)
    assert key_file.written == [result["key"]]


def test_a_bad_key_file_option_is_refused_before_any_request(grafana):
    with pytest.raises(GrafanaInputError, match="mode 600"):
        run(grafana, key_file=FakeKeyFile(fail="validate"))
    assert grafana.calls() == []


def test_lost_dest_re_mints_and_warns(grafana):
    run(grafana, key_file=FakeKeyFile())
    key_file = FakeKeyFile(status="missing")
    result, client = run_with_client(
        grafana, key_file=key_file, keep_previous=False, return_key=True
    )
    assert result["changed"] is True and result["rotated"] is True
    assert key_file.written == [result["key"]]
    assert result["token"]["name"] == "ci-r20261129120000"
    assert sorted(grafana.token_names("ci-bot")) == ["ci-r20261129120000"]
    assert any("is missing although token 'ci' is still valid" in w for w in client.warnings)


def test_present_dest_is_not_rewritten(grafana):
    run(grafana, key_file=FakeKeyFile())
    key_file = FakeKeyFile(status="present")
    result = run(grafana, key_file=key_file)
    assert result["changed"] is False and key_file.written == [] and key_file.preflights == 0


def test_preflight_failure_stops_before_the_create(grafana):
    with pytest.raises(GrafanaInputError, match="does not exist"):
        run(grafana, key_file=FakeKeyFile(fail="preflight"))
    assert grafana.writes() == []


def test_failed_write_deletes_the_just_minted_token(grafana):
    grafana.add_token(1, "ci", -10)
    with pytest.raises(GrafanaError, match="deleted again") as caught:
        run(grafana, key_file=FakeKeyFile(fail="write"), keep_previous=False)
    assert [c.split()[0] for c in grafana.writes()] == ["POST", "DELETE"]
    assert sorted(grafana.token_names("ci-bot")) == [
        "ci"
    ]  # the planned deletion did not happen either
    assert "glsa_" not in str(caught.value)


def test_write_failure_after_delivery_keeps_the_token(grafana):
    with pytest.raises(GrafanaError, match="The token was kept"):
        run(grafana, key_file=FakeKeyFile(fail="attributes"))
    assert sorted(grafana.token_names("ci-bot")) == ["ci"]


# --------------------------------------------------------------- create errors
def test_ambiguous_5xx_after_effect_deletes_the_orphan(grafana):
    grafana.fault(
        "POST",
        "/tokens",
        suffix=True,
        after_effect=True,
        status=502,
        text="bad gateway",
        content_type="text/plain",
    )
    with pytest.raises(
        GrafanaAPIError, match="its key was lost on the way, so the module deleted token 'ci'"
    ):
        run(grafana)
    assert [c.split()[0] for c in grafana.calls()] == ["GET", "GET", "POST", "GET", "DELETE"]
    assert sorted(grafana.token_names("ci-bot")) == []
    result = run(grafana)  # a rerun mints normally
    assert is_glsa(result["key"]) and sorted(grafana.token_names("ci-bot")) == ["ci"]


def test_ambiguous_timeout_without_effect(grafana):
    grafana.fault(
        "POST", "/tokens", suffix=True, error=requests.exceptions.ReadTimeout("timed out")
    )
    with pytest.raises(GrafanaAPIError, match="Grafana did not create it"):
        run(grafana)
    assert [c.split()[0] for c in grafana.calls()] == [
        "GET",
        "GET",
        "POST",
        "GET",
    ]  # the POST is not retried


def test_ambiguous_failure_with_failing_cleanup_names_the_token(grafana):
    grafana.fault(
        "POST",
        "/tokens",
        suffix=True,
        after_effect=True,
        error=requests.exceptions.ConnectionError("reset"),
    )
    grafana.fault("GET", "/tokens", suffix=True, status=404, body={"message": "nope"}, skip=1)
    with pytest.raises(GrafanaAPIError, match="If token 'ci' exists, nobody holds its key"):
        run(grafana)
    assert sorted(grafana.token_names("ci-bot")) == [
        "ci"
    ]  # the orphan is still there: the message says so


@pytest.mark.parametrize(
    "setup, params, message",
    [
        (
            {"max_ttl": 3600},
            {"ttl": 0},
            r"requires every token to expire .\[auth\] api_key_max_seconds_to_live",
        ),
        ({"max_ttl": 3600}, {"ttl": "2h"}, r"longer than the maximum token lifetime .*Lower ttl"),
        (
            {"day_limit": 7},
            {"ttl": "30d"},
            r"at most a set number of days .\[service_accounts\] "
            r"token_expiration_day_limit.\. Lower ttl.*Grafana said: .*The expiration date",
        ),
        ({"duplicate_status": 400}, {}, r"unique per organization across all service accounts"),
        (
            {"duplicate_status": 409},
            {},
            r"held by another service account than service account 'ci-bot'",
        ),
    ],
)
def test_create_errors_are_explained(grafana, setup, params, message):
    for attribute, value in setup.items():
        setattr(grafana, attribute, value)
    if "duplicate_status" in setup:
        grafana.add_token(2, "ci", 30 * DAY)
    with pytest.raises(GrafanaAPIError, match=message) as caught:
        run(grafana, **params)
    assert caught.value.status in (400, 409)
    assert len(grafana.writes()) == 1  # the one refused POST


def test_deletion_failure_after_a_mint_is_a_warning_not_a_lost_key(grafana):
    grafana.add_token(1, "ci", -10)
    grafana.fault("DELETE", "/tokens/1", suffix=True, status=403, body={"message": "denied"})
    result, client = run_with_client(grafana)
    assert is_glsa(result["key"])
    assert result["pruned"] == []
    assert any("Could not delete expired token 'ci'" in w for w in client.warnings)


def test_deletion_failure_without_a_mint_fails(grafana):
    grafana.add_token(1, "ci", -10)
    grafana.add_token(1, "ci-r20261129110000", 30 * DAY)
    grafana.fault("DELETE", "/tokens/1", suffix=True, status=403, body={"message": "denied"})
    with pytest.raises(GrafanaAPIError, match="HTTP 403"):
        run(grafana)


# ------------------------------------------------------------------- clock
def test_server_clock_decides_not_the_local_one(grafana):
    """The fake's clock is years away from the machine's: only the Date header counts."""
    grafana.now = dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc)
    grafana.add_token(1, "ci", 10 * DAY)
    result = run(grafana, rotation_window="7d")
    assert result["changed"] is False
    grafana.now += dt.timedelta(days=4)
    result = run(grafana, rotation_window="7d")
    assert result["rotated"] is True and result["token"]["name"] == "ci-r20310105000000"
