"""``/api/serviceaccounts``: create, get, update, delete, search (contract §5)."""
from __future__ import annotations

import hashlib
from typing import Any, Dict, List

from .clock import rfc3339
from .context import Ctx
from .gojson import BOOL, STRING, parse_int64, sorted_map
from .responses import Abort, Response, api_error, ok_json, public_error
from .store import ROLE_RANK, Conflict, User

SA_FORM = {"name": STRING, "role": STRING, "isDisabled": BOOL}


def avatar_url(name: str) -> str:
    """Stable ``/avatar/<md5>`` (Grafana hashes the name for SAs, which have no e-mail)."""
    return "/avatar/" + hashlib.md5(name.lower().encode("utf-8")).hexdigest()


def not_found(ctx: Ctx) -> Response:
    return public_error(ctx.profile, 404, "serviceaccounts.ErrNotFound", "service account not found")


def resolve_id(ctx: Ctx) -> int:
    """The ``:id`` route parameter: an integer, or (12.x) a UID of this org's SA."""
    raw = ctx.params["id"]
    account_id = parse_int64(raw)
    if account_id is not None:
        return account_id
    if ctx.profile.sa_uid:
        account = ctx.store.service_account_by_uid(raw, ctx.org_id)
        if account is not None:
            return account.id
    raise Abort(api_error(ctx.profile, 400, "Service Account ID is invalid"))


def load(ctx: Ctx) -> User:
    """The SA named by the route, visible from the caller's org, or 404."""
    account = ctx.store.service_account(resolve_id(ctx), ctx.org_id)
    if account is None:
        raise Abort(not_found(ctx))
    return account


def check_role(ctx: Ctx, role: str) -> None:
    """Same validation on create and update: known role (case-sensitive), not above the caller."""
    if role not in ctx.profile.roles:
        raise Abort(public_error(ctx.profile, 400, "serviceaccounts.ErrInvalidRoleSpecified",
                                 "invalid role specified"))
    if ctx.profile.role_escalation_check and ROLE_RANK[role] > ROLE_RANK.get(ctx.caller.role, 0):
        raise Abort(public_error(ctx.profile, 403, "serviceaccounts.ErrRoleForbidden",
                                 "can not assign a role higher than user's role"))


def _access_control(ctx: Ctx) -> Dict[str, bool]:
    actions = (action for action in ctx.caller.actions() if action.startswith("serviceaccounts:"))
    return sorted_map({action: True for action in actions})


def _head(ctx: Ctx, account: User) -> Dict[str, Any]:
    """The fields every SA DTO starts with; ``uid`` only where the release has it."""
    head: Dict[str, Any] = {"id": account.id}
    if ctx.profile.sa_uid:
        head["uid"] = account.uid
    head.update(name=account.name, login=account.login, orgId=account.org_id, isDisabled=account.is_disabled)
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
    dto.update(createdAt=rfc3339(account.created), updatedAt=rfc3339(account.updated),
               avatarUrl=avatar_url(account.name), role=account.role, teams=None)
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
        account = ctx.store.create_service_account(ctx.org_id, form["name"], role, form.get("isDisabled", False))
    except Conflict:
        raise Abort(_conflict(ctx)) from None
    return ok_json(201, sa_dto(ctx, account, avatar=""))


def _conflict(ctx: Ctx) -> Response:
    if ctx.profile.legacy_sa_conflict:
        return api_error(ctx.profile, 400, "Failed to create service account")
    return public_error(ctx.profile, 400, "serviceaccounts.ErrAlreadyExists", "service account already exists")


def get(ctx: Ctx) -> Response:
    """GET /api/serviceaccounts/:id → ServiceAccountProfileDTO."""
    return ok_json(200, sa_profile(ctx, load(ctx), ctx.query_bool("accesscontrol")))


def update(ctx: Ctx) -> Response:
    """PATCH /api/serviceaccounts/:id: partial update; renaming keeps the login."""
    account_id = resolve_id(ctx)
    form = ctx.bind(SA_FORM)
    account = ctx.store.service_account(account_id, ctx.org_id)
    if account is None:
        raise Abort(not_found(ctx))
    if ctx.profile.partial_patch_500 and set(form) != set(SA_FORM):
        # Modelled quirk: the collection was told 11.x fails on partial bodies.
        raise Abort(api_error(ctx.profile, 500, "Internal Server Error"))
    if "role" in form:
        check_role(ctx, form["role"])
    _apply(ctx, account, form)
    body = {"id": account.id, "message": "Service account updated", "name": account.name,
            "serviceaccount": sa_profile(ctx, account)}
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
    """DELETE /api/serviceaccounts/:id, with all its tokens."""
    ctx.store.delete_service_account(load(ctx))
    return ok_json(200, {"message": "Service account deleted"})


def search(ctx: Ctx) -> Response:
    """GET /api/serviceaccounts/search: filter, order by email then login, paginate."""
    matches = sorted(_filtered(ctx), key=lambda account: (account.email, account.login))
    window, page, per_page = ctx.paginate(matches)
    with_ac = ctx.query_bool("accesscontrol")
    items = [sa_dto(ctx, account, avatar_url(account.name), with_ac) for account in window]
    return ok_json(200, {"totalCount": len(matches), "serviceAccounts": items, "page": page, "perPage": per_page})


def _filtered(ctx: Ctx) -> List[User]:
    """``query`` is a case-insensitive LIKE on email, name, login; ``disabled`` beats ``expiredTokens``."""
    needle = ctx.query_str("query").lower()
    accounts = [account for account in ctx.store.service_accounts(ctx.org_id)
                if needle in account.email.lower() or needle in account.name.lower()
                or needle in account.login.lower()]
    if ctx.query_bool("disabled"):
        return [account for account in accounts if account.is_disabled]
    if ctx.query_bool("expiredTokens"):
        return [account for account in accounts if _has_expired_token(ctx, account)]
    return accounts


def _has_expired_token(ctx: Ctx, account: User) -> bool:
    return any(key.expires is not None and key.expires <= int(ctx.now) for key in ctx.store.tokens_of(account.id))
