# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``service_account_token`` module: list, plan (:mod:`._token_plan`), apply, deliver.

:func:`run` is the module's logic; :func:`ensure_token` lists, plans and applies for one
account and is reused by ``service_accounts``.  Every request goes through :mod:`._sa_api`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import GrafanaClient
from ansible_collections.grafana_ops.auth.plugins.module_utils._delivery import (
    KeyFile,
    key_file_params,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._duration import format_duration
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaAPIError,
    GrafanaConnectionError,
    GrafanaError,
    rewrap,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._sa_api import (
    create_token,
    delete_token,
    list_tokens,
    require_service_account,
    tokens_path,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_plan import (
    MINT_DEST_MISSING,
    Deletion,
    Mint,
    TokenPlan,
    TokenSpec,
    dest_missing_warning,
    plan_message,
    plan_token,
    synthesize_token,
    token_spec,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_status import annotate_token


def run(module: Any, clients: Any) -> Dict[str, Any]:
    """The ``service_account_token`` module (``dest`` makes a :class:`~._delivery.KeyFile`)."""
    params = module.params
    key_file = KeyFile(module, key_file_params(params)) if params["dest"] else None
    return run_token(
        clients.connection(),
        params,
        check_mode=module.check_mode,
        diff=module._diff,
        key_file=key_file,
    )


def run_token(
    client: GrafanaClient,
    params: Mapping[str, Any],
    *,
    check_mode: bool = False,
    diff: bool = False,
    key_file: Any = None,
) -> Dict[str, Any]:
    """The whole ``service_account_token`` module: validate, resolve the account, ensure.

    Every option (durations, the key file's mode, owner and group) is checked before the
    first request. With ``dest`` the key is returned only when ``return_key`` is true.
    """
    spec = token_spec(params)
    if key_file is not None and spec.state == "present":
        key_file.validate()
    account = require_service_account(
        client, name=params.get("service_account"), account_id=params.get("service_account_id")
    )
    result = ensure_token(
        client, account, spec, check_mode=check_mode, diff=diff, key_file=key_file
    )
    if key_file is not None and not params.get("return_key") and "key" in result:
        del result["key"]  # it is in dest; returning it too would print it at -v and in logs
    return result


_UNSET: Any = object()


def ensure_token(
    client: GrafanaClient,
    account: Dict[str, Any],
    spec: TokenSpec,
    *,
    check_mode: bool = False,
    diff: bool = False,
    key_file: Any = None,
    tokens: Optional[List[Dict[str, Any]]] = None,
    key_missing: bool = False,
    dest_fingerprint: Any = _UNSET,
) -> Dict[str, Any]:
    """List, plan and apply one token of ``account``; return the module result.

    ``key_file`` is a :class:`~._delivery.KeyFile` (or ``None``).  One token listing, then
    only the writes the plan needs; warnings go to ``client.warnings``.  ``tokens`` is the
    account's listing when the caller already has it (``service_accounts`` lists once per
    account), with ``dest_fingerprint`` taken before that listing; ``key_missing`` says the
    consumer's key file (on another host) is gone.

    Concurrent runs delivering to the same ``dest`` are made deterministic: a mint and its
    delivery happen under the lock of the key file's directory, and a run that finds ``dest``
    changed since it listed the tokens lists them again and re-plans, so it adopts what the
    other run delivered instead of minting a token whose key would be overwritten (an orphan).
    """
    if key_file is not None and dest_fingerprint is _UNSET:
        dest_fingerprint = key_file.fingerprint()
    if tokens is None:
        tokens = list_tokens(client, account["id"])
    plan, dest_status = _plan(client, spec, tokens, key_file, key_missing)
    if plan.mint is not None and key_file is not None:
        key_file.preflight()
    if check_mode:
        _warn_dest_missing(client, plan, key_file, dest_status)
        return _result(plan, key_file, None, None, plan.deletions, diff, predicted=True)
    if plan.mint is None or key_file is None:
        _warn_dest_missing(client, plan, key_file, dest_status)
        return _result(
            plan, key_file, *_Applier(client, account, plan, key_file).run(), diff, predicted=False
        )
    with key_file.lock():
        if key_file.fingerprint() != dest_fingerprint:
            # another run delivered into dest meanwhile: plan again from what exists now
            plan, dest_status = _plan(
                client, spec, list_tokens(client, account["id"]), key_file, key_missing
            )
        _warn_dest_missing(client, plan, key_file, dest_status)
        return _result(
            plan, key_file, *_Applier(client, account, plan, key_file).run(), diff, predicted=False
        )


def _plan(
    client: GrafanaClient,
    spec: TokenSpec,
    tokens: List[Dict[str, Any]],
    key_file: Any,
    key_missing: bool,
) -> Any:
    now = client.now()
    dest_status = key_file.status() if key_file is not None and spec.state == "present" else None
    missing = dest_status not in (None, "present") or (key_missing and spec.state == "present")
    return plan_token(tokens, spec, now, dest_missing=missing), dest_status


def _warn_dest_missing(
    client: GrafanaClient, plan: TokenPlan, key_file: Any, dest_status: Optional[str]
) -> None:
    if plan.mint is not None and plan.mint.reason == MINT_DEST_MISSING:
        where = (
            f"dest {key_file.path}" if key_file is not None else "the key file on a consuming host"
        )
        client.warnings.append(dest_missing_warning(plan, where, dest_status))


class _Applier:
    """Runs a plan: mint (and deliver, or undo), then delete."""

    def __init__(
        self, client: GrafanaClient, account: Dict[str, Any], plan: TokenPlan, key_file: Any
    ) -> None:
        self.client = client
        self.account = account
        self.plan = plan
        self.key_file = key_file

    def run(self) -> Any:
        minted: Optional[Dict[str, Any]] = None
        key: Optional[str] = None
        if self.plan.mint is not None:
            minted, key = self._mint(self.plan.mint)
            if self.key_file is not None:
                self._deliver_or_undo(minted, key)
        done = self._delete_all(tolerate=minted is not None)
        return minted, key, done

    def _mint(self, mint: Mint) -> Any:
        path = tokens_path(self.account["id"])
        try:
            response = create_token(
                self.client, self.account["id"], mint.name, mint.seconds_to_live
            )
        except GrafanaAPIError as err:
            if err.status is not None and err.status >= 500:
                raise self._lost_mint(mint, err) from None
            raise self._raced(mint, err) or explain_create_error(err, mint, self.account) from None
        except GrafanaConnectionError as err:
            if err.kind == "tls":
                raise
            raise self._lost_mint(mint, err) from None
        answer = response.body if isinstance(response.body, dict) else {}
        if not answer.get("key"):
            raise self._lost_mint(
                mint,
                GrafanaAPIError(
                    f"POST {path} answered HTTP {response.status} without a key "
                    f"({response.describe_body()}).",
                    method="POST",
                    path=path,
                    status=response.status,
                ),
            )
        token = synthesize_token(
            answer.get("id"),
            str(answer.get("name") or mint.name),
            self.client.now(),
            mint.seconds_to_live,
        )
        return token, str(answer["key"])

    def _raced(self, mint: Mint, err: GrafanaAPIError) -> Optional[GrafanaError]:
        """A duplicate name for a token this account did not have when listed: another run.

        Two runs ensuring the same token at once both see it missing; the second create is
        refused as a duplicate. The token is this account's own, so say that (not "held by
        another account"): the other run holds its key.
        """
        if not (
            err.status in (400, 409) and "already exists" in str(err.message or err.msg).lower()
        ):
            return None
        try:
            names = {t.get("name") for t in list_tokens(self.client, self.account["id"])}
        except GrafanaError:
            return None
        if mint.name not in names:
            return None
        return rewrap(
            err,
            f"Token {mint.name!r} of {_account_label(self.account)} was created by another run at "
            "the same time (this run saw no such token a moment earlier; Grafana refused the "
            "duplicate name). Its key went to that run, which delivers it; this run minted no "
            "token. Do not reconcile the same accounts from two places at once; rerun to "
            "check.",
        )

    def _lost_mint(self, mint: Mint, err: GrafanaError) -> GrafanaError:
        """The create may have happened although no key came back: find it and delete it.

        Nobody holds the key of such a token, so keeping it would leave an orphan that
        looks current; the run fails and a rerun mints again (no blind retry of a POST).
        """
        who = _account_label(self.account)
        try:
            found = [
                t
                for t in list_tokens(self.client, self.account["id"])
                if t.get("name") == mint.name
            ]
            for token in found:
                delete_token(self.client, self.account["id"], token.get("id"))
        except GrafanaError as cleanup:
            return rewrap(
                err,
                f"Creating token {mint.name!r} of {who} failed without a usable answer ({err}), "
                f"and checking whether Grafana created it anyway failed too ({cleanup}). If "
                f"token {mint.name!r} exists, nobody holds its key: delete it, then rerun.",
                message=None,
                message_id=None,
            )
        outcome = (
            f"Grafana had created it anyway and its key was lost on the way, so the "
            f"module deleted token {mint.name!r} again (nobody holds its key)"
            if found
            else "Grafana did not create it"
        )
        return rewrap(
            err,
            f"Creating token {mint.name!r} of {who} failed without a usable answer ({err}). "
            f"{outcome}; nothing else was changed. Rerun the task to mint a token.",
        )

    def _deliver_or_undo(self, minted: Dict[str, Any], key: str) -> None:
        try:
            self.key_file.write(key)
        except GrafanaError as err:
            if getattr(err, "delivered", False):
                raise GrafanaError(
                    f"The key of new token {minted['name']!r} was written to "
                    f"{self.key_file.path}, but {err}. The token was kept (its key is in dest); "
                    "older tokens were not retired yet: fix the file options and rerun."
                ) from None
            raise self._undo_mint(minted, err) from None

    def _undo_mint(self, minted: Dict[str, Any], err: GrafanaError) -> GrafanaError:
        where = self.key_file.path
        try:
            delete_token(self.client, self.account["id"], minted.get("id"))
        except GrafanaError as cleanup:
            return GrafanaError(
                f"Minted token {minted['name']!r} but could not write its key to {where}: {err}. "
                f"Deleting that token again failed too ({cleanup}): nobody holds its key, "
                f"delete token {minted['name']!r} of {_account_label(self.account)} by hand."
            )
        return GrafanaError(
            f"Minted token {minted['name']!r} but could not write its key to {where}: {err}. "
            "The token was deleted again so that no token exists whose key nobody holds; "
            "nothing else was changed. Fix dest and rerun."
        )

    def _delete_all(self, tolerate: bool) -> List[Deletion]:
        """Delete the planned tokens; after a mint a failure is a warning, not a lost key."""
        done = []
        for deletion in self.plan.deletions:
            try:
                delete_token(self.client, self.account["id"], deletion.token.get("id"))
            except GrafanaError as err:
                if not tolerate:
                    raise
                self.client.warnings.append(
                    f"Could not delete {deletion.reason} token {deletion.token.get('name')!r} "
                    f"({err}); the new token is in place, rerun to retry the deletion."
                )
                continue
            done.append(deletion)
        return done


def explain_create_error(err: GrafanaAPIError, mint: Mint, account: Dict[str, Any]) -> GrafanaError:
    """Grafana's terse create errors, with what they mean and what to change."""
    said = " ".join(str(err.message or err.msg).split())
    lowered = said.lower()
    ttl = format_duration(mint.seconds_to_live) if mint.seconds_to_live else "0 (never expires)"
    text = None
    if "should be set" in lowered:
        text = (
            f"Grafana refused ttl {ttl}: this server requires every token to expire "
            "([auth] api_key_max_seconds_to_live is set). Set ttl to a duration within "
            "that limit."
        )
    elif "greater than the global limit" in lowered:
        text = (
            f"Grafana refused ttl {ttl}: it is longer than the maximum token lifetime this "
            "server allows ([auth] api_key_max_seconds_to_live). Lower ttl (and "
            "rotation_window with it) to that limit or below."
        )
    elif "exceeds the limit" in lowered:
        text = (
            f"Grafana refused ttl {ttl}: tokens on this server may live at most a set number "
            "of days ([service_accounts] token_expiration_day_limit). Lower ttl (and "
            "rotation_window with it) below that many days."
        )
    elif (
        err.status == 409
        or err.message_id == "serviceaccounts.ErrTokenAlreadyExists"
        or "already exists" in lowered
    ):
        text = (
            f"Grafana refused the token name {mint.name!r}: token names are unique per "
            "organization across all service accounts (and legacy API keys), and a token "
            f"with this name already exists in the organization, held by another service "
            f"account than {_account_label(account)} (or by a legacy API key). Choose "
            "another name, or delete that other token."
        )
    if text is None:
        return err
    return rewrap(err, f"{text} (Grafana said: {said})")


# ------------------------------------------------------------------- results
def _result(
    plan: TokenPlan,
    key_file: Any,
    minted: Optional[Dict[str, Any]],
    key: Optional[str],
    deleted: List[Deletion],
    diff: bool,
    predicted: bool,
) -> Dict[str, Any]:
    written = plan.mint is not None and key_file is not None
    attrs = False
    if key_file is not None and plan.spec.state == "present" and not (written and not predicted):
        attrs = key_file.fix_attributes()
    token = minted if minted is not None else plan.predicted_token()
    result: Dict[str, Any] = {
        "changed": plan.changed or attrs,
        "token": annotate_token(token, plan.now) if token is not None else None,
        "rotated": plan.rotated,
        "pruned": [d.report() for d in deleted],
        "dest_written": written,
        "msg": plan_message(plan, key_file.path if key_file is not None else None, predicted),
    }
    if key is not None:
        result["key"] = key
    if diff:
        result["diff"] = {"before": {"tokens": plan.before()}, "after": {"tokens": plan.after()}}
    return result


def _account_label(account: Dict[str, Any]) -> str:
    return f"service account {account.get('name')!r} (id {account.get('id')})"
