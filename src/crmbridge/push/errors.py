"""Why the push receivers refuse a request; the web layer picks the status code."""

from __future__ import annotations


class PushRejected(Exception):
    """The receiver refused the request; nothing was stored."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip().splitlines()[0]
        super().__init__(self.message)


class ReceiverNotFound(PushRejected):
    """No receiver at this address (unknown tenant, wrong secret or bad signature)."""


class SignatureInvalid(PushRejected):
    """The webhook signature is missing, stale or does not match."""


class WrongOrg(PushRejected):
    """The message comes from a Salesforce org this tenant is not connected to."""


class ReceiverInactive(PushRejected):
    """The tenant is suspended; nothing is received for it."""
