# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``service_accounts`` module: reconcile an org's list of accounts and tokens in one run.

:func:`run` is the module's logic (and through it the ``service_accounts`` role's).  It
reuses the single-account logic (:class:`~._service_account.ServiceAccountManager`) and the
token logic (:func:`~._service_account_token.ensure_token`) and only adds what a list needs:

* every account and token spec is validated before the first request (:func:`parse_accounts`),
  so a typo in the tenth entry cannot leave the first nine half-applied;
* the org's accounts are listed ONCE (one paged search) and handed to the manager as
  ``current``, instead of one search per account;
* tokens are listed once per account that declares tokens (none for an account created in
  this run, which has none);
* ``purge`` removes the accounts of the org that are not listed, never an external
  (Grafana-managed) one (:func:`purge_candidates`).

Request budget: 1 search (+1 per further page of 1000), then per account: create 1, update 1,
delete 1, unchanged 0; per account with tokens: 1 listing (unless just created) plus one
create per minted token and one delete per retired token. A rerun with nothing to change
sends only the reads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import GrafanaClient
from ansible_collections.grafana_ops.auth.plugins.module_utils._delivery import KeyFile
from ansible_collections.grafana_ops.auth.plugins.module_utils._duration import (
    format_duration,
    parse_duration,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import (
    GrafanaError,
    GrafanaInputError,
    GrafanaResultError,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._sa_api import (
    iter_service_accounts,
    list_tokens,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_account import (
    AccountSpec,
    Outcome,
    ServiceAccountManager,
    compared,
    generate_login,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._service_account_token import (
    ensure_token,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_plan import (
    TokenSpec,
    owned_pattern,
    token_spec,
)

DEFAULT_EXPIRING_WITHIN = "7d"
FILE_OPTIONS = ("dest", "mode", "owner", "group")
EXTSVC_MARKER = "-extsvc-"

KeyFileFactory = Callable[[Mapping[str, Any]], Any]


def run(module: Any, clients: Any) -> Dict[str, Any]:
    """The ``service_accounts`` module: validate the whole list, then reconcile it."""
    params = module.params
    client = clients.connection()
    requests = parse_accounts(params["accounts"])
    within = expiring_seconds(params["expiring_within"])
    reconciler = Reconciler(
        client,
        check_mode=module.check_mode,
        diff=module._diff,
        key_file_factory=lambda file_params: KeyFile(module, file_params),
        expiring_within=within,
        retire_previous=params["retire_previous"],
    )
    return reconciler.run(requests, purge=params["purge"])


# ------------------------------------------------------------------ specs
@dataclass(frozen=True)
class TokenRequest:
    """One token of an account: its validated spec and where its key goes."""

    spec: TokenSpec
    file_params: Optional[Dict[str, Any]] = None
    key_missing: bool = False
    return_key: bool = False


@dataclass(frozen=True)
class AccountRequest:
    """One listed account and its tokens."""

    spec: AccountSpec
    tokens: Tuple[TokenRequest, ...] = ()


def parse_accounts(accounts: Sequence[Mapping[str, Any]]) -> List[AccountRequest]:
    """Validate every account and token before any request; ONE error lists every problem.

    Checks: names (non-empty), states, roles, durations, windows, duplicate account names,
    and duplicate token names across the list (Grafana keeps token names unique per org).
    """
    problems: List[str] = []
    parsed: List[AccountRequest] = []
    for index, raw in enumerate(accounts or []):
        label = _label("accounts", index, raw)
        if not isinstance(raw, Mapping):
            problems.append(f"{label}: must be a dictionary.")
            continue
        request = _parse_account(raw, label, problems)
        if request is not None:
            parsed.append(request)
    names = [raw.get("name") for raw in accounts or [] if isinstance(raw, Mapping)]
    problems.extend(_duplicate_accounts([n for n in names if isinstance(n, str) and n.strip()]))
    problems.extend(_colliding_logins(parsed))
    problems.extend(_duplicate_tokens(parsed))
    if problems:
        raise GrafanaInputError(
            "Invalid accounts list, nothing was sent to Grafana: " + " ".join(problems)
        )
    return parsed


def _label(kind: str, index: int, raw: Any) -> str:
    name = raw.get("name") if isinstance(raw, Mapping) else None
    return f"{kind}[{index}]" + (f" ({name!r})" if name else "")


def _parse_account(
    raw: Mapping[str, Any], label: str, problems: List[str]
) -> Optional[AccountRequest]:
    try:
        spec = AccountSpec.from_params(raw)
    except GrafanaInputError as err:
        problems.append(f"{label}: {err}")
        return None
    tokens = []
    for index, token in enumerate(raw.get("tokens") or []):
        where = f"{label} {_label('tokens', index, token)}"
        try:
            tokens.append(_parse_token(token))
        except GrafanaInputError as err:
            problems.append(f"{where}: {err}")
    return AccountRequest(spec=spec, tokens=tuple(tokens))


def _parse_token(raw: Any) -> TokenRequest:
    if not isinstance(raw, Mapping):
        raise GrafanaInputError("must be a dictionary.")
    state = raw.get("state") or "present"
    if state not in ("present", "absent"):
        raise GrafanaInputError(f"state must be present or absent, got {state!r}.")
    spec = token_spec(raw)
    file_params = {k: raw.get(k) for k in FILE_OPTIONS} if raw.get("dest") else None
    return TokenRequest(
        spec=spec,
        file_params=file_params,
        key_missing=bool(raw.get("key_missing")),
        return_key=bool(raw.get("return_key")),
    )


def _duplicate_accounts(names: Sequence[str]) -> List[str]:
    counts: Dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return [
        f"account {name!r} is listed {count} times; list each account once."
        for name, count in counts.items()
        if count > 1
    ]


def login_keys(name: str) -> Tuple[str, str]:
    """What Grafana derives the login from: 10.4+ ``sa-<org>-...`` and 9.5's ``sa-...`` forms."""
    return generate_login(0, name), ("sa-" + name.lower()).replace("--", "-", 1).replace(" ", "-")


def _colliding_logins(parsed: Sequence[AccountRequest]) -> List[str]:
    """``Team-A`` / ``team-a``, ``ops sa`` / ``ops-sa``: one login, so the second create fails.

    Only accounts to be present count (a name listed twice exactly is reported apart).
    """
    seen: Dict[str, str] = {}
    problems: List[str] = []
    for request in parsed:
        name = request.spec.name
        if request.spec.state != "present":
            continue
        for key in login_keys(name):
            first = seen.get(key)
            if first is not None and first != name:
                problems.append(
                    f"accounts {first!r} and {name!r} collide: Grafana derives a service "
                    f"account's login from its name in lower case with spaces as dashes "
                    f"({generate_login(0, name).replace('sa-0-', 'sa-<org>-')}), and logins are "
                    "unique, so the second could never be created. Rename one of them."
                )
                break
            seen.setdefault(key, name)
    return problems


def _duplicate_tokens(parsed: Sequence[AccountRequest]) -> List[str]:
    owners: Dict[str, List[str]] = {}
    for request in parsed:
        for token in request.tokens:
            owners.setdefault(token.spec.name, []).append(request.spec.name)
    problems = [
        f"token name {name!r} is used {len(who)} times (accounts {', '.join(map(repr, who))}); "
        "Grafana keeps token names unique per organization across all accounts."
        for name, who in owners.items()
        if len(who) > 1
    ]
    return problems + _overlapping_names(owners)


def _overlapping_names(owners: Mapping[str, List[str]]) -> List[str]:
    """``ci`` owns ``ci-r20261129120000``: a token named like that would be claimed twice."""
    names = list(owners)
    return [
        f"token name {other!r} looks like a rotated token of {name!r}; choose a name "
        "without the -rYYYYMMDDHHMMSS suffix."
        for name in names
        for other in names
        if other != name and owned_pattern(name).match(other)
    ]


def expiring_seconds(value: Any) -> int:
    """``expiring_within`` in seconds (the module validates it with the rest)."""
    return parse_duration(DEFAULT_EXPIRING_WITHIN if value is None else value, "expiring_within")


# ------------------------------------------------------------------ purge
def is_external(account: Mapping[str, Any]) -> bool:
    """Grafana-managed accounts (external services, plugins): never ours to delete."""
    login = str(account.get("login") or "")
    return bool(account.get("isExternal")) or EXTSVC_MARKER in login


def purge_candidates(
    listed: Sequence[Mapping[str, Any]], wanted: Sequence[str]
) -> List[Mapping[str, Any]]:
    """The accounts of the org that are not in the list, except external ones."""
    names = set(wanted)
    return [
        account
        for account in listed
        if account.get("name") not in names and not is_external(account)
    ]


# ------------------------------------------------------------------ result
@dataclass
class Summary:
    """The result being built, account by account (so a failure can return what was done)."""

    results: List[Dict[str, Any]] = field(default_factory=list)
    minted_keys: List[Dict[str, Any]] = field(default_factory=list)
    created: List[str] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)
    deleted: List[str] = field(default_factory=list)
    purged: List[str] = field(default_factory=list)
    minted: List[Dict[str, Any]] = field(default_factory=list)
    rotated: List[Dict[str, Any]] = field(default_factory=list)
    pruned: List[Dict[str, Any]] = field(default_factory=list)
    expiring: List[Dict[str, Any]] = field(default_factory=list)
    before: Dict[str, Any] = field(default_factory=dict)
    after: Dict[str, Any] = field(default_factory=dict)
    changed: bool = False

    def as_result(self, diff: bool) -> Dict[str, Any]:
        result = {
            name: getattr(self, name)
            for name in (
                "changed",
                "results",
                "minted_keys",
                "created",
                "updated",
                "deleted",
                "purged",
                "minted",
                "rotated",
                "pruned",
                "expiring",
            )
        }
        result["msg"] = self.message()
        if diff:
            result["diff"] = {
                "before": {"accounts": self.before},
                "after": {"accounts": self.after},
            }
        return result

    def message(self) -> str:
        """One line saying what the run did (counts and names only, never a key)."""
        listed = sum(1 for r in self.results if r.get("action") != "purged")
        parts = [
            f"{len(getattr(self, name))} {name}"
            for name in ("created", "updated", "deleted", "purged")
        ]
        tokens = (
            f"{len(self.minted)} token(s) minted ({len(self.rotated)} rotation(s)), "
            f"{len(self.pruned)} pruned"
        )
        expiring = f"{len(self.expiring)} expiring soon"
        return f"{listed} listed account(s): {', '.join(parts)}; {tokens}; {expiring}." + (
            "" if self.changed else " Nothing changed."
        )


class ReconcileError(GrafanaResultError):
    """A failure part-way: the task fails, but returns what was done (and minted keys)."""

    def __init__(self, cause: GrafanaError, summary: Summary, account: str, diff: bool) -> None:
        done = ", ".join(r["name"] for r in summary.results) or "none"
        super().__init__(
            f"Reconciling service account {account!r} failed: {cause} Accounts finished before "
            f"the failure: {done}. Nothing after it was touched; fix the cause and rerun.",
            summary.as_result(diff),
            **cause.origin(),
        )


# ------------------------------------------------------------------ reconciler
@dataclass
class Reconciler:
    """Apply a validated list to one org through one client."""

    client: GrafanaClient
    check_mode: bool = False
    diff: bool = False
    key_file_factory: Optional[KeyFileFactory] = None
    retire_previous: bool = True
    expiring_within: int = 7 * 86400
    summary: Summary = field(default_factory=Summary, init=False)

    def __post_init__(self) -> None:
        self.manager = ServiceAccountManager(self.client, check_mode=self.check_mode)

    def run(self, requests: Sequence[AccountRequest], purge: bool = False) -> Dict[str, Any]:
        self._preflight_key_files(requests)
        listed = list(iter_service_accounts(self.client))
        by_name = {account.get("name"): account for account in listed}
        for request in requests:
            self._guarded(
                request.spec.name, lambda r=request: self._account(r, by_name.get(r.spec.name))
            )
        if purge:
            for account in purge_candidates(listed, [r.spec.name for r in requests]):
                self._guarded(str(account.get("name")), lambda a=account: self._purge(a))
        return self.summary.as_result(self.diff)

    def _preflight_key_files(self, requests: Sequence[AccountRequest]) -> None:
        """A dest that cannot receive a key fails the run before the first request.

        Otherwise the account would be created, and only its token found undeliverable.
        """
        for request in requests:
            if request.spec.state != "present":
                continue
            for token in request.tokens:
                key_file = self._key_file(token)
                if key_file is None:
                    continue
                key_file.validate()
                if key_file.status() != "present":
                    key_file.preflight()

    def _guarded(self, name: str, work: Callable[[], None]) -> None:
        try:
            work()
        except GrafanaError as err:
            if isinstance(err, GrafanaInputError) and not self.summary.results:
                raise
            raise ReconcileError(err, self.summary, name, self.diff) from None

    # ---------------------------------------------------------------- accounts
    def _account(self, request: AccountRequest, current: Optional[Dict[str, Any]]) -> None:
        outcome = self.manager.ensure(request.spec, current=current)
        name = request.spec.name
        self._count(outcome, name)
        tokens: List[Dict[str, Any]] = []
        before_tokens: List[Any] = []
        after_tokens: List[Any] = []
        if request.spec.state == "present" and request.tokens:
            tokens, before_tokens, after_tokens = self._tokens(request, outcome)
        self.summary.results.append(
            {
                "name": name,
                "action": outcome.action,
                "changed": outcome.changed or any(t["changed"] for t in tokens),
                "service_account": outcome.account or None,
                "tokens": tokens,
            }
        )
        self.summary.changed = self.summary.changed or self.summary.results[-1]["changed"]
        if self.diff:
            self._record_diff(name, outcome, before_tokens, after_tokens)

    def _count(self, outcome: Outcome, name: str) -> None:
        bucket = {
            "created": self.summary.created,
            "adopted": self.summary.created,
            "updated": self.summary.updated,
            "deleted": self.summary.deleted,
        }.get(outcome.action)
        if bucket is not None:
            bucket.append(name)

    def _record_diff(
        self, name: str, outcome: Outcome, before_tokens: List[Any], after_tokens: List[Any]
    ) -> None:
        if outcome.before or before_tokens:
            self.summary.before[name] = {**outcome.before, "tokens": before_tokens}
        if outcome.after or after_tokens:
            self.summary.after[name] = {**outcome.after, "tokens": after_tokens}

    def _purge(self, account: Mapping[str, Any]) -> None:
        name = str(account.get("name"))
        outcome = self.manager.ensure(AccountSpec(name=name, state="absent"), current=dict(account))
        self.summary.purged.append(name)
        self.summary.changed = True
        self.summary.results.append(
            {
                "name": name,
                "action": "purged",
                "changed": outcome.changed,
                "service_account": None,
                "tokens": [],
            }
        )
        if self.diff:
            self.summary.before[name] = {**compared(account), "tokens": []}

    # ---------------------------------------------------------------- tokens
    def _tokens(
        self, request: AccountRequest, outcome: Outcome
    ) -> Tuple[List[Dict[str, Any]], List[Any], List[Any]]:
        account = outcome.account
        fresh = outcome.action in ("created",) or "id" not in account
        # key files first, then the listing: a dest another run replaces after this point is noticed
        key_files = [self._key_file(token) for token in request.tokens]
        fingerprints = [kf.fingerprint() if kf is not None else None for kf in key_files]
        listing = [] if fresh else list_tokens(self.client, account["id"])
        results, before, after = [], [], []
        for token, key_file, fingerprint in zip(request.tokens, key_files, fingerprints):
            result = self._token(request.spec.name, account, token, listing, key_file, fingerprint)
            results.append(result.pop("_report"))
            before += result.get("diff", {}).get("before", {}).get("tokens", [])
            after += result.get("diff", {}).get("after", {}).get("tokens", [])
        return results, before, after

    def _token(
        self,
        account_name: str,
        account: Dict[str, Any],
        request: TokenRequest,
        listing: List[Dict[str, Any]],
        key_file: Any,
        fingerprint: Any,
    ) -> Dict[str, Any]:
        spec = request.spec
        if not self.retire_previous and spec.state == "present":
            spec = dataclasses.replace(spec, keep_previous=True)
        result = ensure_token(
            self.client,
            account,
            spec,
            check_mode=self.check_mode,
            diff=self.diff,
            key_file=key_file,
            tokens=listing,
            key_missing=request.key_missing,
            dest_fingerprint=fingerprint,
        )
        result["_report"] = self._token_report(account_name, request, result)
        return result

    def _key_file(self, request: TokenRequest) -> Any:
        if request.file_params is None or request.spec.state != "present":
            return None
        if self.key_file_factory is None:
            raise GrafanaInputError("dest is not supported here (no key file factory).")
        return self.key_file_factory(request.file_params)

    def _token_report(
        self, account_name: str, request: TokenRequest, result: Dict[str, Any]
    ) -> Dict[str, Any]:
        token = result.get("token")
        minted = "key" in result or (token is not None and token.get("id") is None)
        action = _token_action(request.spec, result, minted)
        entry = {"account": account_name, "token": request.spec.name}
        if "key" in result:
            key = result.pop("key")
            delivered = {
                "name": token.get("name") if token else None,
                "dest": (request.file_params or {}).get("dest"),
            }
            if request.file_params is None or request.return_key:
                delivered["key"] = key  # with dest, only on request (return_key)
            self.summary.minted_keys.append({**entry, **delivered})
        if minted:
            self.summary.minted.append({**entry, "name": token.get("name") if token else None})
        if action == "rotated":
            self.summary.rotated.append({**entry, "name": token.get("name") if token else None})
        self.summary.pruned += [{**entry, **p} for p in result.get("pruned", [])]
        self._note_expiring(entry, token)
        return {
            "name": request.spec.name,
            "action": action,
            "changed": result["changed"],
            "rotated": result["rotated"],
            "pruned": result["pruned"],
            "dest_written": result["dest_written"],
            "token": token,
            "msg": result.get("msg"),
        }

    def _note_expiring(self, entry: Dict[str, Any], token: Optional[Dict[str, Any]]) -> None:
        left = (token or {}).get("seconds_left")
        if left is not None and left < self.expiring_within:
            self.summary.expiring.append(
                {
                    **entry,
                    "name": token.get("name"),
                    "expiration": token.get("expiration"),
                    "seconds_left": left,
                    "expires_in": format_duration(max(0, left)),
                }
            )


def _token_action(spec: TokenSpec, result: Mapping[str, Any], minted: bool) -> str:
    """created, rotated, pruned, unchanged, deleted or absent (what happened to the token)."""
    if spec.state == "absent":
        return "deleted" if result.get("pruned") else "absent"
    if minted:
        return "rotated" if result.get("rotated") else "created"
    if result.get("pruned"):
        return "pruned"
    return "updated" if result.get("changed") else "unchanged"
