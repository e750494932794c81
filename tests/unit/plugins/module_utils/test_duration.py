# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils._duration import (
    format_duration,
    parse_duration,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaInputError,
)


@pytest.mark.parametrize(
    "value, seconds",
    [
        (0, 0),
        (90, 90),
        ("90", 90),
        ("90s", 90),
        ("90m", 5400),
        ("12h", 43200),
        ("30d", 2592000),
        ("1w", 604800),
        ("1h30m", 5400),
        (" 2D ", 172800),
        (3600.0, 3600),
        ("1d 12h", 129600),
    ],
)
def test_valid_durations(value, seconds):
    assert parse_duration(value, "ttl") == seconds


@pytest.mark.parametrize("value", ["-5", -5, "abc", "5x", "", "1.5h", True, "h", 1.5, "30 days"])
def test_invalid_durations_name_the_option_and_the_forms(value):
    with pytest.raises(GrafanaInputError) as err:
        parse_duration(value, "rotation_window")
    assert str(err.value).startswith("rotation_window:")
    assert "90m" in str(err.value)


@pytest.mark.parametrize(
    "seconds, text", [(0, "0s"), (59, "59s"), (5400, "1h30m"), (90061, "1d1h1m1s")]
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    "value",
    [
        "3000000d",
        "9" * 20,
        "9" * 5000,
        10**30,
        "15251w",
        9223372037,
        "1000000000000000000000s",
        1e300,
    ],
)
def test_durations_beyond_grafanas_limit_are_refused(value):
    with pytest.raises(GrafanaInputError) as err:
        parse_duration(value, "ttl")
    assert str(err.value).startswith("ttl: ") and "at most 9223372036 seconds" in str(err.value)
    assert len(str(err.value)) < 400  # a 5000-digit value is not echoed whole


@pytest.mark.parametrize("value", [float("inf"), float("nan"), -1e300])
def test_non_finite_durations_are_refused(value):
    with pytest.raises(GrafanaInputError, match="^expiring_within: "):
        parse_duration(value, "expiring_within")


def test_the_longest_duration_grafana_can_compute_is_accepted():
    assert parse_duration("15250w", "ttl") == 15250 * 604800
    assert parse_duration(9223372036, "ttl") == 9223372036


def test_an_unprintably_long_integer_is_refused_without_a_crash():
    with pytest.raises(GrafanaInputError, match="^ttl: 'a number that large' is too long"):
        parse_duration(10**5000, "ttl")
