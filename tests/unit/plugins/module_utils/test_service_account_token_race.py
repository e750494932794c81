# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two runs minting the same token at once: the loser says so (found by reliability_faults)."""

from __future__ import annotations

import pytest

from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaAPIError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_account_token import (
    ensure_token,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_plan import (
    token_spec,
)
from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import (
    ANSWER_DATE,
    DAY,
    SA,
    FakeGrafana,
)

DUPLICATE = {
    400: "service account token with given name already exists in the organization",
    409: "service account token rf-tok already exists",
}


def racing(status, winner_account=True):
    """Lists no token, then refuses the create as a duplicate; the second listing has it
    (another run minted it meanwhile), or - without ``winner_account`` - another account holds it."""
    grafana = FakeGrafana(now=ANSWER_DATE)
    grafana.add("rf-acct", account_id=3)
    if winner_account:
        grafana.fault(
            "POST",
            f"{SA}/3/tokens",
            status=status,
            body={"message": DUPLICATE[status]},
            effect=lambda: grafana.add_token(3, "rf-tok", None),
        )
    else:
        grafana.add("elsewhere", account_id=4)
        grafana.add_token(4, "rf-tok", None)
    return grafana


@pytest.mark.parametrize("status", [400, 409])
def test_the_loser_of_a_race_says_another_run_created_it(status):
    grafana = racing(status)
    spec = token_spec({"name": "rf-tok", "ttl": "30d", "state": "present"})
    with pytest.raises(GrafanaAPIError) as err:
        ensure_token(grafana.client(), {"id": 3, "name": "rf-acct"}, spec)
    text = str(err.value)
    assert "another run at the same time" in text and "minted no token" in text
    assert "held by another service account" not in text
    assert [c.split()[0] for c in grafana.calls()] == ["GET", "POST", "GET"]


def test_a_name_held_elsewhere_is_still_explained_as_such():
    grafana = racing(400, winner_account=False)
    spec = token_spec({"name": "rf-tok", "ttl": "30d", "state": "present"})
    with pytest.raises(GrafanaAPIError) as err:
        ensure_token(grafana.client(), {"id": 3, "name": "rf-acct"}, spec)
    assert "unique per organization" in str(err.value)


# ------------------------------------------------------------------ two runs, one dest
def one_account():
    """Account ci-bot (id 3); token ids from 1."""
    grafana = FakeGrafana(now=ANSWER_DATE, first_token_id=1)
    grafana.add("ci-bot", account_id=3)
    return grafana


def sent_writes(grafana):
    """(method, token name or path) of every write, in order."""
    return [
        (c["method"], (c["body"] or {}).get("name", c["path"]))
        for c in grafana.log
        if c["method"] != "GET"
    ]


def real_key_file(path):
    from ansible.module_utils.basic import AnsibleModule

    from ansible_collections.grafana_ops.auth.plugins.module_utils._delivery import (
        KeyFile,
        key_file_params,
    )
    from ansible_collections.grafana_ops.auth.tests.unit.toolkit import (
        patch_module_args,
    )

    with patch_module_args({"dest": str(path)}):
        module = AnsibleModule(
            argument_spec=dict(dest=dict(type="path"), mode=dict(type="raw", default="0600")),
            add_file_common_args=True,
        )
    return KeyFile(module, key_file_params(module.params))


@pytest.mark.parametrize("keep_previous", [True, False])
def test_the_loser_adopts_the_winners_token_instead_of_orphaning_it(tmp_path, keep_previous):
    """Issue 11 item 11: the loser listed the winner's fresh token before its key file existed."""
    grafana = one_account()
    client = grafana.client()
    dest = tmp_path / "ci.token"
    spec = token_spec({"name": "ci", "ttl": "30d", "keep_previous": keep_previous})
    loser_file = real_key_file(dest)
    fingerprint = loser_file.fingerprint()  # the loser looks at dest (missing) ...
    winner_key = client.post(f"{SA}/3/tokens", body={"name": "ci", "secondsToLive": 30 * DAY}).body[
        "key"
    ]
    grafana.log.clear()  # ... the winner has minted ...
    listing = [dict(t) for t in grafana.tokens[3]]  # ... the loser lists (valid token, no key file)
    real_key_file(dest).write(winner_key)  # ... and the winner delivers
    result = ensure_token(
        client,
        {"id": 3, "name": "ci-bot"},
        spec,
        key_file=loser_file,
        tokens=listing,
        dest_fingerprint=fingerprint,
    )
    assert result["changed"] is False and result["dest_written"] is False
    assert sent_writes(grafana) == [] and grafana.token_names("ci-bot") == ["ci"]
    assert dest.read_text() == winner_key  # the one valid token's key is delivered
    assert client.warnings == []


def test_without_a_change_of_dest_the_plan_stands(tmp_path):
    grafana = one_account()
    dest = tmp_path / "ci.token"
    result = ensure_token(
        grafana.client(),
        {"id": 3, "name": "ci-bot"},
        token_spec({"name": "ci"}),
        key_file=real_key_file(dest),
    )
    assert result["changed"] is True and sent_writes(grafana) == [("POST", "ci")]
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
    from ansible_collections.grafana_ops.auth.plugins.module_utils._delivery import (
        DeliveryError,
    )

    dest = tmp_path / "ci.token"
    with real_key_file(dest).lock():
        with pytest.raises(DeliveryError, match="another run has been delivering a key into"):
            with real_key_file(dest).lock(timeout=0.2):
                pass  # pragma: no cover
