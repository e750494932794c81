# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils._duration import format_duration, parse_duration
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import GrafanaInputError


@pytest.mark.parametrize("value, seconds", [
    (0, 0), (90, 90), ("90", 90), ("90s", 90), ("90m", 5400), ("12h", 43200), ("30d", 2592000),
    ("1w", 604800), ("1h30m", 5400), (" 2D ", 172800), (3600.0, 3600), ("1d 12h", 129600),
])
def test_valid_durations(value, seconds):
    assert parse_duration(value, "ttl") == seconds


@pytest.mark.parametrize("value", ["-5", -5, "abc", "5x", "", "1.5h", True, "h", 1.5, "30 days"])
def test_invalid_durations_name_the_option_and_the_forms(value):
    with pytest.raises(GrafanaInputError) as err:
        parse_duration(value, "rotation_window")
    assert str(err.value).startswith("rotation_window:")
    assert "90m" in str(err.value)


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (59, "59s"), (5400, "1h30m"), (90061, "1d1h1m1s")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
