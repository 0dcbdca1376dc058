"""A tenant's Salesforce settings (R-A1) over the operator's defaults (R-A2).

Environment, login URL, Consumer Key and Consumer Secret come from the tenant's
settings when set, else from ``SALESFORCE_LOGIN_URL``, ``SALESFORCE_CLIENT_ID`` and
``SALESFORCE_CLIENT_SECRET``; the view says which values come from the operator (seed
000 "Environment Variables"). The Consumer Secret is write-only: it is sealed at rest
and shown masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.config import Settings
from crmbridge.crypto import SecretBox, mask
from crmbridge.domain.entities import FieldError, RecordValidationError
from crmbridge.salesforce.endpoints import (
    LOGIN_URLS,
    Environment,
    InvalidLoginUrl,
    login_url_for,
    normalize_login_url,
)
from crmbridge.services.access import Principal
from crmbridge.services.audit import record_audit
from crmbridge.store.connection_models import SalesforceConnection
from crmbridge.store.repositories import salesforce_connections as repo

#: Fields a tenant admin may set.
SETTINGS_FIELDS = (
    "environment",
    "custom_login_url",
    "consumer_key",
    "consumer_secret",
    "auto_sync",
)
#: Longest Consumer Key / Consumer Secret accepted (Salesforce's are 85 and 64 characters).
MAX_CREDENTIAL_LENGTH = 255


@dataclass(frozen=True, kw_only=True)
class EffectiveSettings:
    """The values a login uses: the tenant's, else the operator's."""

    #: Production, sandbox or custom (My Domain / emulator).
    environment: Environment
    #: The login host, e.g. ``https://login.salesforce.com``.
    login_url: str
    #: Consumer Key, if any is configured.
    consumer_key: str | None
    #: Consumer Secret in clear (never shown; only handed to Salesforce).
    consumer_secret: str | None = field(repr=False)
    #: Names of the values taken from the operator's environment variables.
    from_operator: frozenset[str]

    @property
    def has_connected_app(self) -> bool:
        """Whether the OAuth flows (web server, password grant, refresh) can be used."""
        return bool(self.consumer_key and self.consumer_secret)


def _environment_of(login_url: str) -> Environment:
    for environment, url in LOGIN_URLS.items():
        if url == login_url:
            return environment
    return Environment.CUSTOM


def resolve_login(
    connection: SalesforceConnection | None,
    settings: Settings,
    *,
    environment: str | None = None,
    custom_login_url: str | None = None,
) -> tuple[Environment, str, frozenset[str]]:
    """The environment and login URL in force, and which come from the operator.

    Raises:
        RecordValidationError: the environment or login URL given cannot be used.
    """
    require_https = settings.is_production
    chosen = environment or (connection.environment if connection else None)
    custom = custom_login_url or (connection.custom_login_url if connection else None)
    try:
        if chosen:
            env = Environment(chosen)
            return env, login_url_for(env, custom, require_https=require_https), frozenset()
        login_url = normalize_login_url(settings.salesforce_login_url, require_https=require_https)
    except InvalidLoginUrl as exc:
        field_name = "custom_login_url" if chosen else "SALESFORCE_LOGIN_URL"
        raise RecordValidationError([FieldError(field=field_name, message=str(exc))]) from None
    except ValueError:
        raise RecordValidationError(
            [FieldError(field="environment", message="is not production, sandbox or custom")]
        ) from None
    return _environment_of(login_url), login_url, frozenset({"environment", "login_url"})


def resolve_settings(
    connection: SalesforceConnection | None,
    settings: Settings,
    box: SecretBox,
    *,
    environment: str | None = None,
    custom_login_url: str | None = None,
) -> EffectiveSettings:
    """The settings in force for a tenant, optionally with another environment.

    Raises:
        RecordValidationError: the environment or login URL given cannot be used.
        SecretUnreadable: the stored Consumer Secret does not open with the keys.
    """
    env, login_url, login_from_operator = resolve_login(
        connection, settings, environment=environment, custom_login_url=custom_login_url
    )
    from_operator: set[str] = set(login_from_operator)
    consumer_key = connection.consumer_key if connection else None
    if not consumer_key and settings.salesforce_client_id:
        consumer_key = settings.salesforce_client_id
        from_operator.add("consumer_key")
    sealed = connection.consumer_secret_sealed if connection else None
    consumer_secret = box.open(sealed) if sealed else None
    operator_secret = settings.salesforce_client_secret.get_secret_value()
    if not consumer_secret and operator_secret:
        consumer_secret = operator_secret
        from_operator.add("consumer_secret")
    return EffectiveSettings(
        environment=env,
        login_url=login_url,
        consumer_key=consumer_key or None,
        consumer_secret=consumer_secret or None,
        from_operator=frozenset(from_operator),
    )


def settings_view(
    connection: SalesforceConnection | None, settings: Settings, box: SecretBox
) -> dict[str, Any]:
    """The settings as the API shows them: the secret masked, sources named."""
    effective = resolve_settings(connection, settings, box)
    return {
        "environment": effective.environment.value,
        "login_url": effective.login_url,
        "custom_login_url": connection.custom_login_url if connection else None,
        "consumer_key": effective.consumer_key or "",
        "consumer_secret": mask(effective.consumer_secret),
        "consumer_secret_set": bool(effective.consumer_secret),
        "auto_sync": bool(connection.auto_sync) if connection else False,
        "from_operator": sorted(effective.from_operator),
        "callback_url": settings.oauth_callback_url(),
        "updated_at": connection.updated_at if connection else None,
    }


def _audit_view(connection: SalesforceConnection) -> dict[str, Any]:
    return {
        "environment": connection.environment,
        "custom_login_url": connection.custom_login_url,
        "consumer_key": connection.consumer_key,
        "auto_sync": connection.auto_sync,
    }


def _clean_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def update_settings(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    changes: dict[str, Any],
    settings: Settings,
    box: SecretBox,
) -> SalesforceConnection:
    """Change the fields in ``changes``; ``None`` (or "") returns a value to the default.

    Raises:
        RecordValidationError: every invalid field at once; nothing is changed.
    """
    unknown = set(changes) - set(SETTINGS_FIELDS)
    errors = [FieldError(field=name, message="is not a setting") for name in sorted(unknown)]
    connection = repo.get_or_add_connection(session, tenant_id)
    before = _audit_view(connection)
    environment = connection.environment
    if "environment" in changes:
        environment = _clean_text(changes["environment"])
        if environment is not None and environment not in {e.value for e in Environment}:
            errors.append(
                FieldError(field="environment", message="is not production, sandbox or custom")
            )
    custom_login_url = connection.custom_login_url
    if "custom_login_url" in changes:
        custom_login_url = _clean_text(changes["custom_login_url"])
        if custom_login_url is not None:
            try:
                custom_login_url = normalize_login_url(
                    custom_login_url, require_https=settings.is_production
                )
            except InvalidLoginUrl as exc:
                errors.append(FieldError(field="custom_login_url", message=str(exc)))
    if environment == Environment.CUSTOM and not custom_login_url:
        errors.append(
            FieldError(field="custom_login_url", message="is required for a custom environment")
        )
    credentials: dict[str, str | None] = {}
    for name in ("consumer_key", "consumer_secret"):
        if name in changes:
            value = _clean_text(changes[name])
            if value is not None and (len(value) > MAX_CREDENTIAL_LENGTH or " " in value):
                errors.append(
                    FieldError(
                        field=name,
                        message=f"must be at most {MAX_CREDENTIAL_LENGTH} characters, no spaces",
                    )
                )
            credentials[name] = value
    if "auto_sync" in changes and not isinstance(changes["auto_sync"], bool):
        errors.append(FieldError(field="auto_sync", message="must be true or false"))
    if errors:
        raise RecordValidationError(errors)

    connection.environment = environment
    connection.custom_login_url = custom_login_url
    if "consumer_key" in credentials:
        connection.consumer_key = credentials["consumer_key"]
    if "consumer_secret" in credentials:
        secret = credentials["consumer_secret"]
        connection.consumer_secret_sealed = box.seal(secret) if secret else None
    if "auto_sync" in changes:
        connection.auto_sync = bool(changes["auto_sync"])
    repo.touch(connection, session)
    after = _audit_view(connection)
    changed = sorted(
        [name for name in before if before[name] != after[name]]
        + (["consumer_secret"] if "consumer_secret" in credentials else [])
    )
    if changed:
        record_audit(
            session,
            principal,
            action="salesforce.settings.update",
            target_type="salesforce_connection",
            target_id=tenant_id,
            tenant_id=tenant_id,
            before=before,
            after={**after, "changed": changed},
        )
    return connection
