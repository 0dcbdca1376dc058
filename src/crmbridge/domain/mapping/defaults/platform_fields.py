"""The platform fields the default mappings expect, per entity.

They follow the entity registry (``crmbridge.domain.entities.registry``) name for name
and length for length (a test checks it). The registry's lengths of the fields the
defaults send to Salesforce fit the Salesforce fields (e-mail 80, URL 255, source note
1,000), so the defaults validate cleanly against a standard org. docs/mapping.md lists
these fields.
"""

from __future__ import annotations

from types import MappingProxyType

from crmbridge.domain.mapping.platform import PlatformField
from crmbridge.domain.mapping.platform import PlatformType as T
from crmbridge.domain.mapping.platform import platform_field as f

_LEAD_STATUSES = (
    "NEW",
    "CONTACTED",
    "QUALIFIED",
    "PROPOSAL_SENT",
    "NEGOTIATION",
    "CONVERTED",
    "LOST",
)
_MEMBERSHIP_STATUSES = ("PENDING", "ACTIVE", "EXPIRING", "EXPIRED", "INACTIVE", "CANCELLED")
#: Seed 000's tag catalog, as the platform names the tags.
MEMBER_TAGS = (
    "membership_active",
    "membership_expiring",
    "membership_expired",
    "membership_upgraded",
    "membership_downgrade_scheduled",
    "event_registered",
    "event_attended",
    "event_no_show",
    "course_enrolled",
    "course_completed",
)


def _address(prefix: str = "") -> tuple[PlatformField, ...]:
    return (
        f(f"{prefix}street", max_length=255),
        f(f"{prefix}city", max_length=40),
        f(f"{prefix}state", max_length=80),
        f(f"{prefix}zip_code", max_length=20),
        f(f"{prefix}country", max_length=80),
    )


_PEOPLE = (
    f("first_name", max_length=40),
    f("last_name", max_length=80, required=True),
    f("email", T.EMAIL, max_length=80),
    f("phone", T.PHONE, max_length=40),
)

_FIELDS: dict[str, tuple[PlatformField, ...]] = {
    "member": (
        *_PEOPLE,
        f("email_opt_in", T.BOOLEAN),
        f("phone_opt_in", T.BOOLEAN),
        f("mobile_phone", T.PHONE, max_length=40),
        f("title", max_length=128),
        f("company", max_length=255),
        f("organization_id", T.REFERENCE, references="organization"),
        f("membership_status", T.PICKLIST, values=_MEMBERSHIP_STATUSES),
        f("member_since", T.DATE),
        f("birthdate", T.DATE),
        *_address(),
        f("tags", T.MULTI_PICKLIST, values=MEMBER_TAGS),
        f("external_id", max_length=255),
    ),
    "organization": (
        f("name", max_length=255, required=True),
        f("parent_id", T.REFERENCE, references="organization"),
        f("phone", T.PHONE, max_length=40),
        f("website", T.URL, max_length=255),
        f("description", T.TEXT, max_length=32000),
        f("industry", max_length=40),
        f("owner_id", T.REFERENCE, references="platform_user"),
        *_address("billing_"),
        *_address("shipping_"),
        f("external_id", max_length=255),
    ),
    "lead": (
        *_PEOPLE,
        f("mobile_phone", T.PHONE, max_length=40),
        f("company", max_length=255),
        *_address(),
        f("score", T.INTEGER),
        f("status", T.PICKLIST, values=_LEAD_STATUSES, required=True),
        f("source", max_length=40),
        f("insurance_type", max_length=100),
        f("owner_id", T.REFERENCE, references="platform_user"),
        f("team_id", T.REFERENCE, references="team"),
        f("converted_at", T.DATETIME),
    ),
    "referral": (
        f("program_id", T.REFERENCE, references="program", required=True),
        f("referring_member_id", T.REFERENCE, references="member"),
        *_PEOPLE,
        f("company", max_length=255),
        f("status", T.PICKLIST, values=("PENDING", "QUALIFIED", "APPROVED", "DENIED")),
        f("referral_code", max_length=100),
        f("referral_source", max_length=255),
        f("source_note", T.TEXT, max_length=1000),
        f("member_url", T.URL, max_length=255),
        f("referral_url", T.URL, max_length=255),
        f("external_id", max_length=255),
    ),
    "opportunity": (
        f("name", max_length=120, required=True),
        f("stage", max_length=255, required=True),
        f("status", T.PICKLIST, values=("OPEN", "WON", "LOST")),
        f("amount", T.DECIMAL),
        f("probability", T.INTEGER),
        f("close_date", T.DATE),
        f("next_step", max_length=255),
        f("organization_id", T.REFERENCE, references="organization"),
        f("member_id", T.REFERENCE, references="member"),
        f("owner_id", T.REFERENCE, references="platform_user"),
        f("win_loss_reason", max_length=255),
        f("lead_id", T.REFERENCE, references="lead"),
    ),
    "activity": (
        f("kind", T.PICKLIST, values=("NOTE", "EMAIL", "TASK", "CALL", "MEETING"), required=True),
        f("subject", max_length=255, required=True),
        f("body", T.TEXT, max_length=32000),
        f("status", T.PICKLIST, values=("OPEN", "COMPLETED")),
        f("due_date", T.DATE),
        f("occurred_at", T.DATETIME),
        f("member_id", T.REFERENCE, references="member"),
        f("lead_id", T.REFERENCE, references="lead"),
        f("organization_id", T.REFERENCE, references="organization"),
        f("opportunity_id", T.REFERENCE, references="opportunity"),
        f("owner_id", T.REFERENCE, references="platform_user"),
    ),
    "campaign": (
        f("name", max_length=80, required=True),
        f("status", T.PICKLIST, values=("PLANNED", "IN_PROGRESS", "COMPLETED", "ABORTED")),
        f("type", max_length=40),
        f("description", T.TEXT, max_length=32000),
        f("start_date", T.DATE),
        f("end_date", T.DATE),
        f("is_active", T.BOOLEAN),
    ),
    "goal": (
        f("campaign_id", T.REFERENCE, references="campaign", required=True),
        f("member_id", T.REFERENCE, references="member"),
        f("lead_id", T.REFERENCE, references="lead"),
        f("status", max_length=40),
        f("completed", T.BOOLEAN),
        f("completed_at", T.DATETIME),
        f("sub_goals", T.FLAGS),
    ),
    "support_ticket": (
        f("ticket_number", max_length=40, required=True),
        f("subject", max_length=255, required=True),
        f("description", T.TEXT, max_length=32000),
        f("status", T.PICKLIST, values=("OPEN", "PENDING", "RESOLVED", "CLOSED")),
        f("priority", T.PICKLIST, values=("LOW", "NORMAL", "HIGH", "URGENT")),
        f("member_id", T.REFERENCE, references="member"),
        f("url", T.URL, max_length=2048),
        f("opened_at", T.DATETIME),
        f("closed_at", T.DATETIME),
    ),
}

#: Expected platform fields per entity, as the default mappings use them.
DEFAULT_PLATFORM_FIELDS = MappingProxyType(_FIELDS)
