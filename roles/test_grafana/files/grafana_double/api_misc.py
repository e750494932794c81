"""The rest of the modelled API: user, org, orgs, dashboards, health (contract §7, §8, §10)."""

from __future__ import annotations

import hashlib
import re
from typing import Any, Dict

from . import tokens
from .clock import rfc3339
from .context import Ctx
from .gojson import BOOL, OBJECT, STRING, marshal, sorted_map
from .responses import JSON_UTF8, Abort, Response, api_error, ok_json, plain
from .store import ROLE_RANK, Conflict, User

ZERO_TIME = "0001-01-01T00:00:00Z"
DASHBOARD_FORM = {"dashboard": OBJECT, "folderUid": STRING, "overwrite": BOOL, "message": STRING}


def _gravatar(email: str) -> str:
    return "/avatar/" + hashlib.md5(email.strip().lower().encode("utf-8")).hexdigest()


def user_profile(ctx: Ctx, user: User, org_id: int) -> Dict[str, Any]:
    """``UserProfileDTO`` in struct order for a row of the user table."""
    dto: Dict[str, Any] = {"id": user.id}
    if ctx.profile.user_uid:
        dto["uid"] = user.uid
    dto.update(
        email=user.email,
        name=user.name,
        login=user.login,
        theme="",
        orgId=org_id,
        isGrafanaAdmin=user.is_server_admin,
        isDisabled=user.is_disabled,
        isExternal=False,
        isExternallySynced=False,
        isGrafanaAdminExternallySynced=False,
        authLabels=[],
        updatedAt=rfc3339(user.updated),
        createdAt=rfc3339(user.created),
        avatarUrl=_gravatar(user.email),
    )
    return dto


def synthetic_profile(account: User, org_id: int) -> Dict[str, Any]:
    """12.x: what ``GET /api/user`` builds for a service-account identity (no DB row read)."""
    return {
        "id": 0,
        "uid": f"service-account:{account.id}",
        "email": account.email,
        "name": account.name,
        "login": account.login,
        "theme": "",
        "orgId": org_id,
        "isGrafanaAdmin": False,
        "isDisabled": False,
        "isExternal": False,
        "isExternallySynced": False,
        "isGrafanaAdminExternallySynced": False,
        "authLabels": None,
        "updatedAt": ZERO_TIME,
        "createdAt": ZERO_TIME,
        "avatarUrl": "",
    }


def get_user(ctx: Ctx) -> Response:
    """GET /api/user; what a non-user identity gets depends on the release."""
    caller = ctx.caller
    if caller.is_user and caller.user is not None:
        return ok_json(200, user_profile(ctx, caller.user, caller.org_id))
    mode = ctx.profile.user_endpoint_for_sa
    if mode == "forbidden":
        return api_error(ctx.profile, 403, "Endpoint only available for users", with_err=False)
    if caller.user is None:  # a plain API key has no user row
        return api_error(ctx.profile, 404, "User not found")
    if mode == "synthetic":
        return ok_json(200, synthetic_profile(caller.user, caller.org_id))
    return ok_json(200, user_profile(ctx, caller.user, caller.org_id))


def get_org(ctx: Ctx) -> Response:
    """GET /api/org: ``OrgDetailsDTO`` of the org the request acts in."""
    org = ctx.store.orgs.get(ctx.org_id)
    if org is None:
        return api_error(ctx.profile, 404, "Organization not found")
    address = {
        "address1": "",
        "address2": "",
        "city": "",
        "zipCode": "",
        "state": "",
        "country": "",
    }
    return ok_json(200, {"id": org.id, "name": org.name, "address": address})


def search_orgs(ctx: Ctx) -> Response:
    """GET /api/orgs (server admin): ``OrgDTO`` list ordered by name, ``query``/``name`` filters."""
    needle, exact = ctx.query_str("query").lower(), ctx.query_str("name")
    orgs = sorted(ctx.store.orgs.values(), key=lambda org: org.name)
    orgs = [org for org in orgs if needle in org.name.lower() and exact in ("", org.name)]
    window = ctx.paginate(orgs)[0]
    return ok_json(200, [{"id": org.id, "name": org.name} for org in window])


def create_org(ctx: Ctx) -> Response:
    """POST /api/orgs: the creator becomes Admin of the new org."""
    form = ctx.bind({"name": STRING}, required=("name",))
    creator = ctx.caller.user if ctx.caller.is_user else None
    try:
        org = ctx.store.create_org(form["name"], creator)
    except Conflict:
        raise Abort(api_error(ctx.profile, 409, "Organization name taken")) from None
    return ok_json(200, sorted_map({"message": "Organization created", "orgId": org.id}))


def home_dashboard(ctx: Ctx) -> Response:
    """GET /api/dashboards/home: a small built-in home dashboard."""
    dashboard = {
        "annotations": {"list": []},
        "editable": False,
        "panels": [],
        "schemaVersion": 39,
        "tags": [],
        "time": {"from": "now-6h", "to": "now"},
        "title": "Home",
        "uid": "",
        "version": 0,
    }
    meta = {
        "isHome": True,
        "canSave": False,
        "canEdit": ROLE_RANK.get(ctx.caller.role, 0) >= 2,
        "canAdmin": False,
        "canStar": False,
        "canDelete": False,
        "slug": "",
        "url": "",
        "expires": ZERO_TIME,
        "created": ZERO_TIME,
        "updated": ZERO_TIME,
        "updatedBy": "",
        "createdBy": "",
        "version": 0,
        "hasAcl": False,
        "isFolder": False,
        "folderId": 0,
        "folderUid": "",
        "folderTitle": "General",
        "folderUrl": "",
        "provisioned": False,
        "provisionedExternalId": "",
    }
    return ok_json(200, {"dashboard": dashboard, "meta": meta})


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def save_dashboard(ctx: Ctx) -> Response:
    """POST /api/dashboards/db: store by uid, bump the version on each save."""
    form = ctx.bind(DASHBOARD_FORM, required=("dashboard",))
    dashboard = form["dashboard"]
    title = dashboard.get("title")
    if not isinstance(title, str) or not title.strip():
        raise Abort(api_error(ctx.profile, 400, "Dashboard title cannot be empty"))
    uid = (
        dashboard.get("uid")
        if isinstance(dashboard.get("uid"), str) and dashboard.get("uid")
        else ""
    )
    saved = ctx.store.save_dashboard(
        ctx.org_id, uid or tokens.short_uid(), title, form.get("folderUid", "")
    )
    slug = _slug(title)
    body = {
        "folderUid": saved.folder_uid,
        "id": saved.id,
        "slug": slug,
        "status": "success",
        "title": title,
        "uid": saved.uid,
        "url": f"{ctx.sub_path}/d/{saved.uid}/{slug}",
        "version": saved.version,
    }
    return ok_json(200, sorted_map(body))


def health(ctx: Ctx) -> Response:
    """GET|HEAD /api/health: never authenticates; two-space indented, struct order
    (9.x built it with simplejson, so its keys come out sorted)."""
    healthy = ctx.settings.database_ok
    data = {
        "database": "ok" if healthy else "failing",
        "version": ctx.profile.version,
        "commit": ctx.profile.commit,
    }
    if ctx.profile.health_sorted_keys:
        data = sorted_map(data)
    return Response(200 if healthy else 503, marshal(data, indent=2).encode("utf-8"), JSON_UTF8)


def healthz(ctx: Ctx) -> Response:
    """GET /healthz: liveness, plain ``Ok``."""
    return plain(200, "Ok")
