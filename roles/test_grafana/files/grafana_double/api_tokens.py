"""``/api/serviceaccounts/:id/tokens``: list, create, delete (contract §6)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from . import api_serviceaccounts as accounts
from .clock import rfc3339
from .context import Ctx
from .gojson import INT64, STRING, parse_int64
from .responses import Abort, Response, api_error, ok_json, plain, public_error
from .store import ApiKey, Conflict, go_add_seconds

TOKEN_FORM = {"name": STRING, "secondsToLive": INT64}
MAX_LISTED = 300
SEVEN_DAYS = 7 * 24 * 3600
DAY = 24 * 3600
DAY_LIMIT_TEXT = (
    "The expiration date input exceeds the limit for service account access tokens expiration date"
)


def _time(value: Optional[float]) -> Optional[str]:
    return rfc3339(value) if value is not None else None


def token_dto(key: ApiKey, now: float) -> Dict[str, Any]:
    """``TokenDTO`` in struct order; secondsUntilExpiration only inside the 7-day window."""
    has_expired = key.expires is not None and key.expires < now
    seconds_left = 0.0
    if key.expires is not None and not has_expired and key.expires < now + SEVEN_DAYS:
        seconds_left = key.expires - now
    return {
        "id": key.id,
        "name": key.name,
        "created": rfc3339(key.created),
        "lastUsedAt": _time(key.last_used_at),
        "expiration": _time(key.expires),
        "secondsUntilExpiration": seconds_left,
        "hasExpired": has_expired,
        "isRevoked": key.is_revoked,
    }


def list_tokens(ctx: Ctx) -> Response:
    """No existence check: an unknown SA simply has no tokens (``[]``)."""
    account_id = accounts.resolve_id(ctx)
    rows = [key for key in ctx.store.tokens_of(account_id) if key.org_id == ctx.org_id]
    rows.sort(key=lambda key: key.name)
    return ok_json(200, [token_dto(key, ctx.now) for key in rows[:MAX_LISTED]])


def check_ttl(ctx: Ctx, seconds_to_live: int) -> None:
    """The global max TTL and the day limit, in the handler's order (shared with legacy keys)."""
    limit = ctx.settings.api_key_max_seconds_to_live
    if limit != -1 and seconds_to_live == 0:
        raise Abort(
            api_error(ctx.profile, 400, "Number of seconds before expiration should be set", False)
        )
    if limit != -1 and seconds_to_live > limit:
        raise Abort(
            api_error(
                ctx.profile,
                400,
                "Number of seconds before expiration is greater than the global limit",
                False,
            )
        )
    days = ctx.settings.token_expiration_day_limit
    if days > 0 and _truncate_day(go_add_seconds(ctx.now, seconds_to_live)) > _truncate_day(
        ctx.now + days * DAY
    ):
        raise Abort(plain(400, DAY_LIMIT_TEXT))


def _truncate_day(timestamp: float) -> float:
    """Go's ``Time.Truncate(24 * time.Hour)``."""
    return timestamp - timestamp % DAY


def create_token(ctx: Ctx) -> Response:
    """Check order: SA exists → bind → max TTL → day limit → negative TTL → duplicate name."""
    account = accounts.load(ctx)
    form = ctx.bind(TOKEN_FORM, required=("name",))
    seconds_to_live = form.get("secondsToLive", 0)
    check_ttl(ctx, seconds_to_live)
    if seconds_to_live < 0:
        raise Abort(
            public_error(
                ctx.profile, 400, "serviceaccounts.ErrInvalidInput", "invalid SecondsToLive value"
            )
        )
    try:
        key, plaintext = ctx.store.add_sa_token(account, form["name"], seconds_to_live)
    except Conflict:
        raise Abort(_duplicate(ctx)) from None
    return ok_json(200, {"id": key.id, "name": key.name, "key": plaintext})


def _duplicate(ctx: Ctx) -> Response:
    """``ErrDuplicateToken`` (models.go, errutil since PR #64299, March 2023): 400 on every
    profile, 9.5 included (contract §13 C2; the 409 form belongs to 9.1-9.3 only)."""
    return public_error(
        ctx.profile,
        400,
        "serviceaccounts.ErrTokenAlreadyExists",
        "service account token with given name already exists in the organization",
    )


def delete_token(ctx: Ctx) -> Response:
    """DELETE /api/serviceaccounts/:id/tokens/:tokenId."""
    account = accounts.load(ctx)
    token_id = parse_int64(ctx.params["tokenId"])
    if token_id is None:
        raise Abort(api_error(ctx.profile, 400, "Token ID is invalid"))
    if ctx.profile.token_id_zero_check and token_id == 0:
        # validServiceAccountTokenID (manager/service.go), before the lookup (§13 C4).
        raise Abort(
            public_error(
                ctx.profile,
                400,
                "serviceaccounts.ErrInvalidTokenId",
                "invalid service account token id specified",
            )
        )
    key = ctx.store.keys.get(token_id)
    if key is None or key.service_account_id != account.id:
        raise Abort(
            public_error(
                ctx.profile,
                404,
                "serviceaccounts.ErrTokenNotFound",
                "service account token not found",
            )
        )
    ctx.store.delete_key(key)
    return ok_json(200, {"message": "Service account token deleted"})
