# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan/compare logic and the ensure paths of ``_service_account``, at the client's request seam."""

from __future__ import annotations

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaAPIError,
    GrafanaConnectionError,
    GrafanaInputError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_account import (
    AccountSpec,
    ServiceAccountManager,
    changes_for,
    compared,
    create_body,
    generate_login,
    is_already_exists,
    major_version,
    merge_update,
    patch_body,
    predicted_account,
)
from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import (
    SA,
    FakeGrafana,
    api_error,
)

SEARCH = f"GET {SA}/search"
CREATE = f"POST {SA}"


def spec(name="ci", state="present", role=None, disabled=None):
    return AccountSpec.from_params(dict(name=name, state=state, role=role, disabled=disabled))


# ------------------------------------------------------------------ pure logic
@pytest.mark.parametrize(
    "current, role, disabled, expected",
    [
        ({"role": "Viewer", "isDisabled": False}, None, None, {}),
        ({"role": "Viewer", "isDisabled": False}, "viewer", False, {}),
        ({"role": "Viewer", "isDisabled": False}, "EDITOR", None, {"role": "Editor"}),
        ({"role": "Viewer", "isDisabled": False}, None, True, {"isDisabled": True}),
        (
            {"role": "Admin", "isDisabled": True},
            "none",
            False,
            {"role": "None", "isDisabled": False},
        ),
        ({"role": "Admin"}, None, False, {}),  # a missing isDisabled means enabled
    ],
)
def test_changes_for(current, role, disabled, expected):
    assert changes_for(current, spec(role=role, disabled=disabled)) == expected


@pytest.mark.parametrize(
    "current, changes, expected",
    [
        (
            {"id": 1, "name": "ci", "role": "Viewer", "isDisabled": False, "tokens": 2},
            {"role": "Admin"},
            {"name": "ci", "role": "Admin", "isDisabled": False},
        ),
        (
            {"id": 1, "name": "ci", "role": "Editor", "isDisabled": False},
            {"isDisabled": True},
            {"name": "ci", "role": "Editor", "isDisabled": True},
        ),
    ],
)
def test_patch_body_is_always_the_full_object(current, changes, expected):
    assert patch_body(current, changes) == expected


@pytest.mark.parametrize(
    "role, disabled, expected",
    [
        (None, None, {"name": "ci", "isDisabled": False}),
        ("admin", True, {"name": "ci", "isDisabled": True, "role": "Admin"}),
    ],
)
def test_create_body(role, disabled, expected):
    assert create_body(spec(role=role, disabled=disabled)) == expected


@pytest.mark.parametrize(
    "org, name, login",
    [
        (1, "CI Deployer", "sa-1-ci-deployer"),
        (2, "a  b", "sa-2-a--b"),
        (1, "-lead", "sa-1-lead"),  # Grafana collapses only the first "--"
        (3, "x--y", "sa-3-x-y"),
    ],
)
def test_generate_login(org, name, login):
    assert generate_login(org, name) == login


@pytest.mark.parametrize(
    "org_id, expected",
    [
        (None, {"name": "ci", "isDisabled": False, "role": "Viewer", "tokens": 0}),
        (2, {"name": "ci", "orgId": 2, "isDisabled": False, "role": "Viewer", "tokens": 0}),
    ],
)
def test_predicted_account(org_id, expected):
    assert predicted_account(spec(), org_id) == expected


@pytest.mark.parametrize(
    "status, message, message_id, expected",
    [
        (400, "service account already exists", "serviceaccounts.ErrAlreadyExists", True),
        (400, "Failed to create service account", None, True),  # 9.x
        (400, "invalid role specified", "serviceaccounts.ErrInvalidRoleSpecified", False),
        (500, "service account already exists", None, False),
    ],
)
def test_is_already_exists(status, message, message_id, expected):
    err = GrafanaAPIError("x", status=status, message=message, message_id=message_id)
    assert is_already_exists(err) is expected


@pytest.mark.parametrize(
    "version, major", [("9.5.21", 9), ("v10.4.0", 10), ("12.2.0-pre", 12), ("", None), (None, None)]
)
def test_major_version(version, major):
    assert major_version(version) == major


def test_merge_update_takes_grafanas_confirmed_values_and_keeps_the_search_shape():
    current = {"id": 3, "name": "ci", "role": "Viewer", "isDisabled": False, "tokens": 1}
    sent = {"name": "ci", "role": "Editor", "isDisabled": False}
    body = {"serviceaccount": {"name": "ci", "role": "Editor", "isDisabled": False, "teams": None}}
    assert merge_update(current, sent, body) == {**current, "role": "Editor"}
    assert merge_update(current, sent, None) == {**current, "role": "Editor"}


@pytest.mark.parametrize(
    "params, fragment",
    [
        (dict(name=""), "non-empty"),
        (dict(name="   "), "non-empty"),
        (dict(name="ci", role="superuser"), "not a Grafana role"),
        (dict(name="ci", state="gone"), "present or absent"),
    ],
)
def test_bad_options_are_rejected_before_any_request(params, fragment):
    with pytest.raises(GrafanaInputError, match=fragment):
        AccountSpec.from_params(params)


def test_compared_keeps_only_the_managed_fields():
    assert compared({"id": 1, "name": "a", "role": "Admin", "isDisabled": True, "tokens": 3}) == {
        "name": "a",
        "role": "Admin",
        "isDisabled": True,
    }
    assert compared(None) == {}


# ------------------------------------------------------------------ ensure: budgets and results
def _existing(fake, **kwargs):
    fake.add("ci", **kwargs)
    fake.add("ci-other")  # a substring match that must not be taken for "ci"


ENSURE_CASES = [
    # id, setup, spec kwargs, expected calls, changed, action, expected managed fields after
    (
        "create",
        None,
        dict(role="editor"),
        [SEARCH, CREATE],
        True,
        "created",
        {"name": "ci", "role": "Editor", "isDisabled": False},
    ),
    (
        "create-default-role",
        None,
        dict(),
        [SEARCH, CREATE],
        True,
        "created",
        {"name": "ci", "role": "Viewer", "isDisabled": False},
    ),
    (
        "unchanged",
        dict(role="Editor"),
        dict(role="Editor", disabled=False),
        [SEARCH],
        False,
        "unchanged",
        {"name": "ci", "role": "Editor", "isDisabled": False},
    ),
    (
        "role-left-alone",
        dict(role="Admin"),
        dict(),
        [SEARCH],
        False,
        "unchanged",
        {"name": "ci", "role": "Admin", "isDisabled": False},
    ),
    (
        "update-role",
        dict(role="Viewer"),
        dict(role="ADMIN"),
        [SEARCH, f"PATCH {SA}/1"],
        True,
        "updated",
        {"name": "ci", "role": "Admin", "isDisabled": False},
    ),
    (
        "disable",
        dict(),
        dict(disabled=True),
        [SEARCH, f"PATCH {SA}/1"],
        True,
        "updated",
        {"name": "ci", "role": "Viewer", "isDisabled": True},
    ),
    (
        "enable",
        dict(disabled=True),
        dict(disabled=False),
        [SEARCH, f"PATCH {SA}/1"],
        True,
        "updated",
        {"name": "ci", "role": "Viewer", "isDisabled": False},
    ),
    ("delete", dict(), dict(state="absent"), [SEARCH, f"DELETE {SA}/1"], True, "deleted", {}),
    ("delete-absent", None, dict(state="absent"), [SEARCH], False, "absent", {}),
]


@pytest.mark.parametrize(
    "setup, kwargs, calls, changed, action, after",
    [case[1:] for case in ENSURE_CASES],
    ids=[case[0] for case in ENSURE_CASES],
)
def test_ensure_paths_and_request_budget(setup, kwargs, calls, changed, action, after):
    fake = FakeGrafana()
    if setup is not None:
        _existing(fake, **setup)
    outcome = ServiceAccountManager(fake.client()).ensure(spec(**kwargs))
    assert fake.calls() == calls
    assert (outcome.changed, outcome.action, outcome.after) == (changed, action, after)
    if after:
        stored = [a for a in fake.accounts.values() if a["name"] == "ci"]
        assert len(stored) == 1 and compared(stored[0]) == after
        assert outcome.account["id"] == stored[0]["id"]
    else:
        assert outcome.account == {} and all(a["name"] != "ci" for a in fake.accounts.values())


@pytest.mark.parametrize(
    "setup, kwargs, calls, changed, action, after",
    [case[1:] for case in ENSURE_CASES],
    ids=[case[0] for case in ENSURE_CASES],
)
def test_check_mode_predicts_the_real_result_without_writing(
    setup, kwargs, calls, changed, action, after
):
    real, dry = FakeGrafana(), FakeGrafana()
    if setup is not None:
        _existing(real, **setup)
        _existing(dry, **setup)
    before = {k: dict(v) for k, v in dry.accounts.items()}
    predicted = ServiceAccountManager(dry.client(), check_mode=True).ensure(spec(**kwargs))
    done = ServiceAccountManager(real.client()).ensure(spec(**kwargs))
    assert dry.calls() == [SEARCH] and dry.accounts == before
    assert (predicted.changed, predicted.before, predicted.after) == (
        done.changed,
        done.before,
        done.after,
    )
    unknown_before_create = {"id", "uid", "login", "orgId", "avatarUrl"}
    assert predicted.account == {
        k: v
        for k, v in done.account.items()
        if action != "created" or k not in unknown_before_create
    }


def test_patch_sends_the_full_object():
    fake = FakeGrafana()
    _existing(fake, role="Viewer", disabled=True)
    ServiceAccountManager(fake.client()).ensure(spec(role="Editor"))
    assert fake.log[-1]["body"] == {"name": "ci", "role": "Editor", "isDisabled": True}


def test_org_id_goes_in_the_header_of_every_request():
    fake = FakeGrafana()
    ServiceAccountManager(fake.client(org_id=2)).ensure(spec(role="Editor"))
    assert [entry["headers"].get("X-Grafana-Org-Id") for entry in fake.log] == ["2", "2"]


# ------------------------------------------------------------------ ambiguous creates
AMBIGUOUS = [
    ("500-after-effect", dict(status=500, after_effect=True), True),
    ("502-after-effect", dict(status=502, after_effect=True), True),
    ("drop-after-effect", dict(drop=True, after_effect=True), True),
    ("500-no-effect", dict(status=500), False),
    ("drop-no-effect", dict(drop=True), False),
]


@pytest.mark.parametrize(
    "fault, happened", [case[1:] for case in AMBIGUOUS], ids=[case[0] for case in AMBIGUOUS]
)
def test_ambiguous_create_is_adopted_or_fails_with_the_original_error(fault, happened):
    fake = FakeGrafana()
    fake.fault("POST", SA, **fault)
    manager = ServiceAccountManager(fake.client())
    if happened:
        outcome = manager.ensure(spec(role="Editor"))
        assert (outcome.changed, outcome.action, outcome.before) == (True, "adopted", {})
        assert outcome.account["role"] == "Editor"
    else:
        expected = GrafanaConnectionError if fault.get("drop") else GrafanaAPIError
        with pytest.raises(expected) as caught:
            manager.ensure(spec(role="Editor"))
        assert caught.value.method == "POST"
    assert fake.calls() == [SEARCH, CREATE, SEARCH]
    assert len([a for a in fake.accounts.values() if a["name"] == "ci"]) == (1 if happened else 0)


def test_adopted_account_is_corrected_when_it_differs():
    fake = FakeGrafana()
    # the create "failed" but a Viewer account exists afterwards (e.g. the server ignored the role)
    fake.fault("POST", SA, status=500, effect=lambda: fake.add("ci", role="Viewer"))
    outcome = ManagerRun(fake).ensure(role="Admin")
    assert outcome.action == "adopted" and outcome.account["role"] == "Admin"
    assert fake.calls() == [SEARCH, CREATE, SEARCH, f"PATCH {SA}/1"]


def test_create_race_already_exists_is_adopted_and_updated():
    fake = FakeGrafana()
    fake.fault(
        "POST",
        SA,
        **api_error(400, "service account already exists", "serviceaccounts.ErrAlreadyExists"),
        effect=lambda: fake.add("ci", role="Viewer"),
    )
    outcome = ManagerRun(fake).ensure(role="Editor")
    assert (outcome.changed, outcome.action) == (True, "updated")
    assert outcome.before == {"name": "ci", "role": "Viewer", "isDisabled": False}
    assert fake.accounts[1]["role"] == "Editor" and len(fake.accounts) == 1


def test_create_race_with_nothing_to_change_reports_unchanged():
    fake = FakeGrafana()
    fake.fault(
        "POST",
        SA,
        **api_error(400, "service account already exists", "serviceaccounts.ErrAlreadyExists"),
        effect=lambda: fake.add("ci", role="Editor"),
    )
    outcome = ManagerRun(fake).ensure(role="Editor")
    assert (outcome.changed, outcome.action) == (False, "unchanged")
    assert fake.writes() == [CREATE]


def test_login_collision_with_another_name_is_explained():
    fake = FakeGrafana()
    fake.add("CI Bot")  # login sa-1-ci-bot, which "ci bot" would also get
    with pytest.raises(GrafanaAPIError, match="differ only in case or space-versus-dash") as caught:
        ManagerRun(fake).ensure(name="ci-bot")
    assert (
        caught.value.status == 400 and caught.value.message_id == "serviceaccounts.ErrAlreadyExists"
    )
    assert len(fake.accounts) == 1


# ------------------------------------------------------------------ role refusals
@pytest.mark.parametrize(
    "version, existing, fails",
    [
        ("9.5.21", False, True),
        ("9.5.21", True, True),
        ("10.4.3", False, False),
        ("12.2.0", True, False),
    ],
)
def test_role_none_on_9x_names_the_version_limit(version, existing, fails):
    fake = FakeGrafana(version)
    if existing:
        fake.add("ci")
    if not fails:
        assert ManagerRun(fake).ensure(role="none").account["role"] == "None"
        assert "GET /api/health" not in fake.calls()
        return
    with pytest.raises(GrafanaAPIError) as caught:
        ManagerRun(fake).ensure(role="none")
    assert "role None needs Grafana 10.x or later" in str(caught.value)
    assert version in str(caught.value) and caught.value.status == 400
    assert fake.calls()[-1] == "GET /api/health"
    assert "Authorization" not in fake.log[-1]["headers"]


def test_invalid_role_on_a_10x_server_keeps_grafanas_error():
    fake = FakeGrafana("10.4.3")
    fake.fault(
        "POST",
        SA,
        **api_error(400, "invalid role specified", "serviceaccounts.ErrInvalidRoleSpecified"),
    )
    with pytest.raises(GrafanaAPIError) as caught:
        ManagerRun(fake).ensure(role="None")
    assert "needs Grafana 10.x" not in str(caught.value) and "invalid role specified" in str(
        caught.value
    )


@pytest.mark.parametrize("existing", [False, True])
def test_role_higher_than_callers_is_explained(existing):
    fake = FakeGrafana()
    if existing:
        fake.add("ci")
    method = "PATCH" if existing else "POST"
    path = f"{SA}/1" if existing else SA
    fake.fault(
        method,
        path,
        **api_error(
            403, "can not assign a role higher than user's role", "serviceaccounts.ErrRoleForbidden"
        ),
    )
    with pytest.raises(GrafanaAPIError, match="use an org Admin") as caught:
        ManagerRun(fake).ensure(role="Admin")
    assert caught.value.status == 403 and "role Admin" in str(caught.value)


def test_error_messages_carry_no_credential():
    fake = FakeGrafana()
    fake.fault("POST", SA, status=500, body={"message": "admin-secret leaked"})
    with pytest.raises(GrafanaAPIError) as caught:
        ManagerRun(fake).ensure(role="Editor")
    assert "admin-secret" not in str(caught.value)


def test_delete_of_an_account_removed_meanwhile_is_not_an_error():
    fake = FakeGrafana()
    fake.add("ci")
    fake.fault(
        "DELETE",
        f"{SA}/1",
        **api_error(404, "service account not found", "serviceaccounts.ErrNotFound"),
    )
    assert ManagerRun(fake).ensure(state="absent").action == "deleted"


def test_a_given_current_skips_the_search():
    fake = FakeGrafana()
    current = fake.add("ci")
    outcome = ServiceAccountManager(fake.client()).ensure(spec(role="Editor"), current=current)
    assert fake.calls() == [f"PATCH {SA}/1"] and outcome.account["role"] == "Editor"
    fresh = ServiceAccountManager(fake.client()).ensure(spec(name="new"), current=None)
    assert fresh.action == "created" and fake.calls()[-1] == f"POST {SA}"


class ManagerRun:
    """``ensure`` on a fresh client of ``fake`` with spec keyword arguments."""

    def __init__(self, fake, check_mode=False):
        self.manager = ServiceAccountManager(fake.client(), check_mode)

    def ensure(self, **kwargs):
        kwargs.setdefault("name", "ci")
        return self.manager.ensure(spec(**kwargs))
