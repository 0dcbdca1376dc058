"""The default mappings shipped for every object pair the seeds name (R-M4).

A tenant starts from these and edits them; :func:`default_object_mappings` returns
fresh values each time (they are immutable anyway).
"""

from __future__ import annotations

from crmbridge.domain.mapping.defaults.membership import (
    campaign_campaign,
    goal_campaign_member,
    member_contact,
    organization_account,
    support_ticket_task,
)
from crmbridge.domain.mapping.defaults.platform_fields import DEFAULT_PLATFORM_FIELDS
from crmbridge.domain.mapping.defaults.sales import (
    activity_email_message,
    activity_task,
    lead_lead,
    opportunity_opportunity,
    referral_lead,
)
from crmbridge.domain.mapping.model import ObjectMapping


def default_object_mappings() -> tuple[ObjectMapping, ...]:
    """Every default object mapping, parents before children."""
    return (
        organization_account(),
        member_contact(),
        lead_lead(),
        referral_lead(),
        opportunity_opportunity(),
        campaign_campaign(),
        goal_campaign_member(),
        activity_task(),
        activity_email_message(),
        support_ticket_task(),
    )


def default_object_mapping(platform_entity: str, salesforce_object: str) -> ObjectMapping | None:
    """The default mapping of one pair, e.g. ``("member", "Contact")``, if there is one."""
    for mapping in default_object_mappings():
        if (mapping.platform_entity, mapping.salesforce_object) == (
            platform_entity,
            salesforce_object,
        ):
            return mapping
    return None


__all__ = ["DEFAULT_PLATFORM_FIELDS", "default_object_mapping", "default_object_mappings"]
