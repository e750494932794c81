"""``/api/serviceaccounts``: create, get, update, delete, search (contract §5)."""

from __future__ import annotations

import hashlib
from typing import Any, Dict, List

from .clock import rfc3339
from .context import Ctx
from .gojson import BOOL, STRING, parse_int64, sorted_map
from .responses import Abort, Response, api_error, ok_json, public_error
from .store import ROLE_RANK, Conflict, User, generate_login

SA_FORM = {"name": STRING, "role": STRING, "isDisabled": BOOL}


def avatar_url(name: str) -> str:
    """Stable ``/avatar/<md5>`` (Grafana hashes the name for SAs, which have no e-mail)."""
    return "/avatar/" + hashlib.md5(name.lower().encode("utf-8")).hexdigest()


def not_found(ctx: Ctx) -> Response:
    return public_error(
        ctx.profile, 404, "serviceaccounts.ErrNotFound", "service account not found"
    )


def resolve_id(ctx: Ctx) -> int:
    """The ``:id`` route parameter as an integer.

    On the profiles with UIDs (11.4+), ``MiddlewareServiceAccountUIDResolver`` has already
    replaced a UID by the id or answered 404 (``app._resolve_sa_uid``); here only 9.5 and
    10.4 can still see a non-integer, which the handler refuses with 400.
    """
    account_id = parse_int64(ctx.params["id"])
    if account_id is None:
        raise Abort(api_error(ctx.profile, 400, "Service Account ID is invalid"))
    return account_id


def invalid_id(ctx: Ctx) -> Response:
    """``validServiceAccountID`` (manager/service.go; contract §13 C6): id 0, 11.4+."""
    return public_error(
        ctx.profile, 400, "serviceaccounts.ErrInvalidId", "invalid service account id specified"
    )


def retrieve_failed(ctx: Ctx) -> Response:
    """``RetrieveServiceAccount`` with id 0 and no UID returns a plain error; the handlers
    answer it with writer A 500 (contract §13 C6 [derived])."""
    return api_error(ctx.profile, 500, "Failed to retrieve service account")


def zero_id(ctx: Ctx, account_id: int) -> bool:
    return ctx.profile.sa_id_zero_check and account_id == 0


def load(ctx: Ctx) -> User:
    """The SA named by the route, visible from the caller's org, or 404 (id 0 on 11.4+: 500)."""
    account_id = resolve_id(ctx)
    if zero_id(ctx, account_id):
        raise Abort(retrieve_failed(ctx))
    account = ctx.store.service_account(account_id, ctx.org_id)
    if account is None:
        raise Abort(not_found(ctx))
    return account


def check_role(ctx: Ctx, role: str) -> None:
    """Same validation on create and update: known role (case-sensitive), not above the caller."""
    if role not in ctx.profile.roles:
        raise Abort(
            public_error(
                ctx.profile,
                400,
                "serviceaccounts.ErrInvalidRoleSpecified",
                "invalid role specified",
            )
        )
    if ctx.profile.role_escalation_check and ROLE_RANK[role] > ROLE_RANK.get(ctx.caller.role, 0):
        raise Abort(
            public_error(
                ctx.profile,
                403,
                "serviceaccounts.ErrRoleForbidden",
                "can not assign a role higher than user's role",
            )
        )


def _access_control(ctx: Ctx) -> Dict[str, bool]:
    actions = (action for action in ctx.caller.actions() if action.startswith("serviceaccounts:"))
    return sorted_map({action: True for action in actions})


def _head(ctx: Ctx, account: User) -> Dict[str, Any]:
    """The fields every SA DTO starts with; ``uid`` only where the release has it."""
    head: Dict[str, Any] = {"id": account.id}
    if ctx.profile.sa_uid:
        head["uid"] = account.uid
    head.update(
        name=account.name, login=account.login, orgId=account.org_id, isDisabled=account.is_disabled
    )
    return head


def sa_dto(ctx: Ctx, account: User, avatar: str, access_control: bool = False) -> Dict[str, Any]:
    """``ServiceAccountDTO`` in struct order (isExternal omitted: omitempty and false)."""
    dto = _head(ctx, account)
    dto.update(role=account.role, tokens=ctx.store.token_count(account.id), avatarUrl=avatar)
    if access_control:
        dto["accessControl"] = _access_control(ctx)
    return dto


def sa_profile(ctx: Ctx, account: User, access_control: bool = False) -> Dict[str, Any]:
    """``ServiceAccountProfileDTO``: ``teams`` is never filled (null), ``tokens`` omitempty."""
    dto = _head(ctx, account)
    dto.update(
        createdAt=rfc3339(account.created),
        updatedAt=rfc3339(account.updated),
        avatarUrl=avatar_url(account.name),
        role=account.role,
        teams=None,
    )
    count = ctx.store.token_count(account.id)
    if count:
        dto["tokens"] = count
    if access_control:
        dto["accessControl"] = _access_control(ctx)
    return dto


def create(ctx: Ctx) -> Response:
    """POST /api/serviceaccounts → 201 ServiceAccountDTO with an empty avatarUrl."""
    form = ctx.bind(SA_FORM, required=("name",))
    role = form.get("role", "Viewer")
    check_role(ctx, role)
    try:
        account = ctx.store.create_service_account(
            ctx.org_id,
            form["name"],
            role,
            form.get("isDisabled", False),
            login=login_for(ctx, form["name"]),
        )
    except Conflict:
        raise Abort(_conflict(ctx)) from None
    return ok_json(201, sa_dto(ctx, account, avatar=""))


def login_for(ctx: Ctx, name: str) -> str:
    """``sa-<org>-<name>`` (PR #83893, 10.4.x+) or the 9.5 ``sa-<name>`` (contract §13 C3)."""
    if ctx.profile.sa_login_with_org:
        return generate_login("sa", ctx.org_id, name)
    return ("sa-" + name.lower()).replace(" ", "-")


def _conflict(ctx: Ctx) -> Response:
    if ctx.profile.legacy_sa_conflict:
        return api_error(ctx.profile, 400, "Failed to create service account")
    return public_error(
        ctx.profile, 400, "serviceaccounts.ErrAlreadyExists", "service account already exists"
    )


def get(ctx: Ctx) -> Response:
    """GET /api/serviceaccounts/:id → ServiceAccountProfileDTO."""
    return ok_json(200, sa_profile(ctx, load(ctx), ctx.query_bool("accesscontrol")))


def update(ctx: Ctx) -> Response:
    """PATCH /api/serviceaccounts/:id: applies what the body gives, keeps the rest (every
    release, contract §13 C7, ``database/store.go`` ``UpdateServiceAccount``); renaming
    keeps the login."""
    account_id = resolve_id(ctx)
    form = ctx.bind(SA_FORM)
    if "role" in form:
        check_role(ctx, form["role"])
    if zero_id(ctx, account_id):
        raise Abort(invalid_id(ctx))
    account = ctx.store.service_account(account_id, ctx.org_id)
    if account is None:
        raise Abort(not_found(ctx))
    _apply(ctx, account, form)
    body = {
        "id": account.id,
        "message": "Service account updated",
        "name": account.name,
        "serviceaccount": sa_profile(ctx, account),
    }
    return ok_json(200, sorted_map(body))


def _apply(ctx: Ctx, account: User, form: Dict[str, Any]) -> None:
    if not form:
        return
    account.name = form.get("name", account.name)
    account.is_disabled = form.get("isDisabled", account.is_disabled)
    if "role" in form:
        account.memberships[account.org_id] = form["role"]
    ctx.store.touch(account)


def delete(ctx: Ctx) -> Response:
    """DELETE /api/serviceaccounts/:id, with all its tokens (id 0 on 11.4+: 400 ErrInvalidId)."""
    if zero_id(ctx, resolve_id(ctx)):
        raise Abort(invalid_id(ctx))
    ctx.store.delete_service_account(load(ctx))
    return ok_json(200, {"message": "Service account deleted"})


def search(ctx: Ctx) -> Response:
    """GET /api/serviceaccounts/search: filter, order by email then login, paginate."""
    matches = sorted(_filtered(ctx), key=lambda account: (account.email, account.login))
    window, page, per_page = ctx.paginate(matches)
    with_ac = ctx.query_bool("accesscontrol")
    items = [sa_dto(ctx, account, avatar_url(account.name), with_ac) for account in window]
    return ok_json(
        200,
        {"totalCount": len(matches), "serviceAccounts": items, "page": page, "perPage": per_page},
    )


def _filtered(ctx: Ctx) -> List[User]:
    """``query`` is a case-insensitive LIKE on email, name, login; ``disabled`` beats ``expiredTokens``."""
    needle = ctx.query_str("query").lower()
    accounts = [
        account
        for account in ctx.store.service_accounts(ctx.org_id)
        if needle in account.email.lower()
        or needle in account.name.lower()
        or needle in account.login.lower()
    ]
    if ctx.query_bool("disabled"):
        return [account for account in accounts if account.is_disabled]
    if ctx.query_bool("expiredTokens"):
        return [account for account in accounts if _has_expired_token(ctx, account)]
    return accounts


def _has_expired_token(ctx: Ctx, account: User) -> bool:
    return any(
        key.expires is not None and key.expires <= int(ctx.now)
        for key in ctx.store.tokens_of(account.id)
    )
