"""The route table: method, path pattern, guard, handler, and which releases have the route.

Grafana's router answers an unregistered method on a known path with its generic 404, not
405, so matching is by method and path together and a miss is always a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from . import api_keys, api_misc, api_tokens
from . import api_serviceaccounts as sa
from .context import Ctx
from .profiles import Profile
from .rbac import AnyOf, Evaluator, Perm
from .responses import Response

Handler = Callable[[Ctx], Response]


def _always(profile: Profile) -> bool:
    return True


def _has_auth_keys(profile: Profile) -> bool:
    return profile.auth_keys != "removed"


def _has_migrate(profile: Profile) -> bool:
    return bool(profile.migrate)


@dataclass(frozen=True)
class Route:
    """One endpoint. ``public`` routes run before authentication (health checks)."""

    method: str
    pattern: str
    handler: Handler
    permission: Optional[Evaluator] = None
    public: bool = False
    available: Callable[[Profile], bool] = _always
    segments: Tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(self.pattern.strip("/").split("/")))

    def match(self, method: str, segments: List[str]) -> Optional[Dict[str, str]]:
        """Route parameters if method and path match (HEAD is served by GET routes)."""
        if method != self.method and not (method == "HEAD" and self.method == "GET"):
            return None
        return match_segments(self.segments, segments)


def match_segments(pattern: Tuple[str, ...], segments: List[str]) -> Optional[Dict[str, str]]:
    """``:name`` segments capture; the others must be equal."""
    if len(segments) != len(pattern):
        return None
    params: Dict[str, str] = {}
    for expected, actual in zip(pattern, segments):
        if expected.startswith(":"):
            params[expected[1:]] = actual
        elif expected != actual:
            return None
    return params


SA_READ = Perm("serviceaccounts:read")
SA_WRITE = Perm("serviceaccounts:write")
SA_CREATE = Perm("serviceaccounts:create")

# Literal paths come before parametrised siblings (search/migrate before :id).
ROUTES: Tuple[Route, ...] = (
    Route("GET", "/api/health", api_misc.health, public=True),
    Route("GET", "/healthz", api_misc.healthz, public=True),
    Route("GET", "/api/user", api_misc.get_user),
    Route("GET", "/api/org", api_misc.get_org, Perm("orgs:read")),
    Route("GET", "/api/orgs", api_misc.search_orgs, Perm("orgs:read:all", shown_as="orgs:read")),
    Route("POST", "/api/orgs", api_misc.create_org, Perm("orgs:create")),
    Route("GET", "/api/dashboards/home", api_misc.home_dashboard),
    Route(
        "POST",
        "/api/dashboards/db",
        api_misc.save_dashboard,
        AnyOf("dashboards:create", "dashboards:write"),
    ),
    Route("GET", "/api/serviceaccounts/search", sa.search, SA_READ),
    Route("POST", "/api/serviceaccounts", sa.create, SA_CREATE),
    Route(
        "POST",
        "/api/serviceaccounts/migrate",
        api_keys.migrate_all,
        SA_CREATE,
        available=_has_migrate,
    ),
    Route(
        "POST",
        "/api/serviceaccounts/migrate/:keyId",
        api_keys.migrate_key,
        SA_CREATE,
        available=_has_migrate,
    ),
    Route("GET", "/api/serviceaccounts/:id", sa.get, SA_READ),
    Route("PATCH", "/api/serviceaccounts/:id", sa.update, SA_WRITE),
    Route("DELETE", "/api/serviceaccounts/:id", sa.delete, Perm("serviceaccounts:delete")),
    Route("GET", "/api/serviceaccounts/:id/tokens", api_tokens.list_tokens, SA_READ),
    Route("POST", "/api/serviceaccounts/:id/tokens", api_tokens.create_token, SA_WRITE),
    Route("DELETE", "/api/serviceaccounts/:id/tokens/:tokenId", api_tokens.delete_token, SA_WRITE),
    Route(
        "GET", "/api/auth/keys", api_keys.list_keys, Perm("apikeys:read"), available=_has_auth_keys
    ),
    Route(
        "POST",
        "/api/auth/keys",
        api_keys.create_key,
        Perm("apikeys:create"),
        available=_has_auth_keys,
    ),
    Route(
        "DELETE",
        "/api/auth/keys/:id",
        api_keys.delete_key,
        Perm("apikeys:delete"),
        available=_has_auth_keys,
    ),
)


def split_path(path: str) -> List[str]:
    """Path segments; one trailing slash is ignored, as Grafana's router does."""
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path.strip("/").split("/")


def find(method: str, path: str, profile: Profile) -> Optional[Tuple[Route, Dict[str, str]]]:
    """The first route of the profile matching method and path."""
    segments = split_path(path)
    for route in ROUTES:
        if not route.available(profile):
            continue
        params = route.match(method, segments)
        if params is not None:
            return route, params
    return None
