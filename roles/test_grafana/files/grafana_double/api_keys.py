"""Legacy API keys: ``/api/auth/keys`` and ``/api/serviceaccounts/migrate*`` (contract §9)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from .api_tokens import check_ttl
from .clock import rfc3339
from .context import Ctx
from .gojson import INT64, STRING, parse_int64
from .responses import Abort, Response, api_error, ok_json, success
from .store import ApiKey, Conflict, User, generate_login

KEY_FORM = {"name": STRING, "role": STRING, "secondsToLive": INT64}
MAX_LISTED = 100
GONE_MESSAGE = (
    "this endpoint has been removed, please use POST /api/serviceaccounts and "
    "POST /api/serviceaccounts/{id}/tokens instead"
)
MIGRATION_ATTEMPTS = 11  # the plain name, then suffixes -001 … -010


def key_dto(key: ApiKey) -> Dict[str, Any]:
    """``ApiKeyDTO``: expiration and lastUsedAt are omitempty pointers."""
    dto: Dict[str, Any] = {"id": key.id, "name": key.name, "role": key.role}
    if key.expires is not None:
        dto["expiration"] = rfc3339(key.expires)
    if key.last_used_at is not None:
        dto["lastUsedAt"] = rfc3339(key.last_used_at)
    return dto


def list_keys(ctx: Ctx) -> Response:
    """GET /api/auth/keys: plain keys of the org, expired ones only with ``includeExpired``."""
    include_expired = ctx.query_bool("includeExpired")
    rows = [
        key
        for key in ctx.store.plain_keys(ctx.org_id)
        if include_expired or key.expires is None or key.expires > ctx.now
    ]
    rows.sort(key=lambda key: key.name)
    return ok_json(200, [key_dto(key) for key in rows[:MAX_LISTED]])


def create_key(ctx: Ctx) -> Response:
    """POST /api/auth/keys: works up to 10.x, 410 Gone from 11.3."""
    if ctx.profile.auth_keys == "create-gone":
        raise Abort(api_error(ctx.profile, 410, GONE_MESSAGE, with_err=False))
    form = ctx.bind(KEY_FORM, required=("name", "role"))
    if form["role"] not in ctx.profile.roles:
        raise Abort(api_error(ctx.profile, 400, "Invalid role specified", with_err=False))
    seconds_to_live = form.get("secondsToLive", 0)
    check_ttl(ctx, seconds_to_live)
    if seconds_to_live < 0:
        raise Abort(api_error(ctx.profile, 400, "Negative value for SecondsToLive"))
    try:
        key, plaintext = ctx.store.add_legacy_key(
            ctx.org_id, form["name"], form["role"], seconds_to_live
        )
    except Conflict:
        raise Abort(
            api_error(ctx.profile, 409, "API Key Organization ID And Name Must Be Unique")
        ) from None
    return ok_json(200, {"id": key.id, "name": key.name, "key": plaintext})


def _plain_key(ctx: Ctx, key_id: Optional[int]) -> Optional[ApiKey]:
    return next((key for key in ctx.store.plain_keys(ctx.org_id) if key.id == key_id), None)


def delete_key(ctx: Ctx) -> Response:
    """DELETE /api/auth/keys/:id (plain keys only; SA tokens have their own route)."""
    key_id = parse_int64(ctx.params["id"])
    if key_id is None:
        raise Abort(api_error(ctx.profile, 400, "id is invalid"))
    key = _plain_key(ctx, key_id)
    if key is None:
        raise Abort(api_error(ctx.profile, 404, "Failed to delete API key"))
    ctx.store.delete_key(key)
    return success("API key deleted")


def _convert(ctx: Ctx, key: ApiKey) -> Optional[User]:
    """Turn a plain key into the token of a new ``sa-autogen-<name>`` SA with the key's role."""
    for attempt in range(MIGRATION_ATTEMPTS):
        suffix = f"-{attempt:03d}" if attempt else ""
        login = generate_login("sa-autogen", key.org_id, key.name) + suffix
        try:
            account = ctx.store.create_service_account(
                key.org_id, f"sa-autogen-{key.name}{suffix}", key.role, False, login=login
            )
        except Conflict:
            continue
        ctx.store.attach_key(key, account)
        return account
    return None


def migrate_all(ctx: Ctx) -> Response:
    """POST /api/serviceaccounts/migrate: every plain key of the org."""
    keys = sorted(ctx.store.plain_keys(ctx.org_id), key=lambda key: key.id)
    failed: List[int] = [key.id for key in keys if _convert(ctx, key) is None]
    if ctx.profile.migrate != "11":
        return success("API keys migrated to service accounts")
    return ok_json(
        500 if failed else 200,
        {
            "total": len(keys),
            "migrated": len(keys) - len(failed),
            "failed": len(failed),
            "failedApikeyIDs": failed,
            "failedDetails": [f"failed to migrate API key {key_id}" for key_id in failed],
        },
    )


def migrate_key(ctx: Ctx) -> Response:
    """POST /api/serviceaccounts/migrate/:keyId."""
    key_id = parse_int64(ctx.params["keyId"])
    if key_id is None:
        raise Abort(api_error(ctx.profile, 400, "Key ID is invalid"))
    key = _plain_key(ctx, key_id)
    if key is None or _convert(ctx, key) is None:
        raise Abort(api_error(ctx.profile, 500, "Error converting API key"))
    return success(
        "Service accounts converted" if ctx.profile.migrate == "9" else "Service accounts migrated"
    )
