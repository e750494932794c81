# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Table-driven tests of the pure token planner, the rotation suffix and option validation."""

from __future__ import annotations

import datetime as dt

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaInputError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_plan import (
    TokenSpec,
    owned_tokens,
    plan_token,
    rotation_name,
    token_spec,
)

NOW = dt.datetime(2026, 11, 29, 12, 0, 0, tzinfo=dt.timezone.utc)
DAY = 86400
SUFFIX = "ci-r20261129120000"


def tok(token_id, name, left=30 * DAY, revoked=False, has_expired=None):
    """A token as Grafana lists it; ``left`` seconds from NOW (None = never expires)."""
    expiration = None
    if left is not None:
        expiration = (NOW + dt.timedelta(seconds=left)).strftime("%Y-%m-%dT%H:%M:%SZ")
    expired = left is not None and left <= 0 if has_expired is None else has_expired
    return {
        "id": token_id,
        "name": name,
        "created": "2026-10-01T00:00:00Z",
        "lastUsedAt": None,
        "expiration": expiration,
        "secondsUntilExpiration": 0,
        "hasExpired": expired,
        "isRevoked": revoked,
    }


def spec(**kwargs):
    values = dict(
        name="ci", ttl=30 * DAY, rotation_window=7 * DAY, keep_previous=True, prune_expired=True
    )
    values.update(kwargs)
    return TokenSpec(**values)


def summary(plan):
    """(minted name, mint reason, current name, [(deleted name, reason)])."""
    return (
        plan.mint.name if plan.mint else None,
        plan.mint.reason if plan.mint else None,
        plan.current.get("name") if plan.current else None,
        [(d.token["name"], d.reason) for d in plan.deletions],
    )


# (id, tokens, spec overrides, dest_missing, expected summary, rotated)
CASES = [
    ("no token", [], {}, False, ("ci", "missing", None, []), False),
    ("valid token", [tok(1, "ci")], {}, False, (None, None, "ci", []), False),
    (
        "expired, pruned",
        [tok(1, "ci", left=-60)],
        {},
        False,
        (SUFFIX, "expired", None, [("ci", "expired")]),
        True,
    ),
    (
        "expired, not pruned",
        [tok(1, "ci", left=-60)],
        {"prune_expired": False},
        False,
        (SUFFIX, "expired", None, []),
        True,
    ),
    (
        "expiry exactly now counts as expired",
        [tok(1, "ci", left=0)],
        {},
        False,
        (SUFFIX, "expired", None, [("ci", "expired")]),
        True,
    ),
    (
        "server says hasExpired",
        [tok(1, "ci", left=DAY, has_expired=True)],
        {},
        False,
        (SUFFIX, "expired", None, [("ci", "expired")]),
        True,
    ),
    (
        "revoked, pruned",
        [tok(1, "ci", revoked=True)],
        {},
        False,
        (SUFFIX, "revoked", None, [("ci", "revoked")]),
        True,
    ),
    (
        "revoked, not pruned",
        [tok(1, "ci", revoked=True)],
        {"prune_expired": False},
        False,
        (SUFFIX, "revoked", None, []),
        True,
    ),
    (
        "inside window, keep previous",
        [tok(1, "ci", left=3 * DAY)],
        {},
        False,
        (SUFFIX, "rotation", None, []),
        True,
    ),
    (
        "inside window, do not keep previous",
        [tok(1, "ci", left=3 * DAY)],
        {"keep_previous": False},
        False,
        (SUFFIX, "rotation", None, [("ci", "replaced")]),
        True,
    ),
    ("just outside window", [tok(1, "ci", left=7 * DAY)], {}, False, (None, None, "ci", []), False),
    (
        "window 0 never rotates early",
        [tok(1, "ci", left=1)],
        {"rotation_window": 0},
        False,
        (None, None, "ci", []),
        False,
    ),
    (
        "ttl 0 token never in window",
        [tok(1, "ci", left=None)],
        {"ttl": 0},
        False,
        (None, None, "ci", []),
        False,
    ),
    (
        "newest valid is current, older kept",
        [tok(1, "ci", left=2 * DAY), tok(2, SUFFIX)],
        {},
        False,
        (None, None, SUFFIX, []),
        False,
    ),
    (
        "newest valid is current, older retired",
        [tok(1, "ci", left=2 * DAY), tok(2, SUFFIX)],
        {"keep_previous": False},
        False,
        (None, None, SUFFIX, [("ci", "replaced")]),
        False,
    ),
    (
        "expired previous pruned, current kept",
        [tok(1, "ci", left=-DAY), tok(2, SUFFIX)],
        {},
        False,
        (None, None, SUFFIX, [("ci", "expired")]),
        False,
    ),
    (
        "expired previous kept without prune",
        [tok(1, "ci", left=-DAY), tok(2, SUFFIX)],
        {"prune_expired": False},
        False,
        (None, None, SUFFIX, []),
        False,
    ),
    (
        "keep_previous false deletes dead ones too",
        [tok(1, "ci", revoked=True), tok(2, SUFFIX)],
        {"keep_previous": False, "prune_expired": False},
        False,
        (None, None, SUFFIX, [("ci", "revoked")]),
        False,
    ),
    (
        "revoked newest falls back to older valid",
        [tok(1, "ci"), tok(2, SUFFIX, revoked=True)],
        {},
        False,
        (None, None, "ci", [(SUFFIX, "revoked")]),
        False,
    ),
    (
        "foreign tokens ignored",
        [
            tok(1, "cia", left=-DAY),
            tok(2, "ci-other", left=-DAY),
            tok(3, "ci-r2026", left=-DAY),
            tok(4, "other"),
            tok(5, "xci-r20261129120000", left=-DAY),
        ],
        {},
        False,
        ("ci", "missing", None, []),
        False,
    ),
    (
        "dest missing re-mints, old kept",
        [tok(1, "ci")],
        {},
        True,
        (SUFFIX, "dest_missing", None, []),
        True,
    ),
    (
        "dest missing re-mints, old retired",
        [tok(1, "ci")],
        {"keep_previous": False},
        True,
        (SUFFIX, "dest_missing", None, [("ci", "replaced")]),
        True,
    ),
    (
        "dest missing without token is a first mint",
        [],
        {},
        True,
        ("ci", "missing", None, []),
        False,
    ),
    (
        "suffix taken in the same second",
        [tok(1, "ci", left=-DAY), tok(2, SUFFIX, left=-1)],
        {},
        False,
        (SUFFIX + "-01", "expired", None, [("ci", "expired"), (SUFFIX, "expired")]),
        True,
    ),
    (
        "plain name reused once it is gone",
        [tok(1, SUFFIX + "-01", left=-DAY)],
        {},
        False,
        ("ci", "expired", None, [(SUFFIX + "-01", "expired")]),
        True,
    ),
    (
        "absent deletes every owned token",
        [
            tok(1, "ci", left=-DAY),
            tok(2, SUFFIX, revoked=True),
            tok(3, SUFFIX + "-01"),
            tok(4, "other"),
        ],
        {"state": "absent"},
        False,
        (None, None, None, [("ci", "absent"), (SUFFIX, "absent"), (SUFFIX + "-01", "absent")]),
        False,
    ),
    (
        "absent with nothing owned",
        [tok(4, "other")],
        {"state": "absent"},
        False,
        (None, None, None, []),
        False,
    ),
]


@pytest.mark.parametrize(
    "tokens, overrides, dest_missing, expected, rotated",
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_plan(tokens, overrides, dest_missing, expected, rotated):
    plan = plan_token(tokens, spec(**overrides), NOW, dest_missing=dest_missing)
    assert summary(plan) == expected
    assert plan.rotated is rotated
    assert plan.changed is (expected[0] is not None or bool(expected[3]))


def test_plan_is_pure_and_does_not_touch_its_input():
    tokens = [tok(1, "ci", left=3 * DAY), tok(2, "other")]
    snapshot = [dict(t) for t in tokens]
    first = summary(plan_token(tokens, spec(keep_previous=False), NOW))
    assert summary(plan_token(tokens, spec(keep_previous=False), NOW)) == first
    assert tokens == snapshot


def test_minted_token_prediction_has_expiration_from_server_clock_and_ttl():
    plan = plan_token([], spec(ttl=12 * 3600), NOW)
    predicted = plan.predicted_token()
    assert predicted["name"] == "ci"
    assert predicted["expiration"] == "2026-11-30T00:00:00Z"
    assert predicted["seconds_left"] == 12 * 3600
    assert "key" not in predicted


def test_ttl_zero_prediction_never_expires():
    predicted = plan_token([], spec(ttl=0, rotation_window=0), NOW).predicted_token()
    assert predicted["expiration"] is None and predicted["seconds_left"] is None


def test_diff_lists_names_and_expirations_only():
    plan = plan_token([tok(1, "ci", left=3 * DAY)], spec(keep_previous=False), NOW)
    assert plan.before() == [{"name": "ci", "expiration": "2026-12-02T12:00:00Z", "state": "valid"}]
    assert plan.after() == [
        {"name": SUFFIX, "expiration": "2026-12-29T12:00:00Z", "state": "valid"}
    ]


def test_owned_tokens_sorted_by_id_not_by_clock():
    tokens = [tok(7, SUFFIX), tok(3, "ci"), tok(9, "nope")]
    assert [t["id"] for t in owned_tokens(tokens, "ci")] == [3, 7]


def test_name_with_regex_characters_is_literal():
    tokens = [tok(1, "a.b"), tok(2, "axb")]
    assert [t["name"] for t in owned_tokens(tokens, "a.b")] == ["a.b"]


@pytest.mark.parametrize(
    "taken, expected",
    [
        ((), SUFFIX),
        ((SUFFIX,), SUFFIX + "-01"),
        ((SUFFIX, SUFFIX + "-01"), SUFFIX + "-02"),
    ],
)
def test_rotation_name(taken, expected):
    assert rotation_name("ci", NOW, taken) == expected


def test_rotation_names_sort_by_time():
    same_second = rotation_name("ci", NOW, [SUFFIX])
    next_second = rotation_name("ci", NOW + dt.timedelta(seconds=1), [])
    names = [next_second, same_second, SUFFIX]
    assert sorted(names) == [SUFFIX, same_second, next_second]


def test_rotation_name_uses_utc():
    local = NOW.astimezone(dt.timezone(dt.timedelta(hours=5)))
    assert rotation_name("ci", local, ()) == SUFFIX


def test_rotation_name_gives_up_after_99():
    taken = [SUFFIX] + [f"{SUFFIX}-{n:02d}" for n in range(1, 100)]
    with pytest.raises(GrafanaInputError, match="More than 99"):
        rotation_name("ci", NOW, taken)


# ---------------------------------------------------------------- token_spec
@pytest.mark.parametrize(
    "params, expected",
    [
        ({"name": "ci"}, TokenSpec("ci", "present", 30 * DAY, 0, True, True)),
        (
            {
                "name": "ci",
                "ttl": "12h",
                "rotation_window": "90m",
                "keep_previous": False,
                "prune_expired": False,
                "state": "absent",
            },
            TokenSpec("ci", "absent", 12 * 3600, 5400, False, False),
        ),
        (
            {"name": "ci", "ttl": 0, "rotation_window": "7d"},
            TokenSpec("ci", "present", 0, 7 * DAY, True, True),
        ),
        (
            {"name": "ci", "ttl": "3600", "rotation_window": 3599},
            TokenSpec("ci", "present", 3600, 3599, True, True),
        ),
    ],
)
def test_token_spec(params, expected):
    assert token_spec(params) == expected


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"name": "ci", "ttl": "7d", "rotation_window": "7d"},
            "rotation_window .7d. must be shorter than ttl .7d.",
        ),
        ({"name": "ci", "ttl": "1d", "rotation_window": "30d"}, "must be shorter than ttl"),
        ({"name": "ci", "ttl": "soon"}, "ttl: 'soon' is not a valid duration"),
        ({"name": "ci", "rotation_window": -5}, "rotation_window"),
        ({"name": " "}, "name"),
    ],
)
def test_token_spec_errors(params, message):
    with pytest.raises(GrafanaInputError, match=message):
        token_spec(params)
