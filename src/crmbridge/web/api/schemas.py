"""Request and response bodies of the non-record endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TenantRoleName = Literal["CLIENT_ADMIN", "CLIENT_STAFF", "CLIENT_VIEWER"]


class Input(BaseModel):
    """Request bodies refuse unknown fields (422), so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TenantIn(Input):
    name: str = Field(min_length=1, max_length=200)


class TenantOut(BaseModel):
    id: str
    name: str
    status: Literal["active", "suspended"]
    created_at: datetime
    updated_at: datetime


class UserIn(Input):
    email: str = Field(max_length=254)
    name: str = Field(default="", max_length=200)
    role: TenantRoleName
    password: str | None = Field(default=None, min_length=12, max_length=256)


class UserPatch(Input):
    name: str | None = Field(default=None, max_length=200)
    role: TenantRoleName | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=12, max_length=256)


class UserOut(BaseModel):
    id: str
    tenant_id: str | None
    email: str
    name: str
    role: str
    is_active: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


class ApiKeyIn(Input):
    name: str = Field(min_length=1, max_length=100)
    role: TenantRoleName
    allowed_ips: list[str] = Field(default_factory=list, max_length=50)


class ApiKeyOut(BaseModel):
    id: str
    tenant_id: str | None
    name: str
    role: str
    prefix: str
    allowed_ips: list[str]
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    #: The whole key. It is shown in this response only; store it now.
    key: str


class MeOut(BaseModel):
    kind: Literal["user", "api_key"]
    id: str
    label: str
    role: str
    tenant: TenantOut | None


class AuditEntryOut(BaseModel):
    id: int
    tenant_id: str | None
    actor_type: str
    actor_id: str
    actor_label: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, object] | None
    after: dict[str, object] | None
    request_id: str
    created_at: datetime
