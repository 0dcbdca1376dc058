"""Operator endpoints (tenants), tenant users, API keys, the audit log and /me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from crmbridge.services import api_keys, tenants, users
from crmbridge.services.access import Role
from crmbridge.store.repositories.audit import list_audit_entries
from crmbridge.web.api.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    AuditEntryOut,
    MeOut,
    TenantIn,
    TenantOut,
    UserIn,
    UserOut,
    UserPatch,
)
from crmbridge.web.deps import Admin, CurrentPrincipal, DbSession, Operator

router = APIRouter()


@router.get("/me", response_model=MeOut, tags=["me"])
def me(principal: CurrentPrincipal, session: DbSession) -> MeOut:
    """Who the credential belongs to, its role and tenant."""
    tenant = None
    if principal.tenant_id is not None:
        tenant = TenantOut(
            **tenants.tenant_view(tenants.get_active_tenant(session, principal.tenant_id))
        )
    return MeOut(
        kind="user" if principal.kind == "user" else "api_key",
        id=principal.id,
        label=principal.label,
        role=principal.role.value,
        tenant=tenant,
    )


# --- operator: tenants ---------------------------------------------------------------


@router.post("/operator/tenants", status_code=201, response_model=TenantOut, tags=["operator"])
def create_tenant(body: TenantIn, principal: Operator, session: DbSession) -> TenantOut:
    return TenantOut(
        **tenants.tenant_view(tenants.create_tenant(session, principal, name=body.name))
    )


@router.get("/operator/tenants", response_model=list[TenantOut], tags=["operator"])
def list_tenants(principal: Operator, session: DbSession) -> list[TenantOut]:
    return [TenantOut(**tenants.tenant_view(t)) for t in tenants.list_tenants(session)]


@router.get("/operator/tenants/{tenant_id}", response_model=TenantOut, tags=["operator"])
def get_tenant(tenant_id: str, principal: Operator, session: DbSession) -> TenantOut:
    return TenantOut(**tenants.tenant_view(tenants.get_tenant(session, tenant_id)))


@router.post("/operator/tenants/{tenant_id}/suspend", response_model=TenantOut, tags=["operator"])
def suspend_tenant(tenant_id: str, principal: Operator, session: DbSession) -> TenantOut:
    tenant = tenants.set_tenant_status(session, principal, tenant_id, suspended=True)
    return TenantOut(**tenants.tenant_view(tenant))


@router.post("/operator/tenants/{tenant_id}/resume", response_model=TenantOut, tags=["operator"])
def resume_tenant(tenant_id: str, principal: Operator, session: DbSession) -> TenantOut:
    tenant = tenants.set_tenant_status(session, principal, tenant_id, suspended=False)
    return TenantOut(**tenants.tenant_view(tenant))


# --- tenant users ----------------------------------------------------------------------


@router.get("/users", response_model=list[UserOut], tags=["users"])
def list_users(context: Admin, session: DbSession) -> list[UserOut]:
    return [
        UserOut(**users.user_view(u)) for u in users.list_tenant_users(session, context.tenant_id)
    ]


@router.post("/users", status_code=201, response_model=UserOut, tags=["users"])
def create_user(body: UserIn, context: Admin, session: DbSession) -> UserOut:
    user = users.create_user(
        session,
        context.principal,
        tenant_id=context.tenant_id,
        email=body.email,
        name=body.name,
        role=Role(body.role),
        password=body.password,
    )
    return UserOut(**users.user_view(user))


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
def get_user(user_id: str, context: Admin, session: DbSession) -> UserOut:
    return UserOut(**users.user_view(users.get_tenant_user(session, context.tenant_id, user_id)))


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
def update_user(user_id: str, body: UserPatch, context: Admin, session: DbSession) -> UserOut:
    user = users.update_user(
        session,
        context.principal,
        tenant_id=context.tenant_id,
        user_id=user_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return UserOut(**users.user_view(user))


@router.delete("/users/{user_id}", status_code=204, tags=["users"])
def delete_user(user_id: str, context: Admin, session: DbSession) -> Response:
    users.delete_user(session, context.principal, tenant_id=context.tenant_id, user_id=user_id)
    return Response(status_code=204)


# --- API keys ------------------------------------------------------------------------


@router.get("/api-keys", response_model=list[ApiKeyOut], tags=["api keys"])
def list_api_keys(context: Admin, session: DbSession) -> list[ApiKeyOut]:
    keys = api_keys.list_api_keys(session, tenant_id=context.tenant_id)
    return [ApiKeyOut(**api_keys.api_key_view(k)) for k in keys]


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated, tags=["api keys"])
def create_api_key(body: ApiKeyIn, context: Admin, session: DbSession) -> ApiKeyCreated:
    """Create a key; the response's ``key`` is the only time the whole key is shown."""
    created = api_keys.create_api_key(
        session,
        context.principal,
        tenant_id=context.tenant_id,
        name=body.name,
        role=Role(body.role),
        allowed_ips=body.allowed_ips,
    )
    return ApiKeyCreated(**api_keys.api_key_view(created.record), key=created.secret)


@router.delete("/api-keys/{key_id}", status_code=204, tags=["api keys"])
def revoke_api_key(key_id: str, context: Admin, session: DbSession) -> Response:
    api_keys.revoke_api_key(session, context.principal, tenant_id=context.tenant_id, key_id=key_id)
    return Response(status_code=204)


# --- audit log -----------------------------------------------------------------------


@router.get("/audit-log", response_model=list[AuditEntryOut], tags=["audit"])
def audit_log(
    context: Admin,
    session: DbSession,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AuditEntryOut]:
    """Administrative actions on this tenant, newest first (R-P5)."""
    entries = list_audit_entries(
        session, tenant_id=context.tenant_id, before_id=before_id, limit=limit
    )
    return [AuditEntryOut.model_validate(e, from_attributes=True) for e in entries]
