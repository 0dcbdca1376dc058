"""FastAPI dependencies: the request's transaction, who is calling, and for which tenant."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from crmbridge.config import Settings
from crmbridge.services import api_keys, tenants, users
from crmbridge.services.access import Capability, Principal, Role, can
from crmbridge.services.errors import AuthenticationFailed, Forbidden, NotFound
from crmbridge.web.problems import ProblemError

TENANT_HEADER = "X-Crmbridge-Tenant"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, else rolled back.

    Used with ``scope="function"`` so the commit happens before the response is sent: a
    failed commit becomes an error response, never a success that was not kept.
    """
    session: Session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_db, scope="function")]


def get_principal(request: Request, session: DbSession) -> Principal:
    """Authenticate by ``Authorization: Bearer <api key>`` or by the browser session."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("Send 'Authorization: Bearer <API key>'.")
        client_ip = request.client.host if request.client else None
        principal = api_keys.authenticate_api_key(session, token.strip(), client_ip=client_ip)
        with request.app.state.session_factory.begin() as touch_session:
            api_keys.touch_api_key(touch_session, principal.id)
        return principal
    user_id = request.session.get("user_id")
    if not user_id:
        raise AuthenticationFailed("Authentication required: an API key or a signed-in session.")
    user = users.repo.get_user(session, str(user_id))
    if user is None or not user.is_active:
        request.session.clear()
        raise AuthenticationFailed("Your session has ended; sign in again.")
    if request.method not in SAFE_METHODS:
        # Cookies travel with cross-site requests; the token proves the page is ours.
        expected = str(request.session.get("csrf_token", ""))
        sent = request.headers.get(CSRF_HEADER, "")
        if not expected or not hmac.compare_digest(expected, sent):
            raise Forbidden(f"Missing or wrong {CSRF_HEADER} header for a session request.")
    return users.principal_for_user(user)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


@dataclass(frozen=True)
class TenantContext:
    """The tenant a request acts on and who acts."""

    tenant_id: str
    principal: Principal


def get_tenant_context(
    request: Request, principal: CurrentPrincipal, session: DbSession
) -> TenantContext:
    """The tenant from the credential; the operator names one with X-Crmbridge-Tenant."""
    requested = request.headers.get(TENANT_HEADER, "").strip()
    if principal.role is Role.SUPER_ADMIN:
        if not requested:
            raise ProblemError(
                400,
                f"An operator acting on a tenant must send the {TENANT_HEADER} header.",
                slug="tenant-required",
            )
        tenant_id = requested
    else:
        assert principal.tenant_id is not None
        if requested and requested != principal.tenant_id:
            # Answer as for any unknown id: do not reveal that the tenant exists.
            raise NotFound("No tenant with this id.")
        tenant_id = principal.tenant_id
    tenants.get_active_tenant(session, tenant_id)
    return TenantContext(tenant_id=tenant_id, principal=principal)


def require(capability: Capability) -> Callable[..., TenantContext]:
    """A dependency: the tenant context, if the caller's role has ``capability``."""

    def dependency(
        context: Annotated[TenantContext, Depends(get_tenant_context)],
    ) -> TenantContext:
        if not can(context.principal.role, capability):
            raise Forbidden(f"Your role ({context.principal.role}) may not do this.")
        return context

    return dependency


def require_operator(principal: CurrentPrincipal) -> Principal:
    """The caller, if it is the operator (SUPER_ADMIN)."""
    if not can(principal.role, Capability.MANAGE_TENANTS):
        raise Forbidden("Only the operator (SUPER_ADMIN) may do this.")
    return principal


Operator = Annotated[Principal, Depends(require_operator)]
Viewer = Annotated[TenantContext, Depends(require(Capability.VIEW))]
Editor = Annotated[TenantContext, Depends(require(Capability.EDIT_RECORDS))]
Admin = Annotated[TenantContext, Depends(require(Capability.MANAGE_USERS))]
Configurer = Annotated[TenantContext, Depends(require(Capability.CONFIGURE_INTEGRATION))]
