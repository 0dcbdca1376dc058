"""What the connection services refuse, named by reason (the web layer picks the status)."""

from __future__ import annotations

from crmbridge.services.errors import Conflict, ServiceError


class OrgAlreadyConnected(Conflict):
    """This Salesforce org is already connected to another tenant."""


class NotConnected(ServiceError):
    """This tenant has no working Salesforce connection."""

    #: What the admin should do next.
    advice = "Connect Salesforce first (Settings > Integrations > Salesforce > Connect)."


class OAuthStateRejected(ServiceError):
    """The OAuth callback's state is missing, unknown, expired, used or not yours."""


class IncompleteSettings(ServiceError):
    """The Salesforce settings are missing a value this action needs."""
