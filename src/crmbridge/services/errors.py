"""What a service refuses to do, named by the reason; the web layer picks the status."""

from __future__ import annotations


class ServiceError(Exception):
    """A service refused the request; nothing was changed."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip().splitlines()[0]
        super().__init__(self.message)


class NotFound(ServiceError):
    """No such thing exists for this tenant."""


class Conflict(ServiceError):
    """The request conflicts with the current state (e.g. a duplicate value)."""


class StaleVersion(Conflict):
    """The record changed since the version the caller read; re-read it and retry."""


class Forbidden(ServiceError):
    """Your role does not allow this."""


class TenantSuspended(Forbidden):
    """This tenant is suspended; contact the operator."""


class AuthenticationFailed(ServiceError):
    """Missing or invalid credentials."""
