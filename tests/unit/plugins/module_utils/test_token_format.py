# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils._token_format import (
    glsa_checksum,
    is_glsa,
    legacy_key_name,
    redact,
)

VECTOR = "glsa_iNValIdinValiDinvalidinvalidinva_5b582697"  # Grafana's own tokengen test vector


def test_grafana_test_vector_validates():
    assert glsa_checksum("glsa_iNValIdinValiDinvalidinvalidinva") == "5b582697"
    assert is_glsa(VECTOR)


@pytest.mark.parametrize(
    "token",
    [
        VECTOR[:-1] + "8",
        VECTOR.replace("glsa_", "glsb_"),
        VECTOR + "_x",
        VECTOR[:20],
        "",
        "glsa__5b582697",
    ],
)
def test_broken_tokens_do_not_validate(token):
    assert not is_glsa(token)


def test_legacy_key_is_recognised():
    key = base64.b64encode(json.dumps({"k": "a" * 32, "n": "ci", "id": 1}).encode()).decode()
    assert legacy_key_name(key) == "ci"
    assert legacy_key_name(VECTOR) is None
    assert legacy_key_name("not base64!") is None


@pytest.mark.parametrize(
    "token, shown",
    [(VECTOR, "glsa_iN\u2026(redacted)"), (None, "(none)"), ("short", "s\u2026(redacted)")],
)
def test_redact_keeps_only_a_prefix(token, shown):
    assert redact(token) == shown
