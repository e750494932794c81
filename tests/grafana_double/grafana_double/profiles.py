"""Version profiles: every behaviour that differs between Grafana releases, as data.

The handlers never compare version numbers; they read one flag of the active profile.
Adding a release means adding one row to ``PROFILES``. Section numbers refer to
``grafana-api-contract.md``.
"""
from __future__ import annotations

from dataclasses import dataclass
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
    # Writers A/B add ``"traceID":""`` (10.x+); 9.x printed errutil bodies in struct order.
    trace_ids: bool
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
    # §5: service accounts carry ``uid`` and routes accept UIDs in place of ids.
    sa_uid: bool
    # UserProfileDTO has ``uid``.
    user_uid: bool
    # §8 GET /api/user for a non-user identity: "synthetic" | "forbidden" | "profile".
    user_endpoint_for_sa: str
    # Modelled quirk: 11.x answers a PATCH lacking any of name/role/isDisabled with 500.
    partial_patch_500: bool
    # §6.2: duplicate token name status (9.x: 409 with err.Error() as message).
    duplicate_token_status: int
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


PROFILES: Dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            name="9.5", version="9.5.21", commit="c1e4a4b3ae",
            authn=False, trace_ids=False, unknown_key_is_public_error=True,
            legacy_keys_authenticate=True, org_check_for_keys=False, org_from_query=False,
            roles=ALL_ROLES[1:], sa_uid=False, user_uid=False,
            user_endpoint_for_sa="profile", partial_patch_500=False,
            duplicate_token_status=409, legacy_sa_conflict=True, role_escalation_check=False,
            auth_keys="full", migrate="9", health_sorted_keys=True,
        ),
        Profile(
            name="10.4", version="10.4.19", commit="7e9f1b6c52",
            authn=True, trace_ids=True, unknown_key_is_public_error=False,
            legacy_keys_authenticate=True, org_check_for_keys=True, org_from_query=True,
            roles=ALL_ROLES, sa_uid=False, user_uid=True,
            user_endpoint_for_sa="forbidden", partial_patch_500=False,
            duplicate_token_status=400, legacy_sa_conflict=False, role_escalation_check=True,
            auth_keys="full", migrate="10", health_sorted_keys=False,
        ),
        Profile(
            name="11.6", version="11.6.4", commit="0f6c4e2a18",
            authn=True, trace_ids=True, unknown_key_is_public_error=False,
            legacy_keys_authenticate=True, org_check_for_keys=True, org_from_query=True,
            roles=ALL_ROLES, sa_uid=False, user_uid=True,
            user_endpoint_for_sa="forbidden", partial_patch_500=True,
            duplicate_token_status=400, legacy_sa_conflict=False, role_escalation_check=True,
            auth_keys="create-gone", migrate="11", health_sorted_keys=False,
        ),
        Profile(
            name="12.2", version="12.2.0", commit="3a1b9c8d7e",
            authn=True, trace_ids=True, unknown_key_is_public_error=True,
            legacy_keys_authenticate=False, org_check_for_keys=True, org_from_query=True,
            roles=ALL_ROLES, sa_uid=True, user_uid=True,
            user_endpoint_for_sa="synthetic", partial_patch_500=False,
            duplicate_token_status=400, legacy_sa_conflict=False, role_escalation_check=True,
            auth_keys="removed", migrate="", health_sorted_keys=False,
        ),
    )
}

DEFAULT_VERSION = "12.2"
