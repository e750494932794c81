# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""diagnose: a bad base URL is named by its option before any probe (found by reliability_bad_input)."""

from __future__ import annotations

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils._diagnose import (
    check_urls,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaInputError,
)


@pytest.mark.parametrize(
    "params,option",
    [
        ({"url": "localhost:3000"}, "url:"),
        (
            {"url": "http://127.0.0.1:3000", "proxy_urls": ["proxy.example.com/grafana"]},
            "proxy_urls[0]:",
        ),
        (
            {"url": "http://127.0.0.1:3000", "proxy_urls": ["https://ok.example.com", "ftp://x"]},
            "proxy_urls[1]:",
        ),
    ],
)
def test_bad_base_url_names_its_option(params, option):
    with pytest.raises(GrafanaInputError) as err:
        check_urls(params)
    assert str(err.value).startswith(option)
    assert "http" in str(err.value)


def test_good_urls_pass():
    check_urls(
        {"url": "http://127.0.0.1:3000/grafana", "proxy_urls": ["https://grafana.example.com/"]}
    )
