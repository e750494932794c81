"""Version profiles: every behaviour that differs between Grafana releases, as data.

The handlers never compare version numbers; they read one flag of the active profile.
Adding a release means adding one row to ``PROFILES``. Section numbers refer to
``grafana-api-contract.md`` (its §13 supersedes earlier sections).

Every flag cites where the difference lives in grafana/grafana (file and function) and the
release or pull request that introduced it; ``SOURCES`` below is the same table as data, so
a test can check that no flag goes uncited. Where the source leaves the release open, the
comment says so and the double's README lists it under "Ambiguous in the source".
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Dict, Tuple

ALL_ROLES = ("None", "Viewer", "Editor", "Admin")


@dataclass(frozen=True)
class Profile:
    """How one Grafana release line answers the auth and service-account API."""

    name: str
    version: str
    commit: str
    # §2/§3: True = authn service (writer C bodies, errors only written by route guards);
    # False = 9.x context handler (JsonApiErr bodies, errors written at once).
    authn: bool
    # §3 row 6: True = unknown well-formed key gives api-key.invalid (newest store);
    # False = a plain error that writer C turns into {"message":"Unauthorized","traceID":""}.
    unknown_key_is_public_error: bool
    # §2.3 step 5: plain legacy keys (no service account) still authenticate.
    legacy_keys_authenticate: bool
    # §3 row 9 / §8: X-Grafana-Org-Id is compared with the key's org (9.x ignored it).
    org_check_for_keys: bool
    # ``?targetOrgId=`` is read before the header (authn only).
    org_from_query: bool
    roles: Tuple[str, ...]
    # §13 C5: service accounts carry ``uid`` and the ``:serviceAccountId`` route parameter may
    # be a UID (an id that is neither an integer nor a known UID is a 404 "Not found").
    sa_uid: bool
    # UserProfileDTO has ``uid``.
    user_uid: bool
    # §8 GET /api/user for a non-user identity: "synthetic" | "forbidden" | "profile".
    user_endpoint_for_sa: str
    # §13 C3: the SA login carries the org id (``sa-<org>-<name>``); 9.5: ``sa-<name>``.
    sa_login_with_org: bool
    # §13 C4: token id 0 is refused (400 serviceaccounts.ErrInvalidTokenId) before the lookup.
    token_id_zero_check: bool
    # §13 C6: service-account id 0 is refused (DELETE/PATCH 400 ErrInvalidId, GET and
    # POST tokens 500 "Failed to retrieve service account").
    sa_id_zero_check: bool
    # §5.1: 9.x conflict body {"message":"Failed to create service account"}.
    legacy_sa_conflict: bool
    # §5.1: "can not assign a role higher than user's role" check (10.x+).
    role_escalation_check: bool
    # §9: /api/auth/keys: "full" | "create-gone" (POST 410) | "removed" (routes gone).
    auth_keys: str
    # §9: /api/serviceaccounts/migrate*: "" (removed) | "9" | "10" | "11" body styles.
    migrate: str
    # §10: 9.x built the health body with simplejson, so its keys come out sorted.
    health_sorted_keys: bool


# flag -> (grafana/grafana file and function, release or PR that introduced the difference)
SOURCES: Dict[str, Tuple[str, str]] = {
    "authn": (
        "pkg/services/authn/authnimpl/service.go Service.Authenticate; 9.x: "
        "pkg/services/contexthandler/contexthandler.go initContextWithAPIKey",
        "authn service behind the authnService toggle, PR #59469 (Nov 2022); the default "
        "from 10.x (release of the switch: ambiguous, see README)",
    ),
    "unknown_key_is_public_error": (
        "pkg/services/authn/clients/api_key.go APIKey.Authenticate",
        "token-storage rewrite in the newest api_key.go (§3 row 6; release: ambiguous, see README)",
    ),
    "legacy_keys_authenticate": (
        "pkg/services/authn/clients/api_key.go validateApiKey",
        "PR #105998 (May 2025, 12.x)",
    ),
    "org_check_for_keys": (
        "pkg/services/authn/clients/api_key.go validateApiKey (api-key.organization-mismatch)",
        "authn service, PR #59469",
    ),
    "org_from_query": (
        "pkg/services/authn/authnimpl/service.go Service.Authenticate (targetOrgId)",
        "authn service, PR #59469",
    ),
    "roles": (
        "pkg/services/org/model.go / pkg/apimachinery/identity roletype RoleType",
        "None role in 10.x (release: ambiguous, see README)",
    ),
    "sa_uid": (
        "pkg/services/serviceaccounts/serviceaccounts.go "
        "MiddlewareServiceAccountUIDResolver; DTO uid fields in serviceaccounts/models.go",
        "PR #95401 (October 2024, 11.4)",
    ),
    "user_uid": (
        "pkg/api/user.go getUserUserProfile, pkg/services/user/model.go UserProfileDTO",
        "contract §8 (10.x+; release: ambiguous, see README)",
    ),
    "user_endpoint_for_sa": (
        "pkg/api/user.go GetSignedInUser",
        "contract §8: 9.x-10.1 user row, namespaced-ID era 403, newest "
        "synthetic profile (ranges ambiguous, see README)",
    ),
    "sa_login_with_org": (
        "pkg/services/serviceaccounts/database/store.go CreateServiceAccount "
        "(serviceaccounts.GenerateLogin)",
        "PR #83893 (March 2024, 10.4.x)",
    ),
    "token_id_zero_check": (
        "pkg/services/serviceaccounts/manager/service.go validServiceAccountTokenID",
        "contract §13 C4 (10.4+)",
    ),
    "sa_id_zero_check": (
        "pkg/services/serviceaccounts/manager/service.go validServiceAccountID, "
        "RetrieveServiceAccount",
        "contract §13 C6 (11.4+, with PR #95401)",
    ),
    "legacy_sa_conflict": (
        "pkg/services/serviceaccounts/api/api.go CreateServiceAccount",
        "errutil errors for service accounts (ErrServiceAccountAlreadyExists), "
        "PR #64299 (March 2023) era; 9.x JsonApiErr body per contract §5.1",
    ),
    "role_escalation_check": (
        "pkg/services/serviceaccounts/api/api.go CreateServiceAccount "
        "(ErrServiceAccountRoleForbidden)",
        "10.x (contract §5.1)",
    ),
    "auth_keys": (
        "pkg/api/apikey.go AddAPIKey, pkg/api/api.go route registration",
        "POST 410: PR #92144 (11.3.0); routes removed: PR #106019 (May/June 2025)",
    ),
    "migrate": (
        "pkg/services/serviceaccounts/api/api.go MigrateApiKeysToServiceAccounts, "
        "ConvertToServiceAccount",
        "11.x JSON counts (contract §9); removed with PR #106019",
    ),
    "health_sorted_keys": (
        "pkg/api/http_server.go apiHealthHandler (healthResponse struct); 9.x "
        "pkg/api/health.go simplejson",
        "contract §10 (switch release: ambiguous, see README)",
    ),
}


PROFILES: Dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            name="9.5",
            version="9.5.21",
            commit="c1e4a4b3ae",
            authn=False,
            unknown_key_is_public_error=True,
            legacy_keys_authenticate=True,
            org_check_for_keys=False,
            org_from_query=False,
            roles=ALL_ROLES[1:],
            sa_uid=False,
            user_uid=False,
            user_endpoint_for_sa="profile",
            sa_login_with_org=False,
            token_id_zero_check=False,
            sa_id_zero_check=False,
            legacy_sa_conflict=True,
            role_escalation_check=False,
            auth_keys="full",
            migrate="9",
            health_sorted_keys=True,
        ),
        Profile(
            name="10.4",
            version="10.4.19",
            commit="7e9f1b6c52",
            authn=True,
            unknown_key_is_public_error=False,
            legacy_keys_authenticate=True,
            org_check_for_keys=True,
            org_from_query=True,
            roles=ALL_ROLES,
            sa_uid=False,
            user_uid=True,
            user_endpoint_for_sa="forbidden",
            sa_login_with_org=True,
            token_id_zero_check=True,
            sa_id_zero_check=False,
            legacy_sa_conflict=False,
            role_escalation_check=True,
            auth_keys="full",
            migrate="10",
            health_sorted_keys=False,
        ),
        Profile(
            name="11.6",
            version="11.6.4",
            commit="0f6c4e2a18",
            authn=True,
            unknown_key_is_public_error=False,
            legacy_keys_authenticate=True,
            org_check_for_keys=True,
            org_from_query=True,
            roles=ALL_ROLES,
            sa_uid=True,
            user_uid=True,
            user_endpoint_for_sa="forbidden",
            sa_login_with_org=True,
            token_id_zero_check=True,
            sa_id_zero_check=True,
            legacy_sa_conflict=False,
            role_escalation_check=True,
            auth_keys="create-gone",
            migrate="11",
            health_sorted_keys=False,
        ),
        Profile(
            name="12.2",
            version="12.2.0",
            commit="3a1b9c8d7e",
            authn=True,
            unknown_key_is_public_error=True,
            legacy_keys_authenticate=False,
            org_check_for_keys=True,
            org_from_query=True,
            roles=ALL_ROLES,
            sa_uid=True,
            user_uid=True,
            user_endpoint_for_sa="synthetic",
            sa_login_with_org=True,
            token_id_zero_check=True,
            sa_id_zero_check=True,
            legacy_sa_conflict=False,
            role_escalation_check=True,
            auth_keys="removed",
            migrate="",
            health_sorted_keys=False,
        ),
    )
}

DEFAULT_VERSION = "12.2"

# Behaviours shared by every profile, with their sources (no flag: no version differs).
COMMON_SOURCES: Dict[str, Tuple[str, str]] = {
    "default response headers (C1)": (
        "pkg/middleware/middleware.go AddDefaultResponseHeaders, registered before the health "
        "handlers and the context handler in pkg/api/http_server.go addMiddlewaresAndStaticRoutes",
        "Cache-Control: no-store without Pragma/Expires since PR #62021 (January 2023, 9.4)",
    ),
    "traceID in writer A/B bodies": (
        "pkg/api/response/response.go NormalResponse.WriteTo / writeLogLine",
        "PR #46411 (April 2022, 9.0)",
    ),
    "duplicate token name 400 (C2)": (
        "pkg/services/serviceaccounts/models.go ErrDuplicateToken",
        "PR #64299 (March 2023, 9.5)",
    ),
    "partial PATCH applied (C7)": (
        "pkg/services/serviceaccounts/database/store.go UpdateServiceAccount",
        "every release",
    ),
    "token expiry arithmetic": (
        "pkg/services/apikey/apikeyimpl/store.go AddAPIKey: "
        "updated.Add(time.Second * time.Duration(SecondsToLive)).Unix() (int64 wraps)",
        "every release",
    ),
    "token name uniqueness": (
        "pkg/services/apikey/apikeyimpl/store.go AddAPIKey: sess.Get(APIKey{OrgID, Name}) "
        "(SQL equality: case-sensitive on the default SQLite database)",
        "every release",
    ),
}


def uncited_flags() -> Tuple[str, ...]:
    """Behaviour flags of ``Profile`` without an entry in ``SOURCES`` (must stay empty)."""
    skip = {"name", "version", "commit"}
    return tuple(
        item.name for item in fields(Profile) if item.name not in skip and item.name not in SOURCES
    )
